"""The records that flow from the mixture builder to training: plain arrays, nothing hidden.

A domino is a 3×64×32 uint8 image: the MNIST-side half (rows 0–31) above the CIFAR-side half
(rows 32–63). A missing half is zeros. Images stay uint8 in memory and are converted to float in
[0, 1] per batch (:func:`to_float`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

HALF = 32
IMAGE_SHAPE = (3, 2 * HALF, HALF)

# kind codes for a domino
EMPTY, MNIST_ONLY, CIFAR_ONLY, BOTH = 0, 1, 2, 3
KIND_NAMES = {EMPTY: "empty", MNIST_ONLY: "mnist_only", CIFAR_ONLY: "cifar_only", BOTH: "both"}

# the names of the evaluation splits every mixture provides (shift splits are added when requested)
EVAL_SPLITS = ("both", "mnist_only", "cifar_only", "mnist_randomized", "cifar_randomized")


@dataclass(frozen=True)
class DominoSet:
    """A set of dominoes.

    Attributes
    ----------
    images : uint8 array (N, 3, 64, 32)
    labels : int64 array (N,) — the target class.
    kind : int8 array (N,) — EMPTY, MNIST_ONLY, CIFAR_ONLY or BOTH.
    mnist_class, cifar_class : int64 arrays (N,) — the class each half *shows*, −1 where absent.
        With reliability < 1 a half may show a wrong class; then ``mnist_class != labels``.
    mnist_index, cifar_index : int64 arrays (N,) — index of the source image used, −1 where absent
        (so tests can check that no source image is in both train and test).
    """

    images: np.ndarray
    labels: np.ndarray
    kind: np.ndarray
    mnist_class: np.ndarray
    cifar_class: np.ndarray
    mnist_index: np.ndarray
    cifar_index: np.ndarray

    def __post_init__(self):
        n = len(self.labels)
        if self.images.dtype != np.uint8 or self.images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"images must be uint8 of shape (N, 3, 64, 32), got {self.images.dtype} {self.images.shape}"
            )
        for name in ("images", "kind", "mnist_class", "cifar_class", "mnist_index", "cifar_index"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, labels has {n}")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> DominoSet:
        return DominoSet(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class DominoData:
    """A built mixture: the training set, named evaluation sets, and what was used to make them.

    ``evals`` always holds the splits of :data:`EVAL_SPLITS` (each built from held-out source images)
    and may hold shift splits (``covariate``, ``label_shift``, ``concept``). ``source`` names the data
    in use (e.g. ``"mnist+cifar10 from ../shared/data"`` or ``"procedural (offline default)"``).
    ``info`` carries the solved fractions, counts and the spec, JSON-ready.
    """

    train: DominoSet
    evals: dict[str, DominoSet]
    source: str
    n_classes: int
    info: dict = field(default_factory=dict)


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1]."""
    return images.astype(np.float32) / 255.0
