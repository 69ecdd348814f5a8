"""Measured per-pattern learning curves (mean over an ensemble of seeds) and learning times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MeasuredCurves:
    """Accuracy curves of one sweep point, averaged over seeds.

    ``steps``: (k,) evaluation steps, increasing; ``mean`` and ``sem``: split name -> (k,) mean
    accuracy over the seeds and its standard error (0 for a single seed); ``n_seeds``.
    """

    point: str
    steps: np.ndarray
    mean: dict[str, np.ndarray]
    sem: dict[str, np.ndarray]
    n_seeds: int

    def __repr__(self) -> str:
        final = ", ".join(f"{k}={v[-1]:.3f}" for k, v in self.mean.items())
        head = f"MeasuredCurves(point={self.point!r}, evals={len(self.steps)}, seeds={self.n_seeds}"
        return f"{head}, final: {final})"

    def to_dict(self) -> dict:
        return {
            "point": self.point,
            "steps": self.steps.tolist(),
            "mean": {k: v.tolist() for k, v in self.mean.items()},
            "sem": {k: v.tolist() for k, v in self.sem.items()},
            "n_seeds": self.n_seeds,
        }

    @classmethod
    def from_frames(cls, point: str, frames, metric: str = "accuracy") -> MeasuredCurves:
        """Average long tables (columns step, split, metric, value), one per seed, over the seeds.

        Only steps that every seed evaluated are kept, so the mean is never over a changing set.
        """
        tables = []
        for frame in frames:
            rows = frame[frame["metric"] == metric]
            tables.append(rows.pivot_table(index="step", columns="split", values="value", aggfunc="mean"))
        if not tables:
            raise ValueError(f"point {point!r}: no training runs to average")
        steps = sorted(set.intersection(*(set(t.index) for t in tables)))
        splits = sorted(set.intersection(*(set(t.columns) for t in tables)))
        if not steps or not splits:
            raise ValueError(f"point {point!r}: the runs share no evaluated step/split of metric {metric!r}")
        stack = np.stack([t.loc[steps, splits].to_numpy(dtype=np.float64) for t in tables])  # (seeds, k, s)
        mean = stack.mean(axis=0)
        sem = stack.std(axis=0, ddof=1) / np.sqrt(len(tables)) if len(tables) > 1 else np.zeros_like(mean)
        return cls(
            point,
            np.asarray(steps, dtype=np.float64),
            {s: mean[:, j] for j, s in enumerate(splits)},
            {s: sem[:, j] for j, s in enumerate(splits)},
            len(tables),
        )


def learning_time(steps, accuracy, fraction: float = 0.5, min_gain: float = 0.05) -> float:
    """Steps to reach ``fraction`` of the final accuracy gain: the first crossing of
    ``acc[0] + fraction · (acc[-1] − acc[0])``, interpolated linearly in log(1 + step) (the
    evaluation schedule is log-spaced and the curves are smooth in log time).

    Returns ``inf`` when the gain is below ``min_gain`` (the pattern was not learned in the run).
    ``steps``, ``accuracy``: (k,) arrays, steps increasing.
    """
    steps = np.asarray(steps, dtype=np.float64)
    acc = np.asarray(accuracy, dtype=np.float64)
    if steps.shape != acc.shape or steps.ndim != 1 or steps.size < 2:
        raise ValueError("steps and accuracy must be 1-D arrays of the same length >= 2")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    gain = acc[-1] - acc[0]
    if gain < min_gain:
        return float("inf")
    level = acc[0] + fraction * gain
    i = int(np.argmax(acc >= level))  # first index at or above the level (exists: acc[-1] > level)
    if i == 0:
        return float(steps[0])
    x0, x1 = np.log1p(steps[i - 1]), np.log1p(steps[i])
    y0, y1 = acc[i - 1], acc[i]
    x = x0 + (level - y0) / (y1 - y0) * (x1 - x0)
    return float(np.expm1(x))
