"""Published md5 checksums of the dataset files, and a check that reports rather than crashes.

Values are the ones the dataset authors publish (MNIST, LeCun et al.; Fashion-MNIST, Xiao et al. 2017,
github.com/zalandoresearch/fashion-mnist; CIFAR-10, Krizhevsky 2009) and that common loaders verify.
A file that differs (e.g. a CIFAR ``test_batch`` rebuilt from JPEG copies) is reported as a note: its
contents may still be usable, and the caller decides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MD5: dict[str, dict[str, str]] = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        # gunzipped test files (md5 of the raw IDX bytes)
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    },
    "cifar10": {
        "cifar-10-python.tar.gz": "c58f30108f718f92721af3b95e74349a",
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
        "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
    },
}


def md5_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ChecksumReport:
    """The outcome of checking one file: ``status`` is "ok", "mismatch" or "unknown" (no published value)."""

    path: str
    status: str
    expected: str | None
    actual: str

    @property
    def note(self) -> str:
        if self.status == "mismatch":
            return (f"{Path(self.path).name}: md5 {self.actual} differs from the published {self.expected} "
                    "(a rebuilt or modified copy; used as is)")
        return ""

    def to_dict(self) -> dict:
        return {"path": self.path, "status": self.status, "expected": self.expected, "actual": self.actual}


def check_file(dataset: str, path: str | Path) -> ChecksumReport:
    """Compare ``path``'s md5 with the published value for its file name in ``dataset``."""
    path = Path(path)
    expected = MD5.get(dataset, {}).get(path.name)
    actual = md5_file(path)
    if expected is None:
        status = "unknown"
    else:
        status = "ok" if actual == expected else "mismatch"
    return ChecksumReport(str(path), status, expected, actual)
