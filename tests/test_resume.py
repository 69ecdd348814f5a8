"""Crash safety: SIGKILL a training process mid-run, resume it, and lose or duplicate nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from test_train import FAST, tiny_data

from dominoes.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from dominoes.store import Store
from dominoes.train import TrainConfig, eval_steps, train

torch.set_num_threads(1)
CONFIG = dict(FAST, steps=300, eval_every=20, log_evals=6)
TESTS = Path(__file__).parent

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    import torch
    torch.set_num_threads(1)
    from test_train import tiny_data
    from dominoes.store import Store
    from dominoes.train import TrainConfig, train
    with Store({db!r}) as store:
        train(tiny_data(), TrainConfig(**{config!r}), store=store, progress=False)
""")


def test_killed_run_resumes_with_every_eval_step_exactly_once(tmp_path):
    db = tmp_path / "runs.sqlite"
    script = CHILD.format(tests=str(TESTS), db=str(db), config=CONFIG)
    child = subprocess.Popen([sys.executable, "-c", script])
    ckpt = None
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and child.poll() is None:
            found = list((tmp_path / "artifacts").glob(f"*/{CHECKPOINT_NAME}"))
            if found and load_checkpoint(found[0])["step"] >= 60:
                ckpt = found[0]
                break
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert ckpt is not None and child.returncode == -signal.SIGKILL, "the child finished before it was killed"
    killed_at = load_checkpoint(ckpt)["step"]
    assert killed_at < CONFIG["steps"]

    config = TrainConfig(**CONFIG)
    with Store(db) as store:
        (run_id,) = store.statuses()
        assert store.status(run_id) == "running"
        resumed = train(tiny_data(), config, store=store, progress=False)
        assert resumed.run_id == run_id and resumed.resumed_from is not None
        assert resumed.resumed_from >= killed_at
        logged = store.metrics(run_id)
        assert store.status(run_id) == "done"

    expected_steps = eval_steps(config.steps, config.eval_every, config.log_evals)
    assert sorted(logged.step.unique()) == expected_steps
    assert not logged.duplicated(["step", "split", "metric"]).any()
    assert len(logged) == len(expected_steps) * 6 * 3  # "train" + 5 eval splits; loss, accuracy, auc
    state = load_checkpoint(ckpt)
    assert state["step"] == config.steps and set(state) >= {"model", "optimizer", "torch_rng", "curves"}

    # deterministic on the CPU: the resumed run recorded what an uninterrupted run records
    fresh = train(tiny_data(), config, progress=False)
    def values(curves):
        return curves.sort_values(["step", "split", "metric"]).value.to_numpy()

    assert values(logged) == pytest.approx(values(fresh.curves), rel=1e-9, abs=1e-12)
    assert values(resumed.curves) == pytest.approx(values(fresh.curves), rel=1e-9, abs=1e-12)


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path):
    data = tiny_data()
    with Store(tmp_path / "runs.sqlite") as store:
        run_id = train(data, TrainConfig(**FAST, steps=5), store=store, progress=False).run_id
        with pytest.raises(ValueError, match="another config"):
            train(data, TrainConfig(**FAST, steps=6), store=store, run_id=run_id, progress=False)


def test_checkpoint_round_trip_and_restricted_loading(tmp_path):
    state = {"step": 3, "w": torch.arange(4.0), "rows": [[0, "both", "loss", 1.5]]}
    path = save_checkpoint(tmp_path / "c.pt", state)
    state = load_checkpoint(path)
    assert state["step"] == 3 and torch.equal(state["w"], torch.arange(4.0))
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # the temporary file was renamed

    class Payload:  # an arbitrary object: weights_only loading must refuse to build it
        def __reduce__(self):
            return (os.getcwd, ())

    torch.save({"evil": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(Exception, match="(?i)weights_only|unsupported"):
        load_checkpoint(tmp_path / "evil.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_a_run_that_raises_is_marked_failed_with_its_traceback(tmp_path, monkeypatch):
    import dominoes.train as train_module

    def broken(config, step):
        if step == 3:
            raise RuntimeError("boom at step 3")
        return config.lr

    monkeypatch.setattr(train_module, "learning_rate", broken)
    with Store(tmp_path / "runs.sqlite") as store:
        with pytest.raises(RuntimeError, match="boom"):
            train(tiny_data(), TrainConfig(**FAST, steps=6), store=store, progress=False)
        (run_id,) = store.statuses()
        assert store.status(run_id) == "failed"
        assert "boom at step 3" in store.runs().set_index("run_id").loc[run_id, "error"]
        # the update of step index 3 failed; evaluations up to "after 3 updates" were recorded
        assert sorted(store.metrics(run_id).step.unique()) == [0, 1, 2, 3]


def test_store_result_turns_a_diverged_loss_into_null():
    from dominoes.train import store_result

    out = store_result({"both": {"loss": float("nan"), "accuracy": 0.5}}, eval_s=1.0)
    assert out == {"final": {"both": {"loss": None, "accuracy": 0.5}}, "eval_s": 1.0}
