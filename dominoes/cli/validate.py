"""``dominoes validate``: the main job — measure per-pattern curves over a sweep, fit the theory, predict,
report."""

from __future__ import annotations

from slt.clikit import print_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate",
        help="validate the toy pattern-learning theory against trained networks (the main job)",
        description="Build the default sweep of domino mixtures (prevalence ratio MNIST:CIFAR over a "
        "log-spaced "
        "range, one reliability and one simplicity variation), train an ensemble of seeds per point, "
        "fit the theory's constants on the designated points, predict the others with slt's "
        "dynamics, and write report.md, figures, the SQLite store and summary.json into --out. "
        "Uses real MNIST/CIFAR-10 when found (--data-dir, then $DOMINOES_DATA, then the cache "
        "folder), else the offline procedural default; the report says which.",
    )
    p.add_argument("--data-dir", default=None, help="folder with real MNIST / CIFAR-10 files")
    p.add_argument("--out", default="dominoes-validate", help="output folder (default ./dominoes-validate)")
    p.add_argument("--quick", action="store_true", help="a smaller sweep for a first look")
    p.add_argument("--device", default=None, help="torch device for training (default auto: cuda, mps, cpu)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON only")
    p.set_defaults(func=handler)


def handler(args) -> int:
    import dataclasses

    from dominoes.validate import default_config, run_validation

    config = default_config(quick=args.quick)
    if args.device is not None:
        config = dataclasses.replace(config, train={**config.train, "device": args.device})
    summary = run_validation(config, args.out, data_dir=args.data_dir)
    if args.json:
        keys = (
            "data_source",
            "real_data",
            "spearman_learning_time",
            "median_rel_error_learning_time",
            "ordering_correct_fraction",
            "curve_r2_heldout",
            "curve_r2_fit",
            "spearman_per_pattern",
            "n_sweep_points",
            "n_heldout_points",
            "fit_points",
            "wall_s",
            "files",
        )
        print_json({k: summary[k] for k in keys} | {"out": args.out})
        return 0
    print(f"data: {summary['data_source']}")
    for key in (
        "spearman_learning_time",
        "median_rel_error_learning_time",
        "ordering_correct_fraction",
        "curve_r2_heldout",
    ):
        print(f"{key:32s} {summary[key]:.3f}")
    print(
        f"{summary['n_sweep_points']} sweep points, {summary['wall_s']:.0f} s; report: {args.out}/report.md"
    )
    return 0
