"""Toy models with data: compiled per-sample losses and gradients, and the closed-form population loss."""

import numpy as np
import pytest
import sympy

from slt import library
from slt.models import ToyModel, deep_linear_regression, gaussian_expectation, tanh_regression


def _numpy_tanh_loss_grad(w, X, Y):
    """ℓ = ½ (a tanh(bx) − y)², ∂ℓ/∂a = r tanh(bx), ∂ℓ/∂b = r a x (1 − tanh²(bx)), per sample."""
    a, b = w
    x, y = X[:, 0], Y[:, 0]
    t = np.tanh(b * x)
    r = a * t - y
    return 0.5 * r**2, np.stack([r * t, r * a * x * (1 - t**2)], axis=1)


def test_per_sample_and_full_batch_gradients_match_numpy():
    m = tanh_regression(n=500, true_w=(0.7, -1.2), noise=0.3, seed=3)
    w = np.array([0.4, 0.9])
    loss, grad = _numpy_tanh_loss_grad(w, m.X, m.Y)
    out = np.empty(2)
    for i in range(0, 500, 97):
        li = m.compiled.sample_loss_grad(w, m.X[i], m.Y[i], out)
        assert li == pytest.approx(loss[i], rel=1e-13)
        np.testing.assert_allclose(out, grad[i], rtol=1e-12, atol=1e-15)
    assert m.compiled.grad(w, out) == pytest.approx(loss.mean(), rel=1e-12)
    np.testing.assert_allclose(out, grad.mean(axis=0), rtol=1e-11)
    assert m.compiled.value(w) == pytest.approx(loss.mean(), rel=1e-12)
    assert m.empirical_loss(w) == pytest.approx(loss.mean(), rel=1e-12)
    idx = np.array([3, 7, 11])
    mb = m.compiled.batch_loss_grad(w, m.X[idx], m.Y[idx], out)
    assert mb == pytest.approx(loss[idx].mean(), rel=1e-12)
    np.testing.assert_allclose(out, grad[idx].mean(axis=0), rtol=1e-11)


def test_data_are_reproducible_and_shaped_for_the_kernels():
    m1, m2 = tanh_regression(n=50, seed=4), tanh_regression(n=50, seed=4)
    np.testing.assert_array_equal(m1.X, m2.X)
    np.testing.assert_array_equal(m1.Y, m2.Y)
    assert not np.array_equal(m1.Y, tanh_regression(n=50, seed=5).Y)
    assert m1.X.shape == (50, 1) and m1.Y.shape == (50, 1) and m1.n == 50 and m1.dim == 2
    assert m1.X.flags.c_contiguous and m1.Y.flags.c_contiguous and m1.X.dtype == np.float64


def test_generated_targets_are_the_truth_plus_noise():
    m = ToyModel("a*x + b", n=20000, true_w={"a": 2, "b": -1}, noise=0.5, seed=0)
    residual = m.Y[:, 0] - (2 * m.X[:, 0] - 1)
    # mean ~ N(0, 0.25/n), sample variance ~ 0.25 ± 0.25·sqrt(2/n)
    assert abs(residual.mean()) < 5 * 0.5 / np.sqrt(m.n)
    assert abs(residual.var() - 0.25) < 5 * 0.25 * np.sqrt(2 / m.n)


def test_deep_linear_population_loss_is_the_library_potential():
    m = deep_linear_regression(1, n=10)
    assert sympy.expand(m.population_potential.expr - library.get("deep_linear_mode").potential.expr) == 0


def test_population_loss_uses_gaussian_moments():
    m = ToyModel("a*x + b*c*x**2", true_w=[1, 0, 1], n=10)
    a, b, c = m.population_potential.variables
    # E[((a−1)x + bc x²)²] = (a−1)² E[x²] + b²c² E[x⁴] = (a−1)² + 3 b²c²
    assert sympy.expand(m.population_potential.expr - ((a - 1) ** 2 + 3 * b**2 * c**2) / 2) == 0
    x1, x2 = sympy.symbols("x1 x2")
    assert gaussian_expectation(x1**6 * x2**2 + x1**3, [x1, x2]) == 15


def test_empirical_loss_converges_to_the_population_loss():
    m = deep_linear_regression(2, n=20000, noise=0.5, seed=1)
    w, w0 = np.array([0.5, 1.5]), m.true_w
    X, Y = m.X[:, 0], m.Y[:, 0]
    diff = 0.5 * (w[0] * w[1] * X - Y) ** 2 - 0.5 * (w0[0] * w0[1] * X - Y) ** 2
    K = m.population_potential(w)
    assert K == pytest.approx(0.5 * (2 - 0.75) ** 2, rel=1e-14)
    # L_n(w) − L_n(w₀) is a mean of n i.i.d. terms with expectation K(w): within 5 standard errors
    gap = m.empirical_loss(w) - m.empirical_loss(w0)
    assert abs(gap - K) < 5 * diff.std() / np.sqrt(m.n)


def test_no_population_loss_without_a_closed_form():
    assert tanh_regression(n=10).population_potential is None
    X = np.zeros((5, 1))
    assert ToyModel("a*x", X=X, Y=X).population_potential is None
    explicit = ToyModel("a*x", X=X, Y=X, population="a**2/2").population_potential
    assert str(explicit.expr) == "a**2/2"


def test_supplied_data_and_bad_input():
    X = np.arange(6.0).reshape(3, 2)
    m = ToyModel("a*x + b*z", inputs=["x", "z"], X=X, Y=[1.0, 2.0, 3.0])
    assert m.names == ("a", "b") and m.Y.shape == (3, 1)
    with pytest.raises(ValueError, match="2 columns"):
        ToyModel("a*x", X=X, Y=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="both X and Y"):
        ToyModel("a*x", X=X)
    with pytest.raises(ValueError, match="n and true_w"):
        ToyModel("a*x")
    with pytest.raises(ValueError, match="both a weight and an input"):
        ToyModel("a*x", variables=["a", "x"], inputs=["x"])
    with pytest.raises(ValueError, match="unknown name"):
        ToyModel("a*x + q", variables=["a"], inputs=["x"], n=3, true_w=[1])
    with pytest.raises(ValueError, match="NaN"):
        ToyModel("a*x", X=[[np.nan]], Y=[1.0])
    with pytest.raises(ValueError, match="2 entries"):
        ToyModel("a*x", n=3, true_w=[1, 2])


def test_pickled_model_recompiles_in_the_receiver():
    import pickle

    m = deep_linear_regression(1, n=20, seed=2)
    w = np.array([0.3, -0.2])
    before = m.empirical_loss(w)
    clone = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(clone.X, m.X)
    assert clone.empirical_loss(w) == before
