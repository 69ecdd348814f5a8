"""Reader for the IDX format of MNIST and Fashion-MNIST (gzipped or raw).

Format (LeCun et al., http://yann.lecun.com/exdb/mnist/): a 4-byte magic number ``0 0 T D`` where ``T``
codes the element type and ``D`` the number of dimensions, then ``D`` big-endian uint32 sizes, then the
elements in row-major order, big-endian.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

_GZIP_MAGIC = b"\x1f\x8b"
_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
          0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx_bytes(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode an IDX byte string into an array of its declared shape (native byte order)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name}: not an IDX file (bad magic number {data[:4].hex()})")
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise ValueError(f"{name}: unknown IDX element type 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _TYPES[code]
    count = math.prod(shape)  # Python ints: np.prod would wrap around for a forged header
    if len(data) != header + count * dtype.itemsize:
        raise ValueError(f"{name}: IDX header declares shape {shape} "
                         f"({header + count * dtype.itemsize} bytes) but the file holds {len(data)} bytes")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file, gunzipping it when it starts with the gzip magic bytes (whatever its suffix)."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: corrupt gzip stream ({exc})") from None
    return read_idx_bytes(raw, str(path))
