"""What the estimators need from a target: K over many points, the prior, and the point of interest.

Every estimator accepts a :class:`slt.Potential`, a sympy expression or a formula string. This module turns
any of them into a :class:`Landscape`, a small record of plain arrays plus a vectorised ``values`` function,
so that the numerical code below never touches sympy. Coordinates stay those of the potential: the prior
density φ(w) ∝ Π_i |w_i|^{h_i} on the box [low, high] (or a Gaussian of standard deviation ``scale``) is
evaluated where the user wrote it, and ``at`` only marks the point of interest w*.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class Landscape:
    """A potential K: R^d → [0, ∞) with its prior, in plain arrays.

    Attributes
    ----------
    values : callable ``(N, d) float64 array -> (N,) float64 array`` of K(w).
    dim, names : d and the variable names, in order.
    low, high : (d,) the prior box (for a Gaussian prior, ±8 standard deviations, where the estimators cut).
    exponents : (d,) the h_i of the Jacobian factor Π |w_i|^{h_i} (0 for a plain prior).
    scale : the Gaussian prior's standard deviation, or None for a box prior.
    at : (d,) the point of interest w*.
    source : the object handed to the dynamics kernels (a Potential or a ToyModel).
    """

    values: Callable[[np.ndarray], np.ndarray]
    dim: int
    names: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    exponents: np.ndarray
    scale: float | None
    at: np.ndarray
    source: object

    def K(self, w) -> float:
        """K at one point (a length-d sequence)."""
        return float(self.values(np.asarray(w, dtype=np.float64).reshape(1, self.dim))[0])

    def log_prior(self, W: np.ndarray) -> np.ndarray:
        """log φ(w) up to its normalising constant, for W of shape (N, d); −inf outside the box."""
        W = np.asarray(W, dtype=np.float64)
        inside = np.all((W >= self.low) & (W <= self.high), axis=1)
        out = np.zeros(W.shape[0])
        for i, h in enumerate(self.exponents):
            if h:
                with np.errstate(divide="ignore"):
                    out += h * np.log(np.abs(W[:, i]))
        if self.scale is not None:
            out -= 0.5 * np.sum(W * W, axis=1) / self.scale**2
        return np.where(inside, out, -np.inf)


def to_point(point, names: Sequence[str], what: str = "at") -> np.ndarray:
    """A point given as ``{"x": 1, "y": "3/10"}`` or a sequence in variable order, as a (d,) float64 array."""
    d = len(names)
    if point is None:
        return np.zeros(d)
    if isinstance(point, Mapping):
        unknown = sorted(set(map(str, point)) - set(names))
        if unknown:
            raise ValueError(f"{what} names {unknown}, which are not variables of the potential "
                             f"{list(names)}")
        values = [point.get(name, 0) for name in names]
    else:
        values = list(np.ravel(np.asarray(point, dtype=object)))
        if len(values) != d:
            raise ValueError(f"{what} has {len(values)} coordinates, the potential has {d} "
                             f"variables {list(names)}")
    out = np.empty(d)
    for i, v in enumerate(values):
        try:
            out[i] = float(Fraction(v.strip())) if isinstance(v, str) else float(v)
        except (ValueError, TypeError, ZeroDivisionError):
            raise ValueError(f"{what}: coordinate {names[i]}={v!r} is not a number") from None
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what} must be finite, got {out.tolist()}")
    return out


def as_potential(target):
    """A :class:`slt.Potential` from a Potential, a sympy expression or a formula string."""
    if hasattr(target, "compiled") and hasattr(target, "names"):
        return target
    if isinstance(target, str) and not target.strip():
        raise ValueError("the potential is empty: give a formula such as 'x**2*y**4'")
    from slt.potential import Potential

    return Potential(target)


def _prior_arrays(prior, d: int):
    kind = getattr(prior, "kind", "box") if prior is not None else "box"
    exponents = np.zeros(d)
    raw = getattr(prior, "exponents", None) if prior is not None else None
    if raw:
        exponents = np.broadcast_to(np.asarray(raw, dtype=np.float64), (d,)).copy()
    if kind == "gaussian":
        scales = np.unique(np.asarray(getattr(prior, "scale", None) or 1.0, dtype=np.float64))
        if scales.size != 1:
            raise ValueError(f"the estimators need one Gaussian prior scale for all coordinates, "
                             f"got {scales}")
        scale = float(scales[0])
        return np.full(d, -8.0 * scale), np.full(d, 8.0 * scale), exponents, scale
    low = getattr(prior, "low", -1.0) if prior is not None else -1.0
    high = getattr(prior, "high", 1.0) if prior is not None else 1.0
    low = np.broadcast_to(np.asarray(-1.0 if low is None else low, dtype=np.float64), (d,)).copy()
    high = np.broadcast_to(np.asarray(1.0 if high is None else high, dtype=np.float64), (d,)).copy()
    return low, high, exponents, None


def locality_warnings(land: Landscape, radius, region) -> tuple[str, ...]:
    """A warning when a point away from the origin is given but the integrals stay global.

    V(ε) and Z(n) integrate over the whole prior box: if K has another zero there with a smaller λ (the
    origin of the line + dot model, seen from a point of its line), that zero dominates both, and the fitted
    λ is its λ, not the local one at w*.
    """
    if radius is not None or region is not None or not np.any(land.at != 0):
        return ()
    return ("w* is away from the origin but no radius is given: V(ε) and Z(n) are taken over the whole prior "
            "box, where another zero of K with a smaller λ would dominate; pass radius= (--radius) for the "
            "local λ at w*",)


def landscape(target, at=None, radius: float | None = None, region=None) -> Landscape:
    """Turn a target into a :class:`Landscape`.

    ``region`` (a sequence of d ``(low, high)`` pairs) replaces the prior's box; otherwise ``radius`` cuts the
    prior's box to the cube of half-width ``radius`` around ``at`` (a local neighbourhood, so that other zeros
    of K do not enter a *local* estimate); otherwise the prior's box is used as it is.
    """
    potential = as_potential(target)
    names = tuple(str(n) for n in potential.names)
    d = len(names)
    w_star = to_point(at, names)
    low, high, exponents, scale = _prior_arrays(getattr(potential, "prior", None), d)
    if region is not None:
        box = np.asarray(region, dtype=np.float64)
        if box.shape != (d, 2) or not np.all(box[:, 0] < box[:, 1]):
            raise ValueError(f"region must be {d} pairs (low, high) with low < high, got {region!r}")
        low, high = box[:, 0].copy(), box[:, 1].copy()
    elif radius is not None:
        if not radius > 0:
            raise ValueError(f"radius must be positive, got {radius!r}")
        low, high = np.maximum(low, w_star - radius), np.minimum(high, w_star + radius)
    if not np.all((w_star >= low) & (w_star <= high)):
        point = dict(zip(names, w_star.tolist(), strict=True))
        raise ValueError(f"the point {point} lies outside the prior box")
    compiled = potential.compiled

    def values(W: np.ndarray) -> np.ndarray:
        return np.asarray(compiled.values(np.ascontiguousarray(W, dtype=np.float64)), dtype=np.float64)

    return Landscape(values, d, names, low, high, exponents, scale, w_star, potential)
