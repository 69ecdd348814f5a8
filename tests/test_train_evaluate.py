"""Per-split metrics: AUC against its definition, cross-entropy and accuracy against closed forms."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from dominoes.evaluate import auc, evaluate, logits_on, metrics_from_logits


def auc_by_pairs(scores, positive):
    """P(score of a positive > score of a negative) + ½ P(tie), by counting all pairs."""
    pos, neg = scores[positive], scores[~positive]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (len(pos) * len(neg))


@given(st.lists(st.tuples(st.integers(-3, 3), st.booleans()), min_size=2, max_size=40))
def test_auc_equals_the_pair_counting_definition(pairs):
    scores = np.array([p[0] for p in pairs], dtype=float)  # small integers: many ties
    positive = np.array([p[1] for p in pairs])
    if positive.all() or not positive.any():
        assert math.isnan(auc(scores, positive))
    else:
        assert auc(scores, positive) == pytest.approx(auc_by_pairs(scores, positive), abs=1e-12)


def test_auc_of_perfect_reversed_and_constant_scores():
    positive = np.array([False, False, True, True])
    assert auc(np.array([0.1, 0.2, 0.8, 0.9]), positive) == 1.0
    assert auc(np.array([0.9, 0.8, 0.2, 0.1]), positive) == 0.0
    assert auc(np.zeros(4), positive) == 0.5


@given(st.integers(2, 12), st.integers(1, 30))
def test_uniform_logits_have_loss_log_c(n_classes, n):
    labels = torch.arange(n) % n_classes
    metrics = metrics_from_logits(torch.zeros(n, n_classes), labels)
    assert metrics["loss"] == pytest.approx(math.log(n_classes), rel=1e-12)
    # argmax of ties is class 0: accuracy is the fraction of label-0 examples
    assert metrics["accuracy"] == pytest.approx(float((labels == 0).double().mean()))


def test_accuracy_counts_argmax_hits_and_auc_only_for_two_classes():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, -1.0], [0.0, 5.0]])
    m = metrics_from_logits(logits, torch.tensor([0, 1, 1, 1]))
    assert m["accuracy"] == 0.75
    # positives score 1, -4, 5; the negative scores -2: pairs won 2 of 3
    assert m["auc"] == pytest.approx(2 / 3)
    three = metrics_from_logits(torch.zeros(3, 3), torch.tensor([0, 1, 2]))
    assert set(three) == {"loss", "accuracy"}
    one_class = metrics_from_logits(logits, torch.tensor([1, 1, 1, 1]))
    assert "auc" not in one_class  # undefined, so not recorded


def test_chunked_logits_equal_one_pass_and_evaluate_restores_training_mode():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 64 * 32, 3))
    images = torch.randint(0, 256, (11, 3, 64, 32), dtype=torch.uint8)
    with torch.no_grad():
        whole = net(images.float() / 255)
    torch.testing.assert_close(logits_on(net, images, batch_size=4), whole)
    net.train()
    out = evaluate(net, {"a": (images, torch.zeros(11, dtype=torch.int64))}, batch_size=5)
    assert net.training and set(out["a"]) == {"loss", "accuracy"}
