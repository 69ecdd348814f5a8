"""Basins of a potential: named minima (or points of a singular set) with their loss L, λ and m.

A basin α is a point w_α of a minimum set of K together with what the local free energy needs:
L_α = K(w_α), the local learning coefficient λ_α and its multiplicity m_α, i.e. the largest pole −λ_α
(order m_α) of ζ_α(z) = ∫_{U_α} (K(w) − L_α)^z φ(w) dw over a small neighbourhood U_α (Watanabe 2009).

Basins come from the user (:func:`basins_at`: name → point) or are found (:func:`find_basins`: minimise
from many starts, cluster the end points by single linkage). λ, m come from the exact engine
:func:`slt.rlct` applied to K − L_α at the point; where it cannot decide, a full-rank Hessian still
certifies the regular value λ = d/2, m = 1 (Watanabe 2009, §1.4), and otherwise the Newton upper bound is
kept with ``exact=False``.

>>> from slt import library
>>> K = library.get("two_basin").potential
>>> [(b.name, b.loss, str(b.lam)) for b in basins_at(K, {"accurate": "x=1,y=0", "simple": "x=-1,y=0"})]
[('accurate', 0.0, '1'), ('simple', 0.001, '1/2')]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from slt.clikit import parse_assignments
from slt.parsing import parse_number


@dataclass(frozen=True)
class Basin:
    """One basin: a point of a minimum set with its loss, learning coefficient and multiplicity.

    name : label.  names : the potential's variable names.  point : (d,) coordinates, exact text
    (e.g. ``"3/10"``) where the user gave them exactly.  loss : L_α = K(w_α) (float).
    lam : λ_α (Fraction when exact or a bound, float when estimated).  m : m_α.
    exact : whether (λ, m) is certified.  method : which method gave (λ, m) (an :func:`slt.rlct` method,
    ``"hessian"`` for a full-rank minimum, or ``"given"``).
    """

    name: str
    names: tuple[str, ...]
    point: tuple[str, ...]
    loss: float
    lam: Fraction | float
    m: int
    exact: bool
    method: str

    @property
    def coordinates(self) -> np.ndarray:
        """The point as a (d,) float64 array."""
        return np.array([float(parse_number(p, "coordinate")) for p in self.point])

    def point_dict(self) -> dict[str, str]:
        return dict(zip(self.names, self.point, strict=True))

    def __repr__(self) -> str:
        at = ", ".join(f"{k}={v}" for k, v in self.point_dict().items())
        return (
            f"Basin({self.name!r}, at=({at}), loss={self.loss:.6g}, lam={self.lam}, m={self.m}, "
            f"exact={self.exact}, method={self.method!r})"
        )

    def to_dict(self) -> dict:
        lam = self.lam
        return {
            "name": self.name,
            "at": self.point_dict(),
            "loss": self.loss,
            "lambda": str(lam) if isinstance(lam, Fraction) else float(lam),
            "lambda_float": float(lam),
            "m": self.m,
            "exact": self.exact,
            "method": self.method,
        }


def _as_potential(target):
    from slt.potential import Potential

    if isinstance(target, Potential):
        return target
    potential = getattr(target, "potential", None)  # a library entry
    if isinstance(potential, Potential):
        return potential
    return Potential(target)


def _point_text(potential, point) -> tuple[str, ...]:
    if isinstance(point, str):
        point = parse_assignments(point, "basin point")
    coords = potential.coordinates(point)
    return tuple(str(c) for c in coords)


def local_coefficient(potential, point) -> tuple[Fraction, int, bool, str]:
    """(λ, m, exact, method) of K − K(w) at ``point`` (exact coordinates where given).

    Tries :func:`slt.rlct` on K − K(point); if it does not certify and the Hessian has full rank d,
    answers the regular value (d/2, 1, exact) since K − L is then a nondegenerate quadratic form plus
    higher-order terms (Morse lemma; Watanabe 2009, §1.4).
    """
    from slt.potential import Potential
    from slt.rlct import rlct

    coords = potential.coordinates(point)
    L = potential.exact_value(point)
    shifted = Potential(potential.expr - L, potential.names, prior=potential.prior)
    at = dict(zip(potential.names, coords, strict=True))
    result = None
    try:
        result = rlct(shifted, at={k: str(v) for k, v in at.items()})
    except ValueError:
        result = None
    if result is not None and result.exact:
        return result.lam, result.m, True, result.method
    if potential.hessian_rank(point) == potential.dim and not any(
        h and c == 0 for h, c in zip(potential.prior.exponents, coords, strict=True)
    ):
        return Fraction(potential.dim, 2), 1, True, "hessian"
    if result is not None:
        return result.lam, result.m, False, result.method
    raise ValueError(
        f"cannot determine the learning coefficient at {at}: the exact engine gives no answer and the "
        "Hessian is degenerate; give it with lam=/m= (e.g. from slt.llc)"
    )


def basins_at(
    target,
    points: Mapping[str, object],
    lam: Mapping[str, object] | None = None,
    m: Mapping[str, int] | None = None,
) -> tuple[Basin, ...]:
    """Basins at user-given points.

    Parameters
    ----------
    target : a Potential, a library entry, a formula or a sympy expression.
    points : name → point (a dict name → number/text, a sequence in variable order, or text "x=1,y=0").
    lam, m : optional name → value overriding the computed λ / m (e.g. an estimate); such a basin has
        ``method="given"`` and ``exact=False``.
    """
    potential = _as_potential(target)
    if not points:
        raise ValueError("give at least one basin (name -> point)")
    lam, m = dict(lam or {}), dict(m or {})
    unknown = sorted((set(lam) | set(m)) - set(points))
    if unknown:
        raise ValueError(f"lam/m given for unknown basin(s) {unknown} (basins: {list(points)})")
    out = []
    for name, point in points.items():
        if not str(name).strip():
            raise ValueError("a basin needs a non-empty name")
        text = _point_text(potential, point)
        loss = potential(dict(zip(potential.names, text, strict=True)))
        if name in lam:
            value = Fraction(str(lam[name])) if not isinstance(lam[name], float) else lam[name]
            if not float(value) > 0:
                raise ValueError(f"basin {name!r}: lambda must be > 0, got {lam[name]!r}")
            out.append(
                Basin(str(name), potential.names, text, loss, value, int(m.get(name, 1)), False, "given")
            )
            continue
        lam_a, m_a, exact, method = local_coefficient(
            potential, dict(zip(potential.names, text, strict=True))
        )
        out.append(Basin(str(name), potential.names, text, loss, lam_a, int(m.get(name, m_a)), exact, method))
    return tuple(out)


def _rational_point(x: np.ndarray, value, tol: float, reach: float) -> tuple[str, ...]:
    """The coarsest grid point k/q (q = 1, 2, 4, 10, 100, 1000) within ``reach`` of x whose K is within
    ``tol`` of K(x).

    Degenerate minima stop the optimiser far (~K^{1/2k}) from the exact point, yet the exact engine
    needs exact coordinates; a minimum at a simple rational is recovered this way.
    """
    target = value(x) + tol
    for q in (1, 2, 4, 10, 100, 1000):
        rounded = np.round(x * q) / q
        if np.max(np.abs(rounded - x)) <= reach and value(rounded) <= target:
            return tuple(str(Fraction(int(round(v * q)), q)) for v in rounded)
    return tuple(repr(float(v)) for v in x)


def find_basins(
    target,
    starts: int = 64,
    seed: int = 0,
    merge: float = 0.05,
    tol: float = 1e-8,
    max_basins: int = 8,
    flow_steps: int = 20_000,
    flow_step: float = 1e-4,
) -> tuple[Basin, ...]:
    """Find minima of K on the prior box: gradient flow then L-BFGS-B from ``starts`` uniform starts, cluster.

    The flow is ``flow_steps`` gradient-descent steps of size ``flow_step`` (diverged starts are dropped).

    End points closer than ``merge`` (single linkage, so a line of minima becomes one basin) are one
    basin, represented by its member of lowest K; basins are named ``b0, b1, ...`` by increasing loss.
    The box of a Gaussian prior is ±4 standard deviations. Coordinates are rounded to fractions with
    denominator ≤ 1000 when K rises by at most ``tol`` there, so the exact engine can be used; a basin
    whose λ cannot be decided gets λ = NaN and ``method="unknown"``.
    """
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.optimize import minimize

    potential = _as_potential(target)
    if starts < 1:
        raise ValueError(f"starts must be >= 1, got {starts}")
    prior = potential.prior
    if prior.kind == "box":
        low, high = np.array(prior.low), np.array(prior.high)
    else:
        low, high = -4 * np.array(prior.scale), 4 * np.array(prior.scale)
    compiled = potential.compiled

    def fun(w):
        g = np.zeros(potential.dim)
        value = compiled.grad(np.ascontiguousarray(w, dtype=np.float64), g)
        return value, g

    from slt.dynamics import run

    # a gradient flow first (small steps with the kernels), so that each start stays in its own basin of
    # attraction: quasi-Newton steps from a steep wall can jump across a barrier into another basin
    starts_w = np.random.default_rng(seed).uniform(low, high, size=(starts, potential.dim))
    flow = run(
        potential,
        "gd",
        chains=starts,
        steps=flow_steps,
        step_size=flow_step,
        init=starts_w,
        seed=seed,
        stats_only=True,
    )
    ends = []
    for w0 in flow.final[~flow.diverged]:
        res = minimize(
            fun,
            np.clip(w0, low, high),
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(low, high, strict=True)),
            options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 2000},
        )
        ends.append(res.x if res.fun <= fun(w0)[0] else np.clip(w0, low, high))
    ends = np.array(ends)
    values = compiled.values(ends)
    labels = (
        fcluster(linkage(ends, "single"), merge, criterion="distance") if len(ends) > 1 else np.array([1])
    )
    reps = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        best = members[np.argmin(values[members])]
        reps.append((values[best], ends[best]))
    reps.sort(key=lambda r: r[0])
    out, seen = [], set()
    for _, x in reps:
        text = _rational_point(x, lambda w: float(compiled.value(np.ascontiguousarray(w))), tol, merge)
        if text in seen:
            continue
        seen.add(text)
        if len(out) == max_basins:
            break
        i = len(out)
        point = dict(zip(potential.names, text, strict=True))
        try:
            out.extend(basins_at(potential, {f"b{i}": point}))
        except ValueError:  # λ undecidable here: keep the basin, with λ unknown
            out.append(
                Basin(f"b{i}", potential.names, text, potential(point), float("nan"), 1, False, "unknown")
            )
    return tuple(out)


def parse_basin(text: str) -> tuple[str, dict[str, str]]:
    """``"accurate:x=1,y=0"`` → ``("accurate", {"x": "1", "y": "0"})`` (the CLI's --basin syntax)."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"bad basin {text!r}: expected NAME:x=..,y=.., e.g. accurate:x=1,y=0")
    return name.strip(), parse_assignments(rest, f"point of basin {name.strip()!r}")


def nearest_basin(W: np.ndarray, basins: Sequence[Basin]) -> np.ndarray:
    """Index of the nearest basin point (Euclidean) for each row of W (..., d) → (...) int64."""
    centres = np.stack([b.coordinates for b in basins])
    W = np.asarray(W, dtype=np.float64)
    dist = np.sum((W[..., None, :] - centres) ** 2, axis=-1)
    return np.argmin(dist, axis=-1)
