"""Plateaus and jumps of a loss curve: change points of its learning rate r(t) = −d log ℓ / dt.

Method (and why). Near a singular critical point gradient descent plateaus: ℓ barely moves, r ≈ 0; when it
escapes, ℓ drops and r jumps up. For Saxe et al.'s (2014) deep-linear mode u(t) = s e^{2st/τ}/(e^{2st/τ} − 1 +
s/u₀) with ℓ = (s − u)²/2 one finds exactly r(t) = (4s/τ)/(1 + x), x = (s/u₀ − 1) e^{−2st/τ}: a logistic step
from 0 to 4s/τ whose midpoint t* = (τ/2s) ln(s/u₀ − 1) is the time u = s/2. A pure exponential decay has
constant r and so no change point at all. A transition is therefore a step *up* in r, and we find steps by
**binary segmentation with a piecewise-constant mean** (Vostrikova 1981; reviewed by Killick, Fearnhead &
Eckley 2012): split each segment where two constant levels fit best, recursively, until a segment is short or
its spread is within the noise (σ from the median absolute first difference). It needs no model of the shape
and no parameter but a noise scale, and it is exact for a step. A smooth step comes out as a staircase of
same-direction cuts; each maximal staircase is one change, kept if it moves r by at least ``min_jump``
(default 1/2) of the larger level, and timed where r crosses the midpoint of the levels before and after it
(t* for the logistic rate above). A ramp-free constant rate (exponential decay) is never cut beyond the noise,
so it has no change. Changes that turn r down mark the start of a new plateau (or the numerical floor of ℓ).
Noisy (minibatch) curves: pass ``smooth`` (a moving average of log ℓ); a change must also exceed 4 standard
errors of the local noise, measured on the unsmoothed rate. When the noise in r is as large as the step
itself, a jump can be missed (a limitation of differentiating a noisy curve).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChangePoint:
    """A change of the rate r = −d log ℓ/dt at ``time``: ``kind`` "jump" (r steps up) or "plateau" (down)."""

    time: float
    kind: str
    rate_before: float
    rate_after: float

    def to_dict(self) -> dict:
        return {
            "time": self.time,
            "kind": self.kind,
            "rate_before": self.rate_before,
            "rate_after": self.rate_after,
        }


@dataclass(frozen=True, eq=False)
class Stages:
    """Change points of a curve. ``transitions``: the times of the jumps (plateau → drop), ascending."""

    change_points: tuple[ChangePoint, ...]
    time: np.ndarray
    rate: np.ndarray

    @property
    def transitions(self) -> tuple[float, ...]:
        return tuple(c.time for c in self.change_points if c.kind == "jump")

    def __repr__(self) -> str:
        times = [round(t, 6) for t in self.transitions]
        return f"Stages(transitions={times}, change_points={len(self.change_points)})"

    def to_dict(self) -> dict:
        return {
            "transitions": list(self.transitions),
            "change_points": [c.to_dict() for c in self.change_points],
        }


def _best_split(y: np.ndarray) -> tuple[int, float, float]:
    """(k, sse_split, sse_whole): the split y[:k] | y[k:] with least summed squared error about two means."""
    n = len(y)
    c1 = np.cumsum(y)
    c2 = np.cumsum(y * y)
    k = np.arange(1, n)
    left = c2[k - 1] - c1[k - 1] ** 2 / k
    right = (c2[-1] - c2[k - 1]) - (c1[-1] - c1[k - 1]) ** 2 / (n - k)
    sse = left + right
    j = int(np.argmin(sse))
    whole = c2[-1] - c1[-1] ** 2 / n
    return j + 1, float(sse[j]), float(whole)


def noise_level(y) -> float:
    """Robust standard deviation of the noise in y: MAD of first differences / (0.6745 √2)."""
    dy = np.diff(np.asarray(y, dtype=np.float64))
    return float(np.median(np.abs(dy - np.median(dy))) / (0.6745 * np.sqrt(2)))


@dataclass(frozen=True)
class _Change:
    lo: int  # first index of the level before the change
    hi: int  # end (exclusive) of the level after it
    centre: int  # the middle cut of its staircase
    before: float
    after: float


def _changes(
    y: np.ndarray, min_jump: float, min_size: int, floor: float, raw: np.ndarray | None = None
) -> list[_Change]:
    """Binary segmentation of the mean of y, then merged staircases (see :func:`segment_means`).

    raw : y before any moving average (same length), where the noise is measured (a moving average
    correlates neighbours, which hides noise from the first differences).
    """
    raw = y if raw is None else raw
    sigma = noise_level(raw)
    cuts: list[int] = []

    def recurse(lo: int, hi: int) -> None:
        if hi - lo < 2 * min_size:
            return
        k, _, whole = _best_split(y[lo:hi])
        if whole / (hi - lo) <= max(4 * sigma**2, (1e-12 * np.max(np.abs(y[lo:hi]))) ** 2):
            return
        k = min(max(k, min_size), hi - lo - min_size)
        cuts.append(lo + k)
        recurse(lo, lo + k)
        recurse(lo + k, hi)

    recurse(0, len(y))
    cuts.sort()
    bounds = [0, *cuts, len(y)]
    level = [float(y[a:b].mean()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    threshold = max(3 * sigma / np.sqrt(min_size), floor)
    runs: list[list[int]] = []  # indices into cuts; each run moves the level one way
    for i in range(len(cuts)):
        step = level[i + 1] - level[i]
        if abs(step) <= threshold:
            continue
        if runs and (level[runs[-1][-1] + 1] > level[runs[-1][-1]]) == (step > 0):
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run_ in runs:
        first, last = run_[0], run_[-1]
        before, after = level[first], level[last + 1]
        lo, cut, hi = bounds[first], cuts[run_[len(run_) // 2]], bounds[last + 2]
        # noise can vary along a curve (SGD noise grows as the loss falls): test the change against the
        # noise of its own neighbourhood, as a two-sample z-test of the levels (4 standard errors)
        local = noise_level(raw[lo:hi]) * np.sqrt(1 / (bounds[first + 1] - lo) + 1 / (hi - bounds[last + 1]))
        big = abs(after - before) >= max(min_jump * max(abs(before), abs(after), floor), 2 * threshold)
        if big and abs(after - before) >= 4 * local:
            out.append(_Change(lo, hi, cut, before, after))
    return out


def segment_means(y, min_jump: float = 0.5, min_size: int = 5, floor: float = 0.0) -> list[int]:
    """Indices where the piecewise-constant mean of ``y`` changes (binary segmentation, see module text).

    Segments are split at their least-squares split point until they are shorter than 2·``min_size`` or
    their variance is within (2σ)² of the noise σ (:func:`noise_level`). A smooth step comes out as a
    staircase; its same-direction cuts are merged, steps below 3σ/√min_size (or ``floor``) are ignored, and
    a merged change is kept when it moves the level by at least ``min_jump`` of the larger of the two
    levels around it and by 4 standard errors of the two levels (noise measured around the change).
    Returns the middle cut of each kept change.
    """
    return [c.centre for c in _changes(np.asarray(y, dtype=np.float64), min_jump, min_size, floor)]


def loss_rate(t, loss, smooth: int = 1) -> np.ndarray:
    """r(t) = −d log ℓ/dt by central differences on the (uniform or not) grid t, after a moving average of
    log ℓ over ``smooth`` points (for noisy SGD curves). Shapes (T,) → (T,)."""
    t = np.asarray(t, dtype=np.float64)
    y = np.log(np.maximum(np.asarray(loss, dtype=np.float64), np.finfo(float).tiny))
    if smooth > 1:
        kernel = np.ones(smooth) / smooth
        pad = np.pad(y, (smooth // 2, smooth - 1 - smooth // 2), mode="edge")
        y = np.convolve(pad, kernel, mode="valid")
    return -np.gradient(y, t)


def _crossing(t, r, lo: int, hi: int, level: float, centre: int) -> float:
    """The time in t[lo:hi] where r crosses ``level`` nearest to index ``centre`` (linear interpolation)."""
    seg = r[lo:hi] - level
    cross = lo + np.flatnonzero(np.sign(seg[:-1]) != np.sign(seg[1:]))
    if not cross.size:
        return float(t[centre])
    j = int(cross[np.argmin(np.abs(cross - centre))])
    if r[j + 1] == r[j]:
        return float(t[j])
    return float(t[j] + (t[j + 1] - t[j]) * (level - r[j]) / (r[j + 1] - r[j]))


def detect_stages(
    t, loss, smooth: int = 1, min_jump: float = 0.5, min_size: int = 5, floor: float = 1e-20
) -> Stages:
    """Plateaus and jumps of the loss curve ``loss`` (T,) at times ``t`` (T,) (module text for the method).

    The curve is cut where ℓ first falls below ``floor`` × max ℓ: there rounding error dominates log ℓ.

    Returns :class:`Stages`; ``.transitions`` are the jump times (in the units of ``t``).

    >>> import numpy as np
    >>> t = np.linspace(0, 10, 1001); s, u0 = 2.0, 1e-4
    >>> u = s * np.exp(2*s*t) / (np.exp(2*s*t) - 1 + s/u0)
    >>> round(detect_stages(t, (s - u)**2 / 2).transitions[0], 2), round(float(np.log(s/u0 - 1) / (2*s)), 2)
    (2.48, 2.48)
    """
    t = np.asarray(t, dtype=np.float64)
    loss = np.asarray(loss, dtype=np.float64)
    if t.ndim != 1 or t.shape != loss.shape or len(t) < 4:
        raise ValueError(f"t and loss must be 1-D of the same length >= 4, got {t.shape} and {loss.shape}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("t must be strictly increasing")
    if np.any(~np.isfinite(loss)) or np.any(loss < 0):
        raise ValueError("loss must be finite and >= 0")
    below = np.flatnonzero(loss < floor * np.max(loss))
    if below.size:
        t, loss = t[: max(below[0], 4)], loss[: max(below[0], 4)]
    r = loss_rate(t, loss, smooth)
    raw = loss_rate(t, loss) if smooth > 1 else r
    tiny = 1e-9 * max(float(np.max(np.abs(r))), 1e-300)
    points = [
        ChangePoint(
            _crossing(t, r, c.lo, c.hi, 0.5 * (c.before + c.after), c.centre),
            "jump" if c.after > c.before else "plateau",
            c.before,
            c.after,
        )
        for c in _changes(r, min_jump, min_size, tiny, raw)
    ]
    return Stages(tuple(points), t, r)
