"""The dominoes pattern-learning theory: closed forms (Saxe et al. 2014) and the simulation on slt.run."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dominoes.bridge.closed_form import (
    one_sided_learning_time,
    reliability_moments,
    saxe_learning_time,
    saxe_trajectory,
)
from dominoes.bridge.theory import (
    PatternFlow,
    PatternPoint,
    SourceConstants,
    TheoryConstants,
    coefficients,
    pattern_potential,
    perceived_reliability,
    simulate,
    split_accuracy,
)


def constants(tau=1.0, u0=1e-3, sigma_c=1.0, spread=0.0):
    return TheoryConstants(
        tau,
        u0,
        {"mnist": SourceConstants(1.0, 1.0), "cifar": SourceConstants(sigma_c, 1.0)},
        init_spread=spread,
    )


def crossing_time(t, v, level):
    i = int(np.argmax(v >= level))
    return t[i - 1] + (level - v[i - 1]) / (v[i] - v[i - 1]) * (t[i] - t[i - 1])


@given(s=st.floats(0.2, 5.0), u0=st.floats(1e-6, 1e-2), tau=st.floats(0.1, 10.0))
def test_saxe_trajectory_solves_its_ode(s, u0, tau):
    # τ du/dt = 2u(s − u), u(0) = u₀ (Saxe et al. 2014, eq. 7)
    t = np.linspace(0.0, 3 * saxe_learning_time(s, u0, tau), 50)
    h = 1e-6 * tau
    du = (saxe_trajectory(t + h, s, u0, tau) - saxe_trajectory(t - h, s, u0, tau)) / (2 * h)
    u = saxe_trajectory(t, s, u0, tau)
    assert np.allclose(tau * du, 2 * u * (s - u), rtol=1e-5, atol=1e-9)
    assert saxe_trajectory(0.0, s, u0, tau) == pytest.approx(u0)


@given(s=st.floats(0.2, 5.0), u0=st.floats(1e-6, 1e-2), f=st.floats(0.05, 0.95))
def test_saxe_learning_time_inverts_the_trajectory(s, u0, f):
    t = saxe_learning_time(s, u0, 2.0, fraction=f)
    assert saxe_trajectory(t, s, u0, 2.0) == pytest.approx(f * s, rel=1e-9)


def test_reliability_moments_exact_values():
    assert reliability_moments(1.0, 10) == (1.0, 1.0)
    r, e = reliability_moments(0.1, 10)  # ρ = 1/K: the half is independent of the label
    assert r == pytest.approx(0.0, abs=1e-15)
    r, e = reliability_moments(0.7, 10)
    assert r == pytest.approx(0.7 - 0.3 / 9) and e == pytest.approx(0.7 + 0.3 / 81)
    with pytest.raises(ValueError, match="reliability"):
        reliability_moments(1.2, 10)


@given(q=st.floats(0.1, 1.0), sigma=st.floats(0.2, 3.0), rho=st.floats(0.5, 1.0))
def test_one_sided_learning_time_is_inverse_in_prevalence_signal_and_target(q, sigma, rho):
    t = one_sided_learning_time(q, sigma, rho, 10, u0=1e-4)
    r, e = reliability_moments(rho, 10)
    s = r / (sigma * e)
    assert t == pytest.approx(np.log(s / 1e-4 - 1) / (2 * q * sigma * r))
    assert one_sided_learning_time(q / 2, sigma, rho, 10, u0=1e-4) > t


def test_flow_gradient_matches_finite_differences():
    flow = PatternFlow()
    point = PatternPoint("p", 0.1, 0.3, 0.2, 0.4, rho_mnist=0.8)
    rng = np.random.default_rng(1)
    w = np.concatenate([rng.normal(size=4), coefficients(point, 1.0, 0.5)])
    g = np.empty(9)
    value = flow.grad(w, g)
    assert value == pytest.approx(flow.value(w))
    for i in range(4):
        e = np.zeros(9)
        e[i] = 1e-6
        assert g[i] == pytest.approx((flow.value(w + e) - flow.value(w - e)) / 2e-6, rel=1e-6, abs=1e-8)
    assert np.all(g[4:] == 0.0)


def test_flow_equals_the_expected_squared_loss():
    # K = ½ E(1 − f)² over the domino kinds, with ρ = 1: f = v_m, v_c or v_m + v_c, 0 for empty ones
    point = PatternPoint("p", 0.1, 0.3, 0.2, 0.4)
    a_m, b_m, a_c, b_c = 0.7, 0.4, 0.3, 0.9
    v_m, v_c = 1.5 * a_m * b_m, 0.5 * a_c * b_c
    expected = 0.5 * (0.1 + 0.3 * (1 - v_m) ** 2 + 0.2 * (1 - v_c) ** 2 + 0.4 * (1 - v_m - v_c) ** 2)
    w = np.concatenate([[a_m, b_m, a_c, b_c], coefficients(point, 1.5, 0.5)])
    assert PatternFlow().value(w) == pytest.approx(expected)


@pytest.mark.parametrize("q, rho", [(0.6, 1.0), (0.3, 0.7)])
def test_simulated_one_sided_learning_time_matches_closed_form(q, rho):
    # only one-sided MNIST dominoes: Saxe's law with s = r/(σe), time constant τ/(qσ²e)
    point = PatternPoint("one", 1.0 - q, q, 0.0, 0.0, rho_mnist=rho)
    tau, u0 = 40.0, 1e-3
    t_closed = one_sided_learning_time(q, 1.0, rho, 10, u0=u0, tau=tau)
    steps = np.linspace(0.0, 3 * t_closed, 3000)
    (pred,) = simulate([point], constants(tau, u0), steps, chains=1)
    r, e = reliability_moments(rho, 10)
    t_sim = crossing_time(steps, pred.margin_mnist, 0.5 * r / e)
    assert t_sim == pytest.approx(t_closed, rel=0.05)
    assert pred.margin_mnist[-1] == pytest.approx(r / e, rel=1e-3)
    assert np.allclose(pred.margin_cifar, u0)  # never shown: no gradient, the mode stays at u₀


def test_two_sided_dominoes_starve_the_slower_pattern():
    # only two-sided dominoes: every point of the line v_m + v_c = 1 is a minimum; the faster mode
    # gets there first and takes the larger share
    point = PatternPoint("both", 0.0, 0.0, 0.0, 1.0)
    steps = np.linspace(0.0, 4000.0, 400)
    shares = []
    for sigma_c in (0.8, 0.5, 0.3):
        (pred,) = simulate([point], constants(10.0, 1e-3, sigma_c), steps, chains=1)
        assert pred.margin_mnist[-1] + pred.margin_cifar[-1] == pytest.approx(1.0, abs=1e-3)
        shares.append(pred.margin_cifar[-1])
    assert shares[0] > shares[1] > shares[2] and shares[0] < 0.5


def test_same_seed_same_prediction_and_points_independent():
    a = PatternPoint("a", 0.25, 0.25, 0.25, 0.25)
    b = PatternPoint("b", 0.0, 0.5, 0.1, 0.4)
    steps = np.array([0.0, 50.0, 100.0, 400.0])
    c = constants(20.0, 1e-3, 0.5, spread=0.2)
    one = simulate([a, b], c, steps, chains=4, seed=3)
    two = simulate([a, b], c, steps, chains=4, seed=3)
    alone = simulate([b], c, steps, chains=4, seed=3)
    assert np.array_equal(one[1].margin_mnist, two[1].margin_mnist)
    assert np.allclose(one[1].margin_mnist, alone[0].margin_mnist)


def test_split_accuracy_limits():
    acc = split_accuracy(np.array([0.0, 1.0]), np.array([0.0, 0.0]), 0.9, 0.4, 10)
    assert np.allclose(acc["mnist_only"], [0.1, 0.9])
    assert np.allclose(acc["cifar_only"], [0.1, 0.1])
    assert np.allclose(acc["cifar_randomized"], [0.1, 0.9])  # only the MNIST half carries signal
    assert np.allclose(acc["mnist_randomized"], [0.1, 0.1])


def test_point_rejects_fractions_not_summing_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        PatternPoint("bad", 0.5, 0.5, 0.5, 0.0)


def test_pattern_potential_is_the_flow_of_one_point():
    point = PatternPoint("p", 0.1, 0.3, 0.2, 0.4, rho_cifar=0.7)
    potential = pattern_potential(point, 1.2, 0.4)
    w = np.array([0.3, -0.8, 0.5, 0.6])
    flow_w = np.concatenate([w, coefficients(point, 1.2, 0.4)])
    assert potential(w) == pytest.approx(PatternFlow().value(flow_w), rel=1e-12)
    # the origin is a saddle: ∂²K/∂a_j∂b_j = −g_j, so the Hessian's eigenvalues are ±g_m, ±g_c
    g_m, g_c = coefficients(point, 1.2, 0.4)[:2]
    eigenvalues = np.sort(np.linalg.eigvalsh(potential.hessian_at([0, 0, 0, 0])))
    assert np.allclose(eigenvalues, np.sort([-g_m, -g_c, g_c, g_m]))


def test_langevin_at_vanishing_temperature_follows_gradient_descent():
    point = PatternPoint("a", 0.25, 0.25, 0.25, 0.25)
    steps = np.array([0.0, 100.0, 200.0, 400.0])
    c = constants(20.0, 1e-3, 0.5, spread=0.1)
    (gd,) = simulate([point], c, steps, chains=3)
    (cold,) = simulate([point], c, steps, chains=3, method="langevin", temperature=1e-16)
    assert np.allclose(cold.margin_mnist, gd.margin_mnist, rtol=1e-5)
    assert np.allclose(cold.margin_cifar, gd.margin_cifar, rtol=1e-5)
    with pytest.raises(ValueError, match="temperature"):
        simulate([point], c, steps, method="langevin")


@given(rho=st.floats(0.0, 1.0), ceiling=st.floats(0.0, 1.0))
def test_perceived_reliability_limits(rho, ceiling):
    # a perfect reader sees the shown class (π = ρ); a reliable half is read right with probability A;
    # a reader at chance (A = 1/K) carries no label information whatever ρ is
    assert perceived_reliability(rho, 1.0, 10) == pytest.approx(rho)
    assert perceived_reliability(1.0, ceiling, 10) == pytest.approx(ceiling)
    assert perceived_reliability(rho, 0.1, 10) == pytest.approx(0.1)
    assert 0.0 <= perceived_reliability(rho, ceiling, 10) <= 1.0
