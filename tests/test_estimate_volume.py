"""Volume scaling by subset simulation against exact λ."""

import json
import math

import pytest

import slt


def test_volume_quartic_one_dimension():
    """x⁴ on [−1, 1]: V(ε) = ε^{1/4} exactly, so λ = 1/4, m = 1."""
    result = slt.volume_scaling("x**4", samples=2000, replicas=6, sweeps=4)
    assert result.m == 1 and result.m_decided
    assert abs(result.lam - 0.25) <= 4 * result.lam_stderr + 0.01 * 0.25
    assert abs(result.lam - 0.25) <= 4 * result.lam_stderr + 2 * result.lam_systematic
    # an exact power law: the fit-window error is only the sampler's (few sweeps per level), under 2% of λ
    assert result.lam_systematic < 0.02 * 0.25


def test_volume_degenerate_line():
    """(x − y)² on [−1, 1]²: V(ε) = √ε − ε/4, λ = 1/2 (Newton would say 1)."""
    result = slt.volume_scaling("(x - y)**2", samples=2000, replicas=6, sweeps=4)
    assert abs(result.lam - 0.5) <= 4 * result.lam_stderr + 2 * result.lam_systematic
    assert result.m == 1 and result.lam_systematic < 0.02 * 0.5
    if result.m_decided:                # m = 2 was weighed and rejected: its law drifts across the levels
        wrong = next(c for c in result.m_candidates if c["m"] == 2)
        assert wrong["lam_systematic"] > 2 * result.lam_systematic


# every two-dimensional reference case (shared/cases/rlct.json, held by slt.library) plus x²y²(x + y)²
VOLUME_CASES = ["regular_2d", "normal_crossing_11", "normal_crossing_12", "nc_with_jacobian",
                "quasi_homogeneous", "squared_norm_squared", "line_squared", "squared_cusp",
                "line_dot_origin", "line_dot_line", "x2y2(x+y)2"]


def _case(name):
    if name == "x2y2(x+y)2":
        return "x**2*y**2*(x+y)**2", None, 1 / 3, 1, None      # one blow-up: u⁶v²(1 + v)², Jacobian |u|
    entry = slt.library.get(name)
    radius = 0.5 if name == "line_dot_line" else None           # the origin (λ = 1/4) is more singular
    return entry.potential, {k: float(v) for k, v in entry.at.items()}, float(entry.lam), entry.m, radius


@pytest.mark.slow
@pytest.mark.parametrize("name", VOLUME_CASES)
def test_volume_two_dimensional_cases(name):
    """With m given: λ within 5%, and within 4σ_stat + 2σ_fit of the exact value."""
    potential, at, lam, m, radius = _case(name)
    result = slt.volume_scaling(potential, at=at, m=m, radius=radius)
    assert abs(result.lam - lam) <= 0.05 * lam
    assert abs(result.lam - lam) <= 4 * result.lam_stderr + 2 * result.lam_systematic


@pytest.mark.slow
@pytest.mark.parametrize("name", VOLUME_CASES)
def test_volume_two_dimensional_cases_choosing_m(name):
    """With m left to the data: λ within 5%, and m right or flagged as undecided."""
    potential, at, lam, m, radius = _case(name)
    result = slt.volume_scaling(potential, at=at, radius=radius)
    assert abs(result.lam - lam) <= 0.05 * lam
    assert result.m == m or not result.m_decided


def test_volume_cli_reports_both_errors(capsys):
    from slt.cli import main

    assert main(["volume", "x**4", "--samples", "1000"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert "(stat)" in line and "(fit window)" in line
    assert main(["volume", "x**4", "--samples", "1000", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["m"] == 1 and data["m_decided"] is True and isinstance(data["warnings"], list)
    assert abs(data["lam"] - 0.25) <= 4 * data["lam_stderr"] + 2 * data["lam_systematic"] + 0.01 * 0.25


def test_volume_same_seed_same_result_and_bad_input():
    a = slt.volume_scaling("x**4", samples=500, replicas=2, levels=6, v_max=0.1, seed=4)
    b = slt.volume_scaling("x**4", samples=500, replicas=2, levels=6, v_max=0.1, seed=4)
    assert a.lam == b.lam and math.isfinite(a.lam)
    with pytest.raises(ValueError, match="replicas"):
        slt.volume_scaling("x**4", replicas=1)


def test_a_point_without_radius_warns_that_the_integrals_are_global():
    """line + dot seen from (1, 3/10): globally the origin (λ = 1/4) dominates, locally λ = 1/2."""
    entry = slt.library.get("line_dot_line")
    at = {k: float(v) for k, v in entry.at.items()}
    result = slt.free_energy(entry.potential, at=at, method="quadrature", n=[1e3, 1e4, 1e5, 1e6])
    assert any("radius" in w for w in result.warnings)
    local = slt.free_energy(entry.potential, at=at, method="quadrature", radius=0.5, n=[1e3, 1e4, 1e5, 1e6])
    assert not any("radius" in w for w in local.warnings)
