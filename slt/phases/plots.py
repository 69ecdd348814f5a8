"""Figures: the phase diagram (basin mass against n), ensemble occupancy over time, distance growth.

Each function draws on a matplotlib Axes (a new figure when ``ax`` is None) and returns the Axes; the caller
saves it. matplotlib is imported only here.
"""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    return ax


def phase_diagram_plot(diagram, ax=None):
    """Measured posterior mass per basin against n (log axis), the masses softmax(−F_n) predicted from
    (L, λ, m, c) as dashed lines, and the predicted (dotted) and measured (solid grey) crossovers n_c."""
    ax = _axes(ax)
    masses = diagram.masses
    if masses is not None:
        n = masses.n
    else:
        lo = (
            min(t.predicted_n_c or t.predicted_n_c_leading or 10.0 for t in diagram.transitions or [None])
            if diagram.transitions
            else 10.0
        )
        n = np.geomspace(max(lo / 100, 2.0), lo * 100, 200)
    fine = np.geomspace(n.min(), n.max(), 300)
    predicted = diagram.predicted_masses(fine, with_constant=all(p.form is not None for p in diagram.phases))
    for j, p in enumerate(diagram.phases):
        (line,) = ax.plot(fine, predicted[:, j], "--", lw=1.2, label=f"{p.name} predicted (λ={p.basin.lam})")
        if masses is not None:
            err = None if masses.stderr is None else masses.stderr[:, j]
            ax.errorbar(
                masses.n,
                masses.of(p.name),
                yerr=err,
                fmt="o",
                ms=3.5,
                color=line.get_color(),
                label=f"{p.name} measured ({masses.method})",
            )
    for t in diagram.transitions:
        if t.predicted_n_c:
            ax.axvline(t.predicted_n_c, color="k", ls=":", lw=1)
        if t.measured_n_c:
            ax.axvline(t.measured_n_c, color="0.5", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("posterior mass of basin")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Bayesian phase diagram (dotted: predicted n_c, grey: measured)")
    ax.legend(fontsize=7, loc="best")
    return ax


def occupancy_plot(time, occ, names, ax=None):
    """Fraction of chains in each basin (occ: (R, B)) against time (R,)."""
    ax = _axes(ax)
    for j, name in enumerate(names):
        ax.plot(time, occ[:, j], label=name)
    ax.set_xlabel("time (steps × step size)")
    ax.set_ylabel("fraction of chains")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=8)
    ax.set_title("Basin occupancy")
    return ax


def stages_plot(time, loss, stages, ax=None):
    """A loss curve (log scale) with its detected jumps (vertical lines)."""
    ax = _axes(ax)
    ax.semilogy(time, loss, lw=1.2)
    for t in stages.transitions:
        ax.axvline(t, color="C3", ls="--", lw=1)
    ax.set_xlabel("time")
    ax.set_ylabel("loss")
    ax.set_title("Plateaus and jumps (dashed: detected transitions)")
    return ax


def distance_growth_plot(twins, ax=None):
    """Twin distances d(t) (median and 10–90% band over pairs) on a log scale."""
    ax = _axes(ax)
    d = twins.distance
    med = np.nanmedian(d, axis=1)
    lo, hi = np.nanpercentile(d, [10, 90], axis=1)
    ax.fill_between(twins.time, lo, hi, alpha=0.3)
    ax.semilogy(twins.time, med, lw=1.5, label="median")
    ax.set_xlabel("time (steps × step size)")
    ax.set_ylabel("distance between twins")
    ax.set_title(f"Distance growth ({twins.perturbation})")
    ax.legend(fontsize=8)
    return ax
