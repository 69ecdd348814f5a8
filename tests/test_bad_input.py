"""Hostile and malformed input: a one-line ValueError (exit status 2) each time, never a hang or traceback."""

import gzip
import pickle

import numpy as np
import pytest

from dominoes.cli import main as dominoes_main
from dominoes.data.cifar import read_cifar_batch, read_label_names
from dominoes.data.idx import read_idx_bytes
from dominoes.data.locate import Located, search_roots
from dominoes.data.sources import load_real
from dominoes.mixture import MixtureSpec
from slt.cli import main as slt_main
from slt.clikit import check_output_path
from slt.parsing import MAX_TERMS, expansion_size_bound, parse_expression, parse_number
from slt.potential import Potential
from slt.rlct import rlct


# --- numbers and points whose exact evaluation would never finish ------------------------------------------
@pytest.mark.parametrize("text", ["exp(exp(exp(100)))", "10**1000", "sin(exp(exp(100)))"])
def test_point_value_beyond_double_range_is_refused_not_evaluated(text):
    with pytest.raises(ValueError, match="too large"):
        parse_number(text, "coordinate x")


@pytest.mark.parametrize(
    "formula, point",
    [("exp(exp(exp(x)))", {"x": 100}), ("2**x", {"x": 5000}), ("x**999*y**999", {"x": 9, "y": 9})],
)
def test_potential_overflowing_at_the_point_is_refused(formula, point):
    K = Potential(formula)
    for evaluate in (K, K.exact_value, K.gradient_at, K.hessian_at):
        with pytest.raises(ValueError, match="too large"):
            evaluate(point)


def test_ordinary_points_still_evaluate_exactly():
    K = Potential("exp(x) - 1")
    assert K({"x": 0}) == 0.0 and float(K.exact_value({"x": "log(2)"})) == 1.0
    assert parse_number("sqrt(2)/2") == parse_expression("sqrt(2)/2")


# --- formulas whose expansion would never finish ----------------------------------------------------------
def test_expansion_bound_is_an_upper_bound_and_catches_big_powers():
    assert expansion_size_bound(parse_expression("(x+y)**3")) >= 4
    assert expansion_size_bound(parse_expression("x**1000*y**1000")) == 1
    assert expansion_size_bound(parse_expression("(x+y+z+w)**1000")) > MAX_TERMS


def test_hessian_of_a_huge_power_skips_the_expansion():
    H = Potential("(x+y+z+w)**1000").hessian_at()
    assert H.shape == (4, 4) and not H.any()


def test_rlct_refuses_a_potential_that_expands_to_too_many_monomials():
    with pytest.raises(ValueError, match="monomials"):
        rlct("(x+y+z+w)**1000")
    with pytest.raises(ValueError, match="monomials"):
        rlct("(x**1000*y**1000*z**1000*w**1000 - 1)**2", at={"x": 1, "y": 1, "z": 1, "w": 1})


def test_rlct_refuses_an_absurd_taylor_order():
    with pytest.raises(ValueError, match="taylor_order=1000 is too high"):
        rlct("exp(x) - 1 - x", taylor_order=1000)


# --- output paths -----------------------------------------------------------------------------------------
def test_output_path_checks(tmp_path):
    (tmp_path / "file").write_text("")
    for bad, message in [
        ("", "empty"),
        (tmp_path, "is a folder"),
        (f"{tmp_path}/sub/", "is a folder"),
        (tmp_path / "noext", "extensions"),
        (tmp_path / "file" / "k.png", "not a folder"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_output_path(bad, "--plot")
    assert check_output_path(tmp_path / "new" / "k.png") == tmp_path / "new" / "k.png"


def test_show_plot_into_a_file_as_folder_is_one_line_error(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert slt_main(["show", "x**2*y**2", "--plot", str(tmp_path / "file" / "k.png")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_build_checks_the_preview_path_before_building(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for bad in (str(tmp_path / "file" / "p.png"), str(tmp_path), ""):
        assert dominoes_main(["build", "--preview", bad, "--data-dir", str(tmp_path)]) == 2
        assert "--preview" in capsys.readouterr().err


def test_library_with_an_empty_name_is_an_error(capsys):
    assert slt_main(["library", ""]) == 2
    assert "no library entry named ''" in capsys.readouterr().err


# --- mixture dials ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(noise_mnist=float("inf")), "noise_mnist must be a finite number"),
        (dict(label_shift=(float("nan"),) + (1.0,) * 9), "label_shift"),
        (dict(label_shift=(float("inf"),) + (1.0,) * 9), "label_shift"),
        (dict(procedural_per_class=10**8), "procedural_per_class"),
        (dict(n_test=10**9), "n_test"),
    ],
)
def test_mixture_refuses_non_finite_dials_and_absurd_sizes(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixtureSpec(**kwargs)


def test_negative_seed_is_named_in_the_error():
    from dominoes.mixture import build

    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        build(MixtureSpec(), seed=-1)


# --- data folders and files -------------------------------------------------------------------------------
def test_explicit_data_folder_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        search_roots(tmp_path / "typo")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="not a folder"):
        search_roots(tmp_path / "file")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "Ran out of input"),
        (b"garbage", "not a readable"),
        (pickle.dumps(_Evil(), protocol=2), "refusing"),
    ],
)
def test_corrupt_or_hostile_cifar_pickles_are_value_errors(tmp_path, content, message):
    path = tmp_path / "batch"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_cifar_batch(path)
    with pytest.raises(ValueError, match=message):
        read_label_names(path)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def test_idx_forged_header_reports_the_true_size():
    with pytest.raises(ValueError, match=r"\(79228162458924105385300197391 bytes\)"):
        read_idx_bytes(b"\x00\x00\x08\x03" + b"\xff" * 12)


def test_labels_out_of_range_and_wrong_image_size_are_refused(tmp_path):
    files = {"test_images": tmp_path / "i.gz", "test_labels": tmp_path / "l.gz"}
    files["test_images"].write_bytes(_idx(np.zeros((4, 28, 28))))
    files["test_labels"].write_bytes(_idx(np.array([0, 1, 2, 200])))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9"):
        load_real(Located("mnist", tmp_path, files))
    files["test_images"].write_bytes(_idx(np.zeros((4, 5, 5))))
    files["test_labels"].write_bytes(_idx(np.array([0, 1, 2, 3])))
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        load_real(Located("mnist", tmp_path, files))
    batch = tmp_path / "test_batch"
    batch.write_bytes(pickle.dumps({"data": np.zeros((3, 3072), np.uint8), "labels": [0, 99, 1]}, protocol=2))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9"):
        load_real(Located("cifar10", tmp_path, {"test_batch": batch}))


# --- download ---------------------------------------------------------------------------------------------
def test_download_failure_is_one_line_not_a_traceback(tmp_path, capsys):
    mirror = (tmp_path / "empty").as_uri()
    status = dominoes_main(
        ["download", "mnist", "--root", str(tmp_path / "dl"), "--mirror", mirror, "--retries", "0"]
    )
    err = capsys.readouterr().err
    assert status == 1 and err.startswith("dominoes download: error:") and err.count("\n") == 1
    assert dominoes_main(["download", "mnist", "--retries", "1000000000"]) == 2


# --- messages and plots -----------------------------------------------------------------------------------
def test_deeply_nested_formula_gets_a_reason_and_a_short_echo():
    with pytest.raises(ValueError, match="nested too deeply") as info:
        parse_expression("x" + "**x" * 3000)
    assert len(str(info.value)) < 200


def test_plot_grid_through_a_pole_warns_nothing():
    import warnings

    from slt import plot

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot.profile(Potential("sqrt(x) + log(x**2)"), center={"x": 1})  # nan for x < 0


@pytest.mark.parametrize(
    "prior", [dict(high=float("inf")), dict(low=float("nan")), dict(kind="gaussian", scale=float("inf"))]
)
def test_scalar_prior_bounds_must_be_finite(prior):
    from slt.potential import Prior

    with pytest.raises(ValueError, match="must be finite"):
        Potential("x**2", prior=Prior(**prior))


def test_library_names_are_potentials_not_variables_at_the_cli(capsys):
    import json

    from slt.cli import main

    assert main(["rlct", "line_dot_line", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["lambda"], out["m"], out["exact"]) == ("1/2", 1, True)  # Lau et al. 2023, on the line


def test_llc_warns_at_a_point_that_is_not_critical():
    import slt

    result = slt.llc("x + y**2", steps=200, chains=4, pilot_steps=100)
    assert any("not a critical point" in w for w in result.diagnostics.warnings)
