"""``slt phases``: Bayesian phase transitions between basins, predicted from (L, λ, m, c) and measured."""

from __future__ import annotations

import argparse

from slt.clikit import check_output_path, print_json, save_figure


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "phases",
        help="Bayesian phase transitions between basins: predicted and measured n_c",
        description=(
            "For each basin: its loss L, learning coefficient lambda, multiplicity m and the O(1) constant "
            "c of the local free energy F_n = nL + lambda log n - (m-1) log log n + c; the predicted "
            "crossovers n_c (with and without c); the posterior basin masses against n measured by "
            "quadrature (d <= 2) or tempered SMC (d > 2), and the measured n_c where two masses are equal."
        ),
        epilog="example: slt phases two_basin --basin accurate:x=1,y=0 --basin simple:x=-1,y=0 "
        "--n-range 100:1e5 --plot phases.png",
    )
    parser.add_argument(
        "expr", help="the potential K (a formula) or the name of a library entry, e.g. two_basin"
    )
    parser.add_argument(
        "--basin",
        action="append",
        default=[],
        metavar="NAME:POINT",
        help="a basin, e.g. accurate:x=1,y=0 (repeat; default: found by multi-start minimisation)",
    )
    parser.add_argument("--n-range", default="10:1e6", metavar="LOW:HIGH", help="range of n (default 10:1e6)")
    parser.add_argument(
        "--points", type=int, default=25, help="number of n values for the masses (default 25)"
    )
    parser.add_argument(
        "--box",
        metavar="LOW:HIGH",
        help="uniform prior on [LOW, HIGH]^d (default: the entry's prior, or [-1, 1]^d for a formula)",
    )
    parser.add_argument(
        "--measure",
        choices=("auto", "quadrature", "smc", "none"),
        default="auto",
        help="how to measure the masses (default auto: quadrature when d <= 2, else SMC)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="PNG", help="write the phase diagram to this file")
    parser.add_argument("--json", action="store_true", help="print JSON (basins, transitions, masses)")
    parser.set_defaults(func=handle)


def parse_range(text: str, what: str = "--n-range") -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        lo, hi = float(low), float(high)
    except ValueError:
        raise ValueError(f"{what} must be LOW:HIGH, e.g. 10:1e6, got {text!r}") from None
    if not sep or not lo < hi:
        raise ValueError(f"{what} must be LOW:HIGH with LOW < HIGH, got {text!r}")
    return lo, hi


def load_potential(expr: str, box: str | None):
    """A library entry's potential (by name) or a formula, with an optional uniform box prior."""
    from slt import library
    from slt.potential import Potential, Prior

    potential, _ = library.resolve(expr)
    if box:
        lo, hi = parse_range(box, "--box")
        potential = Potential(
            potential.expr, potential.names, prior=Prior(low=lo, high=hi), meta=potential.meta
        )
    return potential


def handle(args: argparse.Namespace) -> int:
    from slt.phases.basins import parse_basin
    from slt.phases.diagram import phase_diagram

    n_range = parse_range(args.n_range)
    if n_range[0] <= 1:
        raise ValueError(f"--n-range must start above 1, got {args.n_range!r}")
    if args.points < 2:
        raise ValueError(f"--points must be >= 2, got {args.points}")
    if args.plot:
        check_output_path(args.plot, "--plot")
    potential = load_potential(args.expr, args.box)
    basins = dict(parse_basin(b) for b in args.basin) or None
    if basins is not None and len(basins) != len(args.basin):
        raise ValueError("two --basin options share a name")
    diagram = phase_diagram(
        potential,
        basins,
        n_range=n_range,
        points=args.points,
        measure=None if args.measure == "none" else args.measure,
        seed=args.seed,
    )
    if args.plot:
        from slt.phases.plots import phase_diagram_plot

        ax = phase_diagram_plot(diagram)
        save_figure(ax.figure, args.plot, "--plot", dpi=130)
    if args.json:
        print_json(diagram.to_dict())
        return 0
    for p in diagram.phases:
        c = "n/a" if p.log_constant is None else f"{p.log_constant:.4f}"
        print(
            f"basin {p.name:>12}: L = {p.basin.loss:.6g}, lambda = {p.basin.lam}, m = {p.basin.m}, c = {c}"
            f"  ({p.basin.method}{'' if p.basin.exact else ', not exact'})"
        )
    if not diagram.transitions:
        print(f"no transition in n = {n_range[0]:g} .. {n_range[1]:g}")
    for t in diagram.transitions:
        fmt = lambda v: "n/a" if v is None else f"{v:.6g}"
        print(
            f"transition {t.source} -> {t.target}: predicted n_c = {fmt(t.predicted_n_c)} "
            f"(leading order {fmt(t.predicted_n_c_leading)}), measured n_c = {fmt(t.measured_n_c)}"
        )
    if args.plot:
        print(f"wrote {args.plot}")
    return 0
