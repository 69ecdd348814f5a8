"""``slt library``: the named potentials from the literature with their λ, m and sources."""

from __future__ import annotations

import argparse

from slt.clikit import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "library",
        help="list the named potentials with their learning coefficient lambda and multiplicity m",
        description="The library of named potentials (slt.library): K, the point, lambda, m and the source.",
        epilog="examples: slt library   slt library line_dot   slt library --json",
    )
    parser.add_argument("name", nargs="?", help="show one entry in full")
    parser.add_argument("--json", action="store_true", help="print the entries as JSON")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from slt import library

    if args.name is not None:
        entry = library.get(args.name)
        if args.json:
            print_json(entry.to_dict())
            return 0
        d = entry.to_dict()
        at = ", ".join(f"{k}={v}" for k, v in d["at"].items())
        print(f"{d['name']}: {d['description']}")
        print(f"  K = {d['K']}")
        prior = entry.potential.prior.describe(d["variables"])
        print(f"  variables: {', '.join(d['variables'])}; prior: {prior}")
        print(f"  at {at}: lambda = {d['lam']}, m = {d['m']}")
        print(f"  source: {d['citation']}")
        return 0
    entries = [e.to_dict() for e in library.entries()]
    if args.json:
        print_json(entries)
        return 0
    width = max(len(e["name"]) for e in entries)
    rows = [(e, _point(e), _prior_factor(e)) for e in entries]
    point_width = max(len("point"), *(len(p) for _, p, _ in rows))
    print(f"{'name'.ljust(width)}  {'lambda':>6}  m  {'d':>2}  {'point'.ljust(point_width)}  K")
    for e, point, factor in rows:
        K = e["K"] if len(e["K"]) <= 60 else e["K"][:57] + "..."
        print(f"{e['name'].ljust(width)}  {e['lam']:>6}  {e['m']}  {len(e['variables']):>2}  "
              f"{point.ljust(point_width)}  {K}{factor}")
    return 0


def _point(entry: dict) -> str:
    """The point of interest, "origin" when every coordinate is 0."""
    at = entry.get("at") or {}
    if all(str(v) == "0" for v in at.values()):
        return "origin"
    text = ",".join(f"{k}={v}" for k, v in at.items())
    return text if len(text) <= 24 else text[:21] + "..."


def _prior_factor(entry: dict) -> str:
    """"  (prior |x|^1)" when the prior has Jacobian exponents, which can change λ."""
    exponents = (entry.get("prior") or {}).get("exponents") or []
    parts = [f"|{v}|^{h}" for v, h in zip(entry["variables"], exponents, strict=False) if h]
    return f"  (prior {' '.join(parts)})" if parts else ""
