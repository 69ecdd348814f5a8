"""The phenomenological pattern-learning model of Davies, Langosco & Krueger (2023).

"Unifying Grokking and Double Descent" (arXiv:2303.06173), §3: each pattern i is learned along

    p_i(t) = γ_i / (1 + exp(−α_i (t − b_i)))

(γ_i: how much of the data the pattern classifies once learned, α_i: speed, b_i: the step of the
transition) and the accuracy of data carrying several patterns is ``1 − Π_i (1 − p_i)`` (it is
classified correctly when any of its patterns is).

Here it is a *descriptive* reference next to the theory: each per-pattern split (``mnist_only``,
``cifar_only``) is fitted with one sigmoid on the accuracy above chance,
``acc = 1/K + (1 − 1/K) p(t)``, by scipy's bounded least squares; the ``both`` split is then
*predicted* as ``1/K + (1 − 1/K)(1 − (1 − p_m)(1 − p_c))`` and scored with R².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from dominoes.bridge.curves import MeasuredCurves


def sigmoid(t, gamma: float, alpha: float, b: float) -> np.ndarray:
    """p(t) = γ / (1 + exp(−α (t − b))), evaluated stably for any sign of the exponent."""
    t = np.asarray(t, dtype=np.float64)
    return gamma * 0.5 * (1.0 + np.tanh(0.5 * alpha * (t - b)))


@dataclass(frozen=True)
class SigmoidParams:
    """γ, α (1/step), b (step) of one pattern's sigmoid and the R² of its fit."""

    gamma: float
    alpha: float
    b: float
    r2: float

    def __call__(self, t) -> np.ndarray:
        return sigmoid(t, self.gamma, self.alpha, self.b)

    def to_dict(self) -> dict:
        return {"gamma": self.gamma, "alpha": self.alpha, "b": self.b, "r2": self.r2}


def fit_sigmoid(steps, p) -> SigmoidParams:
    """Least-squares fit of p(t) = γ/(1 + e^{−α(t−b)}) to a curve ``p`` (k,) at ``steps`` (k,).

    γ ∈ [0, 1]; α is fitted on a log scale (α > 0); b within the evaluated range. The start is read
    off the curve (γ = its final value, b = where it crosses half of that).
    """
    t = np.asarray(steps, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if t.shape != p.shape or t.size < 4:
        raise ValueError("a sigmoid fit needs at least 4 points, with steps and values of the same shape")
    span = max(float(t.max() - t.min()), 1.0)
    gamma0 = float(np.clip(p[-1], 1e-3, 1.0))
    b0 = float(t[int(np.argmax(p >= 0.5 * gamma0))])
    x0 = np.array([gamma0, np.log(8.0 / span), np.clip(b0, t.min(), t.max())])
    # α·span between 0.1 (barely rising) and 1e4 (a step at one evaluation)
    lower = [0.0, np.log(0.1 / span), t.min() - span]
    upper = [1.0, np.log(1e4 / span), t.max() + span]
    x0 = np.clip(x0, np.array(lower) + 1e-9, np.array(upper) - 1e-9)

    def residuals(x):
        return sigmoid(t, x[0], np.exp(x[1]), x[2]) - p

    sol = least_squares(residuals, x0, bounds=(lower, upper), x_scale=[0.1, 1.0, span / 10])
    gamma, alpha, b = float(sol.x[0]), float(np.exp(sol.x[1])), float(sol.x[2])
    return SigmoidParams(gamma, alpha, b, r_squared(p, sigmoid(t, gamma, alpha, b)))


@dataclass(frozen=True)
class PatternModelFit:
    """Davies et al.'s model fitted to one point: a sigmoid per pattern, and the R² of the
    ``both`` split predicted as 1 − Π(1 − p_i) (NaN when the point has no ``both`` split)."""

    point: str
    patterns: dict[str, SigmoidParams]
    r2_both: float

    def __repr__(self) -> str:
        fits = ", ".join(f"{k}: b={v.b:.0f}, R²={v.r2:.2f}" for k, v in self.patterns.items())
        return f"PatternModelFit(point={self.point!r}, {fits}, R²(both)={self.r2_both:.2f})"

    def to_dict(self) -> dict:
        return {
            "point": self.point,
            "patterns": {k: v.to_dict() for k, v in self.patterns.items()},
            "r2_both": self.r2_both,
        }


def fit_pattern_model(curves: MeasuredCurves, n_classes: int) -> PatternModelFit:
    """Fit one sigmoid per pattern split of ``curves`` and predict the ``both`` split from them."""
    chance = 1.0 / n_classes
    patterns = {}
    for pattern, split in (("mnist", "mnist_only"), ("cifar", "cifar_only")):
        if split not in curves.mean:
            raise ValueError(f"point {curves.point!r} has no {split!r} curve to fit")
        p = (curves.mean[split] - chance) / (1.0 - chance)
        patterns[pattern] = fit_sigmoid(curves.steps, np.clip(p, 0.0, 1.0))
    r2_both = float("nan")
    if "both" in curves.mean:
        miss = np.prod([1.0 - fit(curves.steps) for fit in patterns.values()], axis=0)
        r2_both = r_squared(curves.mean["both"], chance + (1.0 - chance) * (1.0 - miss))
    return PatternModelFit(curves.point, patterns, r2_both)


def r_squared(measured, predicted) -> float:
    """1 − Σ(y − ŷ)² / Σ(y − ȳ)²; NaN for a constant ``measured``."""
    y = np.asarray(measured, dtype=np.float64)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((y - np.asarray(predicted)) ** 2)) / ss_tot
