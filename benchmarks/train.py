"""Training-loop speed: dominoes.train against a minimal hand-written torch loop, the evaluation share of a
default run, and a vmapped ensemble of E seeds against E sequential runs.

    python benchmarks/train.py [--json PATH] [--quick] [--device auto|cpu|cuda] [--net cnn] [--ensemble 8]

Three measurements, all in one process on one device (``--device auto``: cuda, then mps, then cpu), each
compared with a reference measured in the same run:

1. The loop alone. The minimal loop is the same network (same seed) on the same uint8 training images on the
   device: random batch indices, gather, float conversion, forward, cross-entropy, backward, SGD-momentum
   step — nothing else. dominoes.train is timed by its own ``TrainResult.loop_s``: the optimizer steps only,
   without set-up, the curve evaluations or the final evaluation (the schedule is reduced to steps 0 and
   ``steps`` anyway). Both clocks stop after a device synchronisation. The two alternate ``repeats`` times
   (so that a change of machine load hits both) and the best time of each counts; the overhead is
   best(train) / best(minimal) − 1. The per-step cost does not depend on the training-set size (batches are
   gathered by index), so these runs use the first ``LOOP_N`` training examples and no evaluation splits,
   which keeps the final evaluation that every train() call makes short.
2. The evaluation share of a run with the default TrainConfig (1000 steps, evaluations every 100 steps and
   at 15 log-spaced steps on 500 examples per split, then every example of every split at the end), on the
   full benchmark data. ``--quick`` projects it from measured parts: set-up, final evaluation and the cost of
   one curve evaluation (a short run that evaluates after every step), plus 1000 × the per-step time of (1).
   Without ``--quick`` the 1000-step run is made and measured as well.
3. E members in one dominoes.ensemble.train_ensemble call (layout "auto": a member loop over the stacked
   parameters on the CPU, vmap on an accelerator; without ``--quick`` the other layout too) against E
   sequential dominoes.train runs with the same seeds and config: the speed-up of the training loops
   (Σ loop_s over the E runs / the ensemble's loop_s) and of the whole calls (wall_s).

The 1-minute load average of the machine is recorded beside every measurement: on a shared machine, compare
ratios measured in the same run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from dominoes.ensemble import train_ensemble
from dominoes.mixture import MixtureSpec, build
from dominoes.nets import build_net
from dominoes.train import TrainConfig, eval_steps, select_device, synchronize, train

LOOP_N = 512
DEFAULT_STEPS = TrainConfig.steps
# (loop steps, loop repeats, ensemble steps): an accelerator needs many more steps for a stable clock
STEPS = {("cpu", True): (25, 2, 4), ("cpu", False): (150, 3, 30),
         ("gpu", True): (300, 3, 100), ("gpu", False): (2000, 3, 500)}


def load() -> float:
    return round(os.getloadavg()[0], 2)


def minimal_loop(data, config: TrainConfig, device: torch.device) -> float:
    """Seconds for ``config.steps`` plain SGD-momentum steps (see item 1 of the module docstring)."""
    x = torch.from_numpy(data.train.images).to(device)
    y = torch.from_numpy(np.asarray(data.train.labels, dtype=np.int64)).to(device)
    model = build_net(config.net, data.n_classes, width=config.width, depth=config.depth,
                      seed=config.seed).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    synchronize(device)
    t0 = time.perf_counter()
    for _ in range(config.steps):
        idx = torch.randint(len(y), (config.batch_size,), generator=gen, device=device)
        loss = torch.nn.functional.cross_entropy(model(x[idx].float() / 255), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    synchronize(device)
    return time.perf_counter() - t0


def loop_only(config: TrainConfig) -> TrainConfig:
    """``config`` with evaluations only at step 0 and at the end (on a few examples)."""
    return replace(config, eval_every=config.steps, log_evals=0, eval_cap=50)


def measure_loop(data, config: TrainConfig, device, repeats: int) -> dict:
    ref, ours, loads = [], [], []
    for _ in range(repeats):
        loads.append(load())
        ref.append(minimal_loop(data, config, device))
        ours.append(train(data, config, progress=False).loop_s)
    samples = config.steps * config.batch_size
    return {"steps": config.steps, "repeats": repeats, "minimal_s": ref, "train_loop_s": ours,
            "minimal_samples_per_s": samples / min(ref), "train_samples_per_s": samples / min(ours),
            "overhead": min(ours) / min(ref) - 1, "step_s": min(ours) / config.steps,
            "load": loads + [load()]}


def measure_eval_share(data, config: TrainConfig, step_s: float, run_full: bool) -> dict:
    probe_steps = 3
    load0 = load()
    probe = train(data, replace(config, steps=probe_steps, eval_every=1, log_evals=0), progress=False)
    per_eval = probe.eval_s / (probe_steps + 1)
    setup_s = probe.wall_s - probe.loop_s - probe.eval_s - probe.final_s
    n_evals = len(eval_steps(config.steps, config.eval_every, config.log_evals))
    curves_s, loop_s = n_evals * per_eval, config.steps * step_s
    total = setup_s + loop_s + curves_s + probe.final_s
    out = {"steps": config.steps, "evaluations": n_evals, "eval_cap": config.eval_cap,
           "split_sizes": {"train": len(data.train), **{k: len(v) for k, v in data.evals.items()}},
           "per_eval_s": per_eval, "final_s": probe.final_s, "setup_s": setup_s,
           "projected": {"wall_s": total, "loop_s": loop_s, "eval_s": curves_s, "final_s": probe.final_s,
                         "curve_share": curves_s / total, "eval_share": (curves_s + probe.final_s) / total},
           "load": [load0, load()]}
    if run_full:
        run = train(data, config, progress=False)
        out["measured"] = {"wall_s": run.wall_s, "loop_s": run.loop_s, "eval_s": run.eval_s,
                           "final_s": run.final_s, "curve_share": run.eval_fraction,
                           "eval_share": (run.eval_s + run.final_s) / run.wall_s, "load": load()}
    return out


def measure_ensemble(data, config: TrainConfig, members: int, both_layouts: bool) -> dict:
    seeds = list(range(members))
    train_ensemble(data, replace(config, steps=1), seeds[:2], progress=False)  # warm-up: vmap's first call
    load0 = load()
    seq = [train(data, replace(config, seed=s), progress=False) for s in seeds]
    load1 = load()
    ens = train_ensemble(data, config, seeds, progress=False)[0]
    seq_loop, seq_wall = sum(r.loop_s for r in seq), sum(r.wall_s for r in seq)
    other = {}
    if both_layouts:  # the layout "auto" did not choose, for the record
        layout = "vmap" if select_device(config.device).type == "cpu" else "loop"
        run = train_ensemble(data, config, seeds, progress=False, layout=layout)[0]
        other = {f"{layout}_loop_s": run.loop_s, f"{layout}_loop_speedup": seq_loop / run.loop_s}
    return {**other, "members": members, "steps": config.steps, "sequential_loop_s": seq_loop,
            "ensemble_loop_s": ens.loop_s, "loop_speedup": seq_loop / ens.loop_s,
            "sequential_wall_s": seq_wall, "ensemble_wall_s": ens.wall_s,
            "wall_speedup": seq_wall / ens.wall_s,
            "load": [load0, load1, load()]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    parser.add_argument("--quick", action="store_true",
                        help="short runs, default-run share projected (under 3 minutes on 2 CPU cores)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--net", default="cnn")
    parser.add_argument("--ensemble", type=int, default=8, metavar="E")
    parser.add_argument("--data-dir", default=None, help="real data folder (default: auto, else procedural)")
    args = parser.parse_args(argv)

    device = select_device(args.device)
    loop_steps, repeats, ens_steps = STEPS[("cpu" if device.type == "cpu" else "gpu", args.quick)]
    data = build(MixtureSpec(task="tenclass", n_max=4096, n_test=1000), seed=0, data_dir=args.data_dir)
    loop_data = replace(data, train=data.train.subset(np.arange(min(LOOP_N, len(data.train)))), evals={})
    defaults = TrainConfig(net=args.net, device=str(device))
    config = loop_only(replace(defaults, steps=loop_steps))

    # warm-up: first-call costs (allocator, lazy initialisation, cuDNN autotuning) are not the loop's
    minimal_loop(loop_data, replace(config, steps=3), device)
    train(loop_data, replace(config, steps=3), progress=False)

    loop = measure_loop(loop_data, config, device, repeats)
    share = measure_eval_share(data, defaults, loop["step_s"], run_full=not args.quick)
    ens = measure_ensemble(loop_data, loop_only(replace(defaults, steps=ens_steps)), args.ensemble,
                           both_layouts=not args.quick)

    results = {
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "device": str(device), "python": platform.python_version(), "torch": torch.__version__,
                    "numpy": np.__version__, "platform": platform.platform()},
        "data": {"source": data.source, "n_train": len(data.train), "loop_n_train": len(loop_data.train),
                 "net": args.net, "batch_size": defaults.batch_size},
        "loop": loop, "eval_share": share, "ensemble": ens,
    }
    print(f"## dominoes training loop ({args.net}, batch {defaults.batch_size}, {device}, "
          f"{torch.get_num_threads()} threads, {data.source})\n")
    print("| measurement | value | load (1 min) |\n|---|---|---|")
    loads = f"{min(loop['load'])}–{max(loop['load'])}"
    print(f"| minimal torch loop ({loop['steps']} steps, best of {repeats}) | "
          f"{loop['minimal_samples_per_s']:.0f} samples/s | {loads} |")
    print(f"| dominoes.train, loop alone (loop_s) | {loop['train_samples_per_s']:.0f} samples/s | {loads} |")
    print(f"| overhead of the dominoes.train loop | {100 * loop['overhead']:+.1f} % (target ≤ 15 %) "
          f"| {loads} |")
    proj = share["projected"]
    print(f"| default run, {share['steps']} steps, {share['evaluations']} evaluations (projected): "
          "curve evaluations / final evaluation / all evaluation share | "
          f"{100 * proj['curve_share']:.1f} % / "
          f"{100 * proj['final_s'] / proj['wall_s']:.1f} % / {100 * proj['eval_share']:.1f} % "
          f"| {share['load'][0]} |")
    if "measured" in share:
        m = share["measured"]
        print(f"| the same, measured ({m['wall_s']:.0f} s) | {100 * m['curve_share']:.1f} % / "
              f"{100 * m['final_s'] / m['wall_s']:.1f} % / {100 * m['eval_share']:.1f} % | {m['load']} |")
    eloads = f"{min(ens['load'])}–{max(ens['load'])}"
    print(f"| {ens['members']} sequential runs, loop alone ({ens['steps']} steps) | "
          f"{ens['sequential_loop_s']:.2f} s | {eloads} |")
    print(f"| one ensemble call of {ens['members']} (layout auto), loop alone | "
          f"{ens['ensemble_loop_s']:.2f} s | {eloads} |")
    for key in ("vmap", "loop"):
        if f"{key}_loop_s" in ens:
            print(f"| the ensemble with layout={key!r}, loop alone | {ens[f'{key}_loop_s']:.2f} s "
                  f"({ens[f'{key}_loop_speedup']:.2f}×) | {eloads} |")
    print(f"| ensemble speed-up (layout auto): loop / whole call | {ens['loop_speedup']:.2f}× / "
          f"{ens['wall_speedup']:.2f}× | {eloads} |")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
