"""What one run of a sweep does, by kind: ``config["job"]`` names a function in :data:`JOBS`.

Every job is a pure function ``config -> {"result": dict, "metrics": [(step, split, metric, value)],
"device": str}``: it reads nothing but its configuration (and data files), writes nothing, and returns
what the driver stores. Heavy imports (torch, Numba kernels) happen inside the job, so a worker that
only runs cheap jobs never pays for them.

Jobs and their configuration keys (besides ``job`` and ``seed``):

* ``"train"`` — build a domino mixture and train a network on it (:func:`train_job`):
  ``mixture`` (keyword arguments of :class:`dominoes.mixture.MixtureSpec`), ``train`` (keyword arguments
  of :class:`dominoes.train.TrainConfig`; its seed is the run's seed), optional ``data_seed`` (the
  mixture's sampling seed; default: the run's seed) and ``data_dir``.
* ``"slt"`` — a local learning coefficient estimate on a potential (:func:`slt_job`).
* ``"quadratic"`` — gradient descent on (w − x)², a cheap job with a closed form (:func:`quadratic_job`),
  for testing the sweep machinery and for demonstrations.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from dominoes.store import canonical_json


def _check_keys(config: dict, allowed: set[str], job: str) -> None:
    unknown = set(config) - allowed - {"job", "seed"}
    if unknown:
        raise ValueError(f"{job} job: unknown configuration keys {sorted(unknown)}; known: {sorted(allowed)}")


def quadratic_job(config: dict) -> dict:
    """Gradient descent on L(w) = (w − x)² from w₀ ~ N(0, 1) drawn with the run's seed.

    The iterate is w_t − x = (1 − 2·lr)^t (w₀ − x), so L(w_t) = (1 − 2·lr)^{2t} (w₀ − x)² exactly — a
    closed form tests check against. Keys: ``x`` (default 0), ``lr`` (0.1), ``steps`` (20), ``sleep``
    (seconds to wait first, to imitate a long run; 0), ``fail`` (raise ValueError when true, to imitate
    a broken configuration), ``crash`` (end the worker process at once when true, to imitate a run that
    kills its worker: a segmentation fault, the out-of-memory killer). Metrics: split "train", metric
    "loss", steps 0..steps.
    """
    _check_keys(config, {"x", "lr", "steps", "sleep", "fail", "crash"}, "quadratic")
    if config.get("fail"):
        raise ValueError("quadratic job asked to fail (fail = true)")
    if config.get("crash"):
        os._exit(70)
    time.sleep(float(config.get("sleep", 0.0)))
    x, lr, steps = float(config.get("x", 0.0)), float(config.get("lr", 0.1)), int(config.get("steps", 20))
    w0 = float(np.random.default_rng(config["seed"]).standard_normal())
    w, metrics = w0, []
    for t in range(steps + 1):
        metrics.append((t, "train", "loss", (w - x) ** 2))
        w -= lr * 2.0 * (w - x)
    return {"result": {"w0": w0, "loss_final": metrics[-1][3]}, "metrics": metrics, "device": "cpu"}


def train_job(config: dict) -> dict:
    """Build the mixture of ``config["mixture"]`` and train ``config["train"]`` on it (see the module doc).

    Result: ``final`` ({split: {"accuracy", "loss"[, "auc"]}}), ``data_source``, ``train_wall_s``,
    ``eval_fraction``, ``mixture_info`` (the solved fractions and counts). Metrics: the learning curves.
    """
    from dominoes.mixture import MixtureSpec, build

    _check_keys(config, {"mixture", "train", "data_seed", "data_dir"}, "train")
    seed = int(config["seed"])
    # the mixture first: an infeasible one fails in milliseconds, before torch is imported
    spec = MixtureSpec(**config.get("mixture", {}))
    data = build(spec, seed=int(config.get("data_seed", seed)), data_dir=config.get("data_dir"))

    from dominoes.train import TrainConfig, train

    train_config = TrainConfig(**{**config.get("train", {}), "seed": seed})
    outcome = train(data, train_config, progress=False)
    # whatever the builder reports, made JSON-plain (numpy numbers, tuples)
    info = json.loads(json.dumps(data.info, default=_plain_default))
    return _train_outcome(outcome, data.source, info, ensemble_size=1)


def _train_outcome(outcome, source: str, info: dict, ensemble_size: int) -> dict:
    metrics = list(outcome.curves[["step", "split", "metric", "value"]].itertuples(index=False, name=None))
    result = {
        "final": outcome.final,
        "data_source": source,
        "train_wall_s": outcome.wall_s,
        "eval_fraction": outcome.eval_fraction,
        "ensemble_size": ensemble_size,
        "mixture_info": info,
    }
    return {"result": result, "metrics": metrics, "device": outcome.device}


def train_group_job(configs: list[dict]) -> list[dict]:
    """Train configurations that differ only in ``seed`` as one ensemble (:func:`dominoes.ensemble.
    train_ensemble`: stacked parameters and vmap, each member exactly a separate run up to floating-point
    reassociation). They share one dataset, so ``data_seed`` must be set. Returns one :func:`train_job`-
    shaped dict per configuration, in order; ``result.ensemble_size`` records the grouping."""
    from dominoes.mixture import MixtureSpec, build

    first = configs[0]
    keys = {group_key(c) for c in configs}
    if len(keys) != 1 or None in keys:
        raise ValueError("an ensemble needs train configs that differ only in seed, with data_seed set")
    _check_keys(first, {"mixture", "train", "data_seed", "data_dir"}, "train")
    spec = MixtureSpec(**first.get("mixture", {}))
    data = build(spec, seed=int(first["data_seed"]), data_dir=first.get("data_dir"))

    from dominoes.ensemble import train_ensemble
    from dominoes.train import TrainConfig

    seeds = [int(c["seed"]) for c in configs]
    train_config = TrainConfig(**{**first.get("train", {}), "seed": seeds[0]})
    members = train_ensemble(data, train_config, seeds, progress=False)
    info = json.loads(json.dumps(data.info, default=_plain_default))
    return [_train_outcome(member, data.source, info, ensemble_size=len(seeds)) for member in members]


def group_key(config: dict) -> str | None:
    """Configurations with the same key can run as one ensemble; None when this one cannot (not a train
    job, or its dataset depends on its seed because ``data_seed`` is not set)."""
    if config.get("job") != "train" or "data_seed" not in config:
        return None
    return canonical_json({k: v for k, v in config.items() if k != "seed"})


def slt_job(config: dict) -> dict:
    """A local learning coefficient estimate :func:`slt.llc` (SGLD; Lau et al. 2023) on a potential.

    Keys: ``potential`` — a name from :mod:`slt.library` or a formula; ``at`` — the point w* as
    {variable: value} (default: the library entry's point, else the origin); ``n`` — the sample size
    (default: slt.llc's); ``llc`` — further keyword arguments of :func:`slt.llc` (``step_size``,
    ``chains``, ``steps``, ``gamma``, ...). The run's seed is passed as ``seed``. Result: ``llc``
    (mean over chains), ``llc_stderr``, ``llc_per_chain`` and, for a library potential, the exact ``lam``
    and ``m`` from the literature (``lam`` as a float, ``lam_exact`` as the fraction's text).
    """
    import slt
    from slt import library

    _check_keys(config, {"potential", "at", "n", "llc"}, "slt")
    name = config.get("potential")
    if not isinstance(name, str) or not name:
        raise ValueError("slt job: 'potential' must be a library name or a formula")
    result: dict = {}
    if name in library.names():
        entry = library.get(name)
        target = entry.potential
        at = config.get("at", {k: float(v) for k, v in entry.at.items()})
        result.update(lam=float(entry.lam), lam_exact=str(entry.lam), m=int(entry.m))
    else:
        target, at = name, config.get("at")
    options = dict(config.get("llc", {}))
    if "n" in config:
        options["n"] = config["n"]
    estimate = slt.llc(target, at=at, seed=int(config["seed"]), progress=False, **options)
    result.update(llc=float(estimate.llc), llc_stderr=float(estimate.stderr), sampler=estimate.method,
                  llc_per_chain=[float(v) for v in np.ravel(estimate.per_chain)])
    return {"result": result, "metrics": [], "device": "cpu"}


def _plain_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


JOBS = {
    "train": train_job,
    "slt": slt_job,
    "quadratic": quadratic_job,
}


GROUP_JOBS = {
    "train": train_group_job,
}


def run_group(configs: list[dict]) -> list[dict]:
    """Run configurations of one :func:`group_key` together (the job ``configs[0]["job"]`` names)."""
    name = configs[0].get("job")
    if name not in GROUP_JOBS:
        raise ValueError(f"job {name!r} cannot run as a group; groupable: {sorted(GROUP_JOBS)}")
    return GROUP_JOBS[name](configs)


def run_job(config: dict) -> dict:
    """Run the job ``config["job"]`` names on ``config``."""
    name = config.get("job")
    if name not in JOBS:
        raise ValueError(f"job must be one of {sorted(JOBS)}, got {name!r}")
    return JOBS[name](config)
