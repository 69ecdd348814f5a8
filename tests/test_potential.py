"""Potential: symbolic derivatives, points, shift, Hessian rank, prior, and the compiled (Numba) numerics."""

import os
import pickle
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st

from slt.codegen import expression_key
from slt.potential import Potential, Prior

# --- hypothesis polynomials ------------------------------------------------------------------------

NAMES = ("x", "y", "z")
_monomial = st.tuples(st.integers(-9, 9), st.tuples(*[st.integers(0, 5)] * 3))
_polynomials = st.lists(_monomial, min_size=1, max_size=6)
_points = st.tuples(*[st.floats(-2, 2, allow_nan=False, width=64)] * 3)


def _poly(terms):
    x = [sympy.Symbol(n, real=True) for n in NAMES]
    expr = sum((c * x[0] ** a * x[1] ** b * x[2] ** e for c, (a, b, e) in terms), sympy.Integer(0))
    # the size of the terms bounds the rounding error of any evaluation order (condition number)
    magnitude = sum((abs(c) * x[0] ** a * x[1] ** b * x[2] ** e for c, (a, b, e) in terms), sympy.Integer(1))
    return expr, magnitude


def _exact(expr, point):
    values = (sympy.Rational(Fraction(v)) for v in point)
    subs = {sympy.Symbol(n, real=True): v for n, v in zip(NAMES, values, strict=True)}
    return expr.xreplace(subs)


def _check_compiled_gradient(terms, point):
    expr, magnitude = _poly(terms)
    K = Potential(expr, NAMES)
    w = np.array(point, dtype=np.float64)
    out = np.empty(3)
    value = K.compiled.grad(w, out)
    abs_point = tuple(abs(v) for v in point)
    for i, g in enumerate(K.gradient):
        exact = float(_exact(g, point))
        scale = float(_exact(sympy.diff(magnitude, K.variables[i]), abs_point)) + 1.0
        assert abs(out[i] - exact) <= 1e-10 * scale, (i, out[i], exact)
    scale = float(_exact(magnitude, abs_point))
    assert abs(value - float(_exact(expr, point))) <= 1e-12 * scale
    assert abs(K.compiled.value(w) - value) <= 1e-12 * scale  # value() and grad() round alike
    # central differences of the compiled value: error O(h² K''') + O(eps·K/h)
    for i in range(3):
        h = 1e-5
        e = np.zeros(3)
        e[i] = h
        fd = (K.compiled.value(w + e) - K.compiled.value(w - e)) / (2 * h)
        assert abs(fd - out[i]) <= 1e-5 * (float(_exact(magnitude, tuple(v + 0.1 for v in abs_point))) + 1)


# each example compiles two Numba functions (~0.5 s each): few here, many in the slow twin below
@settings(max_examples=6)
@given(_polynomials, _points)
@example(terms=[(7, (1, 1, 0))], point=(0.01, 1.5, 0.0))  # grad's K and value's K round differently
def test_compiled_gradient_matches_sympy_and_finite_differences(terms, point):
    _check_compiled_gradient(terms, point)


@pytest.mark.slow
@settings(max_examples=80)
@given(_polynomials, _points)
def test_compiled_gradient_matches_sympy_many_polynomials(terms, point):
    _check_compiled_gradient(terms, point)


def test_compiled_matches_numpy_lambdify_for_transcendental_potential():
    K = Potential("exp(-x)*tanh(y)**2 + log(1 + x**2)*sin(y) + cos(x*y) + sqrt(1 + Abs(x))/(2 + y**2)")
    rng = np.random.default_rng(0)
    W = rng.uniform(-2, 2, size=(200, 2))
    f = sympy.lambdify(K.variables, K.expr, "numpy")
    grads = [sympy.lambdify(K.variables, g, "numpy") for g in K.gradient]
    np.testing.assert_allclose(K.compiled.values(W), f(W[:, 0], W[:, 1]), rtol=1e-13, atol=1e-14)
    G = np.stack([g(W[:, 0], W[:, 1]) * np.ones(len(W)) for g in grads], axis=1)
    np.testing.assert_allclose(K.compiled.grads(W), G, rtol=1e-12, atol=1e-13)
    out = np.empty(2)
    for w in W[:5]:
        w = np.ascontiguousarray(w)
        assert K.compiled.grad(w, out) == pytest.approx(K.compiled.value(w), rel=1e-14)


def test_compiled_handles_huge_integer_coefficients_without_overflow():
    K = Potential("2**80*x**2 + 3**50*y")
    w = np.array([1.5, 2.0])
    assert K.compiled.value(w) == pytest.approx(2.0**80 * 2.25 + 3.0**50 * 2.0, rel=1e-15)


def test_batch_helpers_check_shapes():
    K = Potential("x**2 + y**2")
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        K.compiled.values(np.zeros((4, 3)))


# --- disk cache ------------------------------------------------------------------------------------


def test_generated_module_is_cached_on_disk_and_not_rewritten(tmp_path, monkeypatch):
    monkeypatch.setenv("SLT_CACHE_DIR", str(tmp_path))
    K = Potential("x**2*y**2 + 17/13*x")  # a fresh expression for this test's cache folder
    path = K.compiled.path
    assert os.path.dirname(path) == str(tmp_path / "potentials")
    assert os.path.basename(path) == f"{K.compiled.key}.py"
    mtime = os.stat(path).st_mtime_ns
    again = Potential("x**2*y**2 + 17/13*x").compiled
    assert again.key == K.compiled.key and os.stat(path).st_mtime_ns == mtime
    # the key covers the variable order: swapping it gives other code
    assert Potential("x**2*y**2 + 17/13*x", ["y", "x"]).compiled.key != K.compiled.key
    assert expression_key(K.expr, K.variables) == K.compiled.key


def test_second_process_loads_numba_code_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SLT_CACHE_DIR", str(tmp_path))
    formula = "(x - 1)**2*(x**2 + y**2)**4 + 3/7*y**2"
    c = Potential(formula).compiled  # this process generates the module and compiles it
    c.value(np.zeros(2)), c.grad(np.zeros(2), np.empty(2))
    assert sum(c.value.stats.cache_misses.values()) == 1
    code = (
        "import numpy as np; from slt import Potential;"
        f"c = Potential({formula!r}).compiled;"
        "c.value(np.zeros(2)); c.grad(np.zeros(2), np.empty(2));"
        "print(sum(c.value.stats.cache_hits.values()) + sum(c.grad.stats.cache_hits.values()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "2"  # second process: import the module, Numba loads both functions from its cache


# --- symbolic API ----------------------------------------------------------------------------------


def test_variables_inferred_in_natural_order_or_explicit():
    assert Potential("w10*w2 + w1").names == ("w1", "w2", "w10")
    assert Potential("x + y", ["y", "x"]).names == ("y", "x")
    assert Potential("x**2", "x,y").dim == 2  # a flat direction is allowed
    with pytest.raises(ValueError, match="given twice"):
        Potential("x + y", ["x", "x"])
    with pytest.raises(ValueError, match="unknown name"):
        Potential("x + z", ["x", "y"])
    with pytest.raises(ValueError, match="at least one variable"):
        Potential("3")


def test_sympy_input_is_converted_to_real_symbols():
    a = sympy.Symbol("a")
    K = Potential(sympy.Abs(a) ** 3)
    (g,) = K.gradient
    assert K.variables[0].is_real and sympy.simplify(g - 3 * K.variables[0] * sympy.Abs(K.variables[0])) == 0


def test_gradient_and_hessian_of_a_quadratic_form():
    K = Potential("2*x**2 + 3*x*y + 5*y**2")
    x, y = K.variables
    assert K.gradient == (4 * x + 3 * y, 3 * x + 10 * y)
    assert K.hessian == sympy.Matrix([[4, 3], [3, 10]])
    np.testing.assert_array_equal(K.hessian_at({"x": 7}), [[4.0, 3.0], [3.0, 10.0]])
    mu = K.hessian_eigenvalues()
    np.testing.assert_allclose(mu, [7 - np.sqrt(18), 7 + np.sqrt(18)], rtol=1e-14)


@pytest.mark.parametrize(
    "K, rank", [("x**2*y**2", 0), ("(x - y)**2", 1), ("x**2 + y**2", 2), ("x**2 + y**4", 1), ("x**4", 0)]
)
def test_hessian_rank_at_origin(K, rank):
    assert Potential(K).hessian_rank() == rank


def test_points_are_exact_and_validated():
    K = Potential("(x - 1)**2*(x**2 + y**2)**4")
    assert K({"x": "1/2"}) == K([0.5, 0]) == K(("1/2", 0)) == pytest.approx(1 / 4 * (1 / 4) ** 4, rel=1e-15)
    assert K.exact_value({"x": 1, "y": "3/10"}) == 0
    with pytest.raises(ValueError, match="coordinate y"):
        K({"x": 1, "y": "abc"})
    with pytest.raises(ValueError, match="unknown variable"):
        K({"z": 1})
    with pytest.raises(ValueError, match="3 coordinates"):
        K([1, 2, 3])


_pairs = st.lists(st.integers(-3, 3), min_size=2, max_size=2)


@given(_pairs, _pairs)
def test_shift_recentres_the_potential(p, q):
    K = Potential("(x - 1)**2*(x**2 + y**2)**4 + x*y**3")
    S = K.shift(p)
    assert S.exact_value(q) == K.exact_value([a + b for a, b in zip(p, q, strict=True)])


def test_shift_moves_the_prior_box_and_drops_jacobian_factors_away_from_zero():
    K = Potential("x**2*y**4", prior=Prior(exponents={"x": 1, "y": 2}))
    S = K.shift({"x": 1})
    assert S.prior.exponents == (0, 2)  # |x|^1 is a smooth non-zero factor near x = 1
    assert S.prior.low == (-2.0, -1.0) and S.prior.high == (0.0, 1.0)
    assert S.meta["shifted_by"] == {"x": "1", "y": "0"}


def test_prior_defaults_and_validation():
    assert Potential("x*y").prior == Prior("box", (0, 0), low=(-1.0, -1.0), high=(1.0, 1.0))
    g = Potential("x*y", prior=Prior("gaussian", scale=2)).prior
    assert g.scale == (2.0, 2.0) and g.exponents == (0, 0)
    for bad, match in [
        (dict(kind="cube"), "prior kind"),
        (dict(exponents=(-1,)), ">= 0"),
        (dict(exponents=(0.5,)), "integers"),
        (dict(kind="gaussian", low=0), "scale"),
    ]:
        with pytest.raises(ValueError, match=match):
            Prior(**bad)
    with pytest.raises(ValueError, match="empty"):
        Potential("x", prior=Prior(low=1, high=0))
    with pytest.raises(ValueError, match="unknown variable"):
        Potential("x", prior=Prior(exponents={"y": 1}))
    with pytest.raises(ValueError, match="2 exponents"):
        Potential("x", prior=Prior(exponents=(1, 1)))


def test_prior_log_density():
    p = Potential("x*y", prior=Prior(exponents=(2, 0), low=-1, high=1)).prior
    W = np.array([[0.5, 0.0], [2.0, 0.0], [0.0, 0.3]])
    np.testing.assert_allclose(p.log_density(W), [2 * np.log(0.5), -np.inf, -np.inf])


def test_pickle_round_trip_drops_compiled_caches():
    K = Potential("x**2 + y**4", meta={"note": 1})
    K.gradient  # noqa: B018 - fill the cache
    L = pickle.loads(pickle.dumps(K))
    assert L.expr == K.expr and L.names == K.names and L.prior == K.prior and L.meta == {"note": 1}
    assert "gradient" not in L.__dict__


def test_to_dict_is_json_ready():
    import json

    d = Potential("x**2*y**4", prior=Prior(exponents={"x": 1})).to_dict()
    assert json.loads(json.dumps(d)) == d and d["prior"]["exponents"] == [1, 0]


# --- the command line ------------------------------------------------------------------------------


def test_cli_refuses_code_injection_and_creates_nothing(tmp_path):
    target = tmp_path / "pwned"
    formula = f"__import__('os').system('touch {target}')"
    run = subprocess.run(["slt", "show", formula], capture_output=True, text=True)
    assert run.returncode == 2 and not target.exists()
    assert run.stderr.strip() == "slt: error: attribute access '.system' is not allowed in a formula"
    assert "Traceback" not in run.stderr and run.stdout == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "x*y", "--at", "x=abc"], "coordinate x must be a number"),
        (["show", "x*y", "--at", "z=1"], "unknown variable"),
        (["show", "x*y", "--vars", "x,x"], "given twice"),
        (["show", "x*y +"], "syntax error"),
        (["show", "foo(x)"], "unknown function 'foo'"),
    ],
)
def test_cli_bad_input_is_one_line_with_status_2(argv, message, capsys):
    from slt.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_cli_show_reports_gradient_and_hessian_rank(capsys):
    import json

    from slt.cli import main

    assert main(["show", "(x-1)**2*(x**2+y**2)**4", "--at", "x=1,y=3/10", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["variables"] == ["x", "y"] and info["value"] == "0" and info["critical"] is True
    # on the line x = 1: K ≈ (x−1)²(1 + y²)⁴, so ∂²K/∂x² = 2(1 + 9/100)⁴ and the rank is 1
    assert sympy.Rational(info["hessian_at"][0][0]) == 2 * sympy.Rational(109, 100) ** 4
    assert info["hessian_rank"] == 1 and info["degenerate_directions"] == 1
    assert main(["show", "x**2*y**2"]) == 0
    text = capsys.readouterr().out
    assert "Hessian rank: 0 of 2" in text and "dK/dx = 2*x*y**2" in text
