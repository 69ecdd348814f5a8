"""Sweeps on a real Dask LocalCluster (2 single-threaded worker processes on 127.0.0.1).

Checked: the same sweep gives exactly the local executor's results for the same seeds; killing a
worker mid-sweep still completes it (the scheduler reschedules the lost runs); a raising run is
recorded as failed while the others finish.
"""

import os
import signal
import threading
import time

import numpy as np
import pytest

from dominoes.executors import DaskExecutor, LocalExecutor
from dominoes.store import Store, config_hash
from dominoes.sweep import STORE_NAME, Sweep, results, run_sweep

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def comparable(out_dir):
    frame = results(out_dir).set_index("run_id").sort_index()
    with Store(out_dir / STORE_NAME) as store:
        metrics = store.metrics()
    return frame[["status", "result.w0", "result.loss_final"]], metrics


def test_dask_sweep_matches_the_local_executor(client, tmp_path):
    sweep = Sweep.from_dict({"job": "quadratic", "seeds": 3, "base": {"steps": 8},
                             "grid": {"lr": [0.05, 0.3], "x": [0.0, 2.0]}})
    local = run_sweep(sweep, tmp_path / "local", LocalExecutor(max_workers=2))
    remote = run_sweep(sweep, tmp_path / "dask", DaskExecutor(client))
    assert local.done == remote.done == 12 and remote.failed == 0
    assert remote.executor.startswith("dask tcp://127.0.0.1")
    local_runs, local_metrics = comparable(tmp_path / "local")
    dask_runs, dask_metrics = comparable(tmp_path / "dask")
    assert local_runs.equals(dask_runs)
    assert local_metrics.equals(dask_metrics)  # bit-identical curves: the seed alone decides a run


def test_killing_a_worker_mid_sweep_still_completes_it(client, tmp_path):
    sweep = Sweep.from_dict({"job": "quadratic", "seeds": 10, "base": {"steps": 4, "sleep": 0.4}})
    pids = list(client.run(os.getpid).values())
    holder = {}
    thread = threading.Thread(
        target=lambda: holder.update(report=run_sweep(sweep, tmp_path, DaskExecutor(client))))
    thread.start()
    deadline = time.time() + 60
    killed = False
    while not killed and time.time() < deadline:
        if (tmp_path / STORE_NAME).is_file():
            with Store(tmp_path / STORE_NAME) as store:
                if list(store.statuses().values()).count("done") >= 2:
                    os.kill(pids[0], signal.SIGKILL)  # a worker busy with a 0.4 s run
                    killed = True
        time.sleep(0.05)
    thread.join(120)
    assert killed and not thread.is_alive()
    report = holder["report"]
    assert (report.done, report.failed) == (10, 0)
    with Store(tmp_path / STORE_NAME) as store:
        for config in sweep.expand():
            rows = store.metrics(config_hash(config))
            w0 = np.random.default_rng(config["seed"]).standard_normal()
            np.testing.assert_allclose(rows["value"], (1 - 2 * 0.1) ** (2 * np.arange(5)) * w0**2, rtol=1e-12)


def test_a_failing_run_on_dask_is_recorded_and_the_others_finish(client, tmp_path):
    sweep = Sweep.from_dict({"job": "quadratic", "seeds": 2, "grid": {"fail": [False, True]}})
    report = run_sweep(sweep, tmp_path, DaskExecutor(client))
    assert (report.done, report.failed) == (2, 2)
    failed = results(tmp_path, status="failed")
    assert all("ValueError: quadratic job asked to fail" in e for e in failed["error"])


def test_bad_dask_address_is_a_clear_error():
    with pytest.raises(ValueError, match="--dask must be 'local' or an address"):
        DaskExecutor("somewhere")


@pytest.mark.slow
def test_cli_dask_local_starts_its_own_cluster(tmp_path):
    import json
    import subprocess

    spec = tmp_path / "spec.toml"
    spec.write_text('job = "quadratic"\nseeds = 4\n[base]\nsteps = 3\n')
    out = subprocess.run(["dominoes", "sweep", str(spec), "--out", str(tmp_path / "o"), "--dask", "local",
                          "--max-workers", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["executor"] == "dask LocalCluster (2 workers)" and report["done"] == 4
