"""Choosing LLC settings: λ̂ over a range of one setting (step size, nβ or γ), with a plot.

The documented way to choose :func:`slt.llc`'s settings (Lau et al. 2023, §4; design.md §4): λ̂ should be
flat in the step-size scale where the sampler is sound (too large: divergences or λ̂ rising; too small: not
mixed), should not fall as γ grows (a large γ pulls λ̂ down), and should be stable in nβ for m = 1 (for m > 1
it drifts like λ − (m − 1)/log nβ).
"""

from __future__ import annotations

from collections.abc import Sequence

from slt.estimate.llc import llc
from slt.estimate.results import LLCResult

SWEEPABLE = ("step_scale", "n_beta", "gamma")


def llc_sweep(target, param: str, values: Sequence[float], at=None, **settings) -> list[LLCResult]:
    """λ̂ for each value of ``param`` (one of "step_scale", "n_beta", "gamma"); other settings as in llc."""
    if param not in SWEEPABLE:
        raise ValueError(f"param must be one of {SWEEPABLE}, got {param!r}")
    if not values:
        raise ValueError("give at least one value to sweep")
    return [llc(target, at=at, **{**settings, param: float(v)}) for v in values]


def plot_llc_sweep(results: Sequence[LLCResult], param: str, exact: float | None = None):
    """λ̂ ± 2 stderr against ``param`` (log scale), divergent runs marked; returns a matplotlib Figure."""
    import matplotlib.pyplot as plt

    xs = [r.step_size if param == "step_scale" else getattr(r, param) for r in results]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.errorbar(xs, [r.llc for r in results], yerr=[2 * r.stderr for r in results], fmt="o-", capsize=3,
                label="λ̂ ± 2 s.e.")
    bad = [(x, r.llc) for x, r in zip(xs, results, strict=True) if r.diagnostics.warnings]
    if bad:
        ax.plot(*zip(*bad, strict=True), "rx", ms=10, label="warnings")
    if exact is not None:
        ax.axhline(exact, color="k", ls="--", lw=1, label=f"exact λ = {exact:g}")
    ax.set_xscale("log")
    ax.set_xlabel("step size ε" if param == "step_scale" else param)
    ax.set_ylabel("λ̂")
    ax.legend()
    fig.tight_layout()
    return fig
