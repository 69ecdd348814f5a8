"""Dynamical transitions: basin occupancy of ensembles, the LLC along a trajectory, SGD/Langevin vs Bayes.

* :func:`occupancy` — the fraction of chains nearest each basin at each record of a
  :class:`slt.dynamics.RunResult` (or any positions array (R, C, d)).
* :func:`llc_along` — λ̂(w_t) at checkpoints w_t of a trajectory with :func:`slt.llc` (Lau et al. 2023), and
  the stage boundaries where λ̂(t) changes slope (steps of dλ̂/dt found by
  :func:`slt.phases.stages.segment_means`).
* :func:`endpoints` — where Langevin / GD ensembles end, per setting (temperature or step size), as basin
  fractions, beside the posterior masses at n = 1/T (the Gibbs law e^{−K/T} is the posterior e^{−nK}φ with
  n = 1/T on the prior box).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from slt.phases.basins import Basin, nearest_basin
from slt.phases.stages import segment_means


def occupancy(result_or_positions, basins: Sequence[Basin], assign=None) -> np.ndarray:
    """(R, B) fraction of (non-diverged) chains in each basin at each record.

    ``result_or_positions``: a RunResult recorded with ``record=("positions", ...)`` or an array (R, C, d).
    ``assign`` maps (N, d) positions to (N,) basin indices (default: nearest basin point).
    """
    P = getattr(result_or_positions, "positions", result_or_positions)
    if P is None:
        raise ValueError("the run did not record positions: run it with record=('positions', 'loss')")
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 3:
        raise ValueError(f"positions must have shape (records, chains, d), got {P.shape}")
    R, C, d = P.shape
    flat = P.reshape(R * C, d)
    ok = np.all(np.isfinite(flat), axis=1)
    labels = np.full(R * C, -1)
    labels[ok] = (assign or (lambda W: nearest_basin(W, basins)))(flat[ok])
    labels = labels.reshape(R, C)
    counts = np.stack([(labels == j).sum(axis=1) for j in range(len(basins))], axis=1)
    return counts / np.maximum((labels >= 0).sum(axis=1, keepdims=True), 1)


@dataclass(frozen=True, eq=False)
class LLCTrajectory:
    """λ̂ at checkpoints: ``time`` (T,), ``llc`` (T,), ``stderr`` (T,), ``boundaries`` (stage boundaries)."""

    time: np.ndarray
    llc: np.ndarray
    stderr: np.ndarray
    boundaries: tuple[float, ...]

    def __repr__(self) -> str:
        bounds = [round(b, 6) for b in self.boundaries]
        return f"LLCTrajectory(checkpoints={len(self.time)}, boundaries={bounds})"

    def to_dict(self) -> dict:
        return {
            "time": self.time.tolist(),
            "llc": self.llc.tolist(),
            "stderr": self.stderr.tolist(),
            "boundaries": list(self.boundaries),
        }


def slope_changes(t, y, min_jump: float = 0.5, min_size: int = 2) -> tuple[float, ...]:
    """Times where the slope dy/dt of a piecewise-linear curve steps (binary segmentation of the slope)."""
    t = np.asarray(t, dtype=np.float64)
    slope = np.diff(np.asarray(y, dtype=np.float64)) / np.diff(t)
    mid = 0.5 * (t[1:] + t[:-1])
    cuts = segment_means(slope, min_jump, min_size, floor=1e-9 * max(float(np.max(np.abs(slope))), 1e-300))
    return tuple(float(0.5 * (mid[k - 1] + mid[k])) for k in cuts)


def llc_along(target, checkpoints, times=None, **llc_params) -> LLCTrajectory:
    """λ̂(w_t) = nβ (E[L] − L(w_t)) at each checkpoint (slt.llc with ``llc_params``) and its stage boundaries.

    checkpoints : (T, d) points along a trajectory (e.g. ``RunResult.positions[:, c]``).
    times : (T,) their times (default 0 … T−1). Each estimate uses the same ``seed`` for comparability.
    """
    from slt.estimate.llc import llc

    W = np.asarray(checkpoints, dtype=np.float64)
    if W.ndim != 2 or len(W) < 2:
        raise ValueError(f"checkpoints must have shape (T >= 2, d), got {W.shape}")
    t = np.arange(len(W), dtype=np.float64) if times is None else np.asarray(times, dtype=np.float64)
    if t.shape != (len(W),):
        raise ValueError(f"times must have shape ({len(W)},), got {t.shape}")
    results = [llc(target, at=w, **llc_params) for w in W]
    values = np.array([r.llc for r in results])
    errors = np.array([r.stderr for r in results])
    return LLCTrajectory(t, values, errors, slope_changes(t, values) if len(W) >= 5 else ())


@dataclass(frozen=True, eq=False)
class Endpoints:
    """Basin fractions of ensemble end points per setting, beside the posterior masses at n = 1/T.

    method : "langevin" or "gd".  settings : (S,) the temperatures or step sizes.  fraction : (S, B).
    posterior : (S, B) posterior masses at n = 1/T (Langevin only, else None).  names : basin names.
    """

    method: str
    settings: np.ndarray
    names: tuple[str, ...]
    fraction: np.ndarray
    posterior: np.ndarray | None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "settings": self.settings.tolist(),
            "names": list(self.names),
            "fraction": self.fraction.tolist(),
            "posterior": None if self.posterior is None else self.posterior.tolist(),
        }


def endpoints(
    potential,
    basins: Sequence[Basin],
    method: str = "langevin",
    settings=(1e-2, 1e-3, 1e-4),
    chains: int = 512,
    steps: int = 20_000,
    step_size: float = 1e-3,
    seed: int = 0,
    compare_posterior: bool = True,
) -> Endpoints:
    """Where ensembles started uniformly on the prior box end.

    ``method="langevin"``: ``settings`` are temperatures T (step ``step_size``); the posterior masses at
    n = 1/T are computed by quadrature (d ≤ 2) for comparison. ``method="gd"``: ``settings`` are step sizes
    (learning rates); large steps cannot settle in sharp basins (stability needs ε·curvature < 2).
    Chains are reflected into the box only at the end (the potentials of interest confine them).
    """
    from slt.dynamics import run
    from slt.phases.masses import _reflect, masses_quadrature

    if method not in ("langevin", "gd"):
        raise ValueError(f"method must be 'langevin' or 'gd', got {method!r}")
    prior = potential.prior
    if prior.kind != "box":
        raise ValueError("endpoints draws starts uniformly on a box prior")
    low, high = np.array(prior.low), np.array(prior.high)
    init = np.random.default_rng(seed).uniform(low, high, size=(chains, potential.dim))
    settings = np.asarray(settings, dtype=np.float64)
    fractions = []
    for value in settings:
        if method == "langevin":
            r = run(
                potential,
                "langevin",
                chains=chains,
                steps=steps,
                step_size=step_size,
                init=init,
                seed=seed,
                stats_only=True,
                temperature=float(value),
            )
        else:
            r = run(
                potential,
                "gd",
                chains=chains,
                steps=steps,
                step_size=float(value),
                init=init,
                seed=seed,
                stats_only=True,
            )
        final = _reflect(r.final[~r.diverged], low, high)
        lab = nearest_basin(final, basins)
        fractions.append(np.bincount(lab, minlength=len(basins)) / max(len(final), 1))
    posterior = None
    if method == "langevin" and compare_posterior and potential.dim <= 2:
        posterior = masses_quadrature(potential, basins, 1.0 / settings).mass
    return Endpoints(method, settings, tuple(b.name for b in basins), np.array(fractions), posterior)
