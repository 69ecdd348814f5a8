"""Sweep specs, the local executor, resuming, failures, a killed driver, results and the CLI.

The runs are :func:`dominoes.jobs.quadratic_job` — gradient descent on (w − x)², whose loss curve has
the closed form L_t = (1 − 2·lr)^{2t} (w₀ − x)² with w₀ the first standard normal of the run's seed —
so every stored number can be checked against mathematics, not against a previous run.
"""

import itertools
import json
import math
import multiprocessing
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dominoes.executors import LocalExecutor, execute
from dominoes.jobs import quadratic_job
from dominoes.store import Store, config_hash
from dominoes.sweep import STORE_NAME, Sweep, first_step_reaching, make_tasks, results, run_sweep


def closed_form_losses(config):
    w0 = np.random.default_rng(config["seed"]).standard_normal()
    t = np.arange(config.get("steps", 20) + 1)
    return (1 - 2 * config.get("lr", 0.1)) ** (2 * t) * (w0 - config.get("x", 0.0)) ** 2


def assert_matches_closed_form(store, config):
    rid = config_hash(config)
    rows = store.metrics(rid)
    assert rows["step"].tolist() == list(range(config.get("steps", 20) + 1))
    np.testing.assert_allclose(rows["value"].to_numpy(), closed_form_losses(config), rtol=1e-12, atol=1e-300)


# -- specs -----------------------------------------------------------------------------------------
def test_toml_spec_expands_grid_times_zip_times_seeds(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(
        """
        job = "quadratic"
        seeds = [3, 5]
        [base]
        steps = 4
        nested.a = 1
        [grid]
        lr = [0.1, 0.2, 0.3]
        nested.b = ["u", "v"]
        [zip]
        x = {linspace = [0, 1, 3]}
        "nested.c" = [10, 20, 30]
        """
    )
    sweep = Sweep.from_toml(spec)
    configs = sweep.expand()
    assert len(configs) == 3 * 2 * 3 * 2
    assert sweep.axes == ["lr", "nested.b", "x", "nested.c", "seed"]
    assert sweep.name == "s"
    assert len({config_hash(c) for c in configs}) == len(configs)
    first = configs[0]
    assert first == {"steps": 4, "nested": {"a": 1, "b": "u", "c": 10}, "lr": 0.1, "x": 0.0,
                     "job": "quadratic", "seed": 3}
    # zipped axes advance together
    assert {(c["x"], c["nested"]["c"]) for c in configs} == {(0.0, 10), (0.5, 20), (1.0, 30)}
    # every (grid point, zip row, seed) appears exactly once
    keys = [(c["lr"], c["nested"]["b"], c["x"], c["seed"]) for c in configs]
    assert sorted(keys) == sorted(itertools.product([0.1, 0.2, 0.3], "uv", [0.0, 0.5, 1.0], [3, 5]))


def test_logspace_helper_is_geometric_with_the_given_endpoints():
    sweep = Sweep.from_dict({"job": "quadratic", "grid": {"lr": {"logspace": [0.01, 1, 5]}}})
    values = sweep.grid["lr"]
    assert values[0] == 0.01 and values[-1] == 1.0
    np.testing.assert_allclose(np.diff(np.log(values)), math.log(100) / 4, rtol=1e-10)


@given(st.lists(st.integers(1, 4), min_size=0, max_size=3), st.integers(1, 4), st.integers(1, 3))
def test_expansion_size_is_the_product_of_axis_lengths_and_hashes_are_unique(sizes, zip_len, n_seeds):
    grid = {f"a{i}": list(range(k)) for i, k in enumerate(sizes)}
    sweep = Sweep.from_dict({"job": "quadratic", "grid": grid, "zip": {"z": list(range(zip_len))},
                             "seeds": n_seeds})
    configs = sweep.expand()
    assert len(configs) == math.prod(sizes) * zip_len * n_seeds
    assert len({config_hash(c) for c in configs}) == len(configs)
    spec = {k: v for k, v in sweep.to_dict().items() if k != "axes"}
    assert Sweep.from_dict(spec).expand() == configs  # to_dict round-trips


def test_repeated_cases_are_refused_because_their_runs_would_collide():
    sweep = Sweep.from_dict({"job": "quadratic", "cases": [{"lr": 0.1}, {"lr": 0.1}]})
    with pytest.raises(ValueError, match="runs 0 and 1 of the sweep have the same configuration"):
        sweep.expand()


def test_cases_are_crossed_with_the_grid():
    sweep = Sweep.from_dict({"job": "quadratic", "grid": {"x": [0, 1]},
                             "cases": [{"lr": 0.1}, {"lr": 0.2, "steps": 3}]})
    configs = sweep.expand()
    assert [(c["x"], c["lr"], c.get("steps")) for c in configs] == [
        (0, 0.1, None), (0, 0.2, 3), (1, 0.1, None), (1, 0.2, 3)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"job": "nope"}, "job must be one of"),
        ({"job": "quadratic", "grd": {}}, "unknown sweep keys"),
        ({"job": "quadratic", "zip": {"a": [1, 2], "b": [1]}}, "equal lengths"),
        ({"job": "quadratic", "grid": {"a": [1, 1]}}, "repeats a value"),
        ({"job": "quadratic", "grid": {"a": []}}, "has no values"),
        ({"job": "quadratic", "grid": {"m": [{"p": 1}], "m.p": [2]}}, "overlap"),
        ({"job": "quadratic", "grid": {"seed": [1, 2]}}, "cannot be an axis"),
        ({"job": "quadratic", "seeds": [1, 1]}, "seeds repeat"),
        ({"job": "quadratic", "seeds": [-1]}, "non-negative"),
        ({"job": "quadratic", "grid": {"a": {"logspace": [0, 1, 3]}}}, "positive"),
        ({"job": "quadratic", "grid": {"a": 3}}, "list of values"),
        ({"job": "quadratic", "grid": {"lr": [0.1, 0.2]}, "cases": [{"lr": 0.3}]}, "overlap"),
        ({"job": "quadratic", "base": [1]}, "must be a table"),
    ],
)
def test_bad_specs_are_rejected_with_a_clear_message(spec, message):
    with pytest.raises(ValueError, match=message):
        Sweep.from_dict(spec)


def test_execute_turns_a_raising_job_into_a_failed_outcome():
    [outcome] = execute([{"job": "quadratic", "seed": 0, "fail": True}], quadratic_job)
    assert outcome["status"] == "failed"
    assert "ValueError: quadratic job asked to fail" in outcome["error"]
    [outcome] = execute([{"job": "quadratic", "seed": 0, "typo": 1}], quadratic_job)
    assert "unknown configuration keys ['typo']" in outcome["error"]
    [ok] = execute([{"job": "quadratic", "seed": 0, "steps": 2}], quadratic_job)
    assert ok["status"] == "done" and len(ok["metrics"]) == 3 and ok["error"] is None
    [bad] = execute([{"seed": 0}], lambda config: {"result": {"x": object()}})
    assert bad["status"] == "failed" and "type object" in bad["error"]


def test_a_raising_group_job_fails_every_run_of_its_task():
    def group(configs):
        raise RuntimeError("out of memory")

    task = [{"job": "train", "seed": s} for s in range(3)]
    outcomes = execute(task, quadratic_job, group)
    assert [o["run_id"] for o in outcomes] == [config_hash(c) for c in task]
    assert all(o["status"] == "failed" and "RuntimeError: out of memory" in o["error"] for o in outcomes)


def test_seeds_of_a_train_config_with_fixed_data_are_grouped_only_when_workers_stay_busy():
    base = {"job": "train", "data_seed": 0, "train": {"lr": 0.1}}
    configs = [{**base, "train": {"lr": lr}, "seed": s} for lr in (0.1, 0.2) for s in range(3)]
    tasks = make_tasks(configs, workers=2)
    assert [[c["seed"] for c in t] for t in tasks] == [[0, 1, 2], [0, 1, 2]]
    assert {t[0]["train"]["lr"] for t in tasks} == {0.1, 0.2}
    assert make_tasks(configs, workers=4) == [[c] for c in configs]  # 2 ensembles would idle 2 workers
    assert make_tasks(configs, workers=2, ensemble=False) == [[c] for c in configs]
    per_seed_data = [{k: v for k, v in c.items() if k != "data_seed"} for c in configs]
    assert make_tasks(per_seed_data, workers=1) == [[c] for c in per_seed_data]


# -- running ---------------------------------------------------------------------------------------
SMALL = {"job": "quadratic", "seeds": 2, "base": {"steps": 6},
         "grid": {"lr": [0.05, 0.2]}, "zip": {"x": [0.0, 1.0, -2.0]}}


def test_local_sweep_stores_closed_form_curves_and_resume_skips_done_runs(tmp_path):
    sweep = Sweep.from_dict(SMALL)
    report = run_sweep(sweep, tmp_path, LocalExecutor(max_workers=2))
    assert (report.total, report.done, report.failed, report.skipped) == (12, 12, 0, 0)
    with Store(tmp_path / STORE_NAME) as store:
        for config in sweep.expand():
            assert store.status(config_hash(config)) == "done"
            assert_matches_closed_form(store, config)
    again = run_sweep(sweep, tmp_path, LocalExecutor(max_workers=2))
    assert (again.done, again.skipped) == (0, 12)
    frame = results(tmp_path)
    assert len(frame) == 12 and set(frame["attempts"]) == {1}
    assert {"lr", "x", "steps", "seed", "result.loss_final", "result.w0"} <= set(frame.columns)


def test_failing_run_is_recorded_with_its_traceback_and_the_others_finish(tmp_path):
    spec = {**SMALL, "grid": {"lr": [0.05, 0.2], "fail": [False, True]}, "zip": {}, "seeds": 1}
    report = run_sweep(Sweep.from_dict(spec), tmp_path, LocalExecutor(max_workers=2))
    assert (report.done, report.failed) == (2, 2)
    frame = results(tmp_path)
    failed = frame[frame["status"] == "failed"]
    assert failed["fail"].tolist() == [True, True]
    assert all("ValueError: quadratic job asked to fail" in e for e in failed["error"])
    assert set(report.failed_runs.values()) == {"ValueError: quadratic job asked to fail (fail = true)"}
    # a rerun retries the failed runs only
    again = run_sweep(Sweep.from_dict(spec), tmp_path, LocalExecutor(max_workers=2))
    assert (again.skipped, again.failed) == (2, 2)
    assert results(tmp_path, status="failed")["attempts"].tolist() == [2, 2]


def test_local_pool_reruns_the_runs_of_a_killed_worker(tmp_path):
    spec = {"job": "quadratic", "seeds": 6, "base": {"steps": 3, "sleep": 0.3}}
    sweep = Sweep.from_dict(spec)
    holder = {}
    thread = threading.Thread(target=lambda: holder.update(
        report=run_sweep(sweep, tmp_path, LocalExecutor(max_workers=2))))
    thread.start()
    deadline = time.time() + 30
    victim = None
    while victim is None and time.time() < deadline:
        children = multiprocessing.active_children()
        if children:
            time.sleep(0.45)  # let the workers pick up runs, then kill one mid-run
            victim = children[0]
            os.kill(victim.pid, signal.SIGKILL)
        time.sleep(0.05)
    thread.join(60)
    assert victim is not None and not thread.is_alive()
    report = holder["report"]
    assert (report.done, report.failed) == (6, 0)
    with Store(tmp_path / STORE_NAME) as store:
        for config in sweep.expand():
            assert_matches_closed_form(store, config)


def test_a_run_that_kills_its_worker_every_time_fails_alone(tmp_path):
    spec = {"job": "quadratic", "base": {"steps": 2, "sleep": 0.2},
            "cases": [{"crash": True}, {"x": 1.0}, {"x": 2.0}, {"x": 3.0}]}
    report = run_sweep(Sweep.from_dict(spec), tmp_path, LocalExecutor(max_workers=2, retries=1))
    assert (report.done, report.failed) == (3, 1)
    [error] = results(tmp_path, status="failed")["error"]
    assert "worker process died 2 times" in error


DRIVER_SPEC = """
job = "quadratic"
seeds = 10
[base]
steps = 5
sleep = 0.25
"""


def test_killed_driver_then_rerun_gives_every_run_exactly_once(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(DRIVER_SPEC)
    out = tmp_path / "out"
    cmd = ["dominoes", "sweep", str(spec), "--out", str(out), "--max-workers", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    done_before = set()
    while time.time() < deadline and len(done_before) < 3:
        if (out / STORE_NAME).is_file():
            with Store(out / STORE_NAME) as store:
                done_before = {r for r, s in store.statuses().items() if s == "done"}
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, mid-sweep
    proc.wait()
    assert 3 <= len(done_before) < 10

    rerun = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["total"] == 10 and report["failed"] == 0
    assert report["skipped"] >= len(done_before) and report["skipped"] + report["done"] == 10

    sweep = Sweep.from_toml(spec)
    with Store(out / STORE_NAME) as store:
        runs = store.runs()
        assert sorted(runs["run_id"]) == sorted(config_hash(c) for c in sweep.expand())
        assert set(runs["status"]) == {"done"}
        attempts = dict(zip(runs["run_id"], runs["attempts"], strict=True))
        assert all(attempts[r] == 1 for r in done_before)  # finished runs were not run again
        for config in sweep.expand():
            assert_matches_closed_form(store, config)  # one row per step, no duplicates


def test_first_step_reaching_matches_the_closed_form(tmp_path):
    spec = {"job": "quadratic", "seeds": 3, "base": {"steps": 40}, "grid": {"lr": [0.05, 0.1]}}
    sweep = Sweep.from_dict(spec)
    run_sweep(sweep, tmp_path, LocalExecutor(max_workers=2))
    target = 1e-3
    steps = first_step_reaching(tmp_path, "train", target, metric="loss", below=True)
    for config in sweep.expand():
        w0 = np.random.default_rng(config["seed"]).standard_normal()
        # (1 - 2 lr)^{2t} w0² ≤ target  ⇔  t ≥ log(target / w0²) / (2 log(1 − 2 lr))
        expected = max(0, math.ceil(math.log(target / w0**2) / (2 * math.log(1 - 2 * config["lr"]))))
        got = steps[config_hash(config)]
        if expected <= 40:
            assert got == expected
        else:
            assert np.isnan(got)


# -- CLI and plots ---------------------------------------------------------------------------------
def test_cli_sweep_results_csv_and_plot(tmp_path, capsys):
    from dominoes.cli import main

    spec = tmp_path / "spec.toml"
    spec.write_text('job = "quadratic"\nseeds = 2\n[base]\nsteps = 3\n[grid]\nlr = [0.1, 0.2]\nx = [0, 1]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "--dry-run", "--json"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert len(planned["runs"]) == 8 and {r["status"] for r in planned["runs"]} == {"new"}
    assert main(["sweep", str(spec), "--out", str(out), "--max-workers", "2"]) == 0
    assert "8 done now, 0 failed" in capsys.readouterr().out
    csv, fig = tmp_path / "r.csv", tmp_path / "f.png"
    argv = ["results", str(out), "--csv", str(csv), "--plot", "result.loss_final", "--x", "lr", "--y", "x",
            "--figure", str(fig)]
    assert main(argv) == 0
    assert "8 runs: 8 done" in capsys.readouterr().out
    import pandas as pd

    table = pd.read_csv(csv)
    assert len(table) == 8 and set(table["lr"]) == {0.1, 0.2}
    assert fig.stat().st_size > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "missing.toml", "--out", "o"], "does not exist"),
        (["results", "nowhere"], "holds no sweep store"),
        (["sweep", "spec.toml", "--out", "o", "--max-workers", "0"], "--max-workers must be ≥ 1"),
    ],
)
def test_cli_errors_are_one_line_with_status_2(tmp_path, monkeypatch, capsys, argv, message):
    from dominoes.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.toml").write_text('job = "quadratic"\n')
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_plot_sweep_lines_are_means_over_seeds():
    import pandas as pd

    from dominoes.sweep_plot import plot_sweep

    frame = pd.DataFrame({"lr": [0.1, 0.1, 1.0, 1.0], "seed": [0, 1, 0, 1], "m": [1.0, 3.0, 5.0, 9.0]})
    figure = plot_sweep(frame, "m", "lr")
    line = figure.axes[0].lines[0]
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), [2.0, 7.0])
    assert figure.axes[0].get_xscale() == "log"
    heat = plot_sweep(frame.assign(x=[0, 0, 1, 1]), "m", "lr", "x")
    cells = heat.axes[0].images[0].get_array().filled(np.nan)
    np.testing.assert_allclose(cells, [[2.0, np.nan], [np.nan, 7.0]])
    with pytest.raises(ValueError, match="no column 'nope'"):
        plot_sweep(frame, "nope", "lr")


@pytest.mark.slow
def test_slt_sweep_estimates_the_exact_lambda_of_a_regular_potential(tmp_path):
    spec = {"job": "slt", "seeds": 2, "grid": {"potential": ["regular_2d", "regular_3d"]},
            "base": {"llc": {"chains": 40, "steps": 4000}}}
    report = run_sweep(Sweep.from_dict(spec), tmp_path, LocalExecutor(max_workers=2))
    assert (report.done, report.failed) == (4, 0)
    frame = results(tmp_path)
    # regular potentials have λ = d/2 (Watanabe 2009): 1 in 2-D, 3/2 in 3-D
    assert sorted(set(frame["result.lam"])) == [1.0, 1.5]
    error = (frame["result.llc"] - frame["result.lam"]).abs()
    assert (error < 5 * frame["result.llc_stderr"] + 0.1 * frame["result.lam"]).all()
