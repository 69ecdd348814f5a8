"""``slt free-energy``: F_n over n, WBIC, and λ from the slope of F_n against log n."""

from __future__ import annotations

import argparse

from slt.clikit import parse_assignments, parse_float, print_json


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
    parser.add_argument("--m", type=int,
                        help="the multiplicity if known (default: chosen by which law is stable over "
                             "sub-windows of n, with a warning when the data cannot decide)")
    parser.add_argument("--radius", help="restrict the prior box to this half-width around w* (for a local "
                                          "lambda where K has other, more singular zeros)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def lam_line(result) -> str:
    """λ with both of its errors, e.g. "0.3192 ± 0.0000 (stat) ± 0.0193 (fit window)".

    The statistical error is 0 for quadrature (deterministic F_n); the fit-window error is what a fit over a
    finite range of n or ε can still be off by (:mod:`slt.estimate.scaling_fit`), "n/a" where too few points
    allow no estimate of it.
    """
    syst = "n/a" if result.lam_systematic != result.lam_systematic else f"{result.lam_systematic:.4f}"
    return f"{result.lam:.4f} ± {result.lam_stderr:.4f} (stat) ± {syst} (fit window)"


def handle(args: argparse.Namespace) -> int:
    from slt.estimate import free_energy
    from slt.library import resolve

    potential, default_at = resolve(args.expr)
    radius = None if args.radius is None else parse_float(args.radius, "--radius")
    result = free_energy(potential, at=parse_assignments(args.at, "point") or default_at,
                         method=args.method, m=args.m, radius=radius, seed=args.seed)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"lambda = {lam_line(result)}  (m = {result.m}{'' if result.m_decided else ', undecided'}, "
          f"{result.method}, {result.wall_s:.1f} s; slope of F_n against log n over n = "
          f"{result.n[0]:.3g} ... {result.n[-1]:.3g})")
    for warning in result.warnings:
        print(f"warning: {warning}")
    sampled = result.method != "quadrature"
    print("F_n = −log ∫ e^{−nK} φ (φ: the prior, see `slt show`)"
          + ("; stderr over independent blocks of chains; WBIC = E_{β=1/log n}[nK] (Watanabe 2013), an "
             "estimate of F_n from one temperature" if sampled else "; deterministic quadrature: no "
             "sampling error, no WBIC"))
    header = f"{'n':>12} {'F_n':>10}" + (f" {'stderr':>8} {'WBIC':>10}" if sampled else "")
    print(header)
    rows = zip(result.n, result.free_energy, result.free_energy_stderr, result.wbic, strict=True)
    for n, f, se, wbic in rows:
        print(f"{n:12.4g} {f:10.4f}" + (f" {se:8.4f} {wbic:10.4f}" if sampled else ""))
    return 0
