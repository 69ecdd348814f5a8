"""Phase transitions in singular toy landscapes: Bayesian (posterior mass), dynamical (plateaus) and path
dependence (twin trajectories). Writes four PNG figures next to ``--out`` and prints the numbers.

    python examples/phase_transition.py --out figures/

1. ``two_basin`` (slt.library): a simple basin (L = 1/1000, λ = 1/2) and an accurate one (L = 0, λ = 1).
   The posterior prefers the simple one until F_n crosses; the predicted n_c with the O(1) constants is
   compared with the n_c measured by quadrature.
2. ``line_dot``: equal loss, λ = 1/4 at the dot and 1/2 on the line: P(dot)/P(line) grows like n^{1/4};
   Langevin ensembles at temperature T = 1/n are compared with the posterior masses.
3. The deep-linear mode ½(s − ab)² (Saxe et al. 2014): gradient descent plateaus at the origin and jumps at
   t* = ln(s/u₀ − 1)/(2s); the change-point detector finds the jump.
4. Twin GD trajectories on ``line_dot`` from starts 1e-6 apart: distance growth and finite-time rates.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import slt  # noqa: E402
from slt.phases.basins import basins_at  # noqa: E402
from slt.phases.diagram import phase_diagram  # noqa: E402
from slt.phases.dynamics import endpoints  # noqa: E402
from slt.phases.masses import masses_quadrature  # noqa: E402
from slt.phases.path import twin_run  # noqa: E402
from slt.phases.plots import distance_growth_plot, phase_diagram_plot, stages_plot  # noqa: E402
from slt.phases.stages import detect_stages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default="figures", help="folder for the PNG files")
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. Bayesian transition on two_basin
    K = slt.library.get("two_basin").potential
    diagram = phase_diagram(K, {"accurate": "x=1,y=0", "simple": "x=-1,y=0"}, n_range=(1e2, 1e5), points=16)
    (t,) = diagram.transitions
    print(
        f"two_basin: predicted n_c = {t.predicted_n_c:.1f} (leading order {t.predicted_n_c_leading:.1f}), "
        f"measured n_c (quadrature) = {t.measured_n_c:.1f}"
    )
    ax = phase_diagram_plot(diagram)
    ax.figure.savefig(out / "phase_diagram_two_basin.png", dpi=130)

    # 2. line + dot: mass ratio exponent, and Langevin ensembles versus the posterior
    L = slt.library.get("line_dot").potential
    basins = basins_at(L, {"dot": "x=0,y=0", "line": "x=1,y=0"})
    n = np.geomspace(1e4, 1e8, 9)
    m = masses_quadrature(L, basins, n)
    slope = np.polyfit(np.log(n), np.log(m.of("dot") / m.of("line")), 1)[0]
    print(f"line_dot: P(dot)/P(line) ~ n^{slope:.4f} (theory 1/4)")
    ends = endpoints(
        L, basins, "langevin", settings=(1e-2, 1e-3, 1e-4), chains=256, steps=20_000, step_size=1e-3
    )
    for T, f, p in zip(ends.settings, ends.fraction, ends.posterior, strict=True):
        print(f"  Langevin T = {T:g}: fraction at the dot {f[0]:.3f}; posterior mass at n = 1/T: {p[0]:.3f}")
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    ax.loglog(n, m.of("dot") / m.of("line"), "o-", label="quadrature")
    ax.loglog(n, (m.of("dot") / m.of("line"))[0] * (n / n[0]) ** 0.25, "--", label="n^{1/4}")
    ax.set_xlabel("n")
    ax.set_ylabel("P(dot) / P(line)")
    ax.set_title("line + dot: the simpler singularity wins as n grows")
    ax.legend()
    fig.savefig(out / "line_dot_mass_ratio.png", dpi=130)

    # 3. plateau and jump of the deep-linear mode under gradient descent
    s, u0, eps = 2.0, 1e-4, 1e-3
    run = slt.run(
        slt.library.deep_linear(2).potential,
        method="gd",
        chains=1,
        steps=5000,
        step_size=eps,
        init=[u0**0.5, u0**0.5],
        record_every=5,
    )
    time, loss = run.steps_recorded * eps, run.loss[:, 0]
    stages = detect_stages(time, loss)
    print(
        f"deep linear s = {s}: detected jump at t = {stages.transitions[0]:.4f}, "
        f"Saxe t* = {np.log(s / u0 - 1) / (2 * s):.4f}"
    )
    ax = stages_plot(time, loss, stages)
    ax.figure.savefig(out / "deep_linear_stages.png", dpi=130)

    # 4. path dependence on line_dot: twins from nearby starts
    init = np.random.default_rng(0).uniform(-1, 1, size=(64, 2))
    twins = twin_run(L, init, method="gd", delta=1e-6, steps=20_000, step_size=1e-3, record_every=100)
    rate = np.nanmedian(twins.rate[-1])
    print(f"line_dot twins: median finite-time rate at t = {twins.time[-1]:g}: {rate:.4f}")
    ax = distance_growth_plot(twins)
    ax.figure.savefig(out / "line_dot_twins.png", dpi=130)
    print(f"figures written to {out}/")


if __name__ == "__main__":
    main()
