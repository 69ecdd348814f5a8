"""`dominoes train`: JSON contract, store and figure on disk, resume by rerunning, clear errors."""

import json
import sqlite3

import pytest

from dominoes.cli import main
from dominoes.dataset import EVAL_SPLITS

TINY = ["--task", "binary", "--mnist-source", "glyphs", "--cifar-source", "textures",
        "--procedural-per-class", "40", "--n-max", "60", "--n-test", "20",
        "--net", "mlp", "--width", "8", "--steps", "6", "--batch-size", "16", "--eval-every", "3",
        "--log-evals", "3", "--device", "cpu"]


def test_json_holds_final_per_split_device_source_and_wall_time(tmp_path, capsys):
    assert main(["train", *TINY, "--out", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["final"]) == {"train", *EVAL_SPLITS}
    for metrics in doc["final"].values():
        assert 0 <= metrics["accuracy"] <= 1 and metrics["loss"] > 0
    assert doc["device"] == "cpu" and "procedural" in doc["data_source"] and doc["wall_s"] > 0
    (run,) = doc["runs"]
    assert (tmp_path / "runs.sqlite").is_file() and doc["figures"]
    assert all((tmp_path / path).is_file() for path in doc["figures"])
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        rows = db.execute("SELECT DISTINCT step FROM metrics WHERE run_id = ?", (run["run_id"],))
        steps = {s for (s,) in rows}
        status = db.execute("SELECT status FROM runs WHERE run_id = ?", (run["run_id"],)).fetchone()[0]
    assert steps == {0, 1, 2, 3, 6} and status == "done"

    # the same command again finds the finished checkpoint: same run, nothing retrained
    assert main(["train", *TINY, "--out", str(tmp_path), "--json", "--no-plot"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["runs"][0]["run_id"] == run["run_id"] and again["runs"][0]["resumed_from"] == 6
    assert again["final"]["both"]["accuracy"] == doc["final"]["both"]["accuracy"]


def test_ensemble_reports_one_run_per_seed(tmp_path, capsys):
    assert main(["train", *TINY, "--ensemble", "3", "--seed", "5", "--out", str(tmp_path), "--json",
                 "--no-plot"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in doc["runs"]] == [5, 6, 7]
    assert len({r["run_id"] for r in doc["runs"]}) == 3
    mean = sum(r["final"]["both"]["accuracy"] for r in doc["runs"]) / 3
    assert doc["final"]["both"]["accuracy"] == pytest.approx(mean)


@pytest.mark.parametrize("option,value,message", [("--net", "vgg", "unknown net"),
                                                  ("--lr", "-1", "lr must be"),
                                                  ("--ensemble", "0", "--ensemble"),
                                                  ("--device", "tpu", "device")])
def test_bad_option_is_one_line_on_stderr_and_status_2(tmp_path, capsys, option, value, message):
    assert main(["train", *TINY, option, value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
