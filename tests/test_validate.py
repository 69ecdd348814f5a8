"""The main job, `dominoes validate`: end to end on the offline default."""

import json
import math
import sqlite3
import subprocess
import sys

import pytest

from dominoes.validate import SweepPoint, ValidateConfig, default_config, prevalence, run_validation

METRICS = (
    "spearman_learning_time",
    "median_rel_error_learning_time",
    "ordering_correct_fraction",
    "curve_r2_heldout",
    "n_sweep_points",
    "wall_s",
)


def test_prevalence_ratio_and_geometric_mean():
    for ratio in (0.25, 0.5, 1.0, 2.0, 4.0):
        p = prevalence(ratio)
        assert p["p_mnist"] / p["p_cifar"] == pytest.approx(ratio, rel=1e-5)
        assert math.sqrt(p["p_mnist"] * p["p_cifar"]) == pytest.approx(0.4, rel=1e-5)


def test_default_sweeps_have_fit_and_heldout_points():
    for quick in (False, True):
        config = default_config(quick)
        roles = [p.role for p in config.points]
        assert "fit" in roles and roles.count("heldout") >= 3
        assert any("rho_mnist" in p.mixture for p in config.points)
    assert any("noise_mnist" in p.mixture for p in default_config(False).points)


def test_sweep_point_rejects_unknown_role():
    with pytest.raises(ValueError, match="role"):
        SweepPoint("x", "train", {})


@pytest.mark.slow  # ~75 CPU-seconds: procedural sources, three trainings, the fit
def test_tiny_pipeline_writes_report_figures_store_and_summary(tmp_path, monkeypatch):
    monkeypatch.delenv("DOMINOES_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no real data: the offline default
    points = tuple(
        SweepPoint(n, r, prevalence(x))
        for n, r, x in (("a", "heldout", 0.25), ("b", "fit", 1.0), ("c", "heldout", 4.0))
    )
    train = {
        "net": "cnn",
        "width": 4,
        "lr": 0.05,
        "batch_size": 32,
        "steps": 40,
        "eval_every": 1000,
        "log_evals": 6,
        "eval_cap": 100,
        "device": "cpu",
    }
    config = ValidateConfig(
        points, (0,), train, n_max=200, n_test=100, theory_chains=4, base_mixture={"procedural_per_class": 60}
    )
    summary = run_validation(config, tmp_path / "out", log=lambda m: None, progress=False)
    out = tmp_path / "out"
    for name in ("report.md", "curves.png", "learning_times.png", "summary.json", "runs.sqlite"):
        assert (out / name).stat().st_size > 0
    saved = json.loads((out / "summary.json").read_text())
    assert set(METRICS) <= set(saved) and saved["n_sweep_points"] == 3
    assert "procedural" in saved["data_source"] and saved["real_data"] is False
    with sqlite3.connect(out / "runs.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0] == 3
    # a rerun reads every point back from the store instead of training again
    again = run_validation(config, out, log=lambda m: None, progress=False)
    assert all(p["reused"] for p in again["points"].values())
    assert again["learning_times"] == summary["learning_times"]


@pytest.mark.slow
def test_validate_quick_end_to_end(tmp_path):
    env_out = tmp_path / "quick"
    proc = subprocess.run(
        [sys.executable, "-m", "dominoes", "validate", "--quick", "--out", str(env_out), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = json.loads(proc.stdout)
    summary = json.loads((env_out / "summary.json").read_text())
    for key in METRICS:
        assert summary[key] is not None and math.isfinite(summary[key]), key
    assert printed["n_sweep_points"] == summary["n_sweep_points"]
    for name in ("report.md", "curves.png", "learning_times.png", "runs.sqlite"):
        assert (env_out / name).stat().st_size > 0
