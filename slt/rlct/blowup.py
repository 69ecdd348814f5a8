"""Two variables, any polynomial: λ and m by resolution of singularities with point blow-ups.

Blow up the origin of the (x, y) plane: chart 1 is (x, y) = (x, x y′) with Jacobian |x|, chart 2 is
(x, y) = (x′ y, y) with Jacobian |y|; the exceptional divisor E is {x = 0} in chart 1 and {y = 0} in
chart 2 (chart 2 is only needed at its origin, the one point of E outside chart 1). If K has order
a_x along the divisor {x = 0}, a_y along {y = 0}, and the Jacobian·prior has exponents p_x, p_y, and
the strict transform has order N at the origin, then E carries a_E = a_x + a_y + N and
p_E = p_x + p_y + 1. The strict transforms of the irreducible factors of K (over Q) are followed to
every real point of E where they vanish, the point is translated to the origin and the process
recurses, until at every point the total transform is a monomial times a unit (normal crossing).
A centre at an irrational root c is translated exactly: the coefficients move to the number field
Q(c) (sympy's algebraic fields), so the whole tree stays in exact arithmetic.

Each divisor gives the candidate (p + 1)/a; λ is the smallest, and m = 2 exactly where two divisors
crossing at a point both attain it (else m = 1). Shortcut: at a simple root of the strict transform
on E (one factor, crossing E transversally) the point is already normal crossing.

Sources: Watanabe (2009), §3 (blow-ups, charts) and the worked examples of ch. 3 and 7; the
statement "λ = min (p+1)/a over the divisors of any resolution" is his Theorem 6.1 / 2.4 form.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

MAX_DEPTH = 40
MAX_NODES = 2000
# irrational blow-up centres are handled exactly in Q(c); keep those number fields small
MAX_FIELD_DEGREE = 8

X, Y = sympy.symbols("bx by")


class Unresolved(Exception):
    """The resolution could not be finished exactly (reason in the message)."""


@dataclass(frozen=True)
class Divisor:
    """A curve in the resolution: its name, the order a of K along it, the Jacobian·prior exponent p."""

    name: str
    a: int
    p: Fraction

    @property
    def candidate(self) -> Fraction | None:
        return (self.p + 1) / self.a if self.a else None

    def __str__(self) -> str:
        value = "" if self.candidate is None else f", (p+1)/a = {self.candidate}"
        return f"{self.name} (a={self.a}, p={self.p}{value})"


@dataclass
class _Resolution:
    divisors: dict[str, Divisor] = field(default_factory=dict)
    crossings: set[tuple[str, str]] = field(default_factory=set)
    blowups: int = 0
    nodes: int = 0
    curves: int = 0

    def curve(self, a: int, p: Fraction) -> Divisor:
        """A fresh strict-transform curve C1, C2, ... (a component of K = 0, not exceptional)."""
        self.curves += 1
        return Divisor(f"C{self.curves}", a, p)

    def record(self, divisor: Divisor) -> None:
        known = self.divisors.setdefault(divisor.name, divisor)
        if known != divisor:
            raise ArithmeticError(f"divisor {divisor.name} seen with two different orders")  # cannot happen


@dataclass(frozen=True)
class BlowupResult:
    lam: Fraction
    m: int
    divisors: tuple[Divisor, ...]
    minimisers: tuple[str, ...]
    crossing: tuple[str, str] | None
    blowups: int

    def certificate(self) -> str:
        lines = "; ".join(str(d) for d in self.divisors if d.a)
        where = (
            f"divisors {self.crossing[0]} and {self.crossing[1]} cross and both attain it -> m = 2"
            if self.crossing
            else "no two crossing divisors both attain it -> m = 1"
        )
        return (
            f"resolution by {self.blowups} point blow-up(s); divisors with K-order a and Jacobian*prior "
            f"exponent p: {lines}; lambda = min (p+1)/a = {self.lam} attained by "
            f"{', '.join(self.minimisers)}; "
            f"{where}. Watanabe (2009), resolution of singularities by blow-ups"
        )


def resolve(poly: sympy.Poly, tau, names) -> BlowupResult:
    """Resolve K (a 2-variable polynomial over Q, K(0) = 0) at the origin; see the module doc.

    ``tau`` = (h_x + 1, h_y + 1) are the prior weights. Raises :class:`Unresolved` if the tree grows
    beyond ``MAX_DEPTH``/``MAX_NODES`` or the centres need a number field of degree > ``MAX_FIELD_DEGREE``.
    """
    expr = poly.as_expr().xreplace(dict(zip(poly.gens, (X, Y), strict=True)))
    _, factors = sympy.factor_list(expr, X, Y)
    factors = [(sympy.Poly(f, X, Y, domain="QQ"), k) for f, k in factors]
    state = _Resolution()
    x_div = Divisor(f"{{{names[0]}=0}}", 0, Fraction(tau[0]) - 1)
    y_div = Divisor(f"{{{names[1]}=0}}", 0, Fraction(tau[1]) - 1)
    _node(factors, x_div, y_div, 0, state)
    with_candidates = [d for d in state.divisors.values() if d.a]
    if not with_candidates:
        raise Unresolved("K vanishes on no curve through the point")  # excluded by K(0) = 0
    lam = min(d.candidate for d in with_candidates)
    minimisers = tuple(d.name for d in with_candidates if d.candidate == lam)
    crossing = next(
        (pair for pair in sorted(state.crossings) if all(state.divisors[n].candidate == lam for n in pair)),
        None,
    )
    return BlowupResult(
        lam, 2 if crossing else 1, tuple(state.divisors.values()), minimisers, crossing, state.blowups
    )


def _extract(factors, x_div: Divisor, y_div: Divisor, state: _Resolution):
    """Move monomial factors x^i y^j of the strict transforms onto the axis divisors."""
    ax, ay, rest = x_div.a, y_div.a, []
    for f, k in factors:
        sx = min(m[0] for m in f.monoms())
        sy = min(m[1] for m in f.monoms())
        ax, ay = ax + k * sx, ay + k * sy
        if sx or sy:
            f = sympy.Poly.from_dict({(i - sx, j - sy): c for (i, j), c in f.terms()}, X, Y, domain=f.domain)
        if f.coeff_monomial((0, 0)) == 0:
            rest.append((f, k))
    if ay != y_div.a and y_div.a == 0 and y_div.name.startswith("<"):
        y_div = state.curve(0, y_div.p)  # a component of K = 0 met at a translated point
    return rest, Divisor(x_div.name, ax, x_div.p), Divisor(y_div.name, ay, y_div.p)


def _node(factors, x_div: Divisor, y_div: Divisor, depth: int, state: _Resolution) -> None:
    state.nodes += 1
    if depth > MAX_DEPTH or state.nodes > MAX_NODES:
        raise Unresolved(f"resolution tree exceeded {MAX_DEPTH} levels or {MAX_NODES} points")
    factors, x_div, y_div = _extract(factors, x_div, y_div, state)
    for div in (x_div, y_div):
        if not div.name.startswith("<"):
            state.record(div)
    if not factors:
        if x_div.a and y_div.a:
            state.crossings.add((x_div.name, y_div.name))
        return
    state.blowups += 1
    order = sum(k * min(sum(m) for m in f.monoms()) for f, k in factors)
    exceptional = Divisor(f"E{state.blowups}", x_div.a + y_div.a + order, x_div.p + y_div.p + 1)
    state.record(exceptional)
    chart1 = [(_chart(f, first=True), k) for f, k in factors]
    chart2 = [(_chart(f, first=False), k) for f, k in factors]
    # chart 1 origin: E meets the strict transform of {y = 0}
    _node(chart1, exceptional, y_div, depth + 1, state)
    # chart 2 origin: the point of E in the direction of the y-axis
    _node(chart2, x_div, exceptional, depth + 1, state)
    for root, crossing_factors in _roots_on_exceptional(chart1):
        if len(crossing_factors) == 1 and crossing_factors[0][1] == 1:
            k = crossing_factors[0][0]
            branch = state.curve(k, Fraction(0))
            state.record(branch)
            state.crossings.add((exceptional.name, branch.name))
            continue
        moved = [(_translate(f, root), k) for f, k in chart1]
        _node(moved, exceptional, Divisor(f"<{state.nodes}>", 0, Fraction(0)), depth + 1, state)


def _chart(f: sympy.Poly, first: bool) -> sympy.Poly:
    """Strict transform: f(x, x y)/x^ord (first chart) or f(x y, y)/y^ord (second chart)."""
    order = min(sum(m) for m in f.monoms())
    if first:
        terms = {(i + j - order, j): c for (i, j), c in f.terms()}
    else:
        terms = {(i, i + j - order): c for (i, j), c in f.terms()}
    return sympy.Poly.from_dict(terms, X, Y, domain=f.domain)


def _roots_on_exceptional(chart1):
    """Non-zero real roots c of the strict transforms on E = {x = 0} of chart 1.

    Returns (c, [(k_i, multiplicity of c in factor i), ...]) for each root, over the factors that vanish.
    """
    found: dict = {}
    for f, k in chart1:
        on_e = sympy.Poly.from_dict({(j,): c for (i, j), c in f.terms() if i == 0}, Y, domain=f.domain)
        if on_e.degree() <= 0:
            continue
        for root, mult in Counter(on_e.real_roots(radicals=False)).items():
            if root != 0:
                found.setdefault(root, []).append((k, mult))
    return sorted(found.items(), key=lambda item: float(item[0]))


def _translate(f: sympy.Poly, c) -> sympy.Poly:
    """f(x, y + c); an irrational centre c extends the coefficient field to Q(..., c)."""
    domain = f.domain
    if not c.is_rational:
        extension = (*getattr(domain, "orig_ext", ()), c)
        domain = sympy.QQ.algebraic_field(*extension)
        if domain.ext.minpoly.degree() > MAX_FIELD_DEGREE:
            raise Unresolved(f"blow-up centres need a number field of degree > {MAX_FIELD_DEGREE}")
        f = f.set_domain(domain)
    # expand in the field's own arithmetic: converting sympy expressions into a number field is slow
    shifted = sympy.Poly(Y + c, X, Y, domain=domain)
    powers = [sympy.Poly(1, X, Y, domain=domain)]
    result = sympy.Poly(0, X, Y, domain=domain)
    for (i, j), coeff in f.as_dict(native=True).items():
        while len(powers) <= j:
            powers.append(powers[-1] * shifted)
        result += sympy.Poly.from_dict({(i, 0): coeff}, X, Y, domain=domain) * powers[j]
    return result
