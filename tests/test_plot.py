"""Plots: the zero set is where the mathematics puts it; profiles and overlays draw the given data."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from slt import library, plot  # noqa: E402
from slt.cli import main  # noqa: E402
from slt.potential import Potential  # noqa: E402


def _red_dots(ax):
    lines = ax.get_lines()
    return [line.get_xydata()[0] for line in lines if line.get_marker() == "o" and line.get_color() == "red"]


def _zero_curve_vertices(ax):
    sets = [c for c in ax.collections if hasattr(c, "get_paths") and c.get_linewidths()[0] == 1.5]
    return np.concatenate([p.vertices for c in sets for p in c.get_paths() if len(p.vertices)])


def test_line_dot_zero_set_is_the_line_x_equals_1_and_the_origin():
    fig = plot.landscape(library.get("line_dot").potential)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    V = _zero_curve_vertices(ax)
    np.testing.assert_allclose(V[:, 0], 1.0, atol=1e-9)  # the red curve is the line x = 1
    dots = _red_dots(ax)
    assert len(dots) == 1 and np.allclose(dots[0], [0, 0], atol=1e-4)  # the isolated zero: the dot
    plt.close(fig)


def test_cusp_zero_set_lies_on_x2_equals_y3():
    fig = plot.landscape(Potential("(x**2 - y**3)**2"))
    V = _zero_curve_vertices(fig.axes[0])
    assert len(V) > 10
    np.testing.assert_allclose(np.abs(V[:, 0]), np.clip(V[:, 1], 0, None) ** 1.5, atol=2e-2)
    plt.close(fig)


def test_isolated_zeros_of_an_irreducible_factor_are_all_found():
    fig = plot.landscape(Potential("(x**2 - 1/4)**2 + y**2"))  # zeros at (±1/2, 0)
    dots = sorted(tuple(np.round(d, 4)) for d in _red_dots(fig.axes[0]))
    assert dots == [(-0.5, 0.0), (0.5, 0.0)]
    plt.close(fig)


def test_profile_draws_k_along_the_line():
    K = Potential("(x - 1)**2*(x**2 + y**2)**4")
    fig = plot.profile(K, center={"x": 0, "y": "1/2"}, direction=[1, 0], bounds=(-1, 1), resolution=11)
    t, k = fig.axes[0].get_lines()[0].get_xydata().T
    np.testing.assert_allclose(k, (t - 1) ** 2 * (t**2 + 0.25) ** 4, rtol=1e-13)
    plt.close(fig)
    fig = plot.profile(Potential("x**4"))
    t, k = fig.axes[0].get_lines()[0].get_xydata().T
    assert t[0] == pytest.approx(-1.2) and t[-1] == pytest.approx(1.2)  # prior box ± 10 %
    np.testing.assert_allclose(k, t**4, rtol=1e-13)
    plt.close(fig)


def test_overlay_points_and_trajectories():
    fig = plot.landscape(Potential("x**2 + y**2"), zero_set=False)
    ax = fig.axes[0]
    before = len(ax.get_lines())
    plot.overlay(ax, np.zeros((7, 2)), label="points")
    assert ax.collections[-1].get_offsets().shape == (7, 2)
    traj = np.cumsum(np.ones((10, 3, 2)) * 0.01, axis=0)
    plot.overlay(ax, traj, label="chains")
    lines = ax.get_lines()[before:]
    assert len(lines) == 3 * 3  # a line, a start and an end marker per chain
    np.testing.assert_array_equal(lines[0].get_xydata(), traj[:, 0, :])
    with pytest.raises(ValueError, match="shape"):
        plot.overlay(ax, np.zeros((4, 3)))
    plt.close(fig)


def test_landscape_needs_two_variables_and_valid_bounds():
    with pytest.raises(ValueError, match="2 variables"):
        plot.landscape(Potential("x*y*z"))
    with pytest.raises(ValueError, match="bounds"):
        plot.landscape(Potential("x*y"), bounds=((1, 0), (0, 1)))


def test_cli_show_writes_a_png(tmp_path, capsys):
    out = tmp_path / "K.png"
    assert main(["show", "(x-1)**2*(x**2+y**2)**4", "--at", "x=1,y=3/10", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["show", "x*y*z", "--plot", str(tmp_path / "no.png")]) == 2
    assert "1 or 2 variables" in capsys.readouterr().err
    assert not (tmp_path / "no.png").exists()
