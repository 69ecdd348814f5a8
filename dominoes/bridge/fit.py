"""Fit the theory's constants on designated sweep points, predict the others, score the agreement.

What is fitted (on the designated points only, by scipy's bounded least squares on the per-pattern
accuracy curves ``mnist_only`` and ``cifar_only``):

* the global constants τ (training steps per unit of theory time) and u₀ (initial mode strength);
  each curve's residuals are divided by the curve's measured rise, so both patterns weigh equally;
* per source, its simplicity σ (MNIST's σ ≡ 1 fixes the units) and its accuracy ceiling.

Everything else — how prevalence, reliability, the mix of one- and two-sided dominoes and the
sources change the curves — is the theory's prediction, made without refitting.

Agreement metrics (on the held-out points; learning time = steps to half of the final accuracy
gain, :func:`~dominoes.bridge.curves.learning_time`):

* ``spearman_learning_time``: Spearman rank correlation of predicted vs measured learning times,
  pooled over (point, pattern); per-pattern correlations are reported beside it;
* ``median_rel_error_learning_time``: median of |t_pred − t_meas| / t_meas;
* ``ordering_correct_fraction``: fraction of points where the theory orders the two patterns
  (which is learned first) as measured;
* ``curve_r2_heldout``: R² of the predicted per-pattern accuracy curves, 1 − Σ SS_res / Σ SS_tot
  with SS_tot taken about each curve's own mean (so the gap between MNIST and CIFAR levels does not
  inflate it).

A pattern not learned in the run (gain < 5 accuracy points) has learning time ∞; two ∞ agree
(relative error 0), one ∞ against a finite time is an infinite error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

from dominoes.bridge.curves import MeasuredCurves, learning_time
from dominoes.bridge.theory import PatternPoint, Prediction, SourceConstants, TheoryConstants, simulate

FIT_SPLITS = ("mnist_only", "cifar_only")
PATTERN_SPLIT = {"mnist": "mnist_only", "cifar": "cifar_only"}
REFERENCE_SOURCE_SIGMA = 1.0
MIN_CURVE_RISE = 0.05  # accuracy; a flatter curve is weighted as if it rose this much


@dataclass(frozen=True)
class FitResult:
    """The fitted constants, the points they were fitted on, and how well they fit there."""

    constants: TheoryConstants
    fit_points: tuple[str, ...]
    r2_fit: float
    cost: float
    n_evaluations: int
    message: str

    def __repr__(self) -> str:
        src = ", ".join(
            f"{k}: σ={v.sigma:.3g}, ceiling={v.ceiling:.3f}" for k, v in self.constants.sources.items()
        )
        return (
            f"FitResult(tau={self.constants.tau:.4g}, u0={self.constants.u0:.3g}, {src}, "
            f"R²(fit)={self.r2_fit:.3f}, on={list(self.fit_points)})"
        )

    def to_dict(self) -> dict:
        return {
            "constants": self.constants.to_dict(),
            "fit_points": list(self.fit_points),
            "r2_fit": self.r2_fit,
            "cost": self.cost,
            "n_evaluations": self.n_evaluations,
            "message": self.message,
        }


def predict(
    points: list[PatternPoint],
    constants: TheoryConstants,
    measured: dict[str, MeasuredCurves],
    *,
    chains: int = 16,
    seed: int = 0,
) -> dict[str, Prediction]:
    """The theory's curves for every point at that point's measured evaluation steps."""
    grid = np.unique(np.concatenate([measured[p.name].steps for p in points]))
    full = simulate(points, constants, grid, chains=chains, seed=seed)
    out = {}
    for point, pred in zip(points, full, strict=True):
        steps = measured[point.name].steps
        idx = np.searchsorted(grid, steps)
        out[point.name] = Prediction(
            point.name,
            steps.copy(),
            pred.margin_mnist[idx],
            pred.margin_cifar[idx],
            pred.train_loss[idx],
            {k: v[idx] for k, v in pred.accuracy.items()},
        )
    return out


def fit_constants(
    points: list[PatternPoint],
    measured: dict[str, MeasuredCurves],
    fit_names,
    *,
    reference_source: str = "mnist",
    chains: int = 8,
    seed: int = 0,
) -> FitResult:
    """Fit τ, u₀ and each source's (σ, ceiling) on the points named in ``fit_names``.

    The start is read from the curves with the closed form of one-sided learning (τ from the
    reference source's measured learning time, σ of the others from their learning-time ratio,
    ceilings from the final accuracies); then least squares on log τ, log u₀, log σ and the
    ceilings, with the simulation (:func:`~dominoes.bridge.theory.simulate`) inside the residual.
    """
    fit_points = [p for p in points if p.name in set(fit_names)]
    if not fit_points:
        raise ValueError(f"none of the fit points {list(fit_names)} is among the sweep points")
    missing = [p.name for p in fit_points if p.name not in measured]
    if missing:
        raise ValueError(f"no measured curves for fit points {missing}")
    sources = sorted({p.mnist_source for p in fit_points} | {p.cifar_source for p in fit_points})
    free = [s for s in sources if s != reference_source]
    n_classes = fit_points[0].n_classes
    chance = 1.0 / n_classes

    tau0, sigma0, ceiling0 = _starting_values(fit_points, measured, reference_source)
    x0 = np.concatenate(
        [[np.log(tau0), np.log(1e-2)], np.log([sigma0[s] for s in free]), [ceiling0[s] for s in sources]]
    )
    lower = np.concatenate(
        [[np.log(tau0) - 6, np.log(1e-8)], np.full(len(free), -6.0), np.full(len(sources), chance + 1e-3)]
    )
    upper = np.concatenate([[np.log(tau0) + 6, np.log(0.5)], np.full(len(free), 6.0), np.ones(len(sources))])
    x0 = np.clip(x0, lower + 1e-9, upper - 1e-9)

    def constants_of(x) -> TheoryConstants:
        sigma = {
            reference_source: REFERENCE_SOURCE_SIGMA,
            **{s: float(np.exp(v)) for s, v in zip(free, x[2 : 2 + len(free)], strict=True)},
        }
        ceilings = dict(zip(sources, x[2 + len(free) :], strict=True))
        return TheoryConstants(
            float(np.exp(x[0])),
            float(np.exp(x[1])),
            {s: SourceConstants(sigma[s], float(ceilings[s])) for s in sources},
        )

    # each curve is scaled by its own rise, so a weak pattern (CIFAR: a few accuracy points) weighs
    # as much in the fit as a strong one (MNIST: tens of points)
    scale = {
        (p.name, s): max(float(np.ptp(measured[p.name].mean[s])), MIN_CURVE_RISE)
        for p in fit_points
        for s in FIT_SPLITS
    }

    def residuals(x):
        preds = predict(fit_points, constants_of(x), measured, chains=chains, seed=seed)
        return np.concatenate(
            [
                (preds[p.name].accuracy[s] - measured[p.name].mean[s]) / scale[p.name, s]
                for p in fit_points
                for s in FIT_SPLITS
            ]
        )

    sol = least_squares(residuals, x0, bounds=(lower, upper), diff_step=1e-3)
    constants = constants_of(sol.x)
    preds = predict(fit_points, constants, measured, chains=chains, seed=seed)
    r2 = curve_r2(
        [(measured[p.name].mean[s], preds[p.name].accuracy[s]) for p in fit_points for s in FIT_SPLITS]
    )
    return FitResult(
        constants, tuple(p.name for p in fit_points), r2, float(sol.cost), int(sol.nfev), sol.message
    )


def _starting_values(fit_points, measured, reference_source):
    """τ, σ and ceilings read from the curves through the one-sided closed form (u₀ = 0.01)."""
    times = {"mnist": [], "cifar": []}
    sigma_times: dict[str, list[float]] = {}
    ceilings: dict[str, list[float]] = {}
    for p in fit_points:
        curves = measured[p.name]
        for pattern, source, seen in (
            ("mnist", p.mnist_source, p.q_mnist + p.q_both),
            ("cifar", p.cifar_source, p.q_cifar + p.q_both),
        ):
            split = PATTERN_SPLIT[pattern]
            ceilings.setdefault(source, []).append(float(curves.mean[split][-1]))
            t = learning_time(curves.steps, curves.mean[split])
            if np.isfinite(t) and seen > 0:
                # t ≈ τ ln(s/u₀ − 1) / (2 q σ) with s ≈ 1, u₀ = 0.01: q σ t / ln 99 estimates τ/2
                sigma_times.setdefault(source, []).append(seen * max(t, 1.0))
                times[pattern].append(t)
    ref = np.mean(
        sigma_times.get(reference_source, [max(float(measured[fit_points[0].name].steps.max()), 1.0)])
    )
    tau0 = 2.0 * ref / np.log(99.0)
    sigma0 = {s: float(ref / np.mean(v)) for s, v in sigma_times.items()}
    for s in ceilings:
        sigma0.setdefault(s, 0.1)  # never learned at the fit points: start as a slow source
    ceiling0 = {s: float(np.clip(max(v), 0.0, 0.999)) for s, v in ceilings.items()}
    return tau0, sigma0, ceiling0


@dataclass(frozen=True)
class Agreement:
    """Predicted vs measured on the held-out points (see the module docstring for definitions).

    ``rows``: one dict per (point, pattern) with role, measured and predicted learning times and the
    relative error, fit points included (role "fit") but never counted in the metrics.
    """

    spearman_learning_time: float
    spearman_per_pattern: dict[str, float]
    median_rel_error_learning_time: float
    ordering_correct_fraction: float
    curve_r2_heldout: float
    n_heldout_points: int
    rows: tuple[dict, ...]

    def __repr__(self) -> str:
        return (
            f"Agreement(spearman={self.spearman_learning_time:.3f}, "
            f"median_rel_error={self.median_rel_error_learning_time:.3f}, "
            f"ordering={self.ordering_correct_fraction:.2f}, curve_r2={self.curve_r2_heldout:.3f}, "
            f"heldout_points={self.n_heldout_points})"
        )

    def to_dict(self) -> dict:
        return {
            "spearman_learning_time": self.spearman_learning_time,
            "spearman_per_pattern": dict(self.spearman_per_pattern),
            "median_rel_error_learning_time": self.median_rel_error_learning_time,
            "ordering_correct_fraction": self.ordering_correct_fraction,
            "curve_r2_heldout": self.curve_r2_heldout,
            "n_heldout_points": self.n_heldout_points,
            "rows": [dict(r) for r in self.rows],
        }


def agreement(measured: dict[str, MeasuredCurves], predicted: dict[str, Prediction], fit_names) -> Agreement:
    """Score predicted against measured curves; points in ``fit_names`` are excluded from the metrics."""
    fit_names = set(fit_names)
    rows = []
    heldout = [name for name in predicted if name not in fit_names]
    if not heldout:
        raise ValueError("no held-out points to score: every point was used for the fit")
    for name, pred in predicted.items():
        curves = measured[name]
        for pattern, split in PATTERN_SPLIT.items():
            t_meas = learning_time(curves.steps, curves.mean[split])
            t_pred = learning_time(pred.steps, pred.accuracy[split])
            rows.append(
                {
                    "point": name,
                    "pattern": pattern,
                    "role": "fit" if name in fit_names else "heldout",
                    "t_measured": t_meas,
                    "t_predicted": t_pred,
                    "rel_error": relative_error(t_pred, t_meas),
                }
            )
    test = [r for r in rows if r["role"] == "heldout"]
    per_pattern = {pat: _spearman([r for r in test if r["pattern"] == pat]) for pat in PATTERN_SPLIT}
    orders = []
    for name in heldout:
        t = {r["pattern"]: r for r in test if r["point"] == name}
        orders.append(
            _order(t["mnist"]["t_predicted"], t["cifar"]["t_predicted"])
            == _order(t["mnist"]["t_measured"], t["cifar"]["t_measured"])
        )
    pairs = [(measured[n].mean[s], predicted[n].accuracy[s]) for n in heldout for s in FIT_SPLITS]
    return Agreement(
        spearman_learning_time=_spearman(test),
        spearman_per_pattern=per_pattern,
        median_rel_error_learning_time=float(np.median([r["rel_error"] for r in test])),
        ordering_correct_fraction=float(np.mean(orders)),
        curve_r2_heldout=curve_r2(pairs),
        n_heldout_points=len(heldout),
        rows=tuple(rows),
    )


def relative_error(predicted: float, measured: float) -> float:
    """|t_pred − t_meas| / t_meas; 0 when both are ∞ (both not learned), ∞ when only one is."""
    if np.isinf(predicted) and np.isinf(measured):
        return 0.0
    if np.isinf(predicted) or np.isinf(measured):
        return float("inf")
    return abs(predicted - measured) / max(measured, 1.0)


def curve_r2(pairs) -> float:
    """Pooled R² over curves: 1 − Σ_curves Σ(y − ŷ)² / Σ_curves Σ(y − ȳ_curve)²."""
    ss_res = sum(float(np.sum((np.asarray(y) - np.asarray(yhat)) ** 2)) for y, yhat in pairs)
    ss_tot = sum(float(np.sum((np.asarray(y) - np.mean(y)) ** 2)) for y, _ in pairs)
    return 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")


def _spearman(rows) -> float:
    if len(rows) < 3:
        return float("nan")
    # ∞ (not learned) ranks after every finite time; a large finite stand-in keeps scipy's ranks
    big = 1e300
    meas = [min(r["t_measured"], big) for r in rows]
    pred = [min(r["t_predicted"], big) for r in rows]
    if len(set(meas)) < 2 or len(set(pred)) < 2:
        return float("nan")
    return float(spearmanr(pred, meas).statistic)


def _order(t_mnist: float, t_cifar: float) -> int:
    return int(np.sign(t_cifar - t_mnist)) if not (np.isinf(t_mnist) and np.isinf(t_cifar)) else 0
