"""``slt free-energy``: F_n over n, WBIC, and λ from the slope of F_n against log n."""

from __future__ import annotations

import argparse

from slt.clikit import parse_assignments, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "free-energy",
        help="free energy F_n by thermodynamic integration or quadrature, WBIC, λ from the slope",
        description="F_n = ∫₀ⁿ E_s[K] ds = −log ∫ e^{−nK} φ; λ from F_n = c + λ log n − (m−1) log log n.",
        epilog="example: slt free-energy 'x**2+y**4' --method quadrature --json",
    )
    parser.add_argument("expr", help="the potential K, or a library name (slt library)")
    parser.add_argument("--at", metavar="POINT", help="w* (reference value K(w*); default the origin)")
    parser.add_argument("--method", choices=("thermodynamic", "quadrature"), default="thermodynamic")
    parser.add_argument("--m", type=int, help="the multiplicity if known (default: fitted)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from slt.estimate import free_energy
    from slt.library import resolve

    potential, default_at = resolve(args.expr)
    result = free_energy(potential, at=parse_assignments(args.at, "point") or default_at,
                         method=args.method, m=args.m,
                         seed=args.seed)
    if args.json:
        print_json(result.to_dict())
        return 0
    # quadrature has no sampling error; the fit's bias over a finite n-range is not an error bar either
    spread = "(deterministic)" if result.lam_stderr == 0 else f"± {result.lam_stderr:.4f}"
    print(f"lambda = {result.lam:.4f} {spread}  (m = {result.m}, {result.method}, {result.wall_s:.1f} s; "
          "slope of F_n against log n over the n grid, exact only as n -> infinity)")
    print(f"{'n':>12} {'F_n':>10} {'stderr':>8} {'WBIC':>10}")
    for row in zip(result.n, result.free_energy, result.free_energy_stderr, result.wbic, strict=True):
        print(f"{row[0]:12.4g} {row[1]:10.4f} {row[2]:8.4f} {row[3]:10.4f}")
    return 0
