"""The SQLite store: stable run identities, idempotent metrics, atomic batches and files."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dominoes.store import Store, atomic_save_npz, atomic_write, canonical_json, config_hash

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
configs = st.recursive(
    st.dictionaries(st.text(max_size=4), json_leaf, max_size=4),
    lambda inner: st.dictionaries(
        st.text(max_size=4), st.one_of(json_leaf, inner, st.lists(json_leaf)), max_size=4
    ),
    max_leaves=12,
)


def test_config_hash_is_sha256_of_sorted_compact_json():
    text = '{"a":1,"b":{"c":0.1,"d":[1,2]}}'
    expected = hashlib.sha256(text.encode()).hexdigest()[:16]
    assert canonical_json({"b": {"d": (1, 2), "c": 0.1}, "a": 1}) == text
    assert config_hash({"b": {"d": [1, 2], "c": 0.1}, "a": 1}) == expected


@given(configs, st.randoms())
def test_config_hash_ignores_key_order(config, rnd):
    def shuffled(value):
        if not isinstance(value, dict):
            return value
        keys = list(value)
        rnd.shuffle(keys)
        return {k: shuffled(value[k]) for k in keys}

    assert config_hash(shuffled(config)) == config_hash(config)
    assert json.loads(canonical_json(config)) == config


def test_config_hash_is_the_same_in_another_process():
    config = {"lr": 0.1, "mixture": {"p_mnist": 1 / 3, "p_cifar": 0.5}, "seed": 7, "net": "cnn"}
    code = (
        "from dominoes.store import config_hash; "
        "print(config_hash({'seed': 7, 'net': 'cnn', "
        "'mixture': {'p_cifar': 0.5, 'p_mnist': 1/3}, 'lr': 0.1}))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == config_hash(config)


def test_config_hash_makes_numpy_scalars_plain_and_keeps_types_apart():
    assert config_hash({"x": np.float64(0.25), "n": np.int64(3)}) == config_hash({"x": 0.25, "n": 3})
    assert config_hash({"x": 1}) != config_hash({"x": 1.0})
    with pytest.raises(ValueError, match="NaN"):
        config_hash({"lr": float("nan")})
    with pytest.raises(ValueError, match="type object"):
        config_hash({"lr": object()})


def test_run_lifecycle_and_tables(tmp_path):
    config = {"lr": 0.1, "mixture": {"p_mnist": 0.5}, "seed": 3}
    with Store(tmp_path / "runs.sqlite") as store:
        rid = store.start_run(config, device="cpu")
        assert rid == config_hash(config)
        assert store.status(rid) == "running"
        assert store.status("0" * 16) is None
        assert store.log_metrics(rid, [(0, "train", "loss", 2.0), (10, "both", "accuracy", 0.5)]) == 2
        store.finish_run(rid, result={"final": {"both": {"accuracy": 0.5}}}, wall_s=1.5)
        assert store.status(rid) == "done"
        assert store.config(rid) == config
        assert store.result(rid) == {"final": {"both": {"accuracy": 0.5}}}

        runs = store.runs()
        assert len(runs) == 1
        row = runs.iloc[0]
        assert (row["run_id"], row["seed"], row["lr"], row["mixture.p_mnist"]) == (rid, 3, 0.1, 0.5)
        assert row["config.seed"] == 3 and row["status"] == "done" and row["wall_s"] == 1.5
        assert row["result.final.both.accuracy"] == 0.5 and row["device"] == "cpu"

        metrics = store.metrics()
        assert list(metrics.columns) == ["run_id", "step", "split", "metric", "value"]
        assert metrics[["step", "split", "metric", "value"]].values.tolist() == [
            [0, "train", "loss", 2.0], [10, "both", "accuracy", 0.5],
        ]
        assert store.metrics(rid).equals(metrics)
        assert store.metrics("f" * 16).empty


def test_resumed_run_keeps_metrics_and_never_duplicates_them(tmp_path):
    with Store(tmp_path / "runs.sqlite") as store:
        rid = store.start_run({"seed": 0})
        store.log_metrics(rid, [(s, "train", "loss", 1.0 / (s + 1)) for s in range(5)])
        rid_again = store.start_run({"seed": 0})  # the resume after a crash
        assert rid_again == rid
        store.log_metrics(rid, [(s, "train", "loss", 1.0 / (s + 1)) for s in range(3, 8)])
        store.finish_run(rid)
        metrics = store.metrics(rid)
        assert metrics["step"].tolist() == list(range(8))
        assert store.runs().loc[0, "attempts"] == 2


def test_bad_use_gives_clear_errors(tmp_path):
    with Store(tmp_path / "runs.sqlite") as store:
        with pytest.raises(ValueError, match="unknown run"):
            store.log_metrics("abc", [(0, "train", "loss", 1.0)])
        rid = store.start_run({"seed": 1})
        with pytest.raises(ValueError, match="status must be"):
            store.finish_run(rid, status="ok")
        with pytest.raises(ValueError, match="metric row"):
            store.log_metrics(rid, [(0, "train", 1.0)])
        with pytest.raises(ValueError, match="seed must be an integer"):
            store.start_run({"seed": "one"})
        with pytest.raises(ValueError, match="bad run id"):
            store.artifact_dir("../x")
    with pytest.raises(ValueError, match="is a folder"):
        Store(tmp_path)


def test_failed_run_keeps_its_error(tmp_path):
    with Store(tmp_path / "runs.sqlite") as store:
        rid = store.start_run({"seed": 2})
        store.finish_run(rid, status="failed", error="Traceback ...\nValueError: infeasible")
        runs = store.runs()
        assert runs.loc[0, "status"] == "failed"
        assert runs.loc[0, "error"].endswith("ValueError: infeasible")


def test_a_reader_sees_the_writers_commits_in_wal_mode(tmp_path):
    path = tmp_path / "runs.sqlite"
    with Store(path) as writer, Store(path) as reader:
        rid = writer.start_run({"seed": 4})
        writer.log_metrics(rid, [(1, "train", "loss", 0.5)])
        assert reader.status(rid) == "running"
        assert len(reader.metrics(rid)) == 1
        mode = reader._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


WRITER = textwrap.dedent(
    """
    import sys
    from dominoes.store import Store
    store = Store(sys.argv[1])
    rid = store.start_run({"seed": 0})
    print(rid, flush=True)
    step = 0
    while True:
        store.log_metrics(rid, [(step, "train", f"m{j}", float(j)) for j in range(200)])
        step += 1
    """
)


def test_killed_writer_leaves_only_whole_batches(tmp_path):
    path = tmp_path / "runs.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    rid = proc.stdout.readline().strip()
    deadline = time.time() + 30
    with Store(path) as reader:
        while len(reader.metrics(rid)) < 2000 and time.time() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts = reader.metrics(rid).groupby("step").size()
    assert len(counts) >= 10
    assert set(counts) == {200}  # every batch is all there or not at all
    assert counts.index.tolist() == list(range(len(counts)))


def test_atomic_writes_replace_whole_files_and_leave_no_temporaries(tmp_path):
    target = tmp_path / "sub" / "blob.bin"
    atomic_write(target, b"first")
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"

    arrays = tmp_path / "arrays.npz"
    atomic_save_npz(arrays, w=np.arange(6.0).reshape(2, 3), step=np.array([1, 2]))
    with np.load(arrays) as loaded:
        np.testing.assert_array_equal(loaded["w"], np.arange(6.0).reshape(2, 3))
        np.testing.assert_array_equal(loaded["step"], [1, 2])

    # a write that fails half-way leaves the previous file untouched and no temporary behind
    unpicklable = np.array([lambda: 0], dtype=object)
    with pytest.raises(Exception):  # noqa: B017 - whatever pickle raises for a lambda
        atomic_save_npz(arrays, w=unpicklable)
    with np.load(arrays) as loaded:
        np.testing.assert_array_equal(loaded["step"], [1, 2])
    leftovers = [p.name for p in tmp_path.rglob("*.tmp")]
    assert leftovers == []


def test_artifact_dir_is_beside_the_database(tmp_path):
    with Store(tmp_path / "db" / "runs.sqlite") as store:
        rid = store.start_run({"seed": 5})
        folder = store.artifact_dir(rid)
        assert folder == tmp_path / "db" / "artifacts" / rid and folder.is_dir()
