"""The main job: measure per-pattern learning curves over a sweep, fit the theory on part of it, predict
the rest.

Pipeline (``dominoes validate``):

1. build the mixture of every sweep point (:func:`dominoes.mixture.build`) — prevalence ratio MNIST:CIFAR
   over a log-spaced range, plus one reliability and one simplicity variation;
2. train an ensemble of seeds per point (:func:`dominoes.ensemble.train_ensemble`), each seed a run in the
   SQLite store (a rerun reads finished points back instead of training them again);
3. fit the theory's constants (:mod:`dominoes.bridge.fit`) on the designated points, simulate the theory
   (:mod:`dominoes.bridge.theory`, on :func:`slt.run`) for every point, score predicted against measured
   on the held-out points, and fit the phenomenological model of Davies et al. (descriptive);
4. write ``report.md``, figures and ``summary.json`` (:mod:`dominoes.bridge.report`).

The default sweep (``ratio`` = p_mnist / p_cifar, halves present independently):

=========================  ============================================  ==========
point                      mixture                                       role
=========================  ============================================  ==========
ratio=1/4 … ratio=4        p_m = P√ratio, p_c = P/√ratio (P = 0.4)       held out
ratio=1                    p_m = p_c = 0.4                               **fit**
rho_mnist=0.6              ratio 1, MNIST half reliable 60% of the time  held out
noisy_mnist                ratio 1, MNIST half with pixel noise          **fit** (its σ)
noisy_mnist,ratio=1/2      ratio 1/2, the same noisy source              held out
=========================  ============================================  ==========

The noisy MNIST source is a new source, so its simplicity is fitted once (at ratio 1) and then predicted
at ratio 1/2 — the simplicity variation tests that σ, once known, carries to another mixture.
``--quick`` keeps ratios {1/4, 1, 4} and the reliability point, with smaller sets and fewer steps.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dominoes.bridge.curves import MeasuredCurves
from dominoes.bridge.theory import PatternPoint

EVAL_SPLITS = ("both", "mnist_only", "cifar_only", "mnist_randomized", "cifar_randomized")
PREVALENCE_SCALE = 0.4
NOISY_MNIST = 0.45  # pixel-noise std of the simplicity variation (images in [0, 1])


@dataclass(frozen=True)
class SweepPoint:
    """One point of the sweep: its name, whether the theory is fitted on it, and its mixture options
    (keyword arguments of :class:`dominoes.mixture.MixtureSpec` on top of the base ones)."""

    name: str
    role: str
    mixture: dict

    def __post_init__(self):
        if self.role not in ("fit", "heldout"):
            raise ValueError(f"point {self.name!r}: role must be 'fit' or 'heldout', got {self.role!r}")

    def to_dict(self) -> dict:
        return {"name": self.name, "role": self.role, "mixture": dict(self.mixture)}


@dataclass(frozen=True)
class ValidateConfig:
    """What ``dominoes validate`` runs: the sweep, seeds, training and data sizes, theory ensemble size."""

    points: tuple[SweepPoint, ...]
    seeds: tuple[int, ...]
    train: dict
    n_max: int
    n_test: int
    theory_chains: int = 16
    quick: bool = False
    base_mixture: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "points": [p.to_dict() for p in self.points],
            "seeds": list(self.seeds),
            "train": dict(self.train),
            "n_max": self.n_max,
            "n_test": self.n_test,
            "theory_chains": self.theory_chains,
            "quick": self.quick,
            "base_mixture": dict(self.base_mixture),
        }


def prevalence(ratio: float) -> dict:
    """p_mnist = P√ratio, p_cifar = P/√ratio (P = 0.4): the ratio varies, the geometric mean stays."""
    root = float(np.sqrt(ratio))
    return {"p_mnist": round(PREVALENCE_SCALE * root, 6), "p_cifar": round(PREVALENCE_SCALE / root, 6)}


def _ratio_name(ratio: float) -> str:
    return f"ratio={int(ratio)}" if ratio >= 1 else f"ratio=1/{int(round(1 / ratio))}"


def default_config(quick: bool = False) -> ValidateConfig:
    """The default sweep and sizes: ~10 minutes on 2 CPU cores, or ~2 minutes with ``quick``."""
    ratios = (0.25, 1.0, 4.0) if quick else (0.25, 0.5, 1.0, 2.0, 4.0)
    points = [SweepPoint(_ratio_name(r), "fit" if r == 1.0 else "heldout", prevalence(r)) for r in ratios]
    points.append(SweepPoint("rho_mnist=0.6", "heldout", {**prevalence(1.0), "rho_mnist": 0.6}))
    if not quick:
        noisy = {"noise_mnist": NOISY_MNIST}
        points.append(SweepPoint("noisy_mnist", "fit", {**prevalence(1.0), **noisy}))
        points.append(SweepPoint("noisy_mnist,ratio=1/2", "heldout", {**prevalence(0.5), **noisy}))
    # sized for the budget (2 CPU cores): a 3×64×32 CNN step of 2 members at batch 32 and one evaluation
    # of the five splits at eval_cap images cost about the same; evaluations are log-spaced because
    # the transitions happen in the first tens of steps
    train = {
        "net": "cnn",
        "width": 8,
        "optimizer": "sgd",
        "lr": 0.05,
        "momentum": 0.9,
        "batch_size": 32,
        "steps": 200 if quick else 400,
        "eval_every": 10_000,
        "log_evals": 12 if quick else 16,
        "eval_cap": 250 if quick else 400,
        "device": "auto",
    }
    return ValidateConfig(
        tuple(points),
        (0, 1),
        train,
        n_max=1500 if quick else 4000,
        n_test=250 if quick else 400,
        quick=quick,
    )


@dataclass(frozen=True)
class PointData:
    """A point as measured: the theory's view of its mixture, the averaged curves, the run ids."""

    sweep: SweepPoint
    theory: PatternPoint
    curves: MeasuredCurves
    run_ids: tuple[str, ...]
    source: str
    train_wall_s: float
    reused: bool


def _source_label(data, side: str, noise: float, contrast: float) -> str:
    """The name under which the theory keeps a source's simplicity: the source and its dial."""
    name = data.info["classes"][side][0]
    if noise > 0:
        name += f"+noise{noise:g}"
    if contrast < 1:
        name += f"+contrast{contrast:g}"
    return name


def measure_point(
    point: SweepPoint, config: ValidateConfig, store, data_dir=None, progress=None
) -> PointData:
    """Build the point's mixture and train its ensemble — or read it back when the store has it done."""
    from dominoes.ensemble import train_ensemble
    from dominoes.mixture import MixtureSpec, build
    from dominoes.store import config_hash
    from dominoes.train import TrainConfig, run_config

    spec = MixtureSpec(
        **{**config.base_mixture, **point.mixture, "n_max": config.n_max, "n_test": config.n_test}
    )
    data = build(spec, seed=0, data_dir=data_dir)
    train_config = TrainConfig(**config.train)
    run_ids = tuple(config_hash(run_config(data, train_config, seed=s)) for s in config.seeds)
    t0 = time.perf_counter()
    reused = all(store.status(r) == "done" for r in run_ids)
    if reused:
        frames = [store.metrics(r) for r in run_ids]
        runs = store.runs()
        # an ensemble records its whole wall time on every member: one member's value is the point's
        recorded = runs.loc[runs["run_id"] == run_ids[0], "wall_s"]
        wall_s = float(recorded.iloc[0]) if len(recorded) and recorded.iloc[0] is not None else float("nan")
    else:
        frames = [
            r.curves for r in train_ensemble(data, train_config, config.seeds, store=store, progress=progress)
        ]
        wall_s = time.perf_counter() - t0
    curves = MeasuredCurves.from_frames(point.name, [f[f["split"].isin(EVAL_SPLITS)] for f in frames])
    theory = PatternPoint.from_kinds(
        point.name,
        data.train.kind,
        rho_mnist=spec.rho_mnist,
        rho_cifar=spec.rho_cifar,
        n_classes=data.n_classes,
        mnist_source=_source_label(data, "mnist", spec.noise_mnist, spec.contrast_mnist),
        cifar_source=_source_label(data, "cifar", spec.noise_cifar, spec.contrast_cifar),
    )
    return PointData(point, theory, curves, run_ids, data.source, wall_s, reused)


def run_validation(
    config: ValidateConfig, out: str | Path, *, data_dir=None, progress: bool | None = None, log=None
) -> dict:
    """Run the whole pipeline into folder ``out``; return the summary (also written to ``summary.json``)."""
    from dominoes.bridge.fit import agreement, fit_constants, predict
    from dominoes.bridge.report import write_report
    from dominoes.bridge.sigmoid import fit_pattern_model
    from dominoes.store import Store

    if log is None:

        def log(message):
            print(f"[validate] {message}", file=sys.stderr, flush=True)

    t0, cpu0 = time.perf_counter(), time.process_time()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fit_names = [p.name for p in config.points if p.role == "fit"]
    if not fit_names or len(fit_names) == len(config.points):
        raise ValueError("the sweep needs at least one 'fit' point and one 'heldout' point")
    measured: dict[str, PointData] = {}
    with Store(out / "runs.sqlite") as store:
        for i, point in enumerate(config.points, 1):
            log(f"point {i}/{len(config.points)} {point.name} ({point.role}): {len(config.seeds)} seeds")
            measured[point.name] = pd = measure_point(point, config, store, data_dir, progress)
            verb = "read back from the store" if pd.reused else f"trained in {pd.train_wall_s:.1f} s"
            log(f"  {verb}; data: {pd.source}")
    data_source = "; ".join(sorted({pd.source for pd in measured.values()}))
    points = [pd.theory for pd in measured.values()]
    curves = {name: pd.curves for name, pd in measured.items()}
    reference = points[0].mnist_source.split("+")[0]
    log(f"fitting the theory on {fit_names} (reference source {reference!r}, σ = 1)")
    fit = fit_constants(points, curves, fit_names, reference_source=reference, chains=config.theory_chains)
    log(f"  {fit!r}")
    predicted = predict(points, fit.constants, curves, chains=config.theory_chains)
    scores = agreement(curves, predicted, fit_names)
    log(f"  {scores!r}")
    sigmoid_fits = {name: fit_pattern_model(c, points[0].n_classes) for name, c in curves.items()}
    summary = {
        "data_source": data_source,
        "real_data": not any("procedural" in pd.source for pd in measured.values()),
        "spearman_learning_time": scores.spearman_learning_time,
        "median_rel_error_learning_time": scores.median_rel_error_learning_time,
        "ordering_correct_fraction": scores.ordering_correct_fraction,
        "curve_r2_heldout": scores.curve_r2_heldout,
        "curve_r2_fit": fit.r2_fit,
        "spearman_per_pattern": scores.spearman_per_pattern,
        "n_sweep_points": len(config.points),
        "n_points_reused": sum(pd.reused for pd in measured.values()),
        "train_wall_s": float(sum(pd.train_wall_s for pd in measured.values())),
        "n_heldout_points": scores.n_heldout_points,
        "fit_points": fit_names,
        "fit": fit.to_dict(),
        "learning_times": list(scores.rows),
        "pattern_model": {name: f.to_dict() for name, f in sigmoid_fits.items()},
        "points": {
            name: {
                **pd.sweep.to_dict(),
                "theory": pd.theory.to_dict(),
                "run_ids": list(pd.run_ids),
                "train_wall_s": pd.train_wall_s,
                "reused": pd.reused,
            }
            for name, pd in measured.items()
        },
        "config": config.to_dict(),
        "store": "runs.sqlite",
    }
    # the report states the wall time up to its own writing (figures take a second or two)
    summary["wall_s"] = time.perf_counter() - t0
    summary["files"] = write_report(out, summary, curves, predicted)
    summary["wall_s"] = time.perf_counter() - t0
    # CPU seconds of this process (all its threads): on a shared machine the honest measure of cost
    summary["cpu_s"] = time.process_time() - cpu0
    (out / "summary.json").write_text(json.dumps(_finite_or_none(summary), indent=2) + "\n")
    log(f"done in {summary['wall_s']:.0f} s: {out / 'report.md'}")
    return summary


def _finite_or_none(obj):
    """JSON has no ∞/NaN: write them as null (the report says what a missing value means)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite_or_none(v) for v in obj]
    return obj
