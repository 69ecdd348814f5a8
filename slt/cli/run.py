"""``slt run``: an ensemble of GD / Langevin / SGLD chains on a potential, summarised or saved."""

from __future__ import annotations

import argparse

import numpy as np

from slt.clikit import parse_assignments, parse_float, print_json


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run GD / Langevin / SGLD chains on a potential (Numba kernels)",
        description=(
            "Runs independent chains on K with the compiled kernels and prints the mean and spread of the "
            "loss (running statistics after --burn-in), the divergence count and the timing. --save writes "
            "every array (positions, loss, grad_norm, final state) to an .npz file."
        ),
        epilog="examples: slt run '(x*y)**2' --method sgld --n-beta 100 --gamma 10 --chains 1024 "
        "--steps 10000   slt run 'x**4' --method langevin --temperature 0.5 --json",
    )
    parser.add_argument("expr", help="the potential K, e.g. '(x*y)**2'")
    parser.add_argument("--method", choices=("gd", "langevin", "sgld", "mala"), default="sgld",
                        help="mala: the sgld step with a Metropolis correction (exact stationary law)")
    parser.add_argument("--chains", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--step-size", default="1e-3", help="epsilon (default 1e-3)")
    parser.add_argument("--init", metavar="POINT", help="start of every chain, e.g. x=1,y=0 (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", help="Langevin temperature T (default 1)")
    parser.add_argument("--n-beta", help="SGLD/MALA n*beta (required for sgld and mala)")
    parser.add_argument("--gamma", help="SGLD/MALA localisation strength (default 0)")
    parser.add_argument("--momentum", help="GD heavy-ball momentum (default 0)")
    parser.add_argument("--burn-in", type=int, default=0, help="steps left out of the loss statistics")
    parser.add_argument("--bound", help="stop chains that leave [-bound, bound] in any coordinate")
    parser.add_argument("--drift-cap", help="MALA: the drift is shortened to at most c·sqrt(ε d) (default 2)")
    parser.add_argument("--record-every", type=int, help="record every k steps (default: about 1000 records)")
    parser.add_argument("--save", metavar="NPZ", help="save positions, loss and grad_norm to this .npz file")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=handle)


def _number(text: str | None, what: str) -> float | None:
    return None if text is None else parse_float(text, what)


def handle(args: argparse.Namespace) -> int:
    from slt.dynamics import run
    from slt.potential import Potential

    potential = Potential(args.expr)
    params = {"burn_in": args.burn_in}
    for key, text, methods in (("temperature", args.temperature, ("langevin",)),
                               ("n_beta", args.n_beta, ("sgld", "mala")),
                               ("gamma", args.gamma, ("sgld", "mala")),
                               ("momentum", args.momentum, ("gd",)),
                               ("drift_cap", args.drift_cap, ("mala",))):
        if text is not None:
            if args.method not in methods:
                raise ValueError(f"--{key.replace('_', '-')} applies to --method {' or '.join(methods)}, "
                                 f"not {args.method}")
            params[key] = _number(text, key)
    init = {k: parse_float(v, k) for k, v in parse_assignments(args.init, "init").items()} or None
    record = ("positions", "loss", "grad_norm") if args.save else ("loss",)
    result = run(potential, method=args.method, chains=args.chains, steps=args.steps,
                 step_size=_number(args.step_size, "step size"), init=init, seed=args.seed,
                 record_every=args.record_every, record=record, bound=_number(args.bound, "bound"), **params)
    if args.save:
        result.save(args.save)
    ok = ~result.diverged
    means = result.loss_mean[ok]
    summary = {
        **result.to_dict(arrays=False),
        "loss_mean": float(np.mean(means)) if means.size else None,
        "loss_mean_stderr": float(np.std(means, ddof=1) / np.sqrt(means.size)) if means.size > 1 else None,
        "loss_std": float(np.sqrt(np.mean(result.loss_var[ok]))) if ok.any() else None,
        "chain_steps_per_s": result.chains * args.steps / result.wall_s,
        "acceptance": None if result.acceptance is None else float(np.mean(result.acceptance)),
        "saved": args.save,
    }
    if args.json:
        print_json(summary)
        return 0
    print(f"{args.method} on K = {potential.expr}: {result.chains} chains x {args.steps} steps, "
          f"{result.n_diverged} diverged, {result.wall_s:.2f} s (compile included)")
    if summary["loss_mean"] is not None:
        stderr = summary["loss_mean_stderr"] or 0.0
        print(f"mean loss {summary['loss_mean']:.6g} +- {stderr:.2g} (stderr over chains), "
              f"within-chain sd {summary['loss_std']:.3g}")
    if summary["acceptance"] is not None:
        print(f"acceptance rate {summary['acceptance']:.3f}")
    if args.save:
        print(f"saved to {args.save}")
    return 0
