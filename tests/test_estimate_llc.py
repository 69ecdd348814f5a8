"""The LLC by SGLD against exact learning coefficients (shared/cases/rlct.json)."""

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import slt

CASES = {c["name"]: c for c in json.loads(Path("/work/shared/cases/rlct.json").read_text())["cases"]} \
    if Path("/work/shared/cases/rlct.json").exists() else {}
FAST = ["regular_2d", "monomial_1d"]
SLOW_M1 = ["regular_3d", "quasi_homogeneous", "squared_norm_squared", "line_squared", "squared_cusp",
           "line_dot_origin", "line_dot_line",
           # x²y⁴ at the default nβ = 8686, γ = 1: the exact localised-posterior value is 0.2353 (−5.9%: the
           # subleading pole at −1/2 decays only like (nβ)^{-1/4}); SGLD measures 0.230 ± 0.006, inside the
           # 4σ + 5% allowance but not inside 5% alone.
           "normal_crossing_12"]


def _check(result, lam, bias):
    """|λ̂ − λ| ≤ 4σ + bias·λ: a stated allowance for SGLD's finite-n and discretisation bias."""
    assert abs(result.llc - lam) <= 4 * result.stderr + bias * lam, (result, lam)


@pytest.mark.parametrize("name", FAST)
def test_llc_fast_reference_cases(name):
    case = CASES[name]
    result = slt.llc(case["K"], at=case.get("at"), chains=100, steps=10_000)
    _check(result, float(Fraction(case["lambda"])), bias=0.03)
    assert result.diagnostics.diverged == 0 and not result.diagnostics.warnings


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW_M1)
def test_llc_slow_reference_cases(name):
    case = CASES[name]
    result = slt.llc(case["K"], at=case.get("at"))
    _check(result, float(Fraction(case["lambda"])), bias=0.05)


def test_scaling_invariance():
    """c·K sampled with nβ/c is the same posterior: λ̂ agrees within noise (independent seeds)."""
    base = slt.llc("x**4", n_beta=2000.0, chains=100, steps=10_000, seed=1)
    scaled = slt.llc("100*x**4", n_beta=20.0, chains=100, steps=10_000, seed=2)
    assert abs(base.llc - scaled.llc) <= 4 * math.hypot(base.stderr, scaled.stderr)


def test_same_seed_same_result():
    a = slt.llc("x**4", chains=20, steps=2_000, seed=3)
    b = slt.llc("x**4", chains=20, steps=2_000, seed=3)
    assert a.llc == b.llc and a.step_size == b.step_size


@pytest.mark.slow
def test_multiplicity_bias_shrinks_with_n():
    """x²y² (λ = 1/2, m = 2): λ̂ ≈ λ − (m−1)/log(nβ) is low, and less so at larger n."""
    small = slt.llc("x**2*y**2", n=1e3)
    large = slt.llc("x**2*y**2", n=1e5)
    assert small.llc < large.llc < 0.5 + 4 * large.stderr


def test_point_that_is_not_a_minimum_is_flagged():
    result = slt.llc("x**4", at={"x": 0.5}, chains=20, steps=2_000)
    assert result.diagnostics.below_fraction > 0.5 and result.diagnostics.warnings


def test_bad_input():
    with pytest.raises(ValueError, match="gamma"):
        slt.llc("x**4", gamma=-1.0)
    with pytest.raises(ValueError, match="not variables"):
        slt.llc("x**4", at={"z": 1})
    with pytest.raises(ValueError, match="n must be"):
        slt.llc("x**4", n=1)


def test_cli_json():
    out = subprocess.run([sys.executable, "-m", "slt", "llc", "x**4", "--chains", "20", "--steps", "2000",
                          "--json"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert {"llc", "stderr", "chains"} <= set(data) and data["chains"] == 20
    bad = subprocess.run([sys.executable, "-m", "slt", "llc", "__import__('os')"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def _tempered_exact(expr, n_beta, gamma):
    """s E_s[K] = −d log Z / d log s at s = nβ under the prior N(0, 1/γ) — the quantity SGLD samples —
    by quadrature (a central difference in log s)."""
    from slt.estimate.quadrature import log_partition_function

    potential = slt.Potential(expr, prior=slt.Prior(kind="gaussian", scale=1.0 / math.sqrt(gamma)))
    h = 1e-3
    lo, hi = log_partition_function(potential, [n_beta * math.exp(-h), n_beta * math.exp(h)])
    return -(hi - lo) / (2 * h)


def test_sgld_samples_the_localised_posterior_exactly_quartic():
    """Sampler check, free of finite-n bias: λ̂ equals the exact s E_s[K] of the localised posterior."""
    result = slt.llc("x**4", chains=100, steps=10_000)
    exact = _tempered_exact("x**4", result.n_beta, result.gamma)
    assert abs(result.llc - exact) <= 4 * result.stderr + 0.01 * exact


@pytest.mark.slow
@pytest.mark.parametrize("expr", ["x**2*y**4", "(x - 1)**2*(x**2 + y**2)**4", "x**2 + y**4"])
def test_sgld_samples_the_localised_posterior_exactly_2d(expr):
    result = slt.llc(expr)
    exact = _tempered_exact(expr, result.n_beta, result.gamma)
    assert abs(result.llc - exact) <= 4 * result.stderr + 0.02 * exact


def test_sweep_and_plot(tmp_path):
    from slt.estimate.sweep import llc_sweep, plot_llc_sweep

    results = llc_sweep("x**4", "gamma", [1.0, 1000.0], chains=20, steps=2_000)
    assert results[1].llc < results[0].llc      # a large γ pulls λ̂ down (design.md §4)
    fig = plot_llc_sweep(results, "gamma", exact=0.25)
    fig.savefig(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 0
    with pytest.raises(ValueError, match="param"):
        llc_sweep("x**4", "chains", [1])
