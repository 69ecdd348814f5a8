"""Train E networks of one architecture at once: stacked parameters and ``torch.func.vmap``.

Each member is an independent run: its weights are initialised from its own seed (exactly as
:func:`dominoes.train.train` with that seed would) and it draws its own batches (per-member batches: the
batch order of member e is that of a single run with ``seed = seeds[e]``). The E parameter sets are stacked
along a leading axis (``torch.func.stack_module_state``) and the forward pass is ``vmap`` of
``functional_call`` over that axis, so one call processes E batches of B examples.

Layout of the training forward pass (``layout``): ``"vmap"`` as just described, or ``"loop"``, which calls
each member in turn on its slice of the stacked parameters (``unbind``; the backward pass stacks the E
gradients). Both give the same gradients. vmap turns a convolution whose weights are batched into one grouped
convolution, whose backward pass on the CPU (oneDNN) is several times slower than E separate ones — measured
on 2 cores, an E = 8 small-CNN step took ~2× the time of 8 single steps — so ``"auto"`` loops on the CPU and
vmaps on accelerators, where one launch for E members is the gain. Evaluations always vmap (forward only:
the batched weights become one wider convolution, not a grouped one).

One optimizer acts on the stacked tensors. That is exact, not an approximation: SGD with momentum and Adam
update every coordinate from that coordinate's own gradient history, and the summed loss Σ_e L_e(θ_e) has
∂/∂θ_e = ∇L_e(θ_e), so member e follows the same trajectory as a separate run up to floating-point
reassociation (``tests/test_train_ensemble.py`` checks this).
"""

from __future__ import annotations

import copy
import time

import pandas as pd
import torch
from torch.func import functional_call, stack_module_state, vmap

from dominoes.dataset import DominoData
from dominoes.evaluate import logits_on, metrics_from_logits
from dominoes.nets import build_net
from dominoes.train import (
    CURVE_COLUMNS,
    TRAIN_SPLIT,
    EpochBatches,
    TrainConfig,
    TrainResult,
    check_data,
    curve_subsets,
    deterministic_algorithms,
    eval_steps,
    eval_subsets,
    learning_rate,
    make_optimizer,
    metric_rows,
    progress_bar,
    run_config,
    select_device,
    store_result,
    synchronize,
    to_device,
)

LAYOUTS = ("auto", "vmap", "loop")


def _ensemble_metrics(forward, sets: dict, batch_size: int, n_members: int) -> list[dict]:
    per_member: list[dict] = [{} for _ in range(n_members)]
    for name, (x, y) in sets.items():
        logits = logits_on(forward, x, batch_size)  # (E, n, C)
        for e in range(n_members):
            per_member[e][name] = metrics_from_logits(logits[e], y)
    return per_member


def train_ensemble(data: DominoData, config: TrainConfig, seeds, *, store=None,
                   progress: bool | None = None, layout: str = "auto") -> list[TrainResult]:
    """Train one member per seed in ``seeds`` (``config.seed`` is ignored) in a single vmapped loop.

    Returns one :class:`~dominoes.train.TrainResult` per member, in the order of ``seeds``; their timings
    (``wall_s``, ``loop_s``, ``eval_s``, ``final_s``) are those of the whole ensemble. With a ``store`` each
    member is its own run (the config with its seed), with metrics logged one transaction per evaluation and
    per member. Ensembles write no
    checkpoints: a killed ensemble is rerun from the start (its metric rows are replaced, not duplicated).
    ``layout`` — the training forward pass, ``"auto"``, ``"vmap"`` or ``"loop"`` (see the module doc).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    check_data(data, config)
    t0 = time.perf_counter()
    device = select_device(config.device)
    if layout == "auto":
        layout = "loop" if device.type == "cpu" else "vmap"
    full_sets = to_device(data, device)
    curve_sets = curve_subsets(full_sets, eval_subsets(data, config.eval_cap))
    train_x, train_y = full_sets[TRAIN_SPLIT]
    n_members = len(seeds)

    models = [build_net(config.net, data.n_classes, width=config.width, depth=config.depth, seed=s).to(device)
              for s in seeds]
    params, buffers = stack_module_state(models)
    skeleton = copy.deepcopy(models[0]).to("meta")
    del models

    def one(p, b, x):
        return functional_call(skeleton, (p, b), (x,))

    def member_loop(p, b, x):
        ps = [dict(zip(p, t, strict=True)) for t in zip(*(v.unbind(0) for v in p.values()), strict=True)]
        return torch.stack([one(ps[e], {k: v[e] for k, v in b.items()}, x[e]) for e in range(n_members)])

    # x: (E, B, 3, 64, 32) -> (E, B, C)
    train_forward = vmap(one) if layout == "vmap" else member_loop
    eval_forward = vmap(one, in_dims=(0, 0, None))  # x: (B, 3, 64, 32)    -> (E, B, C)
    optimizer = make_optimizer(config, list(params.values()))
    batches = [EpochBatches(len(train_y), config.batch_size, s, device) for s in seeds]
    schedule = set(eval_steps(config.steps, config.eval_every, config.log_evals))

    run_ids: list[str | None] = [None] * n_members
    if store is not None:
        run_ids = [store.start_run(run_config(data, config, seed=s), seed=s, device=str(device))
                   for s in seeds]
    rows: list[list] = [[] for _ in range(n_members)]
    eval_s = 0.0

    def record(step: int) -> None:
        nonlocal eval_s
        synchronize(device)
        t = time.perf_counter()
        with torch.no_grad():
            metrics = _ensemble_metrics(lambda x: eval_forward(params, buffers, x), curve_sets,
                                        config.eval_batch, n_members)
        for e in range(n_members):
            new = metric_rows(step, metrics[e])
            rows[e].extend(new)
            if store is not None:
                store.log_metrics(run_ids[e], new)
        eval_s += time.perf_counter() - t

    bar = progress_bar(config.steps, 0, progress, f"train ×{n_members}")
    with deterministic_algorithms(device.type == "cpu"), bar:
        if 0 in schedule:
            record(0)
        loop_t0, eval_before = time.perf_counter(), eval_s
        for step in range(config.steps):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step)
            idx = torch.stack([b(step) for b in batches])          # (E, B)
            logits = train_forward(params, buffers, train_x[idx].float().div_(255.0))
            # Σ_e mean_b CE: each member's gradient is that of its own mean loss
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), train_y[idx].flatten(),
                                                     reduction="sum") / idx.shape[1]
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update(1)
            if step + 1 in schedule:
                record(step + 1)
        synchronize(device)
        final_t0 = time.perf_counter()
        loop_s = final_t0 - loop_t0 - (eval_s - eval_before)
        with torch.no_grad():
            finals = _ensemble_metrics(lambda x: eval_forward(params, buffers, x), full_sets,
                                       config.eval_batch, n_members)
        final_s = time.perf_counter() - final_t0

    wall_s = time.perf_counter() - t0
    results = []
    for e, seed in enumerate(seeds):
        if store is not None:
            store.finish_run(run_ids[e], result=store_result(finals[e], eval_s), wall_s=wall_s,
                             device=str(device))
        results.append(TrainResult(
            curves=pd.DataFrame(rows[e], columns=CURVE_COLUMNS), final=finals[e], device=str(device),
            wall_s=wall_s, eval_s=eval_s, seed=seed, steps=config.steps, data_source=data.source,
            run_id=run_ids[e], config={**config.to_dict(), "seed": seed}, loop_s=loop_s, final_s=final_s,
        ))
    return results

