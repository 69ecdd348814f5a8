"""Bayesian phase transitions predicted from (L, λ, m, c) of each basin.

The posterior mass of a region W_α around a minimum w_α is Z_α(n)/Σ_β Z_β(n), with local free energy
(Watanabe 2009, Thm 6.7 localised; Chen et al. 2023, "Dynamical versus Bayesian phase transitions in a toy
model of superposition", §2)

    F_n(W_α) = −log Z_α(n) ≈ n L_α + λ_α log n − (m_α − 1) log log n + c_α.

The posterior concentrates on the basin of lowest F_n. A basin that is worse (ΔL > 0) but simpler (Δλ > 0)
dominates until F crosses: to leading order n_c/log n_c = Δλ/ΔL. The constant c_α
(:mod:`slt.phases.local_form`) shifts n_c by Δc/ΔL, which matters when ΔL is small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from slt.phases.basins import Basin
from slt.phases.local_form import LocalForm, local_form


@dataclass(frozen=True)
class Phase:
    """A basin with its local free-energy coefficients: F_n = nL + λ log n − (m − 1) log log n + c."""

    basin: Basin
    form: LocalForm | None

    @property
    def name(self) -> str:
        return self.basin.name

    @property
    def log_constant(self) -> float | None:
        """c_α, or None where the local form gives no closed form."""
        return None if self.form is None else self.form.log_constant

    def free_energy(self, n, with_constant: bool = True) -> np.ndarray:
        """F_n(W_α) for n (array-like, n > 1); the constant is 0 if ``with_constant`` is False or unknown."""
        n = np.asarray(n, dtype=np.float64)
        b = self.basin
        F = n * b.loss + float(b.lam) * np.log(n)
        if b.m > 1:
            F = F - (b.m - 1) * np.log(np.log(n))
        if with_constant and self.form is not None:
            F = F + self.form.log_constant
        return F

    def __repr__(self) -> str:
        c = "None" if self.form is None else f"{self.form.log_constant:.6g}"
        return f"Phase({self.name!r}, L={self.basin.loss:.6g}, lam={self.basin.lam}, m={self.basin.m}, c={c})"

    def to_dict(self) -> dict:
        return {
            **self.basin.to_dict(),
            "log_constant": self.log_constant,
            "local_form": None if self.form is None else self.form.to_dict(),
        }


def phases(potential, basins: Sequence[Basin]) -> tuple[Phase, ...]:
    """Attach the local form (and constant c) to each basin; c is dropped where the form's λ disagrees."""
    out = []
    for b in basins:
        form = local_form(potential, b.point_dict())
        if form is not None and b.exact and form.lam != b.lam:
            form = None
        out.append(Phase(b, form))
    return tuple(out)


@dataclass(frozen=True)
class Transition:
    """A change of the dominant basin as n grows: ``source`` dominates just below n_c, ``target`` above.

    predicted_n_c : from F_n with the constants c (None when a constant is unknown: then only the leading
    order is available).  predicted_n_c_leading : from nL + λ log n − (m−1) log log n alone.
    measured_n_c : where the measured posterior masses of the two basins are equal (None until measured).
    """

    source: str
    target: str
    predicted_n_c: float | None
    predicted_n_c_leading: float | None
    measured_n_c: float | None = None
    measured_by: str | None = None

    def to_dict(self) -> dict:
        return {
            "from": self.source,
            "to": self.target,
            "predicted_n_c": self.predicted_n_c,
            "predicted_n_c_leading": self.predicted_n_c_leading,
            "measured_n_c": self.measured_n_c,
            "measured_by": self.measured_by,
        }


def _roots(f, lo: float, hi: float, points: int = 2000) -> list[float]:
    """All sign changes of f(log n) on a log grid of [lo, hi], refined by Brent's method; returns n values."""
    t = np.linspace(math.log(lo), math.log(hi), points)
    v = f(t)
    out = []
    for i in np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) < 0):
        out.append(math.exp(brentq(lambda s: float(f(np.array([s]))[0]), t[i], t[i + 1], xtol=1e-12)))
    return out


def crossover(
    a: Phase, b: Phase, with_constant: bool = True, n_range=(2.0, 1e15), near: float | None = None
) -> float | None:
    """The n > 1 where F_n(a) = F_n(b) (None if none in ``n_range``); the root nearest ``near`` in log n if
    there are several (the leading-order difference nΔL − Δλ log n also vanishes near n ≈ 1)."""
    if with_constant and (a.form is None or b.form is None):
        return None

    def diff(t):
        n = np.exp(t)
        return a.free_energy(n, with_constant) - b.free_energy(n, with_constant)

    roots = _roots(diff, *n_range)
    if not roots:
        return None
    if near is None:
        return roots[-1]
    return min(roots, key=lambda r: abs(math.log(r) - math.log(near)))


def predict_transitions(phases_: Sequence[Phase], n_range=(10.0, 1e6)) -> tuple[Transition, ...]:
    """Changes of argmin_α F_n(W_α) over ``n_range`` (with the constants where all are known), in order of n.

    For each change the crossover is refined by Brent's method, and the leading-order crossover of the same
    pair (nearest in log n) is given beside it.
    """
    lo, hi = float(n_range[0]), float(n_range[1])
    if not (1 < lo < hi):
        raise ValueError(f"n range must satisfy 1 < low < high, got {n_range}")
    with_c = all(p.form is not None for p in phases_)
    grid = np.geomspace(lo, hi, 4000)
    F = np.stack([p.free_energy(grid, with_c) for p in phases_])
    best = np.argmin(F, axis=0)
    out = []
    for i in np.flatnonzero(best[1:] != best[:-1]):
        a, b = phases_[best[i]], phases_[best[i + 1]]
        n_c = crossover(a, b, with_c, (grid[i], grid[i + 1]))
        leading = crossover(a, b, False, near=n_c)
        out.append(Transition(a.name, b.name, n_c if with_c else None, leading if with_c else n_c))
    return tuple(out)
