"""Volume scaling by subset simulation against exact λ."""

import math

import pytest

import slt


def test_volume_quartic_one_dimension():
    """x⁴ on [−1, 1]: V(ε) = ε^{1/4} exactly, so λ = 1/4, m = 1."""
    result = slt.volume_scaling("x**4", samples=2000, replicas=6, sweeps=4)
    assert result.m == 1
    assert abs(result.lam - 0.25) <= 4 * result.lam_stderr + 0.01 * 0.25


def test_volume_degenerate_line():
    """(x − y)² on [−1, 1]²: V(ε) = √ε − ε/4, λ = 1/2 (Newton would say 1)."""
    result = slt.volume_scaling("(x - y)**2", samples=2000, replicas=6, sweeps=4)
    assert abs(result.lam - 0.5) <= 4 * result.lam_stderr + 0.02 * 0.5


@pytest.mark.slow
@pytest.mark.parametrize("expr, lam, m", [("x**2*y**4", 0.25, 1), ("(x**2 - y**3)**2", 5 / 12, 1),
                                         ("x**2 + y**4", 0.75, 1), ("(x**2 + y**2)**2", 0.5, 1),
                                         ("x**2*y**2", 0.5, 2), ("x**2 + y**2", 1.0, 1)])
def test_volume_two_dimensional_cases(expr, lam, m):
    result = slt.volume_scaling(expr, m=m)
    assert abs(result.lam - lam) <= 0.05 * lam


def test_volume_same_seed_same_result_and_bad_input():
    a = slt.volume_scaling("x**4", samples=500, replicas=2, levels=6, v_max=0.1, seed=4)
    b = slt.volume_scaling("x**4", samples=500, replicas=2, levels=6, v_max=0.1, seed=4)
    assert a.lam == b.lam and math.isfinite(a.lam)
    with pytest.raises(ValueError, match="replicas"):
        slt.volume_scaling("x**4", replicas=1)
