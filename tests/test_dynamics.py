"""slt.run: closed forms, stationary laws, reproducibility, divergence, records and input checks."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from scipy.special import gamma as Gamma
from scipy.special import gammainc

import slt
from slt.dynamics import RunResult

SGLD = dict(method="sgld", n_beta=50.0, gamma=5.0, step_size=1e-3)
EXPR = "(x*y)**2 + x**4/4 + y**2/10"


# One separable potential serves the closed-form, stationary-law and divergence tests (one compile):
# K = a x²/2 + y⁴, so x and y move independently under GD and Langevin.
A = 2.0
SEPARABLE = f"{A}*x**2/2 + y**4"


def test_gd_on_a_quadratic_matches_the_closed_form():
    # x_t = (1 − εa)^t x0 exactly; y0 = 0 stays 0 (∂K/∂y = 4y³)
    eps, steps = 0.1, 50
    r = slt.run(SEPARABLE, method="gd", chains=2, steps=steps, step_size=eps, init=[[1.0, 0.0], [-0.5, 0.0]],
                record_every=1, record=("positions", "loss"))
    t = np.arange(steps)[:, None]
    np.testing.assert_allclose(r.positions[..., 0], (1 - eps * A) ** t * [1.0, -0.5], rtol=1e-12)
    np.testing.assert_allclose(r.final[:, 0], (1 - eps * A) ** steps * np.array([1.0, -0.5]), rtol=1e-12)
    np.testing.assert_allclose(r.loss, A / 2 * r.positions[..., 0] ** 2, rtol=1e-12)
    assert np.all(r.positions[..., 1] == 0.0)


def test_langevin_stationary_law_is_exp_minus_K_over_T():
    """x: K = a x²/2; Euler–Maruyama is the AR(1) x' = (1 − εa) x + √(2Tε) ξ with stationary
    variance T / (a (1 − εa/2)) (→ T/a as ε → 0).
    y: K = y⁴, density ∝ exp(−y⁴/T): E[y⁴] = T/4 (integration by parts, E[y K'(y)] = T),
    E[y²] = √T Γ(3/4)/Γ(1/4), CDF ½ + ½ sign(y) P(1/4, y⁴/T) (regularised incomplete gamma).
    Tolerances: 5% on the variance (≈ 6 sd for 36000 draws), 8% / 5% on the
    quartic moments, KS on the 4000 independent final states. A noise scale off by √2 doubles
    the temperature and fails all of them."""
    T, eps = 0.5, 2e-3
    r = slt.run(SEPARABLE, method="langevin", temperature=T, chains=4000, steps=5000, step_size=eps,
                init=[0.0, 0.0], seed=1, record_every=500, record=("positions",))
    x = r.positions[2:, :, 0]  # from step 1000 (4 relaxation times); snapshot correlation ≈ 0.13
    assert x.var() == pytest.approx(T / (A * (1 - eps * A / 2)), rel=0.05)
    y = r.positions[4:, :, 1]  # from t = 4 (time units)
    assert np.mean(y**4) == pytest.approx(T / 4, rel=0.08)
    assert np.mean(y**2) == pytest.approx(math.sqrt(T) * Gamma(0.75) / Gamma(0.25), rel=0.05)
    cdf = lambda w: 0.5 + 0.5 * np.sign(w) * gammainc(0.25, w**4 / T)
    assert stats.kstest(r.final[:, 1], cdf).pvalue > 1e-3
    assert stats.kstest(r.final[:, 0], "norm", args=(0, math.sqrt(T / A))).pvalue > 1e-3


_THREAD_SCRIPT = textwrap.dedent(
    """
    import sys, numba, slt
    assert numba.get_num_threads() == int(sys.argv[2])
    slt.run({expr!r}, chains=37, steps=300, seed=9, record_every=7, init=[0.3, -0.2],
            record=("positions", "loss", "grad_norm"), method="sgld", n_beta=50.0, gamma=5.0,
            step_size=1e-3).save(sys.argv[1] + "-potential.npz")
    model = slt.ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=50, true_w=[1, 2], seed=0)
    slt.run(model, method="sgd", chains=37, steps=200, step_size=1e-2, batch_size=8, seed=9, record_every=3,
            init=[0.5, 0.5], record=("positions", "loss")).save(sys.argv[1] + "-model.npz")
    """
).format(expr=EXPR)


def test_same_seed_gives_identical_chains_with_one_or_two_threads(tmp_path):
    paths = {}
    for threads in (1, 2):
        prefix = str(tmp_path / f"t{threads}")
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, prefix, str(threads)], env=env, check=True,
                       timeout=600)
        paths[threads] = prefix
    for kind in ("potential", "model"):
        one = RunResult.load(paths[1] + f"-{kind}.npz")
        two = RunResult.load(paths[2] + f"-{kind}.npz")
        for name in ("positions", "loss", "grad_norm", "final", "loss_mean", "loss_var", "diverged_step"):
            a, b = getattr(one, name), getattr(two, name)
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_array_equal(a, b)


def test_same_seed_same_chains_and_chain_prefix_property():
    kw = dict(chains=6, steps=200, seed=4, record=("positions",), init=[0.2, 0.1], **SGLD)
    a, b = slt.run(EXPR, **kw), slt.run(EXPR, **kw)
    np.testing.assert_array_equal(a.positions, b.positions)
    c = slt.run(EXPR, **{**kw, "seed": 5})
    assert not np.array_equal(a.final, c.final)
    more = slt.run(EXPR, **{**kw, "chains": 20})
    np.testing.assert_array_equal(more.positions[:, :6], a.positions)


def test_diverging_chains_are_flagged_with_their_step_and_the_run_returns():
    # GD with ε = 10/a: x_t = (1 − εa)^t x0 = (−9)^t x0. Bound 1e6: x0 = 1 leaves at t = 7
    # (9^7 > 1e6 > 9^6), x0 = 1e-3 at t = 10 (9^10 > 1e9 > 9^9), x0 = 0 never.
    r = slt.run(SEPARABLE, method="gd", chains=3, steps=40, step_size=10 / A,
                init=[[1.0, 0.0], [1e-3, 0.0], [0.0, 0.0]], bound=1e6, record_every=1,
                record=("positions", "loss"))
    np.testing.assert_array_equal(r.diverged, [True, True, False])
    np.testing.assert_array_equal(r.diverged_step, [7, 10, -1])
    assert r.final[0, 0] == pytest.approx((-9.0) ** 6) and r.final[1, 0] == pytest.approx(1e-3 * (-9.0) ** 9)
    assert np.all(np.isnan(r.positions[7:, 0])) and np.all(np.isfinite(r.positions[:7, 0]))
    assert np.isnan(r.loss_mean[0]) and r.loss_mean[2] == 0.0
    assert "diverged=2" in repr(r)


def test_huge_step_without_bound_stops_at_non_finite_values():
    r = slt.run(EXPR, method="langevin", chains=8, steps=2000, step_size=10.0, init=[1.0, 1.0])
    assert r.diverged.all() and np.all(r.diverged_step > 0)
    assert np.all(np.isfinite(r.final))


def test_stats_only_keeps_the_running_mean_and_variance_of_every_step():
    kw = dict(chains=5, steps=400, seed=3, init=[0.4, 0.3], burn_in=100, **SGLD)
    full = slt.run(EXPR, record_every=1, record=("loss",), **kw)
    lean = slt.run(EXPR, stats_only=True, **kw)
    assert lean.positions is None and lean.loss is None and lean.steps_recorded.size == 0
    np.testing.assert_allclose(lean.loss_mean, full.loss[100:].mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(lean.loss_var, full.loss[100:].var(axis=0, ddof=1), rtol=1e-8)


def test_records_follow_record_every():
    r = slt.run(EXPR, chains=2, steps=95, record_every=10, record=("positions", "loss", "grad_norm"), **SGLD)
    np.testing.assert_array_equal(r.steps_recorded, np.arange(0, 95, 10))
    assert r.positions.shape == (10, 2, 2) and r.loss.shape == (10, 2) and r.grad_norm.shape == (10, 2)
    assert r.positions[0].tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_save_and_load_round_trip(tmp_path):
    r = slt.run(EXPR, chains=3, steps=50, record_every=5, record=("positions", "grad_norm"), **SGLD)
    path = r.save(tmp_path / "sub" / "run.npz")
    back = RunResult.load(path)
    assert back.params == r.params and back.names == r.names and back.method == "sgld"
    np.testing.assert_array_equal(back.positions, r.positions)
    np.testing.assert_array_equal(back.grad_norm, r.grad_norm)
    assert back.loss is None
    assert r.to_dict()["params"]["n_beta"] == 50.0
    assert [p.name for p in path.parent.iterdir()] == ["run.npz"]  # no temporary file left


def test_mala_is_exact_where_sgld_is_biased():
    """nβK = x² + 3y² at nβ = 1: E[K] = d/2 = 1. At ε = 0.4 SGLD's variance is 1/(a(1 − εa/4)) per direction
    (E[K] ≈ 1.67 here); the Metropolis correction removes that bias entirely."""
    kw = dict(chains=2000, steps=3000, step_size=0.4, n_beta=1.0, init=[0.0, 0.0], seed=1, stats_only=True,
              burn_in=300)
    sgld = slt.run("x**2 + 3*y**2", method="sgld", **kw)
    mala = slt.run("x**2 + 3*y**2", method="mala", **kw)
    se = mala.loss_mean.std(ddof=1) / math.sqrt(mala.chains)
    assert abs(mala.loss_mean.mean() - 1.0) <= 4 * se
    assert sgld.loss_mean.mean() - 1.0 > 0.5
    assert 0.3 < mala.acceptance.mean() < 0.95 and sgld.acceptance is None


def test_mala_truncated_drift_keeps_chains_moving_on_a_quartic():
    """x⁴ at ε = 2: the untruncated drift −4εx³/2 overshoots from |x| ≳ 1 and those chains freeze
    (Roberts & Tweedie 1996); with the default cap the stationary mean E[x⁴] = 1/4 is reached."""
    kw = dict(chains=1000, steps=4000, step_size=2.0, n_beta=1.0, init=[0.0], seed=2, stats_only=True,
              burn_in=500)
    capped = slt.run("x**4", method="mala", **kw)
    se = capped.loss_mean.std(ddof=1) / math.sqrt(capped.chains)
    assert abs(capped.loss_mean.mean() - 0.25) <= 4 * se
    start_far = slt.run("x**4", method="mala", **{**kw, "init": [3.0], "steps": 200, "burn_in": 0})
    assert np.all(np.abs(start_far.final[:, 0]) < 3.0)          # every chain walked down the wall
    frozen = slt.run("x**4", method="mala", **{**kw, "init": [3.0], "steps": 200, "burn_in": 0,
                                               "drift_cap": math.inf})
    assert np.all(frozen.final[:, 0] == 3.0)


def test_mala_acceptance_is_saved_and_minibatches_are_refused(tmp_path):
    r = slt.run(EXPR, method="mala", chains=3, steps=50, n_beta=50.0, step_size=1e-3)
    back = RunResult.load(r.save(tmp_path / "mala.npz"))
    np.testing.assert_array_equal(back.acceptance, r.acceptance)
    model = slt.ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=50, true_w=[1, 2], seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        slt.run(model, method="mala", chains=2, steps=10, step_size=1e-4, batch_size=10)


def test_sgld_default_n_beta_for_a_toy_model_is_n_over_log_n():
    model = slt.ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=100, true_w=[1, 2], seed=0)
    r = slt.run(model, method="sgld", chains=2, steps=10, step_size=1e-4, init=[1.0, 2.0])
    assert r.params["n_beta"] == pytest.approx(100 / math.log(100))
    assert r.params["batch_size"] == 100 and r.params["w_star"] == [1.0, 2.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(method="adam"), "method"),
        (dict(method="gd", steps=0), "steps"),
        (dict(method="gd", step_size=-1.0), "step_size"),
        (dict(method="gd", chains=2.5), "chains"),
        (dict(method="gd", lr=0.1), "unknown parameter"),
        (dict(method="sgd"), "ToyModel"),
        (dict(method="sgld"), "n_beta"),
        (dict(method="gd", init=[1.0]), "shape"),
        (dict(method="gd", init={"z": 1.0}), "unknown variable"),
        (dict(method="gd", record=("weights",)), "record"),
        (dict(method="gd", burn_in=10, steps=10), "burn_in"),
        (dict(method="gd", momentum=1.0), "momentum"),
        (dict(method="langevin", temperature=0.0), "temperature"),
        (dict(method="gd", batch_size=4), "ToyModel"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        slt.run(EXPR, **kwargs)


def test_thread_count_changed_in_process_gives_identical_chains():
    import numba

    kw = dict(chains=23, steps=150, seed=8, record_every=5, init=[0.3, -0.2], record=("positions", "loss"),
              **SGLD)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = slt.run(EXPR, **kw)
        numba.set_num_threads(max(1, numba.config.NUMBA_NUM_THREADS))
        many = slt.run(EXPR, **kw)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.positions, many.positions)
    np.testing.assert_array_equal(one.loss, many.loss)


@given(chains=st.integers(1, 5000), threads=st.integers(1, 64))
def test_chain_chunks_partition_the_chains_and_give_every_thread_work(chains, threads):
    from slt.dynamics import _CHUNKS_PER_THREAD, _chain_chunks

    pieces = _chain_chunks(chains, threads)
    edges = [int(lo) for lo, _ in pieces] + [int(pieces[-1][1])]
    assert edges[0] == 0 and edges[-1] == chains
    assert all(lo < hi for lo, hi in zip(edges[:-1], edges[1:], strict=True))  # contiguous, non-empty
    assert len(pieces) <= max(1, threads * _CHUNKS_PER_THREAD)
    assert len(pieces) == 1 if threads == 1 else len(pieces) >= min(chains, threads)


def _cli(argv, capsys):
    import argparse

    from slt.cli import run as run_command
    from slt.clikit import run_main

    parser = argparse.ArgumentParser(prog="slt")
    run_command.register(parser.add_subparsers())
    code = run_main(parser, argv)
    return code, capsys.readouterr()


def test_cli_run_prints_json_and_saves(tmp_path, capsys):
    import json

    path = tmp_path / "run.npz"
    code, out = _cli(["run", EXPR, "--method", "sgld", "--n-beta", "50", "--gamma", "5", "--chains", "4",
                      "--steps", "100", "--step-size", "1e-3", "--init", "x=0.3,y=-0.2", "--json", "--save",
                      str(path)], capsys)
    assert code == 0
    summary = json.loads(out.out)
    assert summary["params"]["n_beta"] == 50.0 and summary["n_diverged"] == 0
    saved = RunResult.load(path)
    assert saved.positions.shape == (100, 4, 2)
    assert summary["loss_mean"] == pytest.approx(float(np.mean(saved.loss_mean)))


def test_cli_run_bad_input_is_one_line_and_status_2(capsys):
    code, out = _cli(["run", EXPR, "--method", "gd", "--temperature", "1"], capsys)
    assert code == 2 and out.err.count("\n") == 1 and "--temperature" in out.err
