"""``slt llc``: the local learning coefficient of a potential at a point, by MALA or SGLD chains."""

from __future__ import annotations

import argparse

from slt.clikit import parse_assignments, parse_float, print_json
from slt.estimate.llc import DEFAULT_CHAINS, DEFAULT_GAMMA, DEFAULT_N, DEFAULT_STEP_SCALE, SAMPLERS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "llc",
        help="estimate the local learning coefficient λ̂(w*) from an ensemble of chains",
        description=("λ̂(w*) = nβ (E[K] − K(w*)) over the localised tempered posterior "
                     "∝ exp(−nβ K − γ/2 |w − w*|²), nβ = n / log n (Lau et al. 2023), sampled by SGLD "
                     "proposals with a Metropolis correction (mala, exact) or by plain SGLD."),
        epilog=("λ̂ converges to the exact value at this n and γ (slt.estimate.localized_llc_exact, by "
                "quadrature in d <= 2), which tends to λ only as n -> infinity: e.g. 0.2540 against "
                "λ = 1/4 for line_dot_origin at the defaults. "
                "example: slt llc 'x**2*y**4' --n 1000000 --json"),
    )
    parser.add_argument("expr", help="the potential K, e.g. 'x**2*y**4', or a library name (slt library)")
    parser.add_argument("--at", metavar="POINT", help="w*, e.g. x=1,y=3/10 (default: the origin)")
    parser.add_argument("--n", default=str(DEFAULT_N),
                        help=f"sample size n (default {DEFAULT_N}); nβ = n / log n")
    parser.add_argument("--gamma", default=str(DEFAULT_GAMMA),
                        help=f"localisation strength γ (default {DEFAULT_GAMMA})")
    parser.add_argument("--sampler", choices=SAMPLERS, default="mala",
                        help="mala: exact (Metropolis-corrected); sgld: Lau et al.'s update, O(ε) bias "
                             "(default mala)")
    parser.add_argument("--chains", type=int, default=DEFAULT_CHAINS,
                        help=f"independent chains (default {DEFAULT_CHAINS})")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per chain after the burn-in (default: 200000 in d <= 2, fewer in high d)")
    parser.add_argument("--step-scale", default=str(DEFAULT_STEP_SCALE),
                        help="first guess of the step size: step_scale / (stiffest curvature of the pilot "
                             f"chains) (default {DEFAULT_STEP_SCALE})")
    parser.add_argument("--pilot-steps", type=int, default=None,
                        help="steps of each pilot round that tunes ε and burns in (default: a twentieth of "
                             "--steps, at least 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from slt.estimate import llc
    from slt.library import resolve

    potential, default_at = resolve(args.expr)
    result = llc(potential, at=parse_assignments(args.at, "point") or default_at,
                 n=parse_float(args.n, "--n"),
                 gamma=parse_float(args.gamma, "--gamma"), sampler=args.sampler, chains=args.chains,
                 steps=args.steps,
                 step_scale=parse_float(args.step_scale, "--step-scale"),
                 pilot_steps=args.pilot_steps,
                 seed=args.seed)
    if args.json:
        out = {"llc": result.llc, "stderr": result.stderr, "chains": result.chains, **result.to_dict()}
        out["diagnostics"].pop("loss_trace")
        out["diagnostics"].pop("trace_steps")
        print_json(out)
        return 0
    accept = "" if result.method != "mala" else f", acceptance {result.diagnostics.acceptance:.2f}"
    print(f"llc = {result.llc:.4f} ± {result.stderr:.4f}  ({result.method}, {result.chains} chains × "
          f"{result.steps} steps, nβ = {result.n_beta:.4g}, γ = {result.gamma:g}, ε = {result.step_size:.3g}"
          f"{accept}, {result.wall_s:.2f} s)")
    for warning in result.diagnostics.warnings:
        print(f"warning: {warning}")
    return 0
