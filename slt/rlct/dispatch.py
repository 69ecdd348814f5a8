"""``rlct``: the one entry point that tries the exact methods in order and says which one decided."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import sympy

from slt.rlct.blowup import Unresolved, resolve
from slt.rlct.localize import LocalProblem, as_potential, localize
from slt.rlct.newton import NewtonPolyhedron
from slt.rlct.nondegenerate import analyse, check_vertex_signs, newton_result
from slt.rlct.normal_crossing import normal_crossing
from slt.rlct.result import RLCTResult
from slt.rlct.rrr import reduced_rank
from slt.rlct.separable import restrict, variable_groups

# Qhull's facet count, and the face lattice, grow exponentially with the dimension.
MAX_NEWTON_DIMENSION = 8
NUMERIC_HINT = "estimate it numerically with slt.llc or slt.volume_scaling"


def rlct(target, at=None, prior_exponents=None, taylor_order: int | None = None) -> RLCTResult:
    """The learning coefficient λ (real log canonical threshold) and multiplicity m of K at a point.

    λ and m are defined by the largest pole z = −λ (of order m) of ζ(z) = ∫ K(w)^z φ(w) dw over a
    small neighbourhood of the point, with prior φ ∝ Π|w_i|^{h_i} × (smooth, positive)
    (Watanabe 2009). The methods are tried in this order, and the result names the one that decided:

    0. ``reduced_rank`` — a potential with ``meta["rrr"] = (M, N, H, r)`` (from
       :func:`slt.library.reduced_rank`) and no ``at``: closed form of Aoyagi & Watanabe (2005),
       the global λ over the set of true parameters;
    1. ``normal_crossing`` — K = w^a × unit: λ = min (h_i+1)/a_i, m = #minimisers;
    2. ``newton`` — λ = 1/t₀, m = codim of the τ-face, after proving non-degeneracy over the real
       torus for every compact face (Varchenko 1976; Lin 2011);
    3. ``blowup`` — two variables, any polynomial: resolution by point blow-ups;
    4. ``separable`` — K a sum of polynomials in disjoint groups of variables:
       λ = Σ λ_j, m = Σ m_j − (g − 1).

    If none decides, the result has ``exact=False``, ``lam`` = the Newton upper bound 1/t₀, the
    reason, and ``method="newton_bound"``; it is never presented as exact.

    Parameters
    ----------
    target : a :class:`slt.Potential`, a library entry (its ``at`` is the default point), a formula
        string (parsed safely) or a sympy expression; K ≥ 0 near the point with K(point) = 0, a
        polynomial with rational coefficients.
    at : the point (dict name -> number, or a sequence in variable order; exact values such as
        ``"3/10"``); default the origin. Missing names mean 0.
    prior_exponents : h_i of the prior factor Π|w_i|^{h_i} (dict or sequence); default the
        potential's ``prior.exponents`` (all 0 = uniform). At a point with w_i ≠ 0 the factor
        |w_i|^{h_i} is a smooth unit and drops out.
    taylor_order : for an analytic non-polynomial K only: use its Taylor polynomial of this total
        degree at the point. The result is exact only when the omitted terms provably cannot matter
        (they lie strictly inside the Newton polyhedron and the method is normal crossing or Newton).

    Returns
    -------
    :class:`RLCTResult` with ``lam`` (Fraction), ``m``, ``exact``, ``method``, ``certificate``,
    ``bound`` (Newton bound 1/t₀), ``reason``.

    Examples
    --------
    >>> rlct("x**2 + y**4")
    RLCT(lam=3/4, m=1, exact=True, method='newton')
    >>> rlct("(x**2 - y**3)**2")
    RLCT(lam=5/12, m=1, exact=True, method='blowup')
    >>> rlct("(x - 1)**2*(x**2 + y**2)**4", at={"x": 1, "y": "3/10"})
    RLCT(lam=1/2, m=1, exact=True, method='normal_crossing')
    """
    potential = as_potential(target)
    rrr = potential.meta.get("rrr")
    if rrr is not None and at is None and prior_exponents is None and taylor_order is None:
        result = reduced_rank(*rrr)
        return replace(
            result, certificate=result.certificate + "; recognised from the potential's meta['rrr']"
        )
    if at is None and potential is not target:
        at = getattr(target, "at", None)  # a library entry knows its point
    problem = localize(potential, at, prior_exponents, taylor_order)
    result = solve(problem.poly, problem.tau, problem.names)
    where = f"K at {problem.describe_point()}: "
    if problem.taylor_order is not None:
        result = _truncation(result, problem)
    return replace(result, certificate=where + result.certificate)


def solve(poly: sympy.Poly, tau, names) -> RLCTResult:
    """(λ, m) of a polynomial K ≥ 0 over Q with K(0) = 0 at the origin, prior weights τ = h + 1."""
    if len(names) > MAX_NEWTON_DIMENSION:
        return (
            normal_crossing(poly, tau, names) or _separable(poly, tau, names, None) or _too_many(tau, names)
        )
    polyhedron = NewtonPolyhedron(poly.monoms())
    check_vertex_signs(polyhedron, poly, names)
    found = normal_crossing(poly, tau, names)
    if found is not None:
        return found
    analysis = analyse(poly, tau, names, polyhedron)
    if analysis.nondegenerate:
        return newton_result(analysis, tau)
    reason = (
        f"K is {'degenerate' if analysis.nondegenerate is False else 'not proven non-degenerate'} "
        f"for its Newton polyhedron ({analysis.failure})"
    )
    if len(names) == 2:
        try:
            resolution = resolve(poly, tau, names)
        except Unresolved as exc:
            reason += f"; the 2-D resolution did not finish: {exc}"
        else:
            return RLCTResult(
                lam=resolution.lam,
                m=resolution.m,
                exact=True,
                method="blowup",
                certificate=f"{reason}, so Newton's 1/t0 = {analysis.bound} is only a bound; "
                f"{resolution.certificate()}",
                bound=analysis.bound,
            )
    split = _separable(poly, tau, names, analysis.bound)
    if split is not None:
        return split
    if len(variable_groups(poly)) > 1:
        reason += "; splitting K over separate variables left a part undecided"
    return RLCTResult(
        lam=analysis.bound,
        m=analysis.m,
        exact=False,
        method="newton_bound",
        certificate=f"Newton polyhedron: t0 = {analysis.t0} on {analysis.face}; "
        f"lambda <= 1/t0 = {analysis.bound}",
        bound=analysis.bound,
        reason=f"{reason}; no exact method applies, so lambda <= {analysis.bound} is only an upper bound "
        f"({NUMERIC_HINT})",
    )


def _separable(poly: sympy.Poly, tau, names, bound: Fraction | None) -> RLCTResult | None:
    """The exact result for K = Σ_j K_j(w_{G_j}) over separate groups, if every part is exact."""
    groups = variable_groups(poly)
    if len(groups) < 2:
        return None
    parts = [solve(restrict(poly, g), [tau[i] for i in g], [names[i] for i in g]) for g in groups]
    if not all(p.exact for p in parts):
        return None
    lam = sum((p.lam for p in parts), Fraction(0))
    m = sum(p.m for p in parts) - (len(parts) - 1)
    pieces = "; ".join(
        f"[{', '.join(names[i] for i in g)}] {p.lam}, m={p.m} by {p.method}: {p.certificate}"
        for g, p in zip(groups, parts, strict=True)
    )
    return RLCTResult(
        lam=lam,
        m=m,
        exact=True,
        method="separable",
        certificate=f"K is a sum over the separate variable groups; lambda = sum = {lam}, "
        f"m = sum(m_j) - (groups - 1) = {m}. Parts: {pieces}",
        bound=bound,
    )


def _too_many(tau, names) -> RLCTResult:
    """K ≤ C|w|² near 0 gives λ ≤ λ(Σ w_i²) = Σ τ_i / 2: the only bound offered in high dimension."""
    bound = sum((Fraction(t) for t in tau), Fraction(0)) / 2
    return RLCTResult(
        lam=bound,
        m=1,
        exact=False,
        method="dimension_bound",
        certificate=f"K <= C*|w|^2 near the point, so lambda <= sum (h_i+1)/2 = {bound}",
        bound=bound,
        reason=f"{len(names)} variables is more than the Newton-polyhedron engine handles "
        f"({MAX_NEWTON_DIMENSION}), K is not normal crossing and does not split; {NUMERIC_HINT}",
    )


def _truncation(result: RLCTResult, problem: LocalProblem) -> RLCTResult:
    """Keep exactness only if the terms of degree > N cannot change the Newton data (see ``rlct``)."""
    order = problem.taylor_order
    polyhedron = NewtonPolyhedron(problem.poly.monoms())
    d = len(problem.names)
    safe = all(
        any(beta[i] and polyhedron.contains([b - (j == i) for j, b in enumerate(beta)]) for i in range(d))
        for beta in _monomials_of_degree(d, order + 1)
    )
    if safe and result.method in ("normal_crossing", "newton"):
        note = (
            f"K replaced by its Taylor polynomial of degree {order}; every term of degree > {order} lies "
            "strictly inside its Newton polyhedron (off all compact faces), so K has the same Newton data "
            "and the result holds for K itself. "
        )
        return replace(result, certificate=note + result.certificate)
    note = f"K replaced by its Taylor polynomial of degree {order}. "
    return replace(
        result,
        exact=False,
        certificate=note + result.certificate,
        reason=(result.reason + "; " if result.reason else "")
        + f"lambda, m are those of the Taylor polynomial of degree {order}; the omitted terms are not "
        "proven irrelevant (try a higher taylor_order)",
    )


def _monomials_of_degree(d: int, degree: int):
    for cut in itertools.combinations(range(degree + d - 1), d - 1):
        edges = (-1, *cut, degree + d - 1)
        yield tuple(edges[i + 1] - edges[i] - 1 for i in range(d))
