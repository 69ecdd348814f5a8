"""Bayesian phase transitions: local constants, predicted n_c, measured masses (quadrature and SMC)."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slt import library
from slt.phases.basins import Basin, basins_at, find_basins
from slt.phases.bayes import Phase, crossover, phases, predict_transitions
from slt.phases.diagram import phase_diagram
from slt.phases.local_form import LocalForm, local_form
from slt.phases.masses import masses_quadrature, masses_smc
from slt.potential import Potential, Prior

DELTA = 1 / 1000


@pytest.fixture(scope="module")
def two_basin():
    K = library.get("two_basin").potential
    return K, basins_at(K, {"accurate": "x=1,y=0", "simple": "x=-1,y=0"})


def test_two_basin_basins_have_the_library_values(two_basin):
    _, (acc, simple) = two_basin
    assert (acc.loss, acc.lam, acc.m, acc.exact) == (0.0, Fraction(1), 1, True)
    assert simple.loss == pytest.approx(DELTA) and (simple.lam, simple.m) == (Fraction(1, 2), 1)


def test_gaussian_constant_is_minus_log_phi_2pi_det_h(two_basin):
    K, _ = two_basin
    form = local_form(K, {"x": 1, "y": 0})
    # Hessian at (1, 0): diag(32 + 5δ, 32) (the δ-term is (10/4)δ (x−1)² there); φ = 1/16 on [−2, 2]²
    expected = -math.log((1 / 16) * 2 * math.pi / math.sqrt((32 + 5 * DELTA) * 32))
    assert form.kind == "gaussian" and form.lam == 1
    assert form.log_constant == pytest.approx(expected, rel=1e-10)


def test_quasi_homogeneous_constant_uses_gamma_functions(two_basin):
    K, _ = two_basin
    form = local_form(K, {"x": -1, "y": 0})
    # K − δ = (4 − 5δ/16) u⁴ + 4 y⁴ + higher weight;  ∫ e^{−n a u⁴} du = 2Γ(5/4) (na)^{−1/4}
    a1, a2 = 4 - 5 * DELTA / 16, 4.0
    z = (1 / 16) * (2 * math.gamma(1.25)) ** 2 * a1**-0.25 * a2**-0.25
    assert form.kind == "quasi_homogeneous" and form.lam == Fraction(1, 2)
    assert form.log_constant == pytest.approx(-math.log(z), rel=1e-10)


@pytest.mark.parametrize(
    "expr, h, lam", [("x**2 + 3*y**4", 0, Fraction(3, 4)), ("2*x**4 + y**2", 1, Fraction(1))]
)
def test_constant_matches_quadrature_at_large_n(expr, h, lam):
    from slt.estimate.quadrature import log_partition_function

    K = Potential(expr, ["x", "y"], prior=Prior(exponents=(h, 0)))
    form = local_form(K, {"x": 0, "y": 0})
    assert form.lam == lam
    n = 1e10
    F = -float(log_partition_function(K, n, rtol=1e-10))
    assert F - float(lam) * math.log(n) == pytest.approx(form.log_constant, abs=2e-3)


def test_boundary_basin_keeps_half_the_gaussian():
    K = Potential("(x - 1)**2 + y**2", ["x", "y"])  # minimum on the edge x = 1 of [−1, 1]²
    form = local_form(K, {"x": 1, "y": 0})
    assert form.log_constant == pytest.approx(-math.log(0.25 * 2 * math.pi / 2 * 0.5), rel=1e-12)


def test_no_constant_for_a_non_separable_singular_form():
    K = library.get("line_dot").potential
    assert local_form(K, {"x": 0, "y": 0}) is None


def test_predicted_n_c_solves_the_free_energy_balance(two_basin):
    K, basins = two_basin
    ph = phases(K, basins)
    (t,) = predict_transitions(ph, (10, 1e6))
    assert (t.source, t.target) == ("simple", "accurate")
    c_acc, c_simple = ph[0].log_constant, ph[1].log_constant
    n = t.predicted_n_c
    assert n * DELTA + 0.5 * math.log(n) + c_simple == pytest.approx(math.log(n) + c_acc, abs=1e-8)
    n0 = t.predicted_n_c_leading
    assert n0 / math.log(n0) == pytest.approx(500, rel=1e-8)  # Δλ/ΔL = (1/2)/δ


def test_two_basin_measured_n_c_within_15_percent_of_predicted(two_basin):
    K, basins = two_basin
    d = phase_diagram(K, {b.name: b.point_dict() for b in basins}, n_range=(1e3, 3e4), points=8)
    (t,) = d.transitions
    assert t.measured_by == "quadrature"
    assert abs(t.measured_n_c / t.predicted_n_c - 1) < 0.15
    # in fact the constants make the prediction much better than the leading order
    assert abs(t.measured_n_c / t.predicted_n_c - 1) < 0.01
    assert abs(t.measured_n_c / t.predicted_n_c_leading - 1) > 0.3
    assert np.allclose(d.masses.mass.sum(axis=1), 1)


def test_line_dot_mass_ratio_grows_like_n_to_the_quarter():
    K = library.get("line_dot").potential
    basins = basins_at(K, {"dot": "x=0,y=0", "line": "x=1,y=0"})
    # Lau et al. 2023: P(dot)/P(line) ∝ n^{λ_line − λ_dot} = n^{1/4}. Below n ≈ 1e4 the dot's posterior still
    # spreads over much of its region (width n^{-1/8}), so the asymptotic regime is fitted from 1e4 on.
    n = np.geomspace(1e4, 1e8, 5)
    m = masses_quadrature(K, basins, n)
    slope = np.polyfit(np.log(n), np.log(m.of("dot") / m.of("line")), 1)[0]
    assert abs(slope / 0.25 - 1) < 0.10


def test_smc_masses_agree_with_quadrature_at_small_n(two_basin):
    K, basins = two_basin
    n = [30.0, 300.0]
    q = masses_quadrature(K, basins, n)
    s = masses_smc(K, basins, n, particles=256, replicates=2, moves=100, seed=1)
    assert np.all(np.abs(s.mass - q.mass) < 0.02)
    assert np.allclose(s.log_evidence, q.log_evidence, atol=0.1)


@pytest.mark.slow
def test_smc_masses_agree_with_quadrature_across_the_transition(two_basin):
    K, basins = two_basin
    n = [2e3, 6.5e3, 2e4]
    q = masses_quadrature(K, basins, n)
    s = masses_smc(K, basins, n, particles=1024, replicates=4, seed=1)
    # the unadjusted Langevin moves mix slowly in the quartic basin: a bias of a few percent of the mass
    assert np.all(np.abs(s.mass - q.mass) < 0.1)
    assert np.allclose(s.log_evidence, q.log_evidence, atol=0.3)


@pytest.mark.slow
def test_smc_measures_the_transition_in_three_dimensions():
    # two_basin plus a regular direction z: both basins gain ½ log n and the same Gaussian constant in z,
    # so the predicted n_c is that of two_basin; quadrature cannot do d = 3, tempered SMC can
    base = library.get("two_basin").potential
    K = Potential(base.expr + Potential("z**2").expr, ["x", "y", "z"], prior=Prior(low=-2, high=2))
    d = phase_diagram(
        K,
        {"accurate": "x=1,y=0,z=0", "simple": "x=-1,y=0,z=0"},
        n_range=(2e3, 2e4),
        points=6,
        particles=1024,
        replicates=4,
    )
    (t,) = d.transitions
    assert d.masses.method == "smc"
    assert t.predicted_n_c == pytest.approx(6515.5, rel=1e-3)
    assert abs(t.measured_n_c / t.predicted_n_c - 1) < 0.15


def test_smc_is_reproducible(two_basin):
    K, basins = two_basin
    kw = dict(particles=128, replicates=2, moves=10, seed=3, prior_samples=2**12)
    a = masses_smc(K, basins, [100.0], **kw)
    b = masses_smc(K, basins, [100.0], **kw)
    assert np.array_equal(a.mass, b.mass)


def test_smc_rejects_a_jacobian_prior():
    K = Potential("x**2 + y**2", prior=Prior(exponents=(1, 0)))
    basins = basins_at(K, {"a": "x=0,y=0", "b": "x=1/2,y=0"}, lam={"a": 1, "b": 1})
    with pytest.raises(ValueError, match="uniform box prior"):
        masses_smc(K, basins, [10.0])


def test_find_basins_recovers_both_minima_of_two_basin():
    K = library.get("two_basin").potential
    found = find_basins(K, starts=12, seed=0)
    points = {b.point for b in found}
    assert ("1", "0") in points and ("-1", "0") in points


def _phase(name, L, lam, m=1, c=0.0):
    b = Basin(name, ("x",), ("0",), L, Fraction(lam), m, True, "given")
    return Phase(b, LocalForm("gaussian", Fraction(lam), c, ""))


@given(
    dL=st.floats(1e-5, 1e-1),
    dlam=st.sampled_from([Fraction(1, 4), Fraction(1, 2), Fraction(1)]),
    dc=st.floats(-3, 3),
)
def test_crossover_is_where_free_energies_are_equal(dL, dlam, dc):
    simple = _phase("simple", dL, Fraction(1, 2), c=dc)
    accurate = _phase("accurate", 0.0, Fraction(1, 2) + dlam)
    n_c = crossover(simple, accurate)
    if n_c is None:
        return
    assert simple.free_energy(n_c) == pytest.approx(accurate.free_energy(n_c), abs=1e-6 * max(1, n_c * dL))


@given(st.floats(2, 1e8))
def test_predicted_masses_sum_to_one(n):
    from slt.phases.diagram import PhaseDiagram

    d = PhaseDiagram((_phase("a", 1e-3, "1/2"), _phase("b", 0, 1, c=2.0)), (), None)
    p = d.predicted_masses([n])
    assert p.shape == (1, 2) and p.sum() == pytest.approx(1) and np.all(p >= 0)


def test_bad_basin_input_is_a_value_error(two_basin):
    K, _ = two_basin
    with pytest.raises(ValueError, match="unknown"):
        basins_at(K, {"a": {"z": 1}})
    with pytest.raises(ValueError, match="at least two basins"):
        phase_diagram(K, {"a": "x=1,y=0"}, measure=None)
