"""Twin trajectories and finite-time growth rates."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slt.phases.path import distance, growth_rates, twin_run
from slt.potential import Potential


def test_gd_twins_on_a_quadratic_contract_at_the_exact_rate():
    # GD on K = a(x² + y²): w ← (1 − 2aε) w, so twins separate as (1 − 2aε)^k: Λ = log(1 − 2aε)/ε
    a, eps = 1.0, 1e-2
    K = Potential("x**2 + y**2")
    init = np.random.default_rng(0).uniform(-1, 1, size=(4, 2))
    twins = twin_run(K, init, method="gd", delta=1e-6, steps=200, step_size=eps, record_every=10)
    assert np.allclose(twins.rate[1:], np.log(1 - 2 * a * eps) / eps, rtol=1e-6)


def test_twins_share_their_noise():
    K = Potential("x**2 + y**2")
    init = np.zeros((3, 2))
    twins = twin_run(K, init, method="langevin", delta=1e-8, steps=100, step_size=1e-3, temperature=1.0)
    # same noise: the perturbation only contracts, it never grows to the noise scale
    assert np.nanmax(twins.distance) <= 1e-8 * (1 + 1e-6)


def test_hyperparameter_twins():
    K = Potential("x**2*y**2")
    init = np.full((2, 2), 0.5)
    twins = twin_run(
        K, init, method="gd", param="step_size", delta=1e-3, steps=100, step_size=1e-2, record_every=10
    )
    assert np.isnan(twins.distance[0]).all() and np.all(twins.distance[1:] > 0)


def test_function_space_distance_uses_the_probe():
    probe = np.linspace(-1, 1, 11)
    predict = lambda w, x: w[0] * x + w[1]
    a = np.array([[1.0, 0.0]])
    b = np.array([[1.0, 0.5]])
    assert distance(a, b, predict, probe) == pytest.approx([0.5])
    assert distance(a, b) == pytest.approx([0.5])


@given(st.floats(-3, 3), st.floats(0.1, 5))
def test_growth_rate_of_an_exponential_is_its_exponent(rate, horizon):
    t = np.linspace(0, horizon, 20)
    r = growth_rates(t, 1e-6 * np.exp(rate * t))
    assert np.isnan(r[0]) and np.allclose(r[1:], rate, atol=1e-9)


def test_unknown_hyperparameter_is_a_value_error():
    with pytest.raises(ValueError, match="cannot perturb"):
        twin_run(Potential("x**2"), [[0.1]], param="temperature")
