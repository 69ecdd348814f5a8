"""Quadrature of Z(n) = ∫ e^{−nK} φ against closed forms (Gaussian and Gamma integrals)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import erf, gamma, gammainc

import slt
from slt.estimate.adaptive import GAUSS_WEIGHTS, KRONROD_WEIGHTS, NODES, integrate_many
from slt.estimate.quadrature import free_energy, log_partition_function


def test_gauss_kronrod_constants_match_legendre_and_exactness():
    x, w = np.polynomial.legendre.leggauss(7)
    np.testing.assert_allclose(NODES[1::2], np.sort(x), atol=1e-15)
    np.testing.assert_allclose(GAUSS_WEIGHTS[1::2], w[np.argsort(x)], atol=1e-15)
    for degree in range(0, 23):
        exact = 2.0 / (degree + 1) if degree % 2 == 0 else 0.0
        assert NODES**degree @ KRONROD_WEIGHTS == pytest.approx(exact, abs=1e-14)


@given(st.floats(-3, 3), st.floats(0.01, 4), st.lists(st.floats(-5, 5), min_size=1, max_size=6))
def test_integrate_many_is_exact_on_polynomials(a, width, coefs):
    b = a + width
    poly = np.polynomial.Polynomial(coefs)
    value, _ = integrate_many(lambda k, t: poly(t), np.array([a]), np.array([b]))
    exact = poly.integ()(b) - poly.integ()(a)
    assert value[0] == pytest.approx(exact, rel=1e-12, abs=1e-12)


@given(st.just(0.0) | st.floats(1e-6, 1e9))
def test_gaussian_integral_with_box_prior(n):
    """K = x², φ uniform on [−1, 1]: Z(n) = √(π/n) erf(√n) / 2."""
    exact = 1.0 if n == 0 else np.sqrt(np.pi / n) * erf(np.sqrt(n)) / 2
    assert float(np.exp(log_partition_function("x**2", n))) == pytest.approx(exact, rel=1e-9)


@given(st.floats(1e-3, 1e12))
def test_quartic_integral_is_a_gamma_function(n):
    """K = x⁴ on [−1, 1]: Z(n) = ∫₀¹ e^{−n x⁴} dx = Γ(1/4) P(1/4, n) / (4 n^{1/4})."""
    exact = gamma(0.25) * gammainc(0.25, n) / (4 * n**0.25)
    assert float(np.exp(log_partition_function("x**4", n))) == pytest.approx(exact, rel=1e-9)


def test_jacobian_prior_factor():
    """K = x², φ = |x| on [−1, 1] (normalised): Z(n) = (1 − e^{−n}) / n."""
    potential = slt.Potential("x**2", prior=slt.Prior(exponents=(1,)))
    ns = np.array([1.0, 10.0, 1e4, 1e8])
    np.testing.assert_allclose(np.exp(log_partition_function(potential, ns)), -np.expm1(-ns) / ns, rtol=1e-9)


def test_two_dimensional_product_is_the_square_of_one_dimension():
    ns = np.array([3.0, 1e3, 1e7])
    one = log_partition_function("x**2", ns)
    np.testing.assert_allclose(log_partition_function("x**2 + y**2", ns), 2 * one, rtol=1e-8, atol=1e-10)


def test_free_energy_slope_is_the_rlct_in_two_dimensions():
    """x²y⁴ (λ = 1/4, m = 1): local slope of F_n between 10⁸ and 10¹⁰ within 1% of 1/4."""
    F = free_energy("x**2*y**4", np.array([1e8, 1e10]))
    assert (F[1] - F[0]) / np.log(100.0) == pytest.approx(0.25, rel=0.01)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        log_partition_function("x**2 + y**2 + z**2", 10.0)
    with pytest.raises(ValueError, match="n must be"):
        log_partition_function("x**2", -1.0)
