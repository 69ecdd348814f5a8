"""Training loop: evaluation schedule, exact curve bookkeeping, determinism, learning a planted pattern."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dominoes.dataset import BOTH, EVAL_SPLITS, IMAGE_SHAPE, DominoData, DominoSet
from dominoes.nets import build_net
from dominoes.train import TrainConfig, eval_steps, learning_rate, train

torch.set_num_threads(1)


def planted_set(n: int, n_classes: int, rng: np.random.Generator, labels=None) -> DominoSet:
    """Noise images whose MNIST half carries the label as a bright 8×8 block in column-block ``label``."""
    labels = rng.integers(0, n_classes, n) if labels is None else np.asarray(labels)
    images = rng.integers(0, 60, (n, *IMAGE_SHAPE), dtype=np.uint8)
    for i, y in enumerate(labels):
        r, c = divmod(int(y), 4)
        images[i, :, 8 * r:8 * r + 8, 8 * c:8 * c + 8] = 255
    minus = -np.ones(n, dtype=np.int64)
    labels = labels.astype(np.int64)
    return DominoSet(images, labels, np.full(n, BOTH, dtype=np.int8), labels, labels, minus, minus)


def tiny_data(n_train=96, n_eval=40, n_classes=2, seed=0) -> DominoData:
    rng = np.random.default_rng(seed)
    evals = {name: planted_set(n_eval, n_classes, rng) for name in EVAL_SPLITS}
    return DominoData(planted_set(n_train, n_classes, rng), evals, "synthetic (tests)", n_classes)


FAST = dict(net="mlp", width=16, depth=1, batch_size=16, eval_every=5, log_evals=4, device="cpu")


@given(st.integers(1, 5000), st.integers(1, 700), st.integers(0, 30))
def test_eval_steps_hold_start_end_period_and_log_points(steps, every, n_log):
    points = eval_steps(steps, every, n_log)
    assert points == sorted(set(points))
    assert points[0] == 0 and points[-1] == steps
    assert set(range(every, steps + 1, every)) <= set(points)
    if n_log >= 2:
        assert 1 in points  # the log schedule starts at step 1, where transitions begin
    assert len(points) <= 2 + steps // every + n_log


def test_cosine_schedule_endpoints_and_midpoint():
    config = TrainConfig(lr=0.2, steps=100, schedule="cosine")
    assert learning_rate(config, 0) == pytest.approx(0.2)
    assert learning_rate(config, 50) == pytest.approx(0.1)
    assert learning_rate(config, 100) == pytest.approx(0.0, abs=1e-15)
    assert learning_rate(TrainConfig(lr=0.2), 77) == 0.2


@pytest.mark.parametrize("bad", [dict(net="vit"), dict(optimizer="rmsprop"), dict(schedule="step"),
                                 dict(lr=-1.0), dict(lr=math.nan), dict(momentum=1.0), dict(steps=0),
                                 dict(batch_size=0), dict(eval_cap=0), dict(log_evals=-1)])
def test_bad_config_raises_value_error_naming_the_field(bad):
    (field,) = bad
    with pytest.raises(ValueError, match=field):
        TrainConfig(**bad)


def test_curve_bookkeeping_is_exact_on_a_frozen_network():
    """With lr = 0 the network stays at its initialisation, so every recorded value is known in advance.

    Split labels are rigged from the initial network: "both" uses its own predictions (accuracy exactly 1),
    "cifar_only" the other class (accuracy exactly 0); loss is checked against a float64 recomputation.
    """
    data = tiny_data()
    config = TrainConfig(**FAST, lr=0.0, steps=12, seed=3)
    net = build_net("mlp", 2, width=16, depth=1, seed=3)

    def predictions(dset):
        with torch.no_grad():
            return net(torch.from_numpy(dset.images).float() / 255).argmax(1).numpy()

    evals = dict(data.evals)
    evals["both"] = replace(evals["both"], labels=predictions(evals["both"]))
    evals["cifar_only"] = replace(evals["cifar_only"], labels=1 - predictions(evals["cifar_only"]))
    data = replace(data, evals=evals)

    result = train(data, config, progress=False)
    curves = result.curves
    steps = eval_steps(12, 5, 4)
    splits = {"train", *EVAL_SPLITS}
    # one row per (step, split, metric), nothing missing, nothing twice
    assert len(curves) == len(steps) * len(splits) * 3
    assert not curves.duplicated(["step", "split", "metric"]).any()
    assert sorted(curves.step.unique()) == steps
    assert set(curves.split) == splits and set(curves.metric) == {"loss", "accuracy", "auc"}
    acc = curves[curves.metric == "accuracy"].pivot(index="step", columns="split", values="value")
    assert (acc["both"] == 1.0).all() and (acc["cifar_only"] == 0.0).all()
    # a frozen network: every step records the same value, equal to an independent float64 computation
    for split in splits:
        dset = data.train if split == "train" else data.evals[split]
        with torch.no_grad():
            logits = net(torch.from_numpy(dset.images).float() / 255).double().numpy()
        logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        ref = -logp[np.arange(len(dset)), dset.labels].mean()
        losses = curves[(curves.split == split) & (curves.metric == "loss")].value.to_numpy()
        np.testing.assert_allclose(losses, ref, rtol=1e-6)
        assert result.final[split]["loss"] == pytest.approx(ref, rel=1e-6)


def test_eval_cap_uses_the_same_fixed_subset_at_every_step():
    data = tiny_data(n_eval=40)
    result = train(data, TrainConfig(**FAST, lr=0.0, steps=5, eval_cap=7), progress=False)
    acc = result.curves[result.curves.metric == "accuracy"]
    # accuracies on a 7-example subset are multiples of 1/7, and identical across steps of a frozen net
    assert np.allclose((acc.value * 7) % 1, 0) | np.allclose((acc.value * 7) % 1, 1)
    assert acc.groupby("split").value.nunique().max() == 1


def test_same_seed_same_curves_and_other_seed_differs():
    data = tiny_data()
    config = TrainConfig(**FAST, steps=10, seed=5)
    a = train(data, config, progress=False)
    b = train(data, config, progress=False)
    c = train(data, TrainConfig(**{**FAST, "seed": 6}, steps=10), progress=False)
    assert a.curves.equals(b.curves)
    assert not np.allclose(a.curves.value, c.curves.value)


@pytest.mark.parametrize("net,width,classes,lr,steps", [("mlp", 32, 4, 0.1, 40), ("cnn", 8, 4, 3e-3, 40),
                                                       ("resnet", 4, 2, 3e-2, 40)])
def test_learns_a_planted_pattern(net, width, classes, lr, steps):
    """Classes marked by a bright block: every net separates them within a few dozen steps."""
    data = tiny_data(n_train=32 * classes, n_eval=32, n_classes=classes)
    optimizer = "sgd" if net == "mlp" else "adam"
    config = TrainConfig(net=net, width=width, optimizer=optimizer, lr=lr, batch_size=32, steps=steps,
                         eval_every=20, log_evals=0, device="cpu", seed=0)
    result = train(data, config, progress=False)
    assert result.final["both"]["accuracy"] == 1.0
    first = result.curves.query("step == 0 and split == 'train' and metric == 'loss'").value.item()
    assert result.final["train"]["loss"] < first / 4
    assert 0 <= result.eval_fraction < 1


def test_data_with_out_of_range_labels_is_rejected():
    data = tiny_data(n_classes=2)
    bad = replace(data, n_classes=1)
    with pytest.raises(ValueError, match="labels outside"):
        train(bad, TrainConfig(**FAST, steps=1), progress=False)

