"""Training-loop speed: dominoes.train against a minimal hand-written torch loop, and a vmapped ensemble of
E seeds against E sequential runs.

    python benchmarks/train.py [--json PATH] [--quick] [--device auto|cpu|cuda] [--net cnn] [--ensemble 8]

References measured in the same process:
* the minimal loop — the same network (same seed), the same uint8 data on the device, random batches by
  index, float conversion, forward, cross-entropy, backward, SGD step; nothing else. dominoes.train adds the
  epoch sampler, the learning-rate schedule, the progress bookkeeping and the evaluations at step 0 and at
  the end (on ``eval_cap`` examples per split); its overhead is its wall time over the minimal loop's.
* E sequential dominoes.train runs against one dominoes.ensemble.train_ensemble call with the same seeds.
The evaluation share of a run with the default schedule (every 100 steps plus 15 log-spaced points, 500
examples per split) is reported too. Runs unchanged on a GPU (``--device cuda``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from dominoes.ensemble import train_ensemble
from dominoes.mixture import MixtureSpec, build
from dominoes.nets import build_net
from dominoes.train import TrainConfig, select_device, train


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def minimal_loop(data, config: TrainConfig, device: torch.device) -> float:
    """Seconds for ``config.steps`` plain SGD steps (see the module docstring); the reference."""
    t0 = time.perf_counter()
    x = torch.from_numpy(data.train.images).to(device)
    y = torch.from_numpy(data.train.labels).to(device)
    model = build_net(config.net, data.n_classes, width=config.width, seed=config.seed).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    gen = torch.Generator(device=device).manual_seed(config.seed)
    for _ in range(config.steps):
        idx = torch.randint(len(y), (config.batch_size,), generator=gen, device=device)
        loss = torch.nn.functional.cross_entropy(model(x[idx].float() / 255), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    return time.perf_counter() - t0


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    parser.add_argument("--quick", action="store_true", help="fewer steps (about a minute on 2 CPU cores)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--net", default="cnn")
    parser.add_argument("--ensemble", type=int, default=8, metavar="E")
    parser.add_argument("--data-dir", default=None, help="real data folder (default: auto, else procedural)")
    args = parser.parse_args(argv)

    device = select_device(args.device)
    steps = 60 if args.quick else 300
    data = build(MixtureSpec(task="tenclass", n_max=4096, n_test=1000), seed=0, data_dir=args.data_dir)
    base = dict(net=args.net, batch_size=128, lr=0.05, momentum=0.9, device=str(device), eval_cap=200)

    # warm-up: first-call costs (allocator, lazy imports, cuDNN autotuning) are not the loop's
    minimal_loop(data, TrainConfig(**base, steps=5), device)
    train(data, TrainConfig(**base, steps=5, eval_every=5, log_evals=0), progress=False)

    config = TrainConfig(**base, steps=steps, eval_every=steps, log_evals=0)
    ref_s = min(minimal_loop(data, config, device) for _ in range(2))
    ours_s = min(timed(lambda: train(data, config, progress=False))[0] for _ in range(2))
    samples = steps * config.batch_size

    curve_config = TrainConfig(**{**base, "eval_cap": TrainConfig.eval_cap}, steps=steps)
    curve_run = train(data, curve_config, progress=False)

    seeds = list(range(args.ensemble))
    ens_steps = max(steps // 3, 20)
    ens_config = TrainConfig(**base, steps=ens_steps, eval_every=ens_steps, log_evals=0)
    seq_s, _ = timed(lambda: [train(data, TrainConfig(**{**ens_config.to_dict(), "seed": s}), progress=False)
                              for s in seeds])
    ens_s, _ = timed(lambda: train_ensemble(data, ens_config, seeds, progress=False))

    results = {
        "machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "device": str(device), "python": platform.python_version(), "torch": torch.__version__,
                    "numpy": np.__version__, "platform": platform.platform()},
        "data": {"source": data.source, "n_train": len(data.train), "net": args.net, "batch_size": 128},
        "loop": {"steps": steps, "minimal_samples_per_s": samples / ref_s,
                 "train_samples_per_s": samples / ours_s, "minimal_s": ref_s, "train_s": ours_s,
                 "overhead": ours_s / ref_s - 1},
        "curves": {"steps": steps, "evaluations": int(curve_run.curves.step.nunique()),
                   "eval_fraction": curve_run.eval_fraction, "wall_s": curve_run.wall_s},
        "ensemble": {"members": args.ensemble, "steps": ens_steps, "sequential_s": seq_s, "ensemble_s": ens_s,
                     "speedup": seq_s / ens_s},
    }
    loop, ens, cur = results["loop"], results["ensemble"], results["curves"]
    print(f"## dominoes training loop ({args.net}, batch 128, {device}, {torch.get_num_threads()} threads, "
          f"{data.source})\n")
    print("| measurement | value |\n|---|---|")
    print(f"| minimal torch loop | {loop['minimal_samples_per_s']:.0f} samples/s |")
    print(f"| dominoes.train | {loop['train_samples_per_s']:.0f} samples/s |")
    print(f"| overhead of dominoes.train | {100 * loop['overhead']:+.1f} % (target ≤ 15 %) |")
    print(f"| evaluation share, default schedule ({cur['evaluations']} evals in {steps} steps) | "
          f"{100 * cur['eval_fraction']:.1f} % |")
    print(f"| {ens['members']} sequential runs ({ens_steps} steps) | {ens['sequential_s']:.2f} s |")
    print(f"| one vmapped ensemble of {ens['members']} | {ens['ensemble_s']:.2f} s |")
    print(f"| ensemble speed-up | {ens['speedup']:.2f}× |")
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
