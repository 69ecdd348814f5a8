"""Per-split evaluation: cross-entropy loss, accuracy, and ROC AUC for the binary task.

* loss — mean cross-entropy −(1/n) Σ log softmax(z_i)[y_i] (natural log, nats per example);
* accuracy — (1/n) #{i : argmax z_i = y_i} (ties go to the lowest class index, as in ``torch.argmax``);
* auc (2 classes only) — the probability that a random positive (y = 1) scores above a random negative, ties
  counting one half, with score z_i[1] − z_i[0]. Computed from ranks as the Mann–Whitney statistic,
  AUC = (R₊ − n₊(n₊+1)/2) / (n₊ n₋) with R₊ the sum of the positives' mid-ranks (Hanley & McNeil 1982,
  Radiology 143:29). Left out for a split that has only one class (where it is undefined).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

METRICS = ("loss", "accuracy")


def mid_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values`` (n,), tied values sharing the mean of their ranks."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts  # how many values are strictly smaller than each distinct value
    return (below + (counts + 1) / 2.0)[inverse]


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of real ``scores`` (n,) for boolean ``positive`` (n,) (mid-rank Mann–Whitney formula above)."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = mid_ranks(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def metrics_from_logits(logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Loss, accuracy (and auc when there are 2 classes) of ``logits`` (n, C) against ``labels`` (n,)."""
    logits = logits.detach().to(torch.float64)
    labels = labels.detach().to(logits.device)
    out = {
        "loss": float(torch.nn.functional.cross_entropy(logits, labels)),
        "accuracy": float((logits.argmax(dim=-1) == labels).to(torch.float64).mean()),
    }
    if logits.shape[-1] == 2:
        positive = (labels == 1).cpu().numpy()
        if 0 < positive.sum() < len(positive):  # AUC is undefined on a one-class split: no row then
            out["auc"] = auc((logits[:, 1] - logits[:, 0]).cpu().numpy(), positive)
    return out


@torch.no_grad()
def logits_on(forward: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor,
              batch_size: int = 1000) -> torch.Tensor:
    """Logits of ``forward`` on uint8 ``images`` (n, 3, 64, 32), in chunks converted to float in [0, 1].

    ``forward`` may return (B, C) or, for an ensemble, (E, B, C); the chunks are joined along the batch axis,
    giving (n, C) or (E, n, C).
    """
    starts = range(0, len(images), batch_size)
    chunks = [forward(images[i:i + batch_size].float().div_(255.0)) for i in starts]
    return torch.cat(chunks, dim=-2)


def evaluate(model: torch.nn.Module, splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
             batch_size: int = 1000) -> dict[str, dict[str, float]]:
    """Metrics of ``model`` on each split: ``{name: {"loss", "accuracy"[, "auc"]}}``.

    ``splits`` maps a name to (uint8 images (n, 3, 64, 32), int64 labels (n,)) on the model's device.
    """
    was_training = model.training
    model.eval()
    try:
        return {name: metrics_from_logits(logits_on(model, x, batch_size), y)
                for name, (x, y) in splits.items()}
    finally:
        model.train(was_training)
