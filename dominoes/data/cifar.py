"""Reader for CIFAR-10's "python version" batches, through a restricted unpickler.

A batch is a protocol-2 pickle of a dict with ``data`` (uint8, n × 3072, each row the 1024 red, 1024 green
and 1024 blue values of a 32×32 image, row-major), ``labels`` (list of ints) and ``batch_label``
(Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html). Pickle can run arbitrary code, so the
unpickler admits only the globals such a file needs to rebuild a numpy array; anything else is refused.
"""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path

import numpy as np

# The only globals a CIFAR batch references: numpy's array reconstructor (its module moved in numpy 2),
# the ndarray and dtype classes, and the codec Python 3 uses when it pickles bytes at protocol 2.
_ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
})


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only numpy-array globals; any other global raises ``UnpicklingError``."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}: a CIFAR batch holds only "
                                         "numpy arrays, lists, ints, bytes and strings")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core alias under numpy 2
            return super().find_class(module, name)


def restricted_loads(data: bytes):
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (latin1 decoding of Python-2 strings)."""
    return RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


def _load(path: Path):
    """Restricted-unpickle the file at ``path``; a refused, truncated or garbled pickle is a ValueError."""
    try:
        return restricted_loads(path.read_bytes())
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            UnicodeDecodeError) as exc:
        reason = str(exc) or type(exc).__name__
        raise ValueError(f"{path}: not a readable CIFAR-10 pickle ({reason})") from None


def _key(d: dict, name: str):
    for key in (name, name.encode()):
        if key in d:
            return d[key]
    raise KeyError(name)


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read one batch: images uint8 (n, 3, 32, 32) in CHW order, labels int64 (n,)."""
    path = Path(path)
    batch = _load(path)
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a pickled dict, got {type(batch).__name__}")
    try:
        data, labels = _key(batch, "data"), _key(batch, "labels")
    except KeyError as exc:
        raise ValueError(f"{path}: CIFAR batch lacks the key {exc.args[0]!r}") from None
    try:
        data = np.asarray(data, dtype=np.uint8)
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{path}: CIFAR batch data or labels are not arrays of integers ({exc})") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ValueError(f"{path}: expected data (n, 3072) and n labels, got {data.shape} and {labels.shape}")
    return np.ascontiguousarray(data.reshape(-1, 3, 32, 32)), labels


def read_label_names(path: str | Path) -> tuple[str, ...]:
    """The class names from ``batches.meta``."""
    path = Path(path)
    meta = _load(path)
    try:
        names = _key(meta, "label_names")
        return tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names)
    except (KeyError, TypeError, UnicodeDecodeError) as exc:
        reason = type(exc).__name__
        raise ValueError(f"{path}: expected a dict with a list 'label_names' ({reason})") from None
