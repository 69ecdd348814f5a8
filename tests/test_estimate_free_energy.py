"""Free energy: thermodynamic integration against quadrature, and λ from the slope."""

import numpy as np
import pytest

import slt


def test_thermodynamic_integration_matches_quadrature_quartic():
    """F_n for K = x⁴: TI within 4σ + 0.05 of the exact quadrature; slope λ = 1/4."""
    ns = np.logspace(2, 6, 5)
    ti = slt.free_energy("x**4", n=ns, chains=1000)
    exact = slt.free_energy("x**4", n=ns, method="quadrature")
    assert np.all(np.abs(ti.free_energy - exact.free_energy) <= 4 * ti.free_energy_stderr + 0.05)
    assert exact.lam == pytest.approx(0.25, rel=0.01)
    assert abs(ti.lam - 0.25) <= 4 * ti.lam_stderr + 0.02 * 0.25


def test_wbic_is_close_to_lambda_log_n_for_a_regular_model():
    """WBIC = E_{β=1/log n}[nK] = λ log n + O_p(√log n) (Watanabe 2013).

    For x² it is (log n)/2 up to e^{−n}.
    """
    ns = np.array([1e3, 1e4, 1e5])
    result = slt.free_energy("x**2", n=ns, chains=1000)
    assert np.all(np.abs(result.wbic / np.log(ns) - 0.5) < 0.05)


def test_bad_input():
    with pytest.raises(ValueError, match="method"):
        slt.free_energy("x**2", method="magic")
    with pytest.raises(ValueError, match="at least 3"):
        slt.free_energy("x**2", n=[10, 100])
