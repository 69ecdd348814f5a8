"""Closed-form learning dynamics of one deep-linear mode (Saxe, McClelland & Ganguli 2014).

A two-layer linear network learning one input–output mode of strength ``s`` with balanced weights
``a = b`` (so ``u = a b``) follows, under gradient flow on ``½ (s − a b)²`` with time constant τ,

    τ du/dt = 2 u (s − u)      ⇒      u(t) = s e^{2st/τ} / (e^{2st/τ} − 1 + s/u₀)

(Saxe et al. 2014, "Exact solutions to the nonlinear dynamics of learning in deep linear neural
networks", ICLR, eq. 7): a plateau near the singular origin, then a sigmoidal rise to ``s``.

Solving ``u(t) = f·s`` for the time gives the learning time at fraction ``f``

    t_f = (τ / 2s) · ln[ f (s/u₀ − 1) / (1 − f) ],

so the half-time is ``(τ/2s) ln(s/u₀ − 1)`` and the time to come within ``u₀`` of ``s`` is
``≈ (τ/s) ln(s/u₀)`` — the form quoted in the paper.

The dominoes theory (:mod:`dominoes.bridge.theory`) reduces to this law for one-sided dominoes:
a fraction ``q`` of dominoes showing pattern j with signal strength σ and reliability ρ gives the
per-mode loss ``½ q (1 − 2 σ r u + σ² e u²)`` with ``r, e`` from :func:`reliability_moments`; that is
``½ q σ² e (u − s)² + const`` with ``s = r / (σ e)`` and an effective time constant ``τ / (q σ² e)``.
"""

from __future__ import annotations

import numpy as np


def reliability_moments(rho: float, n_classes: int) -> tuple[float, float]:
    """First and second moments of a half's agreement with the label under reliability ρ.

    The half shows the true class with probability ρ and a uniformly chosen wrong class otherwise.
    In the centred one-hot code a wrong class projects onto the true-class direction as
    −1/(K−1), so the agreement z has

        r = E z  = ρ − (1 − ρ)/(K − 1),      e = E z² = ρ + (1 − ρ)/(K − 1)².

    ``r`` is the mode's target correlation ("reliability lowers the target"); ``e`` its curvature.
    """
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"reliability must lie in [0, 1], got {rho}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    wrong = 1.0 - rho
    return rho - wrong / (n_classes - 1), rho + wrong / (n_classes - 1) ** 2


def saxe_trajectory(t, s: float, u0: float, tau: float = 1.0) -> np.ndarray:
    """u(t) = s e^{2st/τ} / (e^{2st/τ} − 1 + s/u₀) for times ``t`` (array-like, any shape).

    Written as ``s / (1 + (s/u₀ − 1) e^{−2st/τ})`` so that large times do not overflow.
    """
    _check_mode(s, u0, tau)
    t = np.asarray(t, dtype=np.float64)
    return s / (1.0 + (s / u0 - 1.0) * np.exp(-2.0 * s * t / tau))


def saxe_learning_time(s: float, u0: float, tau: float = 1.0, fraction: float = 0.5) -> float:
    """Time at which u(t) reaches ``fraction · s``: (τ/2s) ln[f (s/u₀ − 1)/(1 − f)]."""
    _check_mode(s, u0, tau)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must lie strictly between 0 and 1, got {fraction}")
    if u0 >= fraction * s:
        return 0.0
    return tau / (2.0 * s) * np.log(fraction * (s / u0 - 1.0) / (1.0 - fraction))


def one_sided_learning_time(
    q: float, sigma: float, rho: float, n_classes: int, u0: float, tau: float = 1.0, fraction: float = 0.5
) -> float:
    """Learning time of a pattern seen only on one-sided dominoes (fraction ``q`` of the data).

    The mode's loss ``½ q σ² e (u − s)²`` with ``s = r/(σ e)`` is Saxe's law with time constant
    ``τ/(q σ² e)``, hence

        t_f = τ / (2 q σ r) · ln[f (s/u₀ − 1)/(1 − f)]

    (``r, e`` from :func:`reliability_moments`). Inverse in prevalence × simplicity × reliability
    target, up to the logarithm.
    """
    if q <= 0.0 or sigma <= 0.0:
        raise ValueError(f"prevalence q and signal strength sigma must be positive, got q={q}, sigma={sigma}")
    r, e = reliability_moments(rho, n_classes)
    if r <= 0.0:
        raise ValueError(f"reliability {rho} carries no label signal for {n_classes} classes (r = {r:g})")
    return saxe_learning_time(r / (sigma * e), u0, tau / (q * sigma**2 * e), fraction)


def _check_mode(s: float, u0: float, tau: float) -> None:
    if s <= 0.0 or u0 <= 0.0 or tau <= 0.0:
        raise ValueError(f"mode strength s, initial scale u0 and tau must be positive, got {s}, {u0}, {tau}")
