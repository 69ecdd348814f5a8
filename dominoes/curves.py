"""Per-pattern learning curves: tables and figures.

A curve table is the long DataFrame of :attr:`dominoes.train.TrainResult.curves` or of
``Store.metrics(run_id)``: columns step, split, metric, value (extra columns such as run_id are ignored).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

# the order and colours in which splits are drawn (other splits follow in table order)
SPLIT_ORDER = ("train", "both", "mnist_only", "cifar_only", "mnist_randomized", "cifar_randomized")


def wide(curves: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """One metric as a table: index step (sorted), one column per split."""
    rows = curves[curves["metric"] == metric]
    if rows.empty:
        present = sorted(set(curves["metric"]))
        raise ValueError(f"no {metric!r} rows in the curves (metrics present: {present})")
    table = rows.pivot_table(index="step", columns="split", values="value", aggfunc="first").sort_index()
    order = [s for s in SPLIT_ORDER if s in table.columns]
    order += [s for s in table.columns if s not in SPLIT_ORDER]
    return table[order]


def time_to(curves: pd.DataFrame, split: str, level: float, metric: str = "accuracy") -> int | None:
    """The first evaluation step at which ``metric`` on ``split`` reaches ``level`` (None if it never does).

    For a loss, pass a level above the final value and read "reaches" as "falls to": the direction is taken
    from the metric name (``loss`` decreases, everything else increases).
    """
    table = wide(curves, metric)
    if split not in table.columns:
        raise ValueError(f"no split {split!r} in the curves (splits: {list(table.columns)})")
    series = table[split].dropna()
    hit = series <= level if metric == "loss" else series >= level
    return int(series.index[np.argmax(hit.to_numpy())]) if hit.any() else None


def plot_curves(curves: pd.DataFrame, metric: str = "accuracy", *, splits: Sequence[str] | None = None,
                ax=None, title: str | None = None):
    """Draw ``metric`` against the training step for each split on a symmetric-log step axis.

    The axis is linear on [0, 1] and logarithmic beyond (``symlog``), so step 0 is shown while the early
    steps, where patterns are picked up, get most of the width. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    table = wide(curves, metric)
    if splits is not None:
        missing = [s for s in splits if s not in table.columns]
        if missing:
            raise ValueError(f"splits {missing} are not in the curves (splits: {list(table.columns)})")
        table = table[list(splits)]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    else:
        fig = ax.figure
    for split in table.columns:
        series = table[split].dropna()
        ax.plot(series.index, series.to_numpy(), marker="o", markersize=2.5, linewidth=1.4, label=split,
                linestyle="--" if split == "train" else "-")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(left=0)
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    if metric in ("accuracy", "auc"):
        ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    return fig


def plot_curve_grid(runs: Mapping[str, pd.DataFrame], metric: str = "accuracy", *, ncols: int = 3):
    """One panel per run (``{title: curves}``), shared axes; returns the Figure."""
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("no runs to plot")
    n = len(runs)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), sharex=True, sharey=True,
                             squeeze=False, constrained_layout=True)
    for ax, (title, curves) in zip(axes.flat, runs.items(), strict=False):
        plot_curves(curves, metric, ax=ax, title=title)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig
