"""Training checkpoints: written atomically, read back with ``torch.load(weights_only=True)``.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts (model and optimizer state dicts, the
step, RNG states, the curve rows so far). Writing goes to a temporary file in the same folder followed by
``os.replace``, so a reader — or a run resumed after SIGKILL — sees either the previous checkpoint or the new
one, never a torn file. Loading uses torch's restricted unpickler (``weights_only=True``): a checkpoint
cannot run code (design §3).
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from dominoes.store import atomic_write

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(path: str | Path, state: dict) -> Path:
    """Serialise ``state`` with ``torch.save`` and write it to ``path`` atomically; returns the path."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = Path(path)
    atomic_write(path, buffer.getvalue())
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (restricted unpickler: ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location=map_location, weights_only=True)
