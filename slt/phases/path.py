"""Path dependence: twin trajectories, their distance growth, finite-time growth rates.

Two runs that differ by a small perturbation δ₀ (of the start or of a hyperparameter) but share their noise
(same seed, so chain c draws the same numbers in both) separate as d(t) = ‖w_A(t) − w_B(t)‖. The finite-time
growth rate (a finite-time Lyapunov exponent; e.g. Ott, *Chaos in Dynamical Systems*, 2002, §4.4) is
Λ(t) = (1/t) log(d(t)/d(0)): negative when the runs converge (a stable basin contracts perturbations),
positive when they diverge. The distance functions take any arrays of weights, so checkpoints of trained
networks (flattened parameters) work as well, and a ``predict(weights, probe)`` callable gives the
function-space distance on a probe set instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class TwinRun:
    """Twin trajectories: ``time`` (R,), ``distance`` (R, C) per pair, ``rate`` (R, C) = Λ(t) (NaN at 0)."""

    time: np.ndarray
    distance: np.ndarray
    rate: np.ndarray
    perturbation: str

    def __repr__(self) -> str:
        final = np.nanmedian(self.rate[-1]) if len(self.time) > 1 else float("nan")
        pairs, records = self.distance.shape[1], len(self.time)
        return f"TwinRun(pairs={pairs}, records={records}, median final rate={final:.4g})"

    def to_dict(self) -> dict:
        return {
            "time": self.time.tolist(),
            "distance": self.distance.tolist(),
            "rate": self.rate.tolist(),
            "perturbation": self.perturbation,
        }


def distance(a, b, predict=None, probe=None) -> np.ndarray:
    """‖a − b‖ over the last axis for weight arrays (..., p); with ``predict``, the RMS distance of the
    outputs predict(a_i, probe) and predict(b_i, probe) instead (function space). Returns shape (...)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the two trajectories differ in shape: {a.shape} vs {b.shape}")
    if predict is None:
        return np.linalg.norm(a - b, axis=-1)
    flat_a, flat_b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    out = np.array(
        [
            np.sqrt(np.mean((np.asarray(predict(x, probe)) - np.asarray(predict(y, probe))) ** 2))
            for x, y in zip(flat_a, flat_b, strict=True)
        ]
    )
    return out.reshape(a.shape[:-1])


def growth_rates(time, dist) -> np.ndarray:
    """Λ(t) = log(d(t)/d(0)) / (t − t₀), shape of ``dist`` (R, ...); NaN at the first record."""
    t = np.asarray(time, dtype=np.float64)
    d = np.asarray(dist, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.log(d / d[0]) / (t - t[0]).reshape((-1,) + (1,) * (d.ndim - 1))
    rate[0] = np.nan
    return rate


def twin_run(
    target,
    init,
    method: str = "gd",
    delta: float = 1e-6,
    param: str | None = None,
    seed: int = 0,
    steps: int = 1000,
    step_size: float = 1e-3,
    record_every: int | None = None,
    **method_params,
) -> TwinRun:
    """Run twin ensembles with :func:`slt.run` and measure how they separate.

    init : (C, d) starts (one twin pair per row). With ``param=None`` twin B starts at init + δ·v, v a random
    unit vector per pair (drawn from ``seed``); with ``param`` set (e.g. ``"step_size"``, ``"temperature"``)
    twin B starts at the same point with that hyperparameter multiplied by (1 + δ). Both twins use ``seed``,
    so for noisy methods they share their noise and differ only by the perturbation.
    Time is steps × step_size.
    """
    from slt.dynamics import run

    W = np.atleast_2d(np.asarray(init, dtype=np.float64))
    C, d = W.shape
    params_b = dict(method_params)
    step_b = step_size
    if param is None:
        v = np.random.default_rng(seed).normal(size=(C, d))
        W_b = W + delta * v / np.linalg.norm(v, axis=1, keepdims=True)
        label = f"initial point, |δ| = {delta:g}"
    elif param == "step_size":
        W_b, step_b = W, step_size * (1 + delta)
        label = f"step_size × (1 + {delta:g})"
    elif param in method_params:
        W_b = W
        params_b[param] = method_params[param] * (1 + delta)
        label = f"{param} × (1 + {delta:g})"
    else:
        raise ValueError(f"cannot perturb {param!r}: give it as a method parameter (or use 'step_size')")
    common = dict(
        method=method, chains=C, steps=steps, seed=seed, record_every=record_every, record=("positions",)
    )
    a = run(target, step_size=step_size, init=W, **common, **method_params)
    b = run(target, step_size=step_b, init=W_b, **common, **params_b)
    dist = distance(a.positions, b.positions)
    if param is not None:
        # the twins start together: measure growth from the first record where they differ
        dist = np.where(dist == 0, np.nan, dist)
    time = a.steps_recorded * step_size
    return TwinRun(time, dist, growth_rates(time, dist), label)
