"""``dominoes results DIR``: the runs of a sweep as a table (config columns + results), CSV or a plot."""

from __future__ import annotations

from slt.clikit import check_output_path, parse_number, print_json, save_figure


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "results",
        help="tabulate (or plot) the runs of a sweep folder",
        description=(
            "One row per run of DIR/runs.sqlite: the swept parameters, status and results. "
            "--csv writes every column; --plot draws a result against one swept parameter "
            "(lines, mean ± s.e. over seeds) or two (heat map)."
        ),
    )
    parser.add_argument("out", metavar="DIR", help="a folder written by `dominoes sweep --out DIR`")
    parser.add_argument("--csv", metavar="PATH", help="write the full table as CSV")
    parser.add_argument("--status", choices=("done", "failed", "running"), help="only runs with this status")
    parser.add_argument("--reach", action="append", default=[], metavar="SPLIT=TARGET",
                        help="add a column: first step where SPLIT's accuracy ≥ TARGET (repeatable)")
    parser.add_argument("--plot", metavar="COLUMN", help="result column, e.g. result.final.both.accuracy")
    parser.add_argument("--x", metavar="AXIS", help="swept parameter on the horizontal axis (with --plot)")
    parser.add_argument("--y", metavar="AXIS", help="second swept parameter: draw a heat map")
    parser.add_argument("--figure", metavar="PATH", default="sweep.png",
                        help="where --plot saves the figure (default sweep.png)")
    parser.add_argument("--json", action="store_true", help="print the table as JSON records")
    parser.set_defaults(func=handle)


def handle(args) -> int:
    from dominoes.sweep import first_step_reaching, load_spec, results

    frame = results(args.out, status=args.status)
    for text in args.reach:
        split, sep, target = text.partition("=")
        if not sep or not split:
            raise ValueError(f"--reach expects SPLIT=TARGET such as mnist_only=0.9, got {text!r}")
        steps = first_step_reaching(args.out, split.strip(), float(parse_number(target, "--reach target")))
        frame[steps.name] = frame["run_id"].map(steps)
    if args.csv:
        frame.to_csv(args.csv, index=False)
    if args.plot:
        from dominoes.sweep_plot import plot_sweep

        if not args.x:
            raise ValueError("--plot needs --x AXIS (a swept parameter)")
        check_output_path(args.figure, "--figure")
        figure = plot_sweep(frame[frame["status"] == "done"], args.plot, args.x, args.y)
        save_figure(figure, args.figure, "--figure", dpi=120, bbox_inches="tight")
    if args.json:
        print_json(frame.to_dict(orient="records"))
        return 0
    try:
        axes = [a for a in load_spec(args.out).get("axes", []) if a in frame.columns]
    except FileNotFoundError:  # a store written by `dominoes train`, not by a sweep
        axes = []
    shown = ["run_id", *axes, "status", "wall_s",
             *[c for c in frame.columns if c.startswith(("result.", "step_")) and frame[c].dtype.kind == "f"]]
    print(frame[shown].to_string(index=False, max_colwidth=30, float_format=lambda v: f"{v:.4g}"))
    counts = frame["status"].value_counts().to_dict()
    print(f"{len(frame)} runs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    if args.csv:
        print(f"wrote {args.csv}")
    if args.plot:
        print(f"wrote {args.figure}")
    return 0
