"""``dominoes sweep SPEC.toml --out DIR``: run every configuration of a sweep spec into DIR's store."""

from __future__ import annotations

import json

from slt.clikit import print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a sweep spec (TOML) locally or on a Dask cluster; resumable",
        description=(
            "Expand SPEC.toml (base config, [grid] / [zip] axes, [[cases]], seeds) into runs and "
            "execute those not yet done in DIR/runs.sqlite. Finished runs are skipped on a rerun; a run "
            "that raises is recorded as failed with its traceback and the sweep goes on. "
            "Exit status 1 when some run failed."
        ),
    )
    parser.add_argument("spec", metavar="SPEC.toml", help="the sweep spec")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder of the store (created)")
    parser.add_argument("--dask", metavar="local|ADDRESS", default=None,
                        help="run on Dask: 'local' starts a LocalCluster, tcp://host:8786 joins a scheduler")
    parser.add_argument("--max-workers", type=int, default=None, metavar="N",
                        help="runs at once (local pool / LocalCluster workers); default: one per core")
    parser.add_argument("--dry-run", action="store_true", help="list the run configurations and their status")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    parser.set_defaults(func=handle)


def handle(args) -> int:
    from dominoes.executors import make_executor
    from dominoes.sweep import Sweep, run_sweep

    sweep = Sweep.from_toml(args.spec)
    if args.max_workers is not None and args.max_workers < 1:
        raise ValueError(f"--max-workers must be ≥ 1, got {args.max_workers}")
    if args.dry_run:
        return _dry_run(sweep, args)
    with make_executor(args.dask, args.max_workers) as executor:
        report = run_sweep(sweep, args.out, executor)
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"sweep {sweep.name or args.spec}: {report.total} runs — {report.done} done now, "
              f"{report.failed} failed, {report.skipped} already done; "
              f"{report.wall_s:.1f} s on {report.executor}")
        for run_id, line in report.failed_runs.items():
            print(f"  failed {run_id}: {line}")
        print(f"results: dominoes results {args.out}")
    return 1 if report.failed else 0


def _dry_run(sweep, args) -> int:
    from pathlib import Path

    from dominoes.store import Store, config_hash
    from dominoes.sweep import STORE_NAME

    path = Path(args.out) / STORE_NAME
    statuses = {}
    if path.is_file():
        with Store(path) as store:
            statuses = store.statuses()
    runs = [{"run_id": config_hash(c), "status": statuses.get(config_hash(c), "new"), "config": c}
            for c in sweep.expand()]
    if args.json:
        print_json({"name": sweep.name, "axes": sweep.axes, "runs": runs})
    else:
        for run in runs:
            print(run["run_id"], f"{run['status']:8s}", json.dumps(run["config"], sort_keys=True))
        print(f"{len(runs)} runs over axes {', '.join(sweep.axes) or '(none)'}")
    return 0
