"""``slt show``: a potential's variables, gradient and Hessian (and its rank) at a point; a picture."""

from __future__ import annotations

import argparse

import numpy as np
import sympy

from slt.clikit import check_output_path, parse_assignments, print_json, save_figure


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "show",
        help="variables, gradient and Hessian of a potential at a point",
        description=(
            "Parse a potential K (safely: a whitelist of numbers, variables, + - * / ** and exp, log, tanh, "
            "sin, cos, sqrt, Abs, Rational), then print its variables, its value and gradient at the point, "
            "and the Hessian there with its eigenvalues and rank (d - rank degenerate directions)."
        ),
        epilog="examples: slt show '(x-1)**2*(x**2+y**2)**4' --at x=1,y=3/10   "
        "slt show 'x**2*y**2' --plot K.png",
    )
    parser.add_argument("expr", help="the potential K, e.g. '(x*y)**2'")
    parser.add_argument("--at", metavar="POINT", help="the point, e.g. x=1,y=3/10 (default: the origin)")
    parser.add_argument("--vars", metavar="NAMES", help="variable order, e.g. x,y (default: sorted names)")
    parser.add_argument("--plot", metavar="PNG", help="save a picture: landscape (2-D) or profile (1-D)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=handle)


def describe(potential, point=None) -> dict:
    """What ``slt show`` prints, as a JSON-ready dict (exact values as strings, floats beside them)."""
    coords = potential.coordinates(point)
    value = potential(point)  # first, so that a singular point is reported as a bad value of K
    potential.gradient_at(point)  # refuses points where the exact gradient would overflow (or never finish)
    subs = dict(zip(potential.variables, coords, strict=True))
    grad_at = [sympy.simplify(g.xreplace(subs)) for g in potential.gradient]
    hess_at = potential.hessian.xreplace(subs).applyfunc(sympy.simplify)
    mu = potential.hessian_eigenvalues(point)
    rank = potential.hessian_rank(point)
    return {
        "expr": str(potential.expr),
        "variables": list(potential.names),
        "prior": potential.prior.to_dict(),
        "point": {n: str(c) for n, c in zip(potential.names, coords, strict=True)},
        "value": str(potential.exact_value(point)),
        "value_float": value,
        "gradient": [str(g) for g in potential.gradient],
        "gradient_at": [str(g) for g in grad_at],
        "critical": all(g == 0 for g in grad_at),
        "hessian_at": [[str(h) for h in row] for row in hess_at.tolist()],
        "hessian_eigenvalues": [float(v) for v in mu],
        "hessian_rank": rank,
        "degenerate_directions": potential.dim - rank,
    }


def handle(args: argparse.Namespace) -> int:
    from slt.library import resolve
    from slt.potential import Potential

    if args.vars:
        potential, default_at = Potential(args.expr, [v.strip() for v in args.vars.split(",")]), None
    else:
        potential, default_at = resolve(args.expr)
    point = parse_assignments(args.at, "point") or default_at
    if args.plot is not None:
        check_output_path(args.plot, "--plot")
    info = describe(potential, point)
    if args.plot is not None:
        _plot(potential, point, args.plot)
        info["plot"] = args.plot
    if args.json:
        print_json(info)
        return 0
    names = ", ".join(info["variables"])
    at = ", ".join(f"{k}={v}" for k, v in info["point"].items())
    lines = [
        f"K({names}) = {info['expr']}",
        f"prior: {potential.prior.describe(potential.names)}",
        f"point: {at}",
        f"K = {info['value']}",
        "gradient:",
        *[f"  dK/d{n} = {g}" for n, g in zip(potential.names, info["gradient"], strict=True)],
        f"gradient at point: ({', '.join(info['gradient_at'])})" + (" critical" if info["critical"] else ""),
        "Hessian at point:",
        *_matrix_lines(info["hessian_at"]),
        "Hessian eigenvalues: " + ", ".join(f"{v:.6g}" for v in info["hessian_eigenvalues"]),
        f"Hessian rank: {info['hessian_rank']} of {potential.dim} "
        f"({info['degenerate_directions']} degenerate directions)",
    ]
    if args.plot is not None:
        lines.append(f"plot: {args.plot}")
    print("\n".join(lines))
    return 0


def _matrix_lines(rows: list[list[str]]) -> list[str]:
    width = max((len(c) for row in rows for c in row), default=1)
    return ["  [" + "  ".join(c.rjust(width) for c in row) + "]" for row in rows]


def _plot(potential, point, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from slt import plot

    if potential.dim == 2:
        fig = plot.landscape(potential, center=point)
        if point is not None:
            where = np.array([[float(c) for c in potential.coordinates(point)]])
            plot.overlay(fig.axes[0], where, label="point")
    elif potential.dim == 1:
        fig = plot.profile(potential, center=point)
    else:
        raise ValueError(f"--plot draws potentials in 1 or 2 variables; this one has {potential.dim}")
    save_figure(fig, path, "--plot", dpi=120)
