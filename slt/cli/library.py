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
    print(f"{'name'.ljust(width)}  {'lambda':>6}  m  {'d':>2}  K")
    for e in entries:
        K = e["K"] if len(e["K"]) <= 60 else e["K"][:57] + "..."
        print(f"{e['name'].ljust(width)}  {e['lam']:>6}  {e['m']}  {len(e['variables']):>2}  {K}")
    return 0
