"""``slt llc``: the local learning coefficient of a potential at a point, by SGLD."""

from __future__ import annotations

import argparse

from slt.clikit import parse_assignments, parse_number, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "llc",
        help="estimate the local learning coefficient λ̂(w*) by SGLD",
        description=("λ̂(w*) = nβ (E[K] − K(w*)) over the localised tempered posterior "
                     "∝ exp(−nβ K − γ/2 |w − w*|²), nβ = n / log n (Lau et al. 2023)."),
        epilog="example: slt llc 'x**2*y**4' --n 100000 --json",
    )
    parser.add_argument("expr", help="the potential K, e.g. 'x**2*y**4', or a library name (slt library)")
    parser.add_argument("--at", metavar="POINT", help="w*, e.g. x=1,y=3/10 (default: the origin)")
    parser.add_argument("--n", default="100000", help="sample size n (default 100000); nβ = n / log n")
    parser.add_argument("--gamma", default="1", help="localisation strength γ (default 1)")
    parser.add_argument("--chains", type=int, default=200, help="independent chains (default 200)")
    parser.add_argument("--steps", type=int, default=30000, help="SGLD steps per chain (default 30000)")
    parser.add_argument("--step-scale", default="0.03",
                        help="step size ε = step_scale / (mean curvature of the pilot chains) (default 0.03)")
    parser.add_argument("--pilot-steps", type=int, default=2000,
                        help="steps of each pilot round that tunes ε and burns in (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from slt.estimate import llc
    from slt.library import resolve

    potential, default_at = resolve(args.expr)
    result = llc(potential, at=parse_assignments(args.at, "point") or default_at,
                 n=float(parse_number(args.n, "--n")),
                 gamma=float(parse_number(args.gamma, "--gamma")), chains=args.chains, steps=args.steps,
                 step_scale=float(parse_number(args.step_scale, "--step-scale")),
                 pilot_steps=args.pilot_steps,
                 seed=args.seed)
    if args.json:
        out = {"llc": result.llc, "stderr": result.stderr, "chains": result.chains, **result.to_dict()}
        out["diagnostics"].pop("loss_trace")
        out["diagnostics"].pop("trace_steps")
        print_json(out)
        return 0
    print(f"llc = {result.llc:.4f} ± {result.stderr:.4f}  ({result.chains} chains, nβ = {result.n_beta:.4g}, "
          f"γ = {result.gamma:g}, ε = {result.step_size:.3g}, {result.wall_s:.2f} s)")
    for warning in result.diagnostics.warnings:
        print(f"warning: {warning}")
    return 0
