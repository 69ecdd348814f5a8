"""The library of named potentials: every (λ, m) consistent with the literature and with the definitions."""

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from slt import library
from slt.parsing import parse_expression

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "cases" / "rlct.json"
CASES = json.loads(_SHARED.read_text()) if _SHARED.exists() else None

# Hessian rank at the entry's point, worked out by hand from each definition:
# a term in K of order two in t variables in general position contributes t; higher orders contribute 0.
EXPECTED_RANK = {
    "regular_2d": 2, "regular_3d": 3, "monomial_1d": 0, "normal_crossing_11": 0, "normal_crossing_12": 0,
    "nc_with_jacobian": 0, "quasi_homogeneous": 1, "squared_norm_squared": 0, "line_squared": 1,
    "squared_cusp": 0, "line_dot": 0, "line_dot_origin": 0, "line_dot_line": 1, "normal_crossing_22": 0,
    "normal_crossing_23": 0, "tanh_toy": 0, "deep_linear_mode": 1, "deep_linear_origin": 0, "two_basin": 2,
}  # fmt: skip


def _rrr_rank(M, N, H, r):
    """Rank of (δA, δB) ↦ B₀δA + δB A₀ at rank-r factors: matrices supported on r rows or r columns."""
    r = min(r, H)
    return r * M + r * N - r * r


def test_library_has_at_least_15_distinct_entries_with_citations():
    names = library.names()
    assert len(names) >= 15 and len(set(names)) == len(names)
    for e in library.entries():
        assert e.citation and e.description and e.m >= 1 and e.lam > 0
        assert set(e.at) == set(e.potential.names)
        assert library.get(e.name) is e


def test_unknown_name_suggests_close_matches():
    with pytest.raises(KeyError, match="did you mean line_dot"):
        library.get("line_do")


@pytest.mark.skipif(CASES is None, reason="shared cases not available")
def test_every_shared_rlct_case_is_in_the_library_with_the_same_values():
    for case in CASES["cases"]:
        e = library.get(case["name"])
        assert sympy.expand(e.potential.expr - parse_expression(case["K"])) == 0, case["name"]
        assert e.lam == Fraction(case["lambda"]) and e.m == case["m"], case["name"]
        at = {k: Fraction(str(v)) for k, v in case.get("at", {}).items()}
        assert {k: v for k, v in e.at.items() if v != 0} == {k: v for k, v in at.items() if v != 0}
        h = case.get("prior_exponents", {})
        assert e.potential.prior.exponents == tuple(h.get(n, 0) for n in e.potential.names)
    for case in CASES["reduced_rank_regression"]["cases"]:
        M, N, H, r = case["M"], case["N"], case["H"], case["r"]
        assert library.rrr_lambda(M, N, H, r) == (Fraction(case["lambda"]), case["m"])
        e = library.get(f"rrr_{M}_{N}_{H}_{r}")
        assert (e.lam, e.m) == (Fraction(case["lambda"]), case["m"])


@pytest.mark.parametrize("name", library.names())
def test_entry_point_is_a_critical_point_with_the_expected_hessian_rank(name):
    e = library.get(name)
    K = e.potential
    subs = dict(zip(K.variables, (sympy.Rational(e.at[n]) for n in K.names), strict=True))
    assert K.expr.xreplace(subs) == 0  # a true parameter: K(at) = 0
    assert all(g.xreplace(subs) == 0 for g in K.gradient)  # exactly critical
    exact_rank = K.hessian.xreplace(subs).rank()
    expected = _rrr_rank(*K.meta["rrr"]) if "rrr" in K.meta else EXPECTED_RANK[name]
    assert exact_rank == expected
    assert K.hessian_rank(e.at) == expected  # the numeric rank agrees with the exact one
    # λ ≥ rank/2 (splitting lemma: the rank directions contribute 1/2 each) and λ ≤ d/2 (Watanabe 2009)
    assert Fraction(expected, 2) <= e.lam <= Fraction(K.dim, 2)
    assert 1 <= e.m <= K.dim


@given(st.integers(1, 6), st.integers(1, 6))
def test_normal_crossing_family(a, b):
    e = library.normal_crossing(a, b)
    assert e.potential.expr == parse_expression(f"x**{2 * a} * y**{2 * b}")
    # ζ(z) = ∫ x^{2az} y^{2bz} = 1/((2az+1)(2bz+1)) on [0,1]²: poles at −1/(2a), −1/(2b)
    z = sympy.Symbol("z")
    zeta = 1 / ((2 * a * z + 1) * (2 * b * z + 1))
    poles = sympy.roots(sympy.denom(sympy.together(zeta)), z)
    largest = max(poles)
    assert e.lam == Fraction(str(-largest)) and e.m == poles[largest]


def test_normal_crossing_rejects_bad_exponents():
    with pytest.raises(ValueError, match="a, b >= 1"):
        library.normal_crossing(0, 1)


@given(st.integers(1, 8), st.integers(1, 8))
def test_rrr_with_one_hidden_unit_is_normal_crossing_in_polar_coordinates(M, N):
    # H = 1, r = 0: K = ½|a|²|b|²; with the radial Jacobians |ρ_a|^{M-1} |ρ_b|^{N-1}
    # this is normal crossing: λ = min(M, N)/2, m = 2 iff M = N
    assert library.rrr_lambda(M, N, 1, 0) == (Fraction(min(M, N), 2), 2 if M == N else 1)


@given(st.integers(1, 6), st.integers(0, 4), st.integers(0, 4))
def test_rrr_at_full_inner_rank_is_regular_modulo_the_gl_orbit(H, dM, dN):
    # r = H ≤ min(M, N): the true set is the smooth GL(H)-orbit (dimension H²), λ = (H(M+N) − H²)/2, m = 1
    M, N = H + dM, H + dN
    assert library.rrr_lambda(M, N, H, H) == (Fraction(H * (M + N) - H * H, 2), 1)


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 6), st.integers(0, 6))
def test_rrr_lambda_is_between_zero_and_half_the_dimension(M, N, H, r):
    r = min(r, M, N)
    lam, m = library.rrr_lambda(M, N, H, r)
    assert 0 < lam <= Fraction(H * (M + N), 2) and m in (1, 2)


def test_reduced_rank_entry_is_reproducible_and_has_a_rank_r_truth():
    e = library.reduced_rank(3, 2, 2, 1, seed=5)
    assert e.potential.meta["rrr"] == (3, 2, 2, 1)
    assert sympy.Matrix(e.potential.meta["C"]).rank() == 1
    assert library.reduced_rank(3, 2, 2, 1, seed=5).potential.expr == e.potential.expr
    with pytest.raises(ValueError, match="rank r=3"):
        library.reduced_rank(2, 2, 2, 3)


def test_two_basin_is_the_contract_formula_with_its_two_minima():
    e = library.get("two_basin")
    K = e.potential
    x, y = K.variables
    d = sympy.Rational(1, 1000)
    u = (x + 1) / 2
    contract = ((x - 1) ** 2 + y**2) * ((x + 1) ** 4 + y**4)
    contract += d * (1 - u) ** 2 * (1 + 2 * u + 3 * u**2 + 4 * u**3)
    assert sympy.expand(K.expr - contract) == 0
    assert K.prior.low == (-2.0, -2.0) and K.prior.high == (2.0, 2.0)
    simple = {"x": -1, "y": 0}
    assert K.exact_value(simple) == d and np.all(K.gradient_at(simple) == 0)
    assert K.hessian_rank(simple) == 0
    # K − δ = 4((x+1)⁴ + y⁴) + ... : fourth derivatives 4·24 (y) and 24(4 − 5δ/16) (x, from the δ-term −5δu⁴)
    at = {x: -1, y: 0}
    assert sympy.diff(K.expr, y, 4).xreplace(at) == 96
    assert sympy.diff(K.expr, x, 4).xreplace(at) == 24 * (4 - 5 * d / 16)
    assert (e.lam, e.m) == (1, 1) and K.meta["basins"]["simple"]["lam"] == "1/2"
    # K ≥ 0 on the prior box
    g = np.linspace(-2, 2, 201)
    W = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    f = sympy.lambdify((x, y), K.expr, "numpy")
    assert f(W[:, 0], W[:, 1]).min() >= 0
    # the Bayesian transition n/log n = Δλ/ΔL = (1/2)/(1/1000) = 500 sits near n ≈ 4.2e3
    assert 4.1e3 / np.log(4.1e3) < 500 < 4.3e3 / np.log(4.3e3)


def test_deep_linear_mode_follows_saxe_dynamics():
    e = library.get("deep_linear_mode")
    a, b = e.potential.variables
    s, u = sympy.Symbol("s"), sympy.Symbol("u", positive=True)
    K = sympy.Rational(1, 2) * (s - a * b) ** 2
    assert e.potential.expr == K.subs(s, 1)
    # gradient flow from a = b: u = ab obeys u' = 2u(s − u), whose solution is Saxe et al.'s sigmoid
    du = (-sympy.diff(K, a) * b - sympy.diff(K, b) * a).subs({a: sympy.sqrt(u), b: sympy.sqrt(u)})
    assert sympy.simplify(du - 2 * u * (s - u)) == 0
    t, u0 = sympy.symbols("t u0", positive=True)
    saxe = s * sympy.exp(2 * s * t) / (sympy.exp(2 * s * t) - 1 + s / u0)
    assert sympy.simplify(sympy.diff(saxe, t) - 2 * saxe * (s - saxe)) == 0
    assert library.deep_linear(0).name == "deep_linear_origin"


def test_to_dict_is_json_ready():
    d = library.get("line_dot_line").to_dict()
    assert json.loads(json.dumps(d)) == d and d["lam"] == "1/2" and d["at"] == {"x": "1", "y": "3/10"}


def test_cli_lists_every_entry_with_lambda_and_m(capsys):
    from slt.cli import main

    assert main(["library", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in listed] == list(library.names())
    assert {e["name"]: (e["lam"], e["m"]) for e in listed}["squared_cusp"] == ("5/12", 1)
    assert main(["library"]) == 0
    assert "line_dot_line" in capsys.readouterr().out
    assert main(["library", "line_dot"]) == 0
    assert "lambda = 1/4, m = 1" in capsys.readouterr().out
    assert main(["library", "no_such"]) == 2


def test_a_misspelt_name_is_refused_with_suggestions_not_read_as_a_formula():
    with pytest.raises(ValueError, match="did you mean line_dot"):
        library.resolve("line_dott")
    potential, at = library.resolve("x**2")
    assert str(potential.expr) == "x**2" and at is None
