"""Build a domino mixture with controlled prevalence, reliability and simplicity (design §5, issue 8).

Prevalence. A domino carries an MNIST-side half with probability p_m, a CIFAR-side half with probability
p_c, both with probability p_b (default p_m·p_c: halves present independently). The kinds then have the
fractions

    r_m1 = p_m − p_b (MNIST only),  r_2 = p_b (both),  r_c1 = p_c − p_b (CIFAR only),
    r_0 = 1 − p_m − p_c + p_b (empty; label uniformly random),

all of which must be ≥ 0: p_b ≤ min(p_m, p_c) and p_m + p_c − p_b ≤ 1. In terms of the sources (design §5),
with S_m source images on the MNIST side, the fractions used are r_{m1} = N·r_m1/S_m (one-sided),
r_{m2} = N·r_2/S_m (two-sided), r_{m0} = 1 − r_{m1} − r_{m2} (rejected), and N·p_m = N_{m1} + N_2; same for
CIFAR. The linear program "maximise N subject to every source class supplying the halves that show it"
has, for class-balanced labels, the closed-form optimum N* = min over sides s and classes j of
K·A_{s,j}/p_s (A the images available per class, K the number of classes). Integer counts round it: we
return the largest integer N whose rounded layout (below) fits the available images.

Integer layout (deterministic in N). Slot i has class i mod K (balanced). Kind boundaries are cumulative
roundings, R(x) = ⌊x + ½⌋:  MNIST-only [0, B1), both [B1, B2), CIFAR-only [B2, B3), empty [B3, N) with
B1 = R(N r_m1), B2 = R(N p_m), B3 = R(N (p_m + p_c − p_b)); so every kind count is within 1 of N·r.

Reliability. With probability 1 − ρ_j half j shows an image of a wrong class, spread evenly over the other
K − 1 classes (in a seed-chosen order per class, so the empirical distribution is uniform up to rounding).
Counts are again cumulative roundings inside each kind block; in two-sided dominoes the two halves are wrong
independently (block fractions (1−ρ_m)(1−ρ_c), (1−ρ_m)ρ_c, ρ_m(1−ρ_c), ρ_m ρ_c). ``mnist_class`` /
``cifar_class`` record the class each half shows, so ``mnist_class != labels`` flags a wrong half.

Splits. Training dominoes use only training-pool images; every evaluation split uses only held-out images
(the original test split when the source has both, else a stratified ``test_fraction`` of the only copy,
drawn from the seed).
Evaluation halves are always reliable. Splits: ``both``, ``mnist_only``, ``cifar_only``, ``mnist_randomized``
and ``cifar_randomized`` (the ``both`` split with that half permuted across examples, so it carries no label
signal), and on request ``covariate`` (other prevalence), ``label_shift`` (other class balance) and
``concept`` (one half shows π(label) for a seed-chosen derangement π).

Tasks. ``tenclass``: class i = digit i ↔ CIFAR class i. ``binary`` (Shah et al. 2020, "The pitfalls of
simplicity bias in neural networks", NeurIPS): class 0 = digit 0 ↔ automobile, class 1 = digit 1 ↔ truck.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dominoes.data.sources import SOURCES, ImageSource, degrade, load_procedural, load_real, resolve
from dominoes.dataset import BOTH, CIFAR_ONLY, EMPTY, HALF, IMAGE_SHAPE, MNIST_ONLY, DominoData, DominoSet

# task -> (source classes used on the MNIST side, source classes used on the CIFAR side), index = label
TASKS = {
    "tenclass": (tuple(range(10)), tuple(range(10))),
    "binary": ((0, 1), (1, 9)),
}
CONCEPT_SIDES = ("mnist", "cifar")
MAX_TRAIN = 1_000_000  # 6 GB of uint8 dominoes: beyond this a tiny prevalence needs an explicit n_max
# each evaluation split is laid out at n_test before shrinking to the held-out images: 10**9 exhausts memory
MAX_TEST = 100_000
# a procedural source is generated in memory: 10 classes x 10 000 x 3 KiB = 300 MiB (MNIST has ~6 000)
MAX_PROCEDURAL_PER_CLASS = 10_000
PROCEDURAL_SEED = 0  # procedural sources are fixed datasets, like the real ones; the build seed samples them


def _check_unit(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")


def check_prevalence(p_mnist: float, p_cifar: float, p_both: float, what: str = "") -> None:
    """Raise ValueError naming the violated constraint when (p_m, p_c, p_b) is not a valid prevalence."""
    for name, v in (("p_mnist", p_mnist), ("p_cifar", p_cifar), ("p_both", p_both)):
        _check_unit(what + name, v)
    eps = 1e-12
    if p_both > min(p_mnist, p_cifar) + eps:
        raise ValueError(f"{what}p_both={p_both:g} exceeds min(p_mnist, p_cifar)={min(p_mnist, p_cifar):g}: "
                         "a two-sided domino carries both halves")
    if p_mnist + p_cifar - p_both > 1 + eps:
        raise ValueError(f"{what}p_mnist + p_cifar - p_both = {p_mnist + p_cifar - p_both:g} exceeds 1: the "
                         "empty fraction 1 - p_mnist - p_cifar + p_both would be negative")
    if p_mnist == 0 and p_cifar == 0:
        raise ValueError(f"{what}p_mnist = p_cifar = 0: every domino would be empty, so N is unbounded")


@dataclass(frozen=True)
class MixtureSpec:
    """What to build. Probabilities in [0, 1]; see the module docstring for the mathematics.

    p_mnist, p_cifar, p_both : prevalence (p_both None -> p_mnist·p_cifar).
    rho_mnist, rho_cifar : reliability, P(half shows the label's class).
    task : "tenclass" or "binary".
    mnist_source, cifar_source : "auto" (real if found, else procedural), "mnist", "fashion-mnist",
        "cifar10", "glyphs" or "textures" — any source on either side.
    noise_mnist, noise_cifar, contrast_mnist, contrast_cifar : the simplicity dial per side
        (:func:`dominoes.data.sources.degrade`; noise in pixel units of [0, 1], contrast in [0, 1]).
    n_max : cap on the training-set size (fractions kept); None = the largest N the sources allow.
    n_test : size of each evaluation split (fewer if the held-out images run out).
    test_fraction : share of a source held out when it has only one split.
    procedural_per_class : training images per class of a procedural source.
    covariate : (p_mnist, p_cifar) of the covariate-shift split, or None.
    label_shift : K class weights of the label-shift split, or None.
    concept : "mnist" or "cifar": the half whose class mapping is permuted in the concept split, or None.
    """

    p_mnist: float = 1.0
    p_cifar: float = 1.0
    p_both: float | None = None
    rho_mnist: float = 1.0
    rho_cifar: float = 1.0
    task: str = "tenclass"
    mnist_source: str = "auto"
    cifar_source: str = "auto"
    noise_mnist: float = 0.0
    noise_cifar: float = 0.0
    contrast_mnist: float = 1.0
    contrast_cifar: float = 1.0
    n_max: int | None = None
    n_test: int = 2000
    test_fraction: float = 0.2
    procedural_per_class: int = 1000
    covariate: tuple[float, float] | None = None
    label_shift: tuple[float, ...] | None = None
    concept: str | None = None

    def __post_init__(self):
        for name in ("p_mnist", "p_cifar", "rho_mnist", "rho_cifar", "contrast_mnist", "contrast_cifar"):
            value = getattr(self, name)
            _check_unit(name, value)
            object.__setattr__(self, name, float(value))
        if self.p_both is not None:
            _check_unit("p_both", self.p_both)
            object.__setattr__(self, "p_both", float(self.p_both))
        check_prevalence(self.p_mnist, self.p_cifar, self.p_both_resolved)
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {', '.join(TASKS)}, got {self.task!r}")
        for name in ("mnist_source", "cifar_source"):
            if getattr(self, name) not in ("auto", *SOURCES):
                raise ValueError(f"{name} must be one of auto, {', '.join(SOURCES)}, "
                                 f"got {getattr(self, name)!r}")
        for name in ("noise_mnist", "noise_cifar"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if self.n_max is not None and (int(self.n_max) != self.n_max or self.n_max < 1):
            raise ValueError(f"n_max must be a positive integer or None, got {self.n_max!r}")
        if int(self.n_test) != self.n_test or not 1 <= self.n_test <= MAX_TEST:
            raise ValueError(f"n_test must be an integer in [1, {MAX_TEST}], got {self.n_test!r}")
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {self.test_fraction!r}")
        if (int(self.procedural_per_class) != self.procedural_per_class
                or not 1 <= self.procedural_per_class <= MAX_PROCEDURAL_PER_CLASS):
            raise ValueError(f"procedural_per_class must be an integer in [1, {MAX_PROCEDURAL_PER_CLASS}], "
                             f"got {self.procedural_per_class!r}")
        if self.covariate is not None:
            if len(self.covariate) != 2:
                raise ValueError(f"covariate must be (p_mnist, p_cifar), got {self.covariate!r}")
            pm, pc = (float(v) for v in self.covariate)
            check_prevalence(pm, pc, pm * pc, what="covariate ")
            object.__setattr__(self, "covariate", (pm, pc))
        if self.label_shift is not None:
            w = tuple(float(v) for v in self.label_shift)
            if len(w) != self.n_classes or not all(0 <= v < math.inf for v in w) or sum(w) <= 0:
                raise ValueError(f"label_shift must be {self.n_classes} non-negative class weights with a "
                                 f"positive sum for task {self.task!r}, got {self.label_shift!r}")
            object.__setattr__(self, "label_shift", w)
        if self.concept is not None and self.concept not in CONCEPT_SIDES:
            raise ValueError(f"concept must be 'mnist' or 'cifar' (the half whose mapping is permuted), "
                             f"got {self.concept!r}")

    @property
    def p_both_resolved(self) -> float:
        """p_both, or p_mnist·p_cifar when it was left None."""
        return self.p_mnist * self.p_cifar if self.p_both is None else self.p_both

    @property
    def n_classes(self) -> int:
        return len(TASKS[self.task][0])

    @property
    def fractions(self) -> dict[str, float]:
        """The requested kind fractions r_0, r_m1, r_c1, r_2 (empty, MNIST-only, CIFAR-only, both)."""
        pm, pc, pb = self.p_mnist, self.p_cifar, self.p_both_resolved
        return {"empty": max(0.0, 1 - pm - pc + pb), "mnist_only": max(0.0, pm - pb),
                "cifar_only": max(0.0, pc - pb), "both": pb}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# ----------------------------------------------------------------------------------------------------------
# integer layout


def _round(x):
    """R(x) = ⌊x + ½⌋ elementwise (monotone, unlike banker's rounding)."""
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


@dataclass(frozen=True)
class _Layout:
    """Slots of a planned set: label, presence and shown class per half (−1 where absent)."""

    labels: np.ndarray
    kind: np.ndarray
    shown_m: np.ndarray
    shown_c: np.ndarray


def _boundaries(n, pm, pc, pb, rho_m, rho_c):
    """Block boundaries (see module docstring) for sizes ``n`` (scalar or array)."""
    n = np.asarray(n, dtype=np.int64)
    b1 = np.minimum(_round(n * max(0.0, pm - pb)), n)
    b2 = np.clip(_round(n * pm), b1, n)
    b3 = np.clip(_round(n * (pm + pc - pb)), b2, n)
    u1 = _round(b1 * (1 - rho_m))                       # wrong MNIST halves among MNIST-only: [0, u1)
    both = b2 - b1
    s1 = b1 + _round(both * ((1 - rho_m) * (1 - rho_c)))  # both halves wrong: [b1, s1)
    s2 = np.maximum(b1 + _round(both * (1 - rho_m)), s1)  # MNIST wrong only: [s1, s2)
    s3 = np.clip(b1 + _round(both * (1 - rho_m * rho_c)), s2, b2)  # CIFAR wrong only: [s2, s3)
    u3 = b2 + _round((b3 - b2) * (1 - rho_c))            # wrong CIFAR halves among CIFAR-only: [b2, u3)
    return b1, b2, b3, u1, s1, s2, s3, u3


def _wrong_ranges(bounds):
    b1, b2, b3, u1, s1, s2, s3, u3 = bounds
    wrong_m = ((0 * b1, u1), (b1, s2))
    wrong_c = ((b1, s1), (s2, s3), (b2, u3))
    return wrong_m, wrong_c


def _mark(n: int, ranges) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for a, b in ranges:
        mask[int(a):int(b)] = True
    return mask


def _assign_wrong(labels, wrong, perms):
    """Wrong-class slots of class k, in slot order t = 0, 1, …, show perms[k][t mod (K − 1)]."""
    shown = labels.copy()
    idx = np.flatnonzero(wrong)
    cls = labels[idx]
    order = np.argsort(cls, kind="stable")
    sorted_cls = cls[order]
    first = np.searchsorted(sorted_cls, sorted_cls, side="left")
    rank = np.empty(len(idx), dtype=np.int64)
    rank[order] = np.arange(len(idx)) - first
    shown[idx] = perms[cls, rank % perms.shape[1]]
    return shown


def _class_sequence(counts: np.ndarray) -> np.ndarray:
    """Interleave classes with counts n_k evenly: slot order by (j + ½)/n_k (ties by class)."""
    keys = np.concatenate([(np.arange(c) + 0.5) / c for c in counts if c > 0] or [np.zeros(0)])
    cls = np.repeat(np.arange(len(counts)), counts)
    return cls[np.lexsort((cls, keys))]


def _layout(n: int, pm, pc, pb, rho_m, rho_c, perms_m, perms_c, class_counts=None) -> _Layout:
    """The slots of a set of size n; classes i mod K unless ``class_counts`` are given."""
    k = perms_m.shape[0]
    labels = (np.arange(n, dtype=np.int64) % k if class_counts is None
              else _class_sequence(np.asarray(class_counts)).astype(np.int64))
    bounds = _boundaries(n, pm, pc, pb, rho_m, rho_c)
    b1, b2, b3 = (int(b) for b in bounds[:3])
    kind = np.full(n, EMPTY, dtype=np.int8)
    kind[:b1], kind[b1:b2], kind[b2:b3] = MNIST_ONLY, BOTH, CIFAR_ONLY
    wrong_m_ranges, wrong_c_ranges = _wrong_ranges(bounds)
    shown_m = _assign_wrong(labels, _mark(n, wrong_m_ranges), perms_m)
    shown_c = _assign_wrong(labels, _mark(n, wrong_c_ranges), perms_c)
    shown_m[b2:] = -1
    shown_c[:b1] = -1
    shown_c[b3:] = -1
    return _Layout(labels, kind, shown_m, shown_c)


def _class_counts_in(a, b, k):
    """#{i in [a, b): i mod K = c} for c = 0..K−1; a, b arrays (M,) -> (M, K)."""
    c = np.arange(k)
    prefix = lambda x: (np.asarray(x)[:, None] - c[None, :] + k - 1) // k
    return prefix(b) - prefix(a)


def _demand(ns: np.ndarray, pm, pc, pb, rho_m, rho_c, perms_m, perms_c):
    """Images needed per shown class on each side, for each size in ``ns`` (M,) -> two (M, K) arrays.

    Closed form of the bincount of :func:`_layout`'s shown classes (balanced classes i mod K).
    """
    k = perms_m.shape[0]
    bounds = _boundaries(ns, pm, pc, pb, rho_m, rho_c)
    b1, b2, b3 = bounds[:3]
    wrong_ranges = _wrong_ranges(bounds)
    out = []
    sides = (((0 * b1, b2),), wrong_ranges[0], perms_m), (((b1, b3),), wrong_ranges[1], perms_c)
    for side_total, wrong, perms in sides:
        total = sum(_class_counts_in(a, b, k) for a, b in side_total)
        w = sum(_class_counts_in(a, b, k) for a, b in wrong)          # (M, K): wrong halves of label class
        pos = np.full((k, k), k, dtype=np.int64)
        for cls in range(k):
            pos[cls, perms[cls]] = np.arange(k - 1)
        if k > 1:
            q, r = w // (k - 1), w % (k - 1)
            # halves of label class c shown as class j: q_c + [pos_c(j) < r_c], summed over c != j
            received = (q[:, :, None] + (pos[None, :, :] < r[:, :, None])) * (pos[None] < k)
            need = total - w + received.sum(axis=1)
        else:
            need = total
        out.append(need)
    return out[0], out[1]


def _derangement(k: int, rng: np.random.Generator) -> np.ndarray:
    while True:
        p = rng.permutation(k)
        if k == 1 or np.all(p != np.arange(k)):
            return p


def _wrong_orders(k: int, rng: np.random.Generator) -> np.ndarray:
    """(K, K−1): for each class, the other classes in a random order (where its wrong halves go)."""
    orders = [[j for j in rng.permutation(k) if j != c] for c in range(k)]
    return np.array(orders, dtype=np.int64).reshape(k, k - 1)


def largest_size(avail_m, avail_c, pm, pc, pb, rho_m=1.0, rho_c=1.0, perms_m=None, perms_c=None,
                 cap: int | None = None) -> int:
    """The largest N (≤ cap) whose integer layout needs no more images per shown class than available.

    avail_m, avail_c : (K,) images available per class on each side (label order).
    A side with p = 0 is unconstrained. Upper bound used: a side's halves number at least N·p_s − 1 and
    each needs its own image, so N ≤ (Σ_j A_{s,j} + 1)/p_s; every N between the answer and that bound
    (or ``cap``) is checked and infeasible. Returns 0 when not even one domino fits.
    """
    avail_m, avail_c = np.asarray(avail_m, dtype=np.int64), np.asarray(avail_c, dtype=np.int64)
    k = len(avail_m)
    perms_m = _wrong_orders(k, np.random.default_rng(0)) if perms_m is None else perms_m
    perms_c = _wrong_orders(k, np.random.default_rng(1)) if perms_c is None else perms_c
    bounds = [(a.sum() + 1) / p for a, p in ((avail_m, pm), (avail_c, pc)) if p > 0]
    if not bounds and cap is None:
        raise ValueError("with p_mnist = p_cifar = 0 every domino is empty: N is unbounded without a cap")
    upper = min(bounds, default=math.inf)
    if cap is not None:
        upper = min(upper, cap)
    chunk = 4096
    hi = int(math.floor(upper))
    while hi >= 1:
        ns = np.arange(max(1, hi - chunk + 1), hi + 1)
        need_m, need_c = _demand(ns, pm, pc, pb, rho_m, rho_c, perms_m, perms_c)
        ok = np.all(need_m <= avail_m, axis=1) & np.all(need_c <= avail_c, axis=1)
        if ok.any():
            return int(ns[np.flatnonzero(ok)[-1]])
        hi = ns[0] - 1
    return 0


# ----------------------------------------------------------------------------------------------------------
# sources and pools


@dataclass(frozen=True)
class _Pool:
    """One side's images, indexed 0..n−1 across its splits, and which of them are held out."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    held_out: np.ndarray
    origin: str
    grayscale: bool
    notes: tuple[str, ...]


def _pool(sources: list[ImageSource], test_fraction: float, rng: np.random.Generator) -> _Pool:
    images = np.concatenate([s.images for s in sources]) if len(sources) > 1 else sources[0].images
    labels = np.concatenate([s.labels for s in sources]) if len(sources) > 1 else sources[0].labels
    if any(s.split == "train" for s in sources):
        held_out = np.concatenate([np.full(len(s), s.split != "train") for s in sources])
    else:
        # the only copy is split, stratified by class, so no source image lands in both train and test
        held_out = np.zeros(len(labels), dtype=bool)
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            held_out[rng.choice(idx, size=int(_round(len(idx) * test_fraction)), replace=False)] = True
    s = sources[0]
    notes = tuple(n for src in sources for n in src.notes)
    return _Pool(s.name, images, labels, held_out, s.origin, s.grayscale, notes)


def load_side(name: str, side: str, spec: MixtureSpec, data_dir=None) -> list[ImageSource]:
    """The image sources for one side ("mnist" or "cifar") as ``spec`` asks: real files or procedural."""
    concrete, found = resolve(name, side, data_dir)
    if found is not None:
        return load_real(found)
    per_test = max(1, int(_round(spec.procedural_per_class * spec.test_fraction / (1 - spec.test_fraction))))
    return load_procedural(concrete, spec.procedural_per_class, per_test, PROCEDURAL_SEED)


def _available(pool: _Pool, classes, held_out: bool) -> list[np.ndarray]:
    """Per label class, the pool indices (in the requested split) of its source class."""
    mask = pool.held_out if held_out else ~pool.held_out
    return [np.flatnonzero(mask & (pool.labels == c)) for c in classes]


# ----------------------------------------------------------------------------------------------------------
# assembly


def _fill(layout: _Layout, pools, candidates, dials, rng) -> DominoSet:
    """Pick images (without replacement per shown class) for every present half and stack the dominoes."""
    n = len(layout.labels)
    images = np.zeros((n, *IMAGE_SHAPE), dtype=np.uint8)
    index = {}
    for side, shown, pool, cand, (noise, contrast), rows in (
            ("m", layout.shown_m, pools[0], candidates[0], dials[0], slice(0, HALF)),
            ("c", layout.shown_c, pools[1], candidates[1], dials[1], slice(HALF, 2 * HALF))):
        src = np.full(n, -1, dtype=np.int64)
        for j, cand_j in enumerate(cand):
            slots = np.flatnonzero(shown == j)
            if len(slots) > len(cand_j):
                raise ValueError(f"internal: class {j} needs {len(slots)} images, {len(cand_j)} available")
            src[slots] = rng.choice(cand_j, size=len(slots), replace=False)
        present = np.flatnonzero(src >= 0)
        if len(present):
            halves = pool.images[src[present]]
            images[present, :, rows, :] = degrade(halves, noise, contrast, rng, pool.grayscale)
        index[side] = src
    return DominoSet(images, layout.labels.copy(), layout.kind.copy(), layout.shown_m.copy(),
                     layout.shown_c.copy(), index["m"], index["c"])


def _fits(layout: _Layout, candidates, k: int) -> tuple[bool, float]:
    """Whether the layout's demand fits; and the smallest available/needed ratio (for shrinking)."""
    ratio = math.inf
    for shown, cand in ((layout.shown_m, candidates[0]), (layout.shown_c, candidates[1])):
        need = np.bincount(shown[shown >= 0], minlength=k)
        have = np.array([len(c) for c in cand])
        with np.errstate(divide="ignore"):
            ratio = min(ratio, float(np.min(np.where(need > 0, have / np.maximum(need, 1), np.inf))))
    return ratio >= 1.0, ratio


def _largest_eval(n_test: int, make, candidates, k: int) -> _Layout:
    """The layout of size ≤ n_test that fits the held-out images, shrinking proportionally until it does."""
    n = n_test
    while n > 0:
        layout = make(n)
        ok, ratio = _fits(layout, candidates, k)
        if ok:
            return layout
        n = min(n - 1, int(n * ratio))
    return make(0)


def _shuffled(ds: DominoSet, rng) -> DominoSet:
    return ds.subset(rng.permutation(len(ds)))


def _randomize(ds: DominoSet, side: str, rng) -> DominoSet:
    """Permute one half across examples: it keeps its images but loses any relation to the label."""
    perm = rng.permutation(len(ds))
    images = ds.images.copy()
    rows = slice(0, HALF) if side == "mnist" else slice(HALF, 2 * HALF)
    images[:, :, rows, :] = ds.images[perm][:, :, rows, :]
    fields = {"images": images}
    for f in (f"{side}_class", f"{side}_index"):
        fields[f] = getattr(ds, f)[perm]
    return dataclasses.replace(ds, **fields)


def _counts(ds: DominoSet, k: int) -> dict:
    kinds = {"empty": EMPTY, "mnist_only": MNIST_ONLY, "cifar_only": CIFAR_ONLY, "both": BOTH}
    by_kind = {name: int(np.sum(ds.kind == code)) for name, code in kinds.items()}
    per_class = {name: np.bincount(ds.labels[ds.kind == code], minlength=k).tolist()
                 for name, code in kinds.items()}
    m, c = ds.mnist_class >= 0, ds.cifar_class >= 0
    return {
        "n": len(ds), "kinds": by_kind, "per_class": per_class,
        "labels": np.bincount(ds.labels, minlength=k).tolist(),
        "wrong_mnist": int(np.sum(m & (ds.mnist_class != ds.labels))),
        "wrong_cifar": int(np.sum(c & (ds.cifar_class != ds.labels))),
    }


def build(spec: MixtureSpec, seed: int = 0, data_dir: str | Path | None = None) -> DominoData:
    """Build the training set and evaluation splits of ``spec``, deterministic in (spec, seed, files).

    Sources are found with :func:`dominoes.data.locate.locate` (``data_dir`` first, then ``$DOMINOES_DATA``,
    then the cache folder); with ``"auto"`` a side without real files uses its procedural stand-in, and
    ``DominoData.source`` says so. Raises ValueError (infeasible or bad spec) or FileNotFoundError (a named
    real source that is missing).

    ``DominoData.info`` (JSON-ready): ``spec``, ``seed``, ``source``, ``task``, ``classes`` (per side: the
    concrete source name and the source classes used, label order), ``N`` and ``N_max`` (before ``n_max``),
    ``fractions_requested`` / ``fractions`` (kinds), ``source_fractions`` (r_m0, r_m1, r_m2, r_c0, r_c1,
    r_c2), ``available`` / ``held_out`` (images per class and side), ``train`` and ``evals`` (counts per kind,
    class and wrong halves), ``concept_map``, ``wrong_orders`` and ``notes`` (e.g. checksum mismatches).

    Example::

        data = build(MixtureSpec(p_mnist=0.5, p_cifar=0.9, rho_cifar=0.8, n_max=5000), seed=1)
        data.train.images.shape   # (5000, 3, 64, 32) uint8
        sorted(data.evals)        # both, cifar_only, cifar_randomized, mnist_only, mnist_randomized
    """
    if not isinstance(spec, MixtureSpec):
        raise TypeError(f"spec must be a MixtureSpec, got {type(spec).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([int(seed), 0xD0]).spawn(6)]
    split_rng, perm_rng, train_rng, eval_rng, shuffle_rng, concept_rng = streams
    k = spec.n_classes
    classes_m, classes_c = TASKS[spec.task]
    pools = (_pool(load_side(spec.mnist_source, "mnist", spec, data_dir), spec.test_fraction, split_rng),
             _pool(load_side(spec.cifar_source, "cifar", spec, data_dir), spec.test_fraction, split_rng))
    train_cand = (_available(pools[0], classes_m, False), _available(pools[1], classes_c, False))
    test_cand = (_available(pools[0], classes_m, True), _available(pools[1], classes_c, True))
    dials = ((spec.noise_mnist, spec.contrast_mnist), (spec.noise_cifar, spec.contrast_cifar))

    pm, pc, pb = spec.p_mnist, spec.p_cifar, spec.p_both_resolved
    perms_m, perms_c = _wrong_orders(k, perm_rng), _wrong_orders(k, perm_rng)
    avail = [np.array([len(c) for c in cand]) for cand in train_cand]
    n_best = largest_size(avail[0], avail[1], pm, pc, pb, spec.rho_mnist, spec.rho_cifar, perms_m, perms_c,
                          cap=MAX_TRAIN + 1 if spec.n_max is None else max(spec.n_max, MAX_TRAIN + 1))
    if spec.n_max is None and n_best > MAX_TRAIN:
        raise ValueError(f"the sources allow more than {MAX_TRAIN} dominoes at p_mnist={pm:g}, "
                         f"p_cifar={pc:g} (mostly empty ones); pass n_max to cap the training set")
    n = n_best if spec.n_max is None else largest_size(avail[0], avail[1], pm, pc, pb, spec.rho_mnist,
                                                       spec.rho_cifar, perms_m, perms_c, cap=spec.n_max)
    if n == 0:
        raise ValueError(f"the sources cannot supply a single domino for this mixture (available per class: "
                         f"MNIST side {avail[0].tolist()}, CIFAR side {avail[1].tolist()})")
    layout = _layout(n, pm, pc, pb, spec.rho_mnist, spec.rho_cifar, perms_m, perms_c)
    train = _shuffled(_fill(layout, pools, train_cand, dials, train_rng), shuffle_rng)

    clean = np.array([[j for j in range(k) if j != c] for c in range(k)]).reshape(k, k - 1)
    def balanced(p_m, p_c, p_b):
        return lambda size: _layout(size, p_m, p_c, p_b, 1.0, 1.0, clean, clean)

    def fill_eval(make, concept_map=None, side=None):
        def made(size):
            lay = make(size)
            if concept_map is None:
                return lay
            shown = lay.shown_m if side == "mnist" else lay.shown_c
            shown = np.where(shown >= 0, concept_map[np.maximum(shown, 0)], -1)
            return dataclasses.replace(lay, **{f"shown_{side[0]}": shown})
        lay = _largest_eval(spec.n_test, made, test_cand, k)
        return _shuffled(_fill(lay, pools, test_cand, dials, eval_rng), shuffle_rng)

    evals = {"both": fill_eval(balanced(1.0, 1.0, 1.0)),
             "mnist_only": fill_eval(balanced(1.0, 0.0, 0.0)),
             "cifar_only": fill_eval(balanced(0.0, 1.0, 0.0))}
    evals["mnist_randomized"] = _randomize(evals["both"], "mnist", eval_rng)
    evals["cifar_randomized"] = _randomize(evals["both"], "cifar", eval_rng)
    if spec.covariate is not None:
        cm, cc = spec.covariate
        evals["covariate"] = fill_eval(balanced(cm, cc, cm * cc))
    if spec.label_shift is not None:
        w = np.asarray(spec.label_shift) / sum(spec.label_shift)
        def shifted(size):
            counts = np.diff(_round(np.concatenate([[0.0], np.cumsum(w)]) * size))
            return _layout(size, pm, pc, pb, 1.0, 1.0, clean, clean, class_counts=counts)
        evals["label_shift"] = fill_eval(shifted)
    concept_map = None
    if spec.concept is not None:
        concept_map = _derangement(k, concept_rng)
        evals["concept"] = fill_eval(balanced(1.0, 1.0, 1.0), concept_map, spec.concept)

    source = _describe(pools)
    info = {
        "spec": spec.to_dict(), "seed": int(seed), "source": source, "task": spec.task,
        "classes": {"mnist": [pools[0].name, list(classes_m)], "cifar": [pools[1].name, list(classes_c)]},
        "N": n, "N_max": n_best,
        "fractions_requested": spec.fractions,
        "fractions": {name: count / n for name, count in _counts(train, k)["kinds"].items()},
        "source_fractions": _source_fractions(train, avail),
        "available": {"mnist": avail[0].tolist(), "cifar": avail[1].tolist()},
        "held_out": {"mnist": [len(c) for c in test_cand[0]], "cifar": [len(c) for c in test_cand[1]]},
        "train": _counts(train, k),
        "evals": {name: _counts(ds, k) for name, ds in evals.items()},
        "concept_map": None if concept_map is None else concept_map.tolist(),
        "wrong_orders": {"mnist": perms_m.tolist(), "cifar": perms_c.tolist()},
        "notes": list(pools[0].notes + pools[1].notes),
    }
    return DominoData(train, evals, source, k, info)


def _source_fractions(train: DominoSet, avail) -> dict:
    """Design §5's r_{s0} (rejected), r_{s1} (one-sided), r_{s2} (two-sided): shares of each side's images."""
    out = {}
    for side, one_sided, present, total in (("m", MNIST_ONLY, train.mnist_index >= 0, avail[0].sum()),
                                            ("c", CIFAR_ONLY, train.cifar_index >= 0, avail[1].sum())):
        r1 = float(np.sum(present & (train.kind == one_sided)) / total)
        r2 = float(np.sum(present & (train.kind == BOTH)) / total)
        out.update({f"r_{side}0": 1 - r1 - r2, f"r_{side}1": r1, f"r_{side}2": r2})
    return out


def _describe(pools) -> str:
    parts = []
    for pool in pools:
        if pool.origin.startswith("procedural"):
            parts.append(f"{pool.name} (procedural, offline)")
        else:
            parts.append(f"{pool.name} from {pool.origin}")
    return " + ".join(parts)


# ----------------------------------------------------------------------------------------------------------
# command-line options shared by every command that builds a mixture


def _floats(text: str, what: str, count: int | None = None) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"{what} must be comma-separated numbers, got {text!r}") from None
    if count is not None and len(values) != count:
        raise ValueError(f"{what} needs {count} comma-separated numbers, got {text!r}")
    return values


def add_mixture_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the mixture options (prevalence, reliability, task, sources, simplicity dials, sizes, shifts)."""
    d = MixtureSpec()
    g = parser.add_argument_group("mixture")
    g.add_argument("--p-mnist", type=float, default=d.p_mnist, help="P(MNIST-side half present) (default 1)")
    g.add_argument("--p-cifar", type=float, default=d.p_cifar, help="P(CIFAR-side half present) (default 1)")
    g.add_argument("--p-both", type=float, default=None, help="P(both halves) (default p_mnist*p_cifar)")
    g.add_argument("--rho-mnist", type=float, default=d.rho_mnist,
                   help="reliability of the MNIST half (default 1)")
    g.add_argument("--rho-cifar", type=float, default=d.rho_cifar,
                   help="reliability of the CIFAR half (default 1)")
    g.add_argument("--task", choices=tuple(TASKS), default=d.task,
                   help="tenclass: digit i <-> CIFAR class i; "
                        "binary: 0/1 <-> automobile/truck (Shah et al. 2020)")
    choices = ("auto", *SOURCES)
    g.add_argument("--mnist-source", choices=choices, default=d.mnist_source,
                   help="top-half source; auto = MNIST if found, else procedural glyphs")
    g.add_argument("--cifar-source", choices=choices, default=d.cifar_source,
                   help="bottom-half source; auto = CIFAR-10 if found, else procedural textures")
    g.add_argument("--noise-mnist", type=float, default=d.noise_mnist,
                   help="simplicity dial: Gaussian pixel noise std on the MNIST half (default 0)")
    g.add_argument("--noise-cifar", type=float, default=d.noise_cifar, help="same for the CIFAR half")
    g.add_argument("--contrast-mnist", type=float, default=d.contrast_mnist,
                   help="simplicity dial: contrast of the MNIST half in [0, 1] (default 1)")
    g.add_argument("--contrast-cifar", type=float, default=d.contrast_cifar, help="same for the CIFAR half")
    g.add_argument("--n-max", type=int, default=None, help="cap on the training-set size (quick runs)")
    g.add_argument("--n-test", type=int, default=d.n_test,
                   help="size of each evaluation split (default 2000)")
    g.add_argument("--test-fraction", type=float, default=d.test_fraction,
                   help="share held out when a source has a single split (default 0.2)")
    g.add_argument("--procedural-per-class", type=int, default=d.procedural_per_class,
                   help="training images per class of a procedural source (default 1000)")
    g.add_argument("--covariate", metavar="PM,PC", default=None,
                   help="add a covariate-shift split at this prevalence")
    g.add_argument("--label-shift", metavar="W0,W1,...", default=None,
                   help="add a label-shift split with these class weights")
    g.add_argument("--concept", choices=CONCEPT_SIDES, default=None,
                   help="add a concept-shift split where this half's class mapping is permuted")
    g.add_argument("--data-dir", default=None,
                   help="folder with real data (else $DOMINOES_DATA, else the cache folder)")


def spec_from_args(args: argparse.Namespace) -> MixtureSpec:
    """The :class:`MixtureSpec` described by options added with :func:`add_mixture_arguments`."""
    return MixtureSpec(
        p_mnist=args.p_mnist, p_cifar=args.p_cifar, p_both=args.p_both,
        rho_mnist=args.rho_mnist, rho_cifar=args.rho_cifar, task=args.task,
        mnist_source=args.mnist_source, cifar_source=args.cifar_source,
        noise_mnist=args.noise_mnist, noise_cifar=args.noise_cifar,
        contrast_mnist=args.contrast_mnist, contrast_cifar=args.contrast_cifar,
        n_max=args.n_max, n_test=args.n_test, test_fraction=args.test_fraction,
        procedural_per_class=args.procedural_per_class,
        covariate=None if args.covariate is None else _floats(args.covariate, "--covariate", 2),
        label_shift=None if args.label_shift is None else _floats(args.label_shift, "--label-shift"),
        concept=args.concept,
    )
