"""The ``slt phases`` and ``slt dynamics`` commands."""

import json

import pytest

from slt.cli import main


def test_phases_json_has_basins_and_transitions(capsys, tmp_path):
    png = tmp_path / "phases.png"
    code = main(
        [
            "phases",
            "two_basin",
            "--basin",
            "accurate:x=1,y=0",
            "--basin",
            "simple:x=-1,y=0",
            "--n-range",
            "3e3:1.5e4",
            "--points",
            "4",
            "--json",
            "--plot",
            str(png),
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    basins = {b["name"]: b for b in out["basins"]}
    assert basins["accurate"]["lambda"] == "1" and basins["simple"]["lambda"] == "1/2"
    assert basins["simple"]["loss"] == pytest.approx(1e-3) and basins["accurate"]["m"] == 1
    (t,) = out["transitions"]
    assert (t["from"], t["to"]) == ("simple", "accurate")
    assert abs(t["measured_n_c"] / t["predicted_n_c"] - 1) < 0.15
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_phases_predict_only_for_a_formula(capsys):
    code = main(
        [
            "phases",
            "x**2*(x-1)**4 + y**2",
            "--box=-2:2",
            "--basin",
            "left:x=0,y=0",
            "--basin",
            "right:x=1,y=0",
            "--measure",
            "none",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "lambda = 1," in out and "lambda = 3/4" in out  # regular at 0; (x−1)⁴ + y² at 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["phases", "two_basin", "--basin", "nocolon"], "NAME:"),
        (["phases", "two_basin", "--n-range", "1e5:10"], "LOW < HIGH"),
        (["phases", "two_basin", "--basin", "a:x=1,y=0", "--basin", "a:x=-1,y=0"], "share a name"),
        (["phases", "two_basin", "--basin", "a:q=1"], "unknown"),
        (["dynamics", "two_basin"], "--basin"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_dynamics_json(capsys):
    code = main(
        [
            "dynamics",
            "two_basin",
            "--basin",
            "accurate:x=1,y=0",
            "--basin",
            "simple:x=-1,y=0",
            "--chains",
            "32",
            "--steps",
            "2000",
            "--step-size",
            "1e-4",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert sum(out["final_occupancy"].values()) == pytest.approx(1)
    assert len(out["occupancy"]) == len(out["time"])
