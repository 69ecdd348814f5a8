"""Does a face polynomial vanish somewhere on the real torus (R∖0)^d? Decided exactly, or left open.

For K ≥ 0 near 0 every compact-face polynomial K_γ is a weighted initial form of K, hence ≥ 0 on the
real torus, so each real zero there is a minimum and therefore a singular zero. Non-degeneracy in the
sense of Varchenko (1976) / Lin (2011, Def. 4.3) over the reals is then: no compact-face polynomial
vanishes on (R∖0)^d. This module decides that per face:

* a vertex (a monomial) never vanishes on the torus;
* an edge: K_γ = w^{α₀} g(w^v) with v the primitive edge direction; since v has an odd entry, w^v
  takes every non-zero real value, so K_γ vanishes on the torus iff g has a non-zero real root
  (counted exactly with Sturm sequences);
* a face of dimension ≥ 2: if the Gröbner basis of {K_γ, ∂K_γ/∂w_i, 1 − t Π w_i} is {1} there is
  no singular zero even in the complex torus. Otherwise the torus symmetry of K_γ is removed by
  fixing |w_j| = 1 for a set J of coordinates transversal to the face (w_j = ±1), and if the
  remaining system is zero-dimensional its solutions are computed and checked for real ones.
  Anything else is reported as undecided (``None``), and the caller must not claim exactness.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

import sympy

from slt.rlct.newton import affine_dimension

# Gröbner bases grow doubly exponentially with the number of variables; beyond this, answer 'undecided'.
MAX_GROEBNER_VARIABLES = 6


@dataclass(frozen=True)
class TorusVerdict:
    """``vanishes``: True (a real torus zero exists), False (none), None (undecided); ``detail``: why."""

    vanishes: bool | None
    detail: str


def face_polynomial(terms: dict, face, gens) -> sympy.Expr:
    return sympy.Add(*(terms[a] * sympy.Mul(*(g**e for g, e in zip(gens, a, strict=True))) for a in face))


def real_torus_zero(terms: dict, face, gens) -> TorusVerdict:
    """Decide whether Σ_{α ∈ face} c_α w^α (c_α = ``terms[α]``) vanishes on the real torus."""
    k = affine_dimension(face)
    if k == 0:
        return TorusVerdict(False, "a monomial")
    if k == 1:
        return _edge(terms, face, gens)
    return _higher_face(terms, face, gens, k)


def _edge(terms, face, gens) -> TorusVerdict:
    ordered = sorted(face)
    start, end = ordered[0], ordered[-1]
    step = [e - s for s, e in zip(start, end, strict=True)]
    common = 0
    for v in step:
        common = gcd(common, v)
    direction = [v // common for v in step]
    pivot = next(i for i, v in enumerate(direction) if v)
    u = sympy.Symbol("u")
    g = sympy.Poly(
        sum(terms[a] * u ** ((a[pivot] - start[pivot]) // direction[pivot]) for a in ordered), u, domain="QQ"
    )
    u_text = "*".join(f"{n}^{e}" if e != 1 else f"{n}" for n, e in zip(gens, direction, strict=True) if e)
    roots = g.real_roots()
    if roots:
        return TorusVerdict(True, f"g(u) = {g.as_expr()} with u = {u_text} has the real root u = {roots[0]}")
    return TorusVerdict(False, f"g(u) = {g.as_expr()} with u = {u_text} has no real root")


def _higher_face(terms, face, gens, k: int) -> TorusVerdict:
    f = face_polynomial(terms, face, gens)
    if len(f.free_symbols) > MAX_GROEBNER_VARIABLES:
        return TorusVerdict(
            None,
            f"face polynomial {f} has more than {MAX_GROEBNER_VARIABLES} variables; "
            "the Gröbner test was not attempted",
        )
    t = sympy.Dummy("t")
    system = [f, *(sympy.diff(f, g) for g in gens)]
    basis = sympy.groebner([*system, 1 - t * sympy.Mul(*gens)], *gens, t, order="grevlex")
    if list(basis.exprs) == [1]:
        return TorusVerdict(False, "Gröbner basis of {f, ∇f, 1 - t·Πw} is {1}: no singular zero in the torus")
    fixed = _transversal_coordinates(face, len(gens), k)
    if fixed is None:
        return TorusVerdict(
            None, f"face polynomial {f} has singular complex torus zeros; real ones undecided"
        )
    free = [g for i, g in enumerate(gens) if i not in fixed]
    for signs in itertools.product((1, -1), repeat=len(fixed)):
        values = {gens[i]: s for i, s in zip(fixed, signs, strict=True)}
        if k == 2:
            fixed_text = ", ".join(f"{g}={s}" for g, s in values.items())
            found = plane_curve_torus_point(sympy.Poly(f.xreplace(values), *free, domain="QQ"))
            if found is None:
                return TorusVerdict(None, f"could not decide the real zeros of {f} with {fixed_text}")
            if found:
                return TorusVerdict(
                    True, f"face polynomial {f} vanishes on the real torus: with {fixed_text}, {found}"
                )
            continue
        equations = [sympy.expand(e.xreplace(values)) for e in system]
        equations = [e for e in equations if e != 0]
        reduced = sympy.groebner([*equations, 1 - t * sympy.Mul(*free)], *free, t, order="lex")
        if list(reduced.exprs) == [1]:
            continue
        if not reduced.is_zero_dimensional:
            return TorusVerdict(
                None,
                f"face polynomial {f} has a positive-dimensional singular locus; "
                "whether it has real torus points is undecided",
            )
        try:
            solutions = sympy.solve_poly_system(equations, *free)
        except (NotImplementedError, sympy.polys.polyerrors.PolynomialError):
            return TorusVerdict(None, f"could not solve the singular-zero system of {f}")
        for sol in solutions or []:
            real = [c.is_real for c in sol]
            if None in real:
                return TorusVerdict(None, f"could not decide whether the zeros of {f} are real")
            if all(real) and all(c != 0 for c in sol):
                at = ", ".join(f"{g}={c}" for g, c in [*values.items(), *zip(free, sol, strict=True)])
                return TorusVerdict(True, f"face polynomial {f} vanishes at the real torus point ({at})")
    return TorusVerdict(
        False,
        f"face polynomial {f}: no real torus zero (with |w_j| = 1 on {len(fixed)} transversal "
        "coordinates, the remaining polynomial has no real zero with non-zero coordinates)",
    )


def _transversal_coordinates(face, d: int, k: int) -> tuple[int, ...] | None:
    """Indices J (|J| = d − k) whose columns of the face's normal space are invertible."""
    ordered = sorted(face)
    diffs = sympy.Matrix([[Fraction(c - b) for c, b in zip(p, ordered[0], strict=True)] for p in ordered[1:]])
    normals = sympy.Matrix.hstack(*diffs.nullspace()).T  # (d - k) x d
    for subset in itertools.combinations(range(d), d - k):
        if normals[:, list(subset)].det() != 0:
            return subset
    return None


def plane_curve_torus_point(h: sympy.Poly) -> str | bool | None:
    """Does h(u, v) (over Q) vanish at a real point with u ≠ 0, v ≠ 0? A witness text, False, or None.

    Per irreducible factor g: a factor in one variable only is a union of lines, decided by its
    non-zero real roots. Otherwise the real curve g = 0 is a finite set of isolated points (singular
    points, solved exactly) plus arcs whose projection to the u-axis has interior. Over each open
    interval between the real roots of P(u) = u · lc_v(g) · g(u, 0) · disc_v(g) the number of real
    roots of g(a, ·) is constant and none is 0, so one rational sample a per interval finds every
    arc in the torus (a one-level cylindrical decomposition; Basu, Pollack & Roy 2006, ch. 11).
    """
    u, v = h.gens
    for g, _ in h.factor_list()[1]:
        degrees = g.degree(u), g.degree(v)
        if min(degrees) == 0:
            roots = [r for r in sympy.Poly(g.as_expr(), u if degrees[0] else v).real_roots() if r != 0]
            if roots:
                return f"{u if degrees[0] else v} = {roots[0]} is a line of zeros"
            continue
        critical = (
            sympy.Poly(u, u)
            * sympy.Poly(g.as_expr().coeff(v, degrees[1]), u)
            * sympy.Poly(g.as_expr().subs(v, 0), u)
            * sympy.Poly(sympy.discriminant(g.as_expr(), v), u)
        )
        for a in _cell_samples(critical):
            section = sympy.Poly(g.as_expr().subs(u, a), v)
            if section.count_roots() > 0:
                return f"{u} = {a} and {v} = {section.real_roots()[0]}"
        try:
            singular = sympy.solve_poly_system([g.as_expr(), g.diff(u).as_expr(), g.diff(v).as_expr()], u, v)
        except (NotImplementedError, sympy.polys.polyerrors.PolynomialError):
            return None
        for point in singular or []:
            real = [c.is_real for c in point]
            if None in real:
                return None
            if all(real) and all(c != 0 for c in point):
                return f"({u}, {v}) = {point} is an isolated real zero"
    return False


def _cell_samples(critical: sympy.Poly) -> list[Fraction]:
    """One rational point in each open interval of R cut at the real roots of ``critical``."""
    cuts = []
    for (low, high), _ in critical.intervals(eps=Fraction(1, 10**9)):
        cuts.append((Fraction(int(low.p), int(low.q)), Fraction(int(high.p), int(high.q))))
    cuts.sort()
    if not cuts:
        return [Fraction(1)]
    samples = [cuts[0][0] - 1, cuts[-1][1] + 1]
    for (_, high), (low, _) in itertools.pairwise(cuts):
        if not high < low:
            raise ArithmeticError("isolating intervals overlap")  # cannot happen after refinement
        samples.append((high + low) / 2)
    return samples
