"""Plateau/jump detection, occupancy and the LLC along a trajectory."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import slt
from slt.phases.basins import basins_at
from slt.phases.dynamics import occupancy, slope_changes
from slt.phases.stages import detect_stages


def saxe(t, s, u0, tau=1.0):
    """Saxe et al. 2014: u(t) = s e^{2st/τ} / (e^{2st/τ} − 1 + s/u₀)."""
    e = np.exp(2 * s * t / tau)
    return s * e / (e - 1 + s / u0)


def saxe_midpoint(s, u0, tau=1.0):
    """u(t*) = s/2  ⇔  t* = (τ/2s) ln(s/u₀ − 1)."""
    return tau / (2 * s) * np.log(s / u0 - 1)


@pytest.mark.parametrize("s", [0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("u0", [1e-3, 1e-6])
def test_deep_linear_transition_time_is_recovered(s, u0):
    tau = 1.5
    t = np.linspace(0, 3 * saxe_midpoint(s, u0, tau), 1500)
    loss = (s - saxe(t, s, u0, tau)) ** 2 / 2
    stages = detect_stages(t, loss)
    (found,) = stages.transitions
    assert abs(found / saxe_midpoint(s, u0, tau) - 1) < 0.10


def test_two_modes_give_two_transitions():
    # two modes learned one after the other (Saxe et al. 2014: stronger modes first): plateau, drop,
    # plateau, drop
    t = np.linspace(0, 25, 3000)
    loss = (3 - saxe(t, 3, 1e-4)) ** 2 / 2 + (0.5 - saxe(t, 0.5, 1e-6)) ** 2 / 2
    found = detect_stages(t, loss).transitions
    expected = [saxe_midpoint(3, 1e-4), saxe_midpoint(0.5, 1e-6)]
    assert len(found) == 2
    assert np.allclose(found, expected, rtol=0.1)


@given(rate=st.floats(0.05, 20), amplitude=st.floats(1e-3, 1e3), points=st.integers(50, 2000))
def test_pure_exponential_decay_has_no_transition(rate, amplitude, points):
    t = np.linspace(0, 10 / rate, points)
    assert detect_stages(t, amplitude * np.exp(-rate * t)).transitions == ()


def test_gradient_descent_on_the_deep_linear_potential_jumps_at_t_star():
    s, u0, eps = 2.0, 1e-4, 1e-3
    K = slt.library.deep_linear(2).potential  # ½(s − ab)²; from a = b, u = ab follows Saxe's law
    r = slt.run(K, method="gd", chains=1, steps=5000, step_size=eps, init=[u0**0.5, u0**0.5], record_every=5)
    (found,) = detect_stages(r.steps_recorded * eps, r.loss[:, 0]).transitions
    assert abs(found / saxe_midpoint(s, u0) - 1) < 0.05


def test_bad_curves_are_value_errors():
    with pytest.raises(ValueError, match="increasing"):
        detect_stages([0, 2, 1, 3], [1, 1, 1, 1])
    with pytest.raises(ValueError, match="finite"):
        detect_stages([0, 1, 2, 3], [1, np.nan, 1, 1])


def test_slope_changes_of_a_broken_line():
    t = np.linspace(0, 10, 101)
    y = np.where(t < 4, 0.1 * t, 0.4 + 2.0 * (t - 4))
    (b,) = slope_changes(t, y)
    assert b == pytest.approx(4.0, abs=0.1)


def test_occupancy_rows_are_fractions_and_follow_nearest_basin():
    K = slt.library.get("two_basin").potential
    basins = basins_at(K, {"accurate": "x=1,y=0", "simple": "x=-1,y=0"})
    P = np.array([[[0.9, 0.0], [-0.8, 0.1], [-1.2, 0.0], [np.nan, np.nan]]])
    occ = occupancy(P, basins)
    assert occ.shape == (1, 2) and occ.sum() == pytest.approx(1)
    assert occ[0].tolist() == pytest.approx([1 / 3, 2 / 3])


@given(st.integers(0, 2**31))
def test_occupancy_sums_to_one(seed):
    K = slt.library.get("two_basin").potential
    basins = basins_at(K, {"accurate": "x=1,y=0", "simple": "x=-1,y=0"})
    P = np.random.default_rng(seed).uniform(-2, 2, size=(3, 7, 2))
    assert np.allclose(occupancy(P, basins).sum(axis=1), 1)


@pytest.mark.slow
def test_llc_along_a_trajectory_in_a_regular_basin_is_d_over_2():
    from slt.phases.dynamics import llc_along

    K = slt.library.get("regular_2d").potential  # x² + y²: λ = d/2 = 1 at the minimum
    path = np.zeros((5, 2))
    traj = llc_along(K, path, n=1e4, chains=16, steps=2000, pilot_steps=500, seed=0)
    assert np.allclose(traj.llc, 1.0, rtol=0.15)
    assert traj.boundaries == ()


@given(st.integers(0, 2**31))
def test_noisy_curves_keep_their_single_transition_or_none(seed):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 6, 1200)
    noise = np.exp(0.01 * rng.normal(size=t.size))  # 1% multiplicative noise on every record
    s, u0 = 2.0, 1e-4
    jumps = detect_stages(t, (s - saxe(t, s, u0)) ** 2 / 2 * noise + 1e-4, smooth=9).transitions
    assert len(jumps) == 1 and abs(jumps[0] / saxe_midpoint(s, u0) - 1) < 0.1
    assert detect_stages(t, np.exp(-t) * noise, smooth=9).transitions == ()
