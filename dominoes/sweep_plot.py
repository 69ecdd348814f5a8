"""Figures of a sweep: a result against one swept parameter (lines) or two (heat map).

Seeds are replicates: each point is the mean over the runs that share every other swept value, with
its standard error s/√k (k runs, s the sample standard deviation) as an error bar.
"""

from __future__ import annotations

import numpy as np


def _log_scale(values) -> bool:
    """Log axis for positive values spanning at least a decade (prevalence ratios, learning rates)."""
    values = np.asarray(values, dtype=float)
    return bool(values.size and np.all(values > 0) and values.max() / values.min() >= 10)


def _tick(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _check(frame, metric: str, axes: list[str]) -> None:
    for name in [metric, *axes]:
        if name not in frame.columns:
            raise ValueError(f"no column {name!r} in the sweep results; columns: {', '.join(frame.columns)}")
    if frame.empty:
        raise ValueError("no finished runs to plot")


def plot_sweep(frame, metric: str, x: str, y: str | None = None, *, hue: str | None = None, ax=None):
    """Plot ``metric`` (a column of :func:`dominoes.sweep.results`) against the swept parameter ``x``.

    With ``y`` a heat map of the mean over seeds on the (x, y) grid; otherwise one line per value of
    ``hue`` (default: none), mean ± standard error over the remaining runs. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    _check(frame, metric, [x] + [a for a in (y, hue) if a])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.2))
    if y is not None:
        table = frame.groupby([y, x])[metric].mean().unstack(x)
        image = ax.imshow(table.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [_tick(v) for v in table.columns])
        ax.set_yticks(range(table.shape[0]), [_tick(v) for v in table.index])
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.figure.colorbar(image, ax=ax, label=metric)
        return ax.figure
    groups = frame.groupby(hue) if hue else [(None, frame)]
    for label, part in groups:
        stats = part.groupby(x)[metric].agg(["mean", "std", "count"]).sort_index()
        stderr = (stats["std"] / np.sqrt(stats["count"])).fillna(0.0)
        ax.errorbar(stats.index, stats["mean"], yerr=stderr, marker="o", capsize=3,
                    label=None if label is None else f"{hue} = {label}")
    if _log_scale(frame[x]):
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    if hue:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure
