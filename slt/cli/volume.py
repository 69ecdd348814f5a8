"""``slt volume``: λ and m from the scaling of the prior volume V(ε) = P(K < ε)."""

from __future__ import annotations

import argparse

from slt.clikit import parse_assignments, parse_float, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "volume",
        help="estimate λ, m from the volume scaling V(ε) ≈ c ε^λ (−log ε)^(m−1)",
        description=("Subset simulation of V(ε) = P_φ(K − K(w*) < ε) over decades of ε, "
                     "then a fit of λ and m."),
        epilog="example: slt volume 'x**2*y**2' --m 2 --json",
    )
    parser.add_argument("expr", help="the potential K, or a library name (slt library)")
    parser.add_argument("--at", metavar="POINT", help="w*, e.g. x=1,y=3/10 (default: the origin)")
    parser.add_argument("--m", type=int,
                        help="the multiplicity if known (default: chosen by which law is stable over "
                             "sub-windows of the levels, with a warning when the data cannot decide)")
    parser.add_argument("--radius", help="restrict the prior box to this half-width around w*")
    parser.add_argument("--samples", type=int, default=4000, help="points per level (default 4000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from slt.cli.free_energy import lam_line
    from slt.estimate import volume_scaling

    radius = None if args.radius is None else parse_float(args.radius, "--radius")
    from slt.library import resolve

    potential, default_at = resolve(args.expr)
    result = volume_scaling(potential, at=parse_assignments(args.at, "point") or default_at, m=args.m,
                            radius=radius,
                            samples=args.samples, seed=args.seed)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"lambda = {lam_line(result)}  (m = {result.m}{'' if result.m_decided else ', undecided'}; "
          f"joint fit m = {result.m_fit:.2f} ± {result.m_fit_stderr:.2f}; {result.fit_levels} levels, "
          f"{result.wall_s:.1f} s)")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0
