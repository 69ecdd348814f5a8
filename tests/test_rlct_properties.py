"""Invariants of the learning coefficient, stated once and checked on generated potentials (hypothesis)."""

from fractions import Fraction

import sympy
from hypothesis import given
from hypothesis import strategies as st

from slt.potential import Potential
from slt.rlct import rlct
from slt.rlct.blowup import resolve
from slt.rlct.newton import NewtonPolyhedron
from slt.rlct.nondegenerate import analyse

W = sympy.symbols("w1:5", real=True)
X, Y, Z, V = sympy.symbols("x y z v", real=True)

# 2-D potentials with known (lambda, m), degenerate ones included (see test_rlct.py for sources)
KNOWN_2D = [
    ((X**2 + Y**2), Fraction(1), 1),
    (X**2 * Y**4, Fraction(1, 4), 1),
    (X**2 + Y**4, Fraction(3, 4), 1),
    ((X**2 + Y**2) ** 2, Fraction(1, 2), 1),
    ((X - Y) ** 2, Fraction(1, 2), 1),
    ((X**2 - Y**3) ** 2, Fraction(5, 12), 1),
    ((X**2 - Y**2) ** 2, Fraction(1, 2), 2),
    (X**2 * Y**2, Fraction(1, 2), 2),
]
OTHER = [Z**2, Z**4, Z**2 * V**2, Z**2 + V**6, (Z**2 + V**2) ** 2, (Z - V**2) ** 2]


@st.composite
def normal_crossing(draw):
    d = draw(st.integers(1, 4))
    k = draw(st.lists(st.integers(0, 3), min_size=d, max_size=d).filter(any))
    h = draw(st.lists(st.integers(0, 3), min_size=d, max_size=d))
    unit = draw(st.sampled_from([1, (1 + W[0]) ** 2, 2 + W[0] * W[d - 1], 3 - W[d - 1] ** 3]))
    c = draw(st.integers(1, 5))
    K = c * sympy.Mul(*(W[i] ** (2 * k[i]) for i in range(d))) * unit
    return Potential(K, variables=[w.name for w in W[:d]]), k, h


@given(normal_crossing())
def test_normal_crossing_formula(case):
    # lambda = min (h_i + 1)/(2 k_i), m = number of minimisers (Watanabe 2009)
    K, k, h = case
    ratios = [Fraction(hi + 1, 2 * ki) for ki, hi in zip(k, h, strict=True) if ki]
    result = rlct(K, prior_exponents=h)
    assert result.exact
    assert result.lam == min(ratios)
    assert result.m == ratios.count(min(ratios))


@given(st.sampled_from(KNOWN_2D), st.fractions(min_value=Fraction(1, 100), max_value=100).filter(bool))
def test_lambda_invariant_under_positive_scaling(case, c):
    K, lam, m = case
    result = rlct(sympy.Rational(c.numerator, c.denominator) * K)
    assert (result.lam, result.m, result.exact) == (lam, m, True)


@given(
    st.sampled_from([case[0] for case in KNOWN_2D] + OTHER),
    st.lists(st.integers(0, 2), min_size=2, max_size=2),
)
def test_lambda_invariant_under_permuting_variables(K, h):
    a, b = (X, Y) if K.free_symbols & {X, Y} else (Z, V)
    first = rlct(Potential(K, [a.name, b.name]), prior_exponents=h)
    # swap the variables; the prior exponents follow them
    second = rlct(Potential(K.xreplace({a: b, b: a}), [a.name, b.name]), prior_exponents=h[::-1])
    assert (first.lam, first.m, first.exact) == (second.lam, second.m, second.exact)


@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.integers(0, 8),
    st.integers(0, 8),
    st.sampled_from([-3, -2, -1, 1, 2, 3]),
)
def test_higher_weighted_degree_terms_do_not_change_lambda(a, b, i, j, c):
    # K = x^{2a} + y^{2b} is non-degenerate with lambda = 1/(2a) + 1/(2b); a term of weighted degree
    # i/(2a) + j/(2b) > 1 lies strictly above the compact face (Varchenko 1976)
    if Fraction(i, 2 * a) + Fraction(j, 2 * b) <= 1:
        i += 2 * a + 1
    result = rlct(X ** (2 * a) + Y ** (2 * b) + c * X**i * Y**j)
    assert (result.lam, result.m, result.exact) == (Fraction(1, 2 * a) + Fraction(1, 2 * b), 1, True)


monomials = st.tuples(st.integers(0, 3), st.integers(0, 3)).filter(lambda e: 0 < sum(e) <= 3)
polynomial = st.dictionaries(monomials, st.integers(-2, 2).filter(bool), min_size=1, max_size=4)


@given(st.lists(polynomial, min_size=1, max_size=2))
def test_lambda_between_zero_and_half_dimension(parts):
    # K = sum of squares of polynomials vanishing at 0: K >= 0 with a zero (isolated or not) at 0,
    # and 0 < lambda <= d/2 = 1; the Newton value is an upper bound of lambda
    K = sum(sympy.Add(*(c * X**p * Y**q for (p, q), c in f.items())) ** 2 for f in parts)
    result = rlct(K)
    assert 0 < result.lam <= 1
    if result.exact and result.bound is not None:
        assert result.lam <= result.bound


@given(st.sampled_from(KNOWN_2D), st.sampled_from(OTHER))
def test_lambda_additive_over_separate_variables(first, second):
    K1, lam1, m1 = first
    K2 = second
    part = rlct(K2)
    result = rlct(K1 + K2)
    assert result.exact
    assert result.lam == lam1 + part.lam
    assert result.m == m1 + part.m - 1


@given(st.lists(polynomial, min_size=1, max_size=3), st.lists(st.integers(0, 2), min_size=2, max_size=2))
def test_blowup_agrees_with_newton_where_both_apply(parts, h):
    # two independent algorithms: when K is non-degenerate, the resolution by blow-ups must give
    # the Newton-polyhedron (lambda, m) (Varchenko's theorem)
    K = sympy.Poly(sum(sympy.Add(*(c * X**p * Y**q for (p, q), c in f.items())) ** 2 for f in parts), X, Y)
    tau = [Fraction(hi + 1) for hi in h]
    polyhedron = NewtonPolyhedron(K.monoms())
    analysis = analyse(K, tau, ("x", "y"), polyhedron)
    if not analysis.nondegenerate:
        return
    resolution = resolve(K, tau, ("x", "y"))
    assert (resolution.lam, resolution.m) == (analysis.bound, analysis.m)
