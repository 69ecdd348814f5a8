"""``dominoes download``: fetch MNIST, Fashion-MNIST or CIFAR-10 with md5 verification (explicit only)."""

from __future__ import annotations

import sys

from dominoes.data.download import RESOURCES, download
from dominoes.data.locate import cache_dir
from slt.clikit import print_json


def register(subparsers) -> None:
    p = subparsers.add_parser("download", help="download a dataset (md5-verified)",
                              description="Download a dataset from its usual public location, verify "
                                          "the published md5 of every file, and lay it out where "
                                          "`dominoes build` finds it.")
    p.add_argument("dataset", choices=tuple(RESOURCES))
    p.add_argument("--root", default=None, help=f"destination folder (default {cache_dir()})")
    p.add_argument("--mirror", default=None, help="base URL to fetch from instead of the usual ones")
    p.add_argument("--retries", type=int, default=3, help="retries per file on transient errors (default 3)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=handler)


MAX_RETRIES = 10  # the wait doubles per retry: 10 retries already wait about 17 minutes in all


def handler(args) -> int:
    if not 0 <= args.retries <= MAX_RETRIES:
        raise ValueError(f"--retries must be between 0 and {MAX_RETRIES}, got {args.retries}")
    try:
        result = download(args.dataset, args.root, mirror=args.mirror, retries=args.retries)
    except FileNotFoundError:
        raise
    except OSError as exc:
        # the network or the destination failed: one line, not a traceback (exit status 1: not bad input)
        print(f"dominoes download: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"{result.dataset}: {len(result.fetched)} fetched, {len(result.present)} already present, "
              f"in {result.folder}")
    return 0
