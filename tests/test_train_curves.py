"""Curve tables and figures: pivoting, first-crossing steps, the log-step plot."""

import math

import matplotlib.pyplot as plt  # conftest selects the Agg backend
import pandas as pd
import pytest

from dominoes.curves import plot_curve_grid, plot_curves, time_to, wide


def logistic_curves():
    """Two patterns learned along p(t) = 1/(1 + exp(-(t - b)/4)) with b = 10 (mnist) and b = 40 (cifar)."""
    rows = []
    for step in (0, 1, 2, 5, 10, 20, 40, 80):
        for split, b in (("mnist_only", 10), ("cifar_only", 40)):
            p = 1 / (1 + math.exp(-(step - b) / 4))
            rows += [(step, split, "accuracy", p), (step, split, "loss", -math.log(max(p, 1e-12)))]
    return pd.DataFrame(rows, columns=["step", "split", "metric", "value"])


def test_wide_pivots_one_metric_with_sorted_steps():
    table = wide(logistic_curves().sample(frac=1, random_state=0), "accuracy")
    assert list(table.index) == [0, 1, 2, 5, 10, 20, 40, 80]
    assert list(table.columns) == ["mnist_only", "cifar_only"]
    assert table.loc[10, "mnist_only"] == pytest.approx(0.5)
    assert table.loc[40, "cifar_only"] == pytest.approx(0.5)


def test_time_to_is_the_first_evaluation_at_the_level():
    curves = logistic_curves()
    # p(t) >= 1/2 exactly from t = b on; the first evaluation steps at or after b are 10 and 40
    assert time_to(curves, "mnist_only", 0.5) == 10
    assert time_to(curves, "cifar_only", 0.5) == 40
    assert time_to(curves, "cifar_only", 0.99999) is None  # p(80) = 1 - 4.5e-5
    # losses fall: the level is reached when the loss is at or below it
    assert time_to(curves, "mnist_only", 0.7, metric="loss") == 10  # -log(1/2) = 0.693 <= 0.7 at t = 10
    with pytest.raises(ValueError, match="no split"):
        time_to(curves, "both", 0.5)
    with pytest.raises(ValueError, match="auc"):
        wide(curves, "auc")


def test_plots_use_a_symlog_step_axis_and_one_line_per_split():
    curves = logistic_curves()
    fig = plot_curves(curves, "accuracy", title="t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "symlog" and len(ax.lines) == 2
    plt.close(fig)
    grid = plot_curve_grid({"a": curves, "b": curves, "c": curves, "d": curves}, ncols=3)
    assert sum(ax.get_visible() for ax in grid.axes) == 4
    plt.close(grid)
    with pytest.raises(ValueError, match="not in the curves"):
        plot_curves(curves, splits=["both"])
