"""A measured simplicity score for an image source: accuracy of a fixed-budget random-features probe.

The probe (random ReLU features + ridge read-out; Rahimi & Recht 2007, "Random features for large-scale
kernel machines") is a fixed, cheap learner: the same budget for every source, so its held-out accuracy
ranks how easy a pattern is to pick up. Steps:

1. a stratified sample of ``n_train + n_test`` images, scaled to [0, 1] and 2×2 average-pooled to 3×16×16
   (d = 768 inputs), standardised with the training mean and std;
2. features φ(x) = max(0, Wx/√d + b) with W ~ N(0, 1)^{F×d}, b ~ N(0, 1)^F (F = ``features``), plus a bias;
3. ridge regression to centred one-hot targets, β = (ΦᵀΦ + α n I)⁻¹ ΦᵀY, and prediction argmax Φβ.

The score is the held-out accuracy; ``normalized`` = (accuracy − 1/K)/(1 − 1/K) puts chance at 0 and a
perfect probe at 1. For reference, a linear classifier on raw pixels reaches about 88 % on MNIST (LeCun et
al. 1998, 12 % error) and about 40 % on CIFAR-10 (Krizhevsky 2009) with full training sets; this probe,
with 2000 training images, lands below those numbers but keeps their order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from dominoes.data.sources import degrade


@dataclass(frozen=True)
class SimplicityScore:
    """Held-out accuracy of the probe on one source; chance = 1/K."""

    source: str
    accuracy: float
    chance: float
    n_train: int
    n_test: int
    features: int
    seed: int

    @property
    def normalized(self) -> float:
        return (self.accuracy - self.chance) / (1.0 - self.chance)

    def __repr__(self) -> str:
        return (f"SimplicityScore(source={self.source!r}, accuracy={self.accuracy:.3f}, "
                f"normalized={self.normalized:.3f}, n_train={self.n_train})")

    def to_dict(self) -> dict:
        return {**asdict(self), "normalized": self.normalized}


def _pooled(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float64) / 255.0
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5)).reshape(n, -1)


def probe_accuracy(images: np.ndarray, labels: np.ndarray, *, source: str = "", n_train: int = 2000,
                   n_test: int = 1000, features: int = 1024, ridge: float = 1e-3,
                   seed: int = 0) -> SimplicityScore:
    """Score uint8 images (n, 3, H, W) with labels (n,) in 0..K−1 (see the module docstring)."""
    labels = np.asarray(labels)
    if images.ndim != 4 or len(images) != len(labels):
        raise ValueError(f"expected images (n, C, H, W) and n labels, got {images.shape} and {labels.shape}")
    classes = np.unique(labels)
    k = len(classes)
    if k < 2:
        raise ValueError("a simplicity score needs at least two classes")
    if n_train + n_test > len(labels):
        raise ValueError(f"need n_train + n_test = {n_train + n_test} images, the source has {len(labels)}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    # interleave classes so both parts of the sample are stratified
    rank = np.empty(len(order), dtype=np.int64)
    for c in classes:
        members = order[labels[order] == c]
        rank[members] = np.arange(len(members)) * k + np.searchsorted(classes, c)
    chosen = order[np.argsort(rank[order], kind="stable")][: n_train + n_test]
    train, test = chosen[:n_train], chosen[n_train:]
    x_train, x_test = _pooled(images[train]), _pooled(images[test])
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    d = x_train.shape[1]
    w = rng.standard_normal((d, features)) / np.sqrt(d)
    b = rng.standard_normal(features)
    phi = lambda x: np.hstack([np.maximum(x @ w + b, 0.0), np.ones((len(x), 1))])
    f_train, f_test = phi(x_train), phi(x_test)
    y = (labels[train][:, None] == classes[None, :]).astype(np.float64)
    y -= y.mean(axis=0)
    gram = f_train.T @ f_train + ridge * n_train * np.eye(f_train.shape[1])
    beta = np.linalg.solve(gram, f_train.T @ y)
    predicted = classes[np.argmax(f_test @ beta, axis=1)]
    accuracy = float(np.mean(predicted == labels[test]))
    return SimplicityScore(source, accuracy, 1.0 / k, n_train, len(test), features, seed)


def score_side(spec, side: str, data_dir=None, *, seed: int = 0, **probe) -> SimplicityScore:
    """The simplicity score of one side ("mnist" or "cifar") of a :class:`~dominoes.mixture.MixtureSpec`:
    its source restricted to the task's classes, with the side's noise/contrast dial applied."""
    from dominoes.mixture import TASKS, load_side

    if side not in ("mnist", "cifar"):
        raise ValueError(f"side must be 'mnist' or 'cifar', got {side!r}")
    name = spec.mnist_source if side == "mnist" else spec.cifar_source
    sources = load_side(name, side, spec, data_dir)
    images = np.concatenate([s.images for s in sources])
    labels = np.concatenate([s.labels for s in sources])
    classes = np.array(TASKS[spec.task][0 if side == "mnist" else 1])
    keep = np.isin(labels, classes)
    images, labels = images[keep], np.searchsorted(classes, labels[keep])
    noise, contrast = ((spec.noise_mnist, spec.contrast_mnist) if side == "mnist"
                       else (spec.noise_cifar, spec.contrast_cifar))
    images = degrade(images, noise, contrast, np.random.default_rng([seed, 7]), sources[0].grayscale)
    probe.setdefault("n_train", min(2000, len(labels) * 2 // 3))
    probe.setdefault("n_test", min(1000, len(labels) - probe["n_train"]))
    return probe_accuracy(images, labels, source=sources[0].name, seed=seed, **probe)
