"""Sweeps of the real training job: an infeasible mixture fails its own run (fast, before torch is
imported); a tiny training sweep stores curves and matches between the local pool and Dask (slow)."""

import json
import subprocess
import sys

import numpy as np
import pytest

from dominoes.executors import DaskExecutor, LocalExecutor, execute
from dominoes.jobs import run_group, run_job
from dominoes.store import Store, config_hash
from dominoes.sweep import STORE_NAME, Sweep, results, run_sweep

TINY = {
    "job": "train",
    "seeds": [0, 1],
    "base": {
        "data_seed": 0,
        "mixture": {"p_mnist": 0.5, "p_cifar": 0.5, "mnist_source": "glyphs", "cifar_source": "textures",
                    "n_max": 200, "n_test": 40, "procedural_per_class": 30},
        "train": {"net": "mlp", "width": 16, "depth": 1, "steps": 12, "batch_size": 20, "eval_every": 6,
                  "log_evals": 0, "device": "cpu"},
    },
    # p_both = 0.9 > min(p_mnist, p_cifar) = 0.5 is infeasible: a two-sided domino carries both halves
    "grid": {"mixture.p_both": [0.25, 0.9]},
}


def test_infeasible_mixture_fails_its_run_with_the_constraint_named_and_without_torch():
    config = Sweep.from_dict(TINY).expand()[-1]
    assert config["mixture"]["p_both"] == 0.9
    code = (
        "import json, sys; from dominoes.executors import execute; from dominoes.jobs import run_job; "
        f"[o] = execute([json.loads({json.dumps(json.dumps(config))})], run_job); "
        "print(json.dumps([o['status'], o['error'], 'torch' in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, error, torch_loaded = json.loads(out.stdout)
    assert status == "failed"
    assert "p_both=0.9 exceeds min(p_mnist, p_cifar)=0.5" in error
    assert not torch_loaded


def test_an_ensemble_with_one_infeasible_member_config_is_refused():
    configs = Sweep.from_dict(TINY).expand()
    outcomes = execute([configs[0], configs[2]], run_job, run_group)  # different p_both: not one ensemble
    assert all("differ only in seed" in o["error"] for o in outcomes)


@pytest.mark.slow
def test_tiny_train_sweep_local_and_dask_agree_and_the_infeasible_runs_fail(tmp_path):
    distributed = pytest.importorskip("distributed")
    sweep = Sweep.from_dict(TINY)
    local = run_sweep(sweep, tmp_path / "local", LocalExecutor(max_workers=2))
    assert (local.done, local.failed) == (2, 2)
    frame = results(tmp_path / "local")
    done = frame[frame["status"] == "done"]
    assert set(done["mixture.p_both"]) == {0.25}
    assert set(done["result.ensemble_size"]) == {2}  # two seeds per task: 2 tasks keep 2 workers busy
    for split in ("both", "mnist_only", "cifar_only", "mnist_randomized", "cifar_randomized"):
        accuracy = done[f"result.final.{split}.accuracy"]
        assert accuracy.between(0, 1).all()
    with Store(tmp_path / "local" / STORE_NAME) as store:
        for config in sweep.expand()[:2]:
            curves = store.metrics(config_hash(config))
            assert sorted(set(curves["step"])) == [0, 6, 12]
            assert {"train", "both", "mnist_only", "cifar_only"} <= set(curves["split"])

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address="127.0.0.1:0")
    with distributed.Client(cluster) as client:
        remote = run_sweep(sweep, tmp_path / "dask", DaskExecutor(client))
    cluster.close()
    assert (remote.done, remote.failed) == (2, 2)
    with Store(tmp_path / "local" / STORE_NAME) as a, Store(tmp_path / "dask" / STORE_NAME) as b:
        ma, mb = a.metrics(), b.metrics()
    assert ma[["run_id", "step", "split", "metric"]].equals(mb[["run_id", "step", "split", "metric"]])
    np.testing.assert_allclose(ma["value"], mb["value"], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_seed_ensemble_matches_separate_runs(tmp_path):
    spec = {**TINY, "seeds": [0, 1, 2], "grid": {}}
    sweep = Sweep.from_dict(spec)
    grouped = run_sweep(sweep, tmp_path / "grouped", LocalExecutor(max_workers=1))
    separate = run_sweep(sweep, tmp_path / "separate", LocalExecutor(max_workers=1), ensemble=False)
    assert grouped.done == separate.done == 3
    assert set(results(tmp_path / "grouped")["result.ensemble_size"]) == {3}
    with Store(tmp_path / "grouped" / STORE_NAME) as a, Store(tmp_path / "separate" / STORE_NAME) as b:
        ma, mb = a.metrics(), b.metrics()
    assert ma[["run_id", "step", "split", "metric"]].equals(mb[["run_id", "step", "split", "metric"]])
    # the same trajectories up to floating-point reassociation (dominoes.ensemble's contract)
    np.testing.assert_allclose(ma["value"], mb["value"], rtol=1e-4, atol=1e-5)
