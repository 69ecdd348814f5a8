"""Fitting and agreement metrics of the bridge, and the phenomenological sigmoid model."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dominoes.bridge.curves import MeasuredCurves, learning_time
from dominoes.bridge.fit import agreement, curve_r2, fit_constants, predict, relative_error
from dominoes.bridge.sigmoid import fit_pattern_model, fit_sigmoid, sigmoid
from dominoes.bridge.theory import PatternPoint, SourceConstants, TheoryConstants


@given(t_half=st.floats(10.0, 5000.0), a0=st.floats(0.0, 0.3), gain=st.floats(0.1, 0.6))
def test_learning_time_of_a_log_linear_ramp_is_exact(t_half, a0, gain):
    # accuracy linear in log(1 + step) between evaluations: interpolation there is exact
    steps = np.unique(np.round(np.geomspace(1, 40 * t_half, 30)))
    steps = np.concatenate([[0.0], steps])
    x, x_half = np.log1p(steps), np.log1p(t_half)
    acc = a0 + gain * np.clip(0.5 + (x - x_half) / 4.0, 0.0, 1.0)
    acc[-1] = a0 + gain
    assert learning_time(steps, acc) == pytest.approx(t_half, rel=1e-9)


def test_learning_time_is_infinite_without_gain():
    assert learning_time([0, 10, 100], [0.1, 0.12, 0.11]) == float("inf")


@given(gamma=st.floats(0.3, 1.0), b=st.floats(100.0, 800.0), alpha=st.floats(0.01, 0.1))
def test_sigmoid_fit_recovers_exact_parameters(gamma, b, alpha):
    t = np.linspace(0.0, 1000.0, 60)
    fit = fit_sigmoid(t, sigmoid(t, gamma, alpha, b))
    assert fit.gamma == pytest.approx(gamma, rel=1e-3)
    assert fit.b == pytest.approx(b, rel=1e-3)
    assert fit.alpha == pytest.approx(alpha, rel=1e-2)
    assert fit.r2 > 0.9999


def test_pattern_model_predicts_both_split_as_union_of_patterns():
    # Davies et al. 2023: accuracy of data carrying both patterns is 1 − Π(1 − p_i)
    t = np.linspace(0.0, 1000.0, 50)
    p_m, p_c = sigmoid(t, 0.95, 0.05, 100.0), sigmoid(t, 0.5, 0.02, 500.0)
    chance = 0.1
    to_acc = lambda p: chance + (1 - chance) * p
    curves = MeasuredCurves(
        "x",
        t,
        {"mnist_only": to_acc(p_m), "cifar_only": to_acc(p_c), "both": to_acc(1 - (1 - p_m) * (1 - p_c))},
        {},
        1,
    )
    fit = fit_pattern_model(curves, 10)
    assert fit.r2_both > 0.9999
    assert fit.patterns["mnist"].b == pytest.approx(100.0, rel=1e-3)


def test_measured_curves_average_over_seeds_on_common_steps():
    def frame(values, steps):
        return pd.DataFrame(
            [(s, "mnist_only", "accuracy", v) for s, v in zip(steps, values, strict=True)],
            columns=["step", "split", "metric", "value"],
        )

    curves = MeasuredCurves.from_frames(
        "p", [frame([0.1, 0.5, 0.9], [0, 10, 20]), frame([0.3, 0.7], [0, 20])]
    )
    assert list(curves.steps) == [0, 20]
    assert np.allclose(curves.mean["mnist_only"], [0.2, 0.8])
    assert np.allclose(curves.sem["mnist_only"], [0.1, 0.1])


def test_relative_error_conventions():
    inf = float("inf")
    assert relative_error(inf, inf) == 0.0
    assert relative_error(10.0, inf) == inf
    assert relative_error(120.0, 100.0) == pytest.approx(0.2)
    assert curve_r2(
        [(np.array([1.0, 2.0]), np.array([1.0, 2.0])), (np.array([0.0, 2.0]), np.array([1.0, 1.0]))]
    ) == pytest.approx(1 - 2 / 2.5)


SWEEP = [
    PatternPoint("ratio=1", 0.25, 0.25, 0.25, 0.25),
    PatternPoint("ratio=4", 0.0, 0.75, 0.0, 0.25),
    PatternPoint("ratio=1/4", 0.0, 0.0, 0.75, 0.25),
    PatternPoint("rho_m=0.6", 0.25, 0.25, 0.25, 0.25, rho_mnist=0.6),
]
TRUE = TheoryConstants(
    30.0, 2e-3, {"mnist": SourceConstants(1.0, 0.97), "cifar": SourceConstants(0.35, 0.45)}, init_spread=0.1
)


def test_fit_recovers_constants_from_theory_generated_curves_and_predicts_heldout_points():
    steps = np.concatenate([[0.0], np.unique(np.round(np.geomspace(1, 3000, 25)))])
    shells = {p.name: MeasuredCurves(p.name, steps, {}, {}, 1) for p in SWEEP}
    truth = predict(SWEEP, TRUE, shells, chains=8)
    measured = {n: MeasuredCurves(n, steps, dict(pred.accuracy), {}, 1) for n, pred in truth.items()}

    fit = fit_constants(SWEEP, measured, ["ratio=1"], chains=8)
    assert fit.constants.tau == pytest.approx(30.0, rel=0.02)
    assert fit.constants.u0 == pytest.approx(2e-3, rel=0.05)
    assert fit.constants.sources["cifar"].sigma == pytest.approx(0.35, rel=0.02)
    assert fit.constants.sources["cifar"].ceiling == pytest.approx(0.45, abs=0.01)

    scores = agreement(measured, predict(SWEEP, fit.constants, measured, chains=8), ["ratio=1"])
    assert scores.n_heldout_points == 3
    assert scores.median_rel_error_learning_time < 0.03
    assert scores.spearman_learning_time == pytest.approx(1.0)
    assert scores.ordering_correct_fraction == 1.0
    assert scores.curve_r2_heldout > 0.99
