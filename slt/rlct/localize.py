"""Put a learning-coefficient question into normal form: a polynomial over Q at the origin.

``localize(target, at, prior_exponents, taylor_order)`` translates K so that the point of interest
becomes the origin, checks that the point is a true parameter (K(point) = 0, decided exactly) and
that K ≥ 0 near it, and returns K(point + u) as a :class:`sympy.Poly` over the rationals together
with the prior weights τ_i = h_i + 1 of the Jacobian factor Π|u_i|^{h_i}.

Prior convention: φ(w) ∝ Π_i |w_i|^{h_i} × (a smooth density, positive near the point), in the
coordinates of K. At a point with w_i ≠ 0 the factor |w_i|^{h_i} is smooth and positive, so it drops
out there (h_i = 0); this matches :meth:`slt.potential.Potential.shift`. The edges of a prior box
are not part of the local question.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from numbers import Integral

import numpy as np
import sympy

from slt.parsing import MAX_TERMS, check_magnitude, expansion_size_bound
from slt.potential import Potential

# The sign check samples K on rational spheres of these radii around the point.
# sympy's series expansion needs minutes beyond this degree (and MAX_TERMS bounds it in many variables)
MAX_TAYLOR_ORDER = 100
SIGN_CHECK_RADII = (Fraction(1, 10**3), Fraction(1, 10**6))


@dataclass(frozen=True)
class LocalProblem:
    """K(point + u) as a polynomial over Q in u, with the prior weights τ = h + 1.

    poly : sympy.Poly over QQ in the symbols ``gens`` (K translated to the origin, possibly its
        Taylor polynomial). tau : τ_i = h_i + 1 per variable. names : the variable names.
    point : exact coordinates of the point. taylor_order : the truncation degree, if K was truncated.
    """

    poly: sympy.Poly
    tau: tuple[Fraction, ...]
    names: tuple[str, ...]
    point: tuple[sympy.Expr, ...]
    taylor_order: int | None = None

    @property
    def gens(self) -> tuple[sympy.Symbol, ...]:
        return tuple(self.poly.gens)

    def describe_point(self) -> str:
        if all(c == 0 for c in self.point):
            return "the origin"
        return "(" + ", ".join(f"{n}={c}" for n, c in zip(self.names, self.point, strict=True)) + ")"


def as_potential(target) -> Potential:
    """A :class:`Potential` from a Potential, a library entry (``.potential``), a formula or a sympy expr."""
    if isinstance(target, Potential):
        return target
    if isinstance(getattr(target, "potential", None), Potential):
        return target.potential
    if isinstance(target, str | sympy.Basic):
        return Potential(target)
    raise ValueError(
        f"rlct needs a Potential, a formula string or a sympy expression, got {type(target).__name__}"
    )


def prior_weights(potential: Potential, prior_exponents, point) -> tuple[Fraction, ...]:
    """τ_i = h_i + 1 at the point; h_i from ``prior_exponents`` (dict or sequence) or else the prior."""
    names = potential.names
    if prior_exponents is None:
        raw = tuple(getattr(potential.prior, "exponents", ()) or (0,) * len(names))
    elif isinstance(prior_exponents, Mapping):
        unknown = sorted(set(prior_exponents) - set(names))
        if unknown:
            raise ValueError(f"prior exponents name unknown variable(s) {unknown} (variables: {list(names)})")
        raw = tuple(prior_exponents.get(n, 0) for n in names)
    elif isinstance(prior_exponents, Sequence) and not isinstance(prior_exponents, str):
        raw = tuple(prior_exponents)
        if len(raw) != len(names):
            raise ValueError(f"{len(raw)} prior exponents given for {len(names)} variables {list(names)}")
    else:
        raise ValueError(f"prior exponents must be a dict name -> h or a sequence, got {prior_exponents!r}")
    for name, h in zip(names, raw, strict=True):
        if isinstance(h, bool) or not isinstance(h, Integral) or h < 0:
            raise ValueError(f"prior exponent of {name!r} must be an integer >= 0, got {h!r}")
    # |w_i|^{h_i} is a smooth positive unit near a point with w_i != 0
    return tuple(Fraction(int(h) + 1) if c == 0 else Fraction(1) for h, c in zip(raw, point, strict=True))


def localize(target, at=None, prior_exponents=None, taylor_order: int | None = None) -> LocalProblem:
    """Translate K to the point, validate it, and return the :class:`LocalProblem`.

    Raises ``ValueError`` when K(point) ≠ 0, when K takes negative values near the point, when K is
    not a polynomial with rational coefficients (unless ``taylor_order`` asks for truncation), or
    when the point has irrational coordinates.
    """
    potential = as_potential(target)
    point = potential.coordinates(at)
    for name, c in zip(potential.names, point, strict=True):
        if not c.is_rational:
            raise ValueError(f"coordinate {name}={c} is not rational; exact methods need a rational point")
    tau = prior_weights(potential, prior_exponents, point)
    variables = potential.variables
    subs = dict(zip(variables, point, strict=True))
    check_magnitude(potential.expr, subs, "K")  # exact evaluation of an overflowing K never finishes
    value = sympy.simplify(potential.expr.xreplace(subs))
    if value != 0:
        where = "the origin" if at is None else f"the point {at}"
        raise ValueError(f"K = {value} at {where}, not 0: λ is defined at a zero of K (a true parameter)")
    shifted = potential.expr.xreplace({v: v + c for v, c in zip(variables, point, strict=True)})
    if taylor_order is not None:
        if isinstance(taylor_order, bool) or not isinstance(taylor_order, Integral) or taylor_order < 1:
            raise ValueError(f"taylor_order must be an integer >= 1, got {taylor_order!r}")
        monomials = math.comb(int(taylor_order) + len(variables), len(variables))
        if taylor_order > MAX_TAYLOR_ORDER or monomials > MAX_TERMS:
            raise ValueError(
                f"taylor_order={taylor_order} is too high for {len(variables)} variable(s): at most "
                f"{MAX_TAYLOR_ORDER}, and at most {MAX_TERMS} monomials of degree <= N (here {monomials})"
            )
        shifted = _taylor_polynomial(shifted, variables, int(taylor_order))
    elif not shifted.is_polynomial(*variables):
        raise ValueError(
            f"K = {potential.expr} is not a polynomial in {', '.join(potential.names)}; pass "
            "taylor_order=N (CLI: --taylor-order N) to use its Taylor polynomial of degree N at the point"
        )
    if expansion_size_bound(shifted) > MAX_TERMS:
        raise ValueError(
            f"K may expand to more than {MAX_TERMS} monomials at the point (e.g. (x+y+z+w)**1000); "
            "the exact methods cannot handle it"
        )
    poly = _rational_poly(sympy.expand(shifted), variables)
    _check_nonnegative(poly, potential.names)
    return LocalProblem(
        poly, tau, potential.names, point, None if taylor_order is None else int(taylor_order)
    )


def _taylor_polynomial(expr: sympy.Expr, variables, order: int) -> sympy.Expr:
    s = sympy.Dummy("s")
    scaled = expr.xreplace({v: s * v for v in variables})
    try:
        series = sympy.series(scaled, s, 0, order + 1).removeO()
    except (ValueError, NotImplementedError, TypeError) as exc:
        raise ValueError(f"cannot expand K in a Taylor series at the point: {exc}") from None
    poly = sympy.expand(series.subs(s, 1))
    if not poly.is_polynomial(*variables):
        raise ValueError("K is not analytic at the point (its series has non-polynomial terms)")
    return poly


def _rational_poly(expr: sympy.Expr, variables) -> sympy.Poly:
    expr = sympy.nsimplify(expr, rational=True) if expr.has(sympy.Float) else expr
    try:
        poly = sympy.Poly(expr, *variables, domain=sympy.QQ)
    except (sympy.polys.polyerrors.PolynomialError, sympy.CoercionFailed):
        raise ValueError(f"K = {expr} must have rational coefficients for the exact methods") from None
    if poly.is_zero:
        raise ValueError("K is identically zero near the point: every point is a true parameter and λ = 0")
    return poly


def _check_nonnegative(poly: sympy.Poly, names) -> None:
    """Raise unless K ≥ 0 near 0, as far as two exact tests can see.

    (1) The lowest-degree homogeneous part of K must have even degree (an odd form takes both signs);
    (2) K is evaluated exactly at rational points on spheres of radius 1e-3 and 1e-6 around 0.
    """
    low = min(sum(m) for m in poly.monoms())
    if low % 2:
        raise ValueError(
            f"K starts at degree {low} near the point, so it takes negative values there; "
            "λ needs K ≥ 0 near the point"
        )
    terms = [(m, Fraction(int(c.p), int(c.q))) for m, c in poly.terms()]
    scale = lcm(*(c.denominator for _, c in terms))
    top = max(sum(m) for m, _ in terms)
    ints = [(m, int(c * scale)) for m, c in terms]
    for radius in SIGN_CHECK_RADII:
        inv = radius.denominator  # radius = 1 / inv
        for direction in _directions(len(names)):
            # K(direction / inv) * inv^top * scale, an integer with the sign of K
            total = 0
            for m, c in ints:
                prod = c * inv ** (top - sum(m))
                for x, e in zip(direction, m, strict=True):
                    prod *= x**e
                total += prod
            if total < 0:
                where = ", ".join(
                    f"{n}={Fraction(x) * radius}" for n, x in zip(names, direction, strict=True)
                )
                raise ValueError(f"K is negative near the point (at offset {where}); λ needs K ≥ 0 there")


def _directions(d: int) -> list[tuple[int, ...]]:
    if d <= 3:
        grid = itertools.product(range(-2, 3), repeat=d)
        return [v for v in grid if any(v)]
    rng = np.random.default_rng(0)
    basis = [tuple(int(s) * (i == j) for j in range(d)) for i in range(d) for s in (-1, 1)]
    return basis + [tuple(int(x) for x in row) for row in rng.integers(-3, 4, size=(200, d)) if row.any()]
