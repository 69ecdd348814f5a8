"""``dominoes train``: build a mixture, train a network (or a seed ensemble), record per-pattern curves."""

from __future__ import annotations

from pathlib import Path

from dominoes.mixture import add_mixture_arguments, spec_from_args
from slt.clikit import print_json

STORE_NAME = "runs.sqlite"
TRAIN_OPTIONS = ("net", "width", "depth", "optimizer", "lr", "momentum", "weight_decay", "schedule",
                 "batch_size", "steps", "eval_every", "log_evals", "eval_cap", "device")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a network on a mixture and record per-pattern learning curves",
        description="Build a domino mixture, train a network on it (GPU when present) and record loss, "
                    "accuracy (and AUC for the binary task) on every evaluation split along training. "
                    "Runs go to DIR/runs.sqlite; a killed run resumes from its last checkpoint when the "
                    "same command is run again.")
    add_mixture_arguments(p)
    # No defaults here: an option left out keeps TrainConfig's default, and TrainConfig validates the values.
    # Listing the choices in the help (not importing them) keeps torch out of `dominoes --help`.
    g = p.add_argument_group("training (defaults: those of dominoes.train.TrainConfig)")
    g.add_argument("--net", help="mlp, cnn or resnet (default cnn)")
    g.add_argument("--width", type=int, help="hidden units (mlp) or first-layer channels (default per net)")
    g.add_argument("--depth", type=int, help="hidden layers (mlp) or blocks per stage (resnet)")
    g.add_argument("--optimizer", help="sgd or adam (default sgd)")
    g.add_argument("--lr", type=float, help="learning rate (default 0.05)")
    g.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    g.add_argument("--weight-decay", type=float, help="L2 coefficient (default 0)")
    g.add_argument("--schedule", help="constant or cosine (default constant)")
    g.add_argument("--batch-size", type=int, help="examples per step (default 128)")
    g.add_argument("--steps", type=int, help="optimizer steps (default 1000)")
    g.add_argument("--eval-every", type=int, help="evaluation period in steps (default 100)")
    g.add_argument("--log-evals", type=int, help="extra log-spaced evaluation points (default 15)")
    g.add_argument("--eval-cap", type=int, help="examples per split for the curves (default 500; "
                                                "the final metrics use all)")
    g.add_argument("--seed", type=int, default=0, help="training seed: weights and batch order (default 0)")
    g.add_argument("--data-seed", type=int, default=0, help="seed of the mixture (default 0)")
    g.add_argument("--device", help="auto (cuda, then mps, then cpu; the default), cpu, cuda, cuda:N, mps")
    g.add_argument("--ensemble", type=int, default=1, metavar="E",
                   help="train E seeds (seed, seed+1, ...) at once with vmap (default 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for runs.sqlite, checkpoints, figures")
    p.add_argument("--no-plot", action="store_true", help="do not write the learning-curve figure")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=handler)


def _mean_final(members) -> dict:
    splits = members[0].final
    return {split: {metric: sum(m.final[split][metric] for m in members) / len(members)
                    for metric in splits[split]} for split in splits}


def handler(args) -> int:
    from dominoes.mixture import build
    from dominoes.store import Store
    from dominoes.train import TrainConfig, select_device, train

    if args.ensemble < 1:
        raise ValueError(f"--ensemble must be at least 1, got {args.ensemble}")
    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if getattr(args, name) is not None}
    config = TrainConfig(**given, seed=args.seed)
    select_device(config.device)  # fail on a missing device before the mixture is built
    data = build(spec_from_args(args), seed=args.data_seed, data_dir=args.data_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with Store(out / STORE_NAME) as store:
        if args.ensemble == 1:
            members = [train(data, config, store=store)]
        else:
            from dominoes.ensemble import train_ensemble

            members = train_ensemble(data, config, range(args.seed, args.seed + args.ensemble), store=store)
    figures = [] if args.no_plot else _plot(members, out)
    first = members[0]
    doc = {
        "final": first.final if len(members) == 1 else _mean_final(members),
        "device": first.device, "data_source": data.source, "wall_s": first.wall_s,
        "eval_fraction": first.eval_fraction, "n_train": len(data.train), "task": data.info.get("task"),
        "store": str(out / STORE_NAME), "figures": figures,
        "runs": [{"run_id": m.run_id, "seed": m.seed, "final": m.final, "resumed_from": m.resumed_from}
                 for m in members],
        "config": config.to_dict(),
    }
    if args.json:
        print_json(doc)
        return 0
    print(f"data: {data.source}; {len(data.train)} training dominoes, task {data.info.get('task')}")
    print(f"device {first.device}: {len(members)} run(s) of {config.steps} steps in {first.wall_s:.1f} s "
          f"({100 * first.eval_fraction:.0f}% evaluating)")
    label = "final (mean over the ensemble)" if len(members) > 1 else "final"
    print(f"{label:<32}{'accuracy':>10}{'loss':>10}")
    for split, m in doc["final"].items():
        print(f"{split:<32}{m['accuracy']:>10.4f}{m['loss']:>10.4f}")
    print(f"store: {doc['store']}" + (f"; figures: {', '.join(figures)}" if figures else ""))
    return 0


def _plot(members, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dominoes.curves import plot_curve_grid, plot_curves

    if len(members) == 1:
        fig = plot_curves(members[0].curves, "accuracy", title=f"run {members[0].run_id}")
    else:
        fig = plot_curve_grid({f"seed {m.seed}": m.curves for m in members}, "accuracy")
    path = out / f"curves_{members[0].run_id}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [str(path)]
