"""``slt dynamics``: ensemble basin occupancy over time and plateau/jump detection of the loss."""

from __future__ import annotations

import argparse

import numpy as np

from slt.clikit import check_output_path, print_json, save_figure


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "dynamics",
        help="ensemble occupancy of basins over time and plateau/jump detection",
        description=(
            "Runs a GD / Langevin ensemble from uniform starts on the prior box, reports the fraction of "
            "chains in each basin over time and the plateaus/jumps of the mean loss (change points of "
            "-d log loss/dt)."
        ),
        epilog="example: slt dynamics line_dot --basin dot:x=0,y=0 --basin line:x=1,y=0 --method langevin "
        "--temperature 1e-3 --steps 20000 --json",
    )
    parser.add_argument("expr", help="the potential K (a formula) or a library entry name")
    parser.add_argument("--basin", action="append", default=[], metavar="NAME:POINT", help="a basin (repeat)")
    parser.add_argument("--method", choices=("gd", "langevin"), default="gd")
    parser.add_argument("--temperature", type=float, default=1e-3, help="Langevin temperature (default 1e-3)")
    parser.add_argument("--chains", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--step-size", type=float, default=1e-3)
    parser.add_argument("--box", metavar="LOW:HIGH", help="uniform prior box for the starts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="PNG", help="write occupancy and loss figures to this file")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> int:
    from slt.cli.phases import load_potential
    from slt.dynamics import run
    from slt.phases.basins import basins_at, parse_basin
    from slt.phases.dynamics import occupancy
    from slt.phases.stages import detect_stages

    if args.plot:
        check_output_path(args.plot, "--plot")
    potential = load_potential(args.expr, args.box)
    if not args.basin:
        raise ValueError("give at least one --basin NAME:x=..,y=..")
    basins = basins_at(potential, dict(parse_basin(b) for b in args.basin))
    prior = potential.prior
    if prior.kind != "box":
        raise ValueError("the starts are drawn uniformly on a box prior; give --box")
    init = np.random.default_rng(args.seed).uniform(prior.low, prior.high, size=(args.chains, potential.dim))
    params = {"temperature": args.temperature} if args.method == "langevin" else {}
    r = run(
        potential,
        args.method,
        chains=args.chains,
        steps=args.steps,
        step_size=args.step_size,
        init=init,
        seed=args.seed,
        record=("positions", "loss"),
        **params,
    )
    occ = occupancy(r, basins)
    time = r.steps_recorded * args.step_size
    mean_loss = np.nanmean(r.loss, axis=1)
    stages = detect_stages(time, mean_loss, smooth=5 if args.method == "langevin" else 1)
    if args.plot:
        import matplotlib.pyplot as plt

        from slt.phases.plots import occupancy_plot, stages_plot

        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
        occupancy_plot(time, occ, [b.name for b in basins], a1)
        stages_plot(time, mean_loss, stages, a2)
        save_figure(fig, args.plot, "--plot", dpi=130)
    final = dict(zip((b.name for b in basins), occ[-1].tolist(), strict=True))
    if args.json:
        print_json(
            {
                "basins": [b.to_dict() for b in basins],
                "final_occupancy": final,
                "time": time.tolist(),
                "occupancy": occ.tolist(),
                "mean_loss": mean_loss.tolist(),
                "stages": stages.to_dict(),
                "diverged": r.n_diverged,
                "params": r.params,
            }
        )
        return 0
    print(
        f"{args.method} x {args.chains} chains, {args.steps} steps: final occupancy "
        + ", ".join(f"{k} {v:.3f}" for k, v in final.items())
        + f" ({r.n_diverged} diverged)"
    )
    print("loss transitions at t = " + (", ".join(f"{t:.4g}" for t in stages.transitions) or "none"))
    return 0
