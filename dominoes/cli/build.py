"""``dominoes build``: build a mixture and report N, the fractions, counts per kind and class, the source."""

from __future__ import annotations

from dominoes.mixture import add_mixture_arguments, build, spec_from_args
from slt.clikit import check_output_path, print_json


def register(subparsers) -> None:
    p = subparsers.add_parser("build", help="build a domino mixture and report its counts",
                              description="Build a domino mixture (prevalence, reliability, simplicity) and "
                                          "print N, the solved fractions, counts per kind and class, and the "
                                          "data source in use.")
    add_mixture_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--preview", metavar="PNG", default=None, help="write a grid of training dominoes here")
    p.add_argument("--simplicity", action="store_true",
                   help="also measure each side's simplicity score (random-features probe, a few seconds)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=handler)


def handler(args) -> int:
    spec = spec_from_args(args)
    if args.preview is not None:
        check_output_path(args.preview, "--preview")  # before the build, which may take a while
    data = build(spec, seed=args.seed, data_dir=args.data_dir)
    if args.preview is not None:
        from dominoes.preview import save_preview

        save_preview(data.train, args.preview, title=data.source)
    info = data.info
    scores = {}
    if args.simplicity:
        from dominoes.simplicity import score_side

        scores = {side: score_side(spec, side, args.data_dir, seed=args.seed) for side in ("mnist", "cifar")}
    if args.json:
        keys = ("source", "task", "N", "N_max", "fractions_requested", "fractions", "source_fractions",
                "available", "held_out", "train", "evals", "concept_map", "notes", "spec", "seed")
        out = {key: info[key] for key in keys}
        if scores:
            out["simplicity"] = {side: score.to_dict() for side, score in scores.items()}
        print_json(out)
        return 0
    print(f"source: {data.source}")
    for note in info["notes"]:
        print(f"note: {note}")
    print(f"N = {info['N']} training dominoes (largest the sources allow: {info['N_max']}), "
          f"{data.n_classes} classes, task {info['task']}")
    print(f"{'kind':<12}{'requested':>10}{'realised':>10}{'count':>8}  per class")
    for kind, share in info["fractions_requested"].items():
        per_class = " ".join(str(c) for c in info["train"]["per_class"][kind])
        print(f"{kind:<12}{share:>10.4f}{info['fractions'][kind]:>10.4f}{info['train']['kinds'][kind]:>8}  "
              f"{per_class}")
    sf = info["source_fractions"]
    print("source use (rejected / one-sided / two-sided): "
          f"MNIST {sf['r_m0']:.3f} / {sf['r_m1']:.3f} / {sf['r_m2']:.3f}, "
          f"CIFAR {sf['r_c0']:.3f} / {sf['r_c1']:.3f} / {sf['r_c2']:.3f}")
    print(f"wrong halves: MNIST {info['train']['wrong_mnist']}, CIFAR {info['train']['wrong_cifar']}")
    print("evaluation splits: " + ", ".join(f"{k} {v['n']}" for k, v in info["evals"].items()))
    for side, score in scores.items():
        print(f"simplicity ({side} side, {score.source}): probe accuracy {score.accuracy:.3f} "
              f"(chance {score.chance:.2f}, normalized {score.normalized:.3f})")
    if args.preview is not None:
        print(f"preview: {args.preview}")
    return 0
