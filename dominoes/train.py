"""Train a network on a domino mixture and record per-pattern learning curves.

The whole training set lives on the device as uint8 (N, 3, 64, 32); a step gathers a batch by index and
converts it to float in [0, 1] there, so no image crosses from host to device after the start. Batches
follow epochs: epoch e is a permutation of the N examples drawn from a generator seeded by (seed, e), cut
into ⌊N/B⌋ batches (the remainder is dropped). The batch of step t is therefore a pure function of
(seed, t), which makes a resumed run draw exactly the batches the uninterrupted run would have drawn.

Evaluation happens at the steps of :func:`eval_steps` — 0, every ``eval_every`` steps, a log-spaced schedule
(transitions are early) and the last step. "Step s" means after s optimizer updates. At each one the loss,
accuracy (and AUC for 2 classes) is measured on every split of ``data.evals`` and on a fixed subset of the
training set (split ``"train"``), each capped at ``eval_cap`` examples (a fixed random subset) to keep the
evaluation cheap. The final metrics (:attr:`TrainResult.final`) use every example of every split.

With a :class:`dominoes.store.Store`, each evaluation is written as one transaction and followed by an atomic
checkpoint (model, optimizer, step, RNG states, curves so far) at
``store.artifact_dir(run_id)/checkpoint.pt``; calling :func:`train` again with the same store and config
resumes from the last checkpoint.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from dominoes.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from dominoes.dataset import DominoData
from dominoes.evaluate import evaluate
from dominoes.nets import NETS, build_net

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "cosine")
TRAIN_SPLIT = "train"
CURVE_COLUMNS = ["step", "split", "metric", "value"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (with the data and the seed).

    net, width, depth — see :func:`dominoes.nets.build_net`.
    optimizer — ``"sgd"`` (with ``momentum``, 0 for plain SGD) or ``"adam"`` (betas 0.9, 0.999).
    lr, schedule — learning rate; ``"constant"`` or ``"cosine"`` (lr·½(1 + cos(π t/steps)), Loshchilov &
    Hutter 2017, without restarts). weight_decay — L2 coefficient passed to the optimizer.
    batch_size, steps — examples per step and the number of optimizer updates.
    eval_every, log_evals — evaluation period, and the number of log-spaced evaluation points in [1, steps].
    eval_cap — examples per split used for the curves (None: all). eval_batch — evaluation chunk size.
    seed — weight initialisation and batch order. device — ``"auto"`` (cuda, then mps, then cpu) or a torch
    device name.
    """

    net: str = "cnn"
    width: int | None = None
    depth: int | None = None
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    batch_size: int = 128
    steps: int = 1000
    eval_every: int = 100
    log_evals: int = 15
    eval_cap: int | None = 500
    eval_batch: int = 1000
    seed: int = 0
    device: str = "auto"

    def __post_init__(self):
        if self.net not in NETS:
            raise ValueError(f"unknown net {self.net!r}; choose one of {', '.join(NETS)}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if not (math.isfinite(self.lr) and self.lr >= 0):
            raise ValueError(f"lr must be a finite number >= 0, got {self.lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay}")
        for name in ("batch_size", "steps", "eval_every", "eval_batch"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.log_evals < 0:
            raise ValueError(f"log_evals must be >= 0, got {self.log_evals}")
        if self.eval_cap is not None and self.eval_cap < 1:
            raise ValueError(f"eval_cap must be a positive integer or None, got {self.eval_cap}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, repr=False)
class TrainResult:
    """The outcome of a training run.

    curves — long DataFrame (step, split, metric, value), one row per evaluation step, split and metric.
    final — ``{split: {"accuracy", "loss"[, "auc"]}}`` on every example of each split after the last step.
    device — where it ran; run_id — the store's id (None without a store); resumed_from — the step of the
    checkpoint this call started from (None for a fresh run).
    Timings, in seconds of this call: wall_s = setup (data to the device, network, checkpoint) + loop_s +
    eval_s + final_s, where loop_s is the optimizer steps alone (batch gathering, forward, backward,
    update), eval_s the curve evaluations (with their store writes and checkpoints) and final_s the
    evaluation of :attr:`final` on every example.
    """

    curves: pd.DataFrame
    final: dict
    device: str
    wall_s: float
    eval_s: float
    seed: int
    steps: int
    data_source: str = ""
    run_id: str | None = None
    resumed_from: int | None = None
    config: dict = field(default_factory=dict)
    loop_s: float = 0.0
    final_s: float = 0.0

    @property
    def eval_fraction(self) -> float:
        return self.eval_s / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict:
        return {
            "final": self.final,
            "device": self.device,
            "data_source": self.data_source,
            "wall_s": self.wall_s,
            "eval_s": self.eval_s,
            "loop_s": self.loop_s,
            "final_s": self.final_s,
            "eval_fraction": self.eval_fraction,
            "seed": self.seed,
            "steps": self.steps,
            "run_id": self.run_id,
            "resumed_from": self.resumed_from,
            "config": self.config,
        }

    def __repr__(self) -> str:
        acc = ", ".join(f"{k}={v['accuracy']:.3f}" for k, v in self.final.items())
        return (f"TrainResult(seed={self.seed}, steps={self.steps}, device={self.device!r}, "
                f"wall_s={self.wall_s:.2f}, accuracy: {acc})")


def select_device(name: str = "auto") -> torch.device:
    """``"auto"``: cuda if available, then mps, then cpu; otherwise the named device (checked to exist)."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r} requested but MPS is not available here")
    return device


def synchronize(device: torch.device) -> None:
    """Wait for the work queued on ``device`` (a no-op on the CPU), so that a wall-clock reading after it
    covers that work: kernels on a GPU run asynchronously to the Python loop that launches them."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def eval_steps(steps: int, eval_every: int, log_evals: int) -> list[int]:
    """The sorted evaluation steps: {0, steps} ∪ {k·eval_every ≤ steps} ∪ {round(steps^(j/(J−1))) : j < J}."""
    points = {0, steps, *range(eval_every, steps + 1, eval_every)}
    if log_evals > 0:
        points.update(int(round(v)) for v in np.logspace(0, math.log10(steps), log_evals))
    return sorted(p for p in points if 0 <= p <= steps)


def _stream_seed(*words: int) -> int:
    # SeedSequence mixes (seed, purpose, epoch) so that streams of neighbouring seeds are unrelated
    return int(np.random.SeedSequence([int(w) for w in words]).generate_state(1, dtype=np.uint64)[0] >> 1)


class EpochBatches:
    """Batch indices of step t: slice t mod ⌊N/B⌋ of the permutation of epoch ⌊t/⌊N/B⌋⌋ (see module doc)."""

    _PURPOSE = 1

    def __init__(self, n: int, batch_size: int, seed: int, device: torch.device):
        self.n, self.batch_size, self.seed, self.device = n, min(batch_size, n), seed, device
        self.per_epoch = n // self.batch_size
        self._epoch, self._perm = -1, None

    def __call__(self, step: int) -> torch.Tensor:
        epoch, k = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            gen = torch.Generator().manual_seed(_stream_seed(self.seed, self._PURPOSE, epoch))
            self._perm = torch.randperm(self.n, generator=gen).to(self.device)
            self._epoch = epoch
        return self._perm[k * self.batch_size:(k + 1) * self.batch_size]


def learning_rate(config: TrainConfig, step: int) -> float:
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / config.steps))
    return config.lr


def make_optimizer(config: TrainConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)


def eval_subsets(data: DominoData, cap: int | None) -> dict[str, np.ndarray]:
    """Indices used for the curves: per split (and ``"train"``) a fixed random subset of ``cap`` examples.

    The subset depends on the data only (not on the training seed), so curves of different seeds are
    measured on the same examples.
    """
    sets = {TRAIN_SPLIT: data.train, **data.evals}
    out = {}
    for i, (name, dset) in enumerate(sets.items()):
        n = len(dset)
        if cap is None or n <= cap:
            out[name] = np.arange(n)
        else:
            rng = np.random.default_rng(_stream_seed(0, 2, i))
            out[name] = np.sort(rng.choice(n, size=cap, replace=False))
    return out


def to_device(data: DominoData, device: torch.device) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """``{name: (uint8 images (n, 3, 64, 32), int64 labels (n,))}`` on ``device``, for ``"train"`` and
    every eval split."""
    return {name: (torch.from_numpy(np.ascontiguousarray(dset.images)).to(device),
                   torch.from_numpy(np.asarray(dset.labels, dtype=np.int64)).to(device))
            for name, dset in {TRAIN_SPLIT: data.train, **data.evals}.items()}


def curve_subsets(sets: dict, subsets: dict[str, np.ndarray]) -> dict:
    """The tensors of ``sets`` cut to the indices of :func:`eval_subsets` (no copy when nothing is cut)."""
    out = {}
    for name, (x, y) in sets.items():
        idx = subsets[name]
        if len(idx) == len(y):
            out[name] = (x, y)
        else:
            t = torch.from_numpy(idx).to(x.device)
            out[name] = (x[t], y[t])
    return out


def metric_rows(step: int, metrics: dict[str, dict[str, float]]) -> list[tuple[int, str, str, float]]:
    return [(step, split, name, value) for split, ms in metrics.items() for name, value in ms.items()]


def run_config(data: DominoData, config: TrainConfig, seed: int | None = None) -> dict:
    """What a store keys a run by: the training config (with ``seed``), the data's spec and seed."""
    train_config = config.to_dict()
    if seed is not None:
        train_config["seed"] = int(seed)
    return {"kind": "train", "train": train_config, "data": data.info.get("spec", {}),
            "data_seed": data.info.get("seed"), "data_source": data.source}


def check_data(data: DominoData, config: TrainConfig) -> None:
    if len(data.train) == 0:
        raise ValueError("the training set is empty")
    for name, dset in {TRAIN_SPLIT: data.train, **data.evals}.items():
        labels = np.asarray(dset.labels)
        if len(labels) and (labels.min() < 0 or labels.max() >= data.n_classes):
            raise ValueError(f"split {name!r} has labels outside 0..{data.n_classes - 1}")


def store_result(final: dict, eval_s: float) -> dict:
    """The run result for the store: non-finite values (a diverged loss) become None, as JSON has no NaN."""
    clean = {split: {k: (v if math.isfinite(v) else None) for k, v in ms.items()}
             for split, ms in final.items()}
    return {"final": clean, "eval_s": eval_s}


@contextmanager
def deterministic_algorithms(enabled: bool):
    """Deterministic kernels where torch has them (warn, do not fail, where it has none); restored on exit.

    Used on the CPU only; on a GPU it would slow convolutions down, so runs there are reproducible only up
    to the nondeterminism of cuDNN / cuBLAS reductions. Deterministic mode also fills every newly allocated
    tensor with NaN (``torch.utils.deterministic.fill_uninitialized_memory``), a debugging aid that costs an
    extra pass over every intermediate of every step (about 10 % of a small-CNN step on 2 cores) and changes
    no result — no kernel reads memory it has not written — so it is switched off here.
    """
    if not enabled:
        yield
        return
    before = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill_before = torch.utils.deterministic.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=warn_only)
        torch.utils.deterministic.fill_uninitialized_memory = fill_before


def progress_bar(total: int, initial: int, progress: bool | None, desc: str) -> tqdm:
    enabled = sys.stderr.isatty() if progress is None else bool(progress)
    return tqdm(total=total, initial=initial, disable=not enabled, file=sys.stderr, desc=desc,
                dynamic_ncols=True, leave=False)


def train(data: DominoData, config: TrainConfig, *, store=None, run_id: str | None = None,
          progress: bool | None = None) -> TrainResult:
    """Train ``config.net`` on ``data.train`` and record per-split learning curves.

    Parameters
    ----------
    data : a built mixture (:func:`dominoes.mixture.build`), or any :class:`~dominoes.dataset.DominoData`.
    config : :class:`TrainConfig`.
    store : optional :class:`dominoes.store.Store`. With it, metrics are logged one transaction per
        evaluation, a checkpoint is written after each, the run is marked done with ``final`` as its result,
        and a run with an existing checkpoint resumes from it.
    run_id : the store's id of this run; default ``store.start_run(run_config(data, config))``.
    progress : tqdm bar on stderr; None shows it only when stderr is a terminal.

    Returns a :class:`TrainResult`. Same data, config and seed on the CPU give identical curves.
    """
    check_data(data, config)
    t0 = time.perf_counter()
    device = select_device(config.device)
    full_sets = to_device(data, device)
    curve_sets = curve_subsets(full_sets, eval_subsets(data, config.eval_cap))
    train_x, train_y = full_sets[TRAIN_SPLIT]

    model = build_net(config.net, data.n_classes, width=config.width, depth=config.depth, seed=config.seed)
    model.to(device)
    optimizer = make_optimizer(config, model.parameters())
    batches = EpochBatches(len(train_y), config.batch_size, config.seed, device)
    schedule = set(eval_steps(config.steps, config.eval_every, config.log_evals))

    rows: list[tuple[int, str, str, float]] = []
    start, eval_s, resumed_from, ckpt_path = 0, 0.0, None, None
    if store is not None:
        if run_id is None:
            run_id = store.start_run(run_config(data, config), seed=config.seed, device=str(device))
        ckpt_path = store.artifact_dir(run_id) / CHECKPOINT_NAME
        if ckpt_path.exists():
            state = load_checkpoint(ckpt_path, map_location=device)
            if state["config"] != config.to_dict():
                raise ValueError(f"checkpoint {ckpt_path} was written by another config; refusing to resume")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["torch_rng"])
            start = resumed_from = int(state["step"])
            rows = [tuple(r) for r in state["curves"]]

    def record(step: int) -> None:
        nonlocal eval_s
        synchronize(device)  # queued training steps belong to loop_s, not to this evaluation
        t = time.perf_counter()
        metrics = evaluate(model, curve_sets, config.eval_batch)
        new = metric_rows(step, metrics)
        rows.extend(new)
        if store is not None:
            store.log_metrics(run_id, new)
            save_checkpoint(ckpt_path, {
                "step": step, "config": config.to_dict(), "model": model.state_dict(),
                "optimizer": optimizer.state_dict(), "torch_rng": torch.get_rng_state(),
                "curves": [list(r) for r in rows],
            })
        eval_s += time.perf_counter() - t
        bar.set_postfix(loss=f"{metrics[TRAIN_SPLIT]['loss']:.3f}", refresh=False)

    model.train()
    bar = progress_bar(config.steps, start, progress, "train")
    try:
        with deterministic_algorithms(device.type == "cpu"), bar:
            if start == 0 and 0 in schedule:
                record(0)
            loop_t0, eval_before = time.perf_counter(), eval_s
            for step in range(start, config.steps):
                for group in optimizer.param_groups:
                    group["lr"] = learning_rate(config, step)
                idx = batches(step)
                logits = model(train_x[idx].float().div_(255.0))
                loss = torch.nn.functional.cross_entropy(logits, train_y[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                bar.update(1)
                if step + 1 in schedule:
                    record(step + 1)
            synchronize(device)
            final_t0 = time.perf_counter()
            loop_s = final_t0 - loop_t0 - (eval_s - eval_before)
            final = evaluate(model, full_sets, config.eval_batch)
            final_s = time.perf_counter() - final_t0
    except Exception:
        if store is not None:
            store.finish_run(run_id, status="failed", error=traceback.format_exc(),
                             wall_s=time.perf_counter() - t0)
        raise

    wall_s = time.perf_counter() - t0
    if store is not None:
        store.finish_run(run_id, result=store_result(final, eval_s), wall_s=wall_s, device=str(device))
    return TrainResult(
        curves=pd.DataFrame(rows, columns=CURVE_COLUMNS), final=final, device=str(device), wall_s=wall_s,
        eval_s=eval_s, seed=config.seed, steps=config.steps, data_source=data.source, run_id=run_id,
        resumed_from=resumed_from, config=config.to_dict(), loop_s=loop_s, final_s=final_s,
    )
