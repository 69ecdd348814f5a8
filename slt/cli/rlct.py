"""``slt rlct``: the exact learning coefficient λ and multiplicity m of a potential at a point."""

from __future__ import annotations

import argparse

from slt.clikit import parse_assignments, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "rlct",
        help="exact learning coefficient (RLCT) lambda and multiplicity m",
        description=(
            "Exact learning coefficient lambda and multiplicity m of K >= 0 at a zero of K, by normal "
            "crossing, the Newton polyhedron (with a non-degeneracy proof), 2-D blow-ups or splitting over "
            "separate variables; or the reduced-rank-regression closed form (--rrr). When no method decides, "
            "prints the Newton upper bound marked as not exact."
        ),
        epilog="examples: slt rlct '(x**2 - y**3)**2'   slt rlct '(x-1)**2*(x**2+y**2)**4' --at x=1,y=3/10   "
        "slt rlct --rrr 5 5 3 0 --json",
    )
    parser.add_argument("expr", nargs="?", help="the potential K, e.g. 'x**2*y**4' (omit with --rrr)")
    parser.add_argument("--at", metavar="POINT", help="the point, e.g. x=1,y=3/10 (default: the origin)")
    parser.add_argument("--prior-exponents", metavar="H", help="prior factor |w_i|^h_i, e.g. x=1")
    parser.add_argument(
        "--taylor-order",
        type=int,
        metavar="N",
        help="use the Taylor polynomial of degree N (for analytic, non-polynomial K)",
    )
    parser.add_argument(
        "--rrr",
        nargs=4,
        type=int,
        metavar=("M", "N", "H", "r"),
        help="reduced-rank regression: M inputs, N outputs, inner rank H, true rank r",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def _exponents(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    out = {}
    for name, value in parse_assignments(text, "prior exponents").items():
        try:
            out[name] = int(value)
        except ValueError:
            raise ValueError(f"prior exponent of {name!r} must be an integer >= 0, got {value!r}") from None
    return out


def handle(args: argparse.Namespace) -> int:
    from slt.rlct import reduced_rank, rlct

    if args.rrr is not None:
        if args.expr or args.at or args.prior_exponents or args.taylor_order is not None:
            raise ValueError("--rrr takes no formula, --at, --prior-exponents or --taylor-order")
        result = reduced_rank(*args.rrr)
    else:
        if not args.expr:
            raise ValueError("give a formula for K (e.g. 'x**2*y**4') or --rrr M N H r")
        at = parse_assignments(args.at, "point") or None
        from slt import library

        if args.expr not in library.names():
            library.resolve(args.expr)         # refuses a bare, misspelt name before it is read as K = name
        target = library.get(args.expr) if args.expr in library.names() else args.expr
        result = rlct(
            target, at=at, prior_exponents=_exponents(args.prior_exponents), taylor_order=args.taylor_order
        )
    if args.json:
        print_json(result.to_dict())
        return 0
    if result.exact:
        print(f"lambda = {result.lam}   m = {result.m}   exact   (method: {result.method})")
    else:
        what = "lambda <=" if result.method == "newton_bound" else "lambda (not certified) ="
        print(f"{what} {result.lam}   NOT exact   (method: {result.method})")
        print(f"reason: {result.reason}")
    print(f"certificate: {result.certificate}")
    return 0
