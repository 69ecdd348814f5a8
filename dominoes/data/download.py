"""Explicit, checksum-verified downloads of MNIST, Fashion-MNIST and CIFAR-10 (never at import).

Each file is fetched to ``<name>.part`` beside its destination, resumed with an HTTP Range request when a
retry finds a partial file and the server supports it, verified against its published md5
(:mod:`dominoes.data.checksums`), then renamed into place with ``os.replace`` — so a destination file is
either complete and verified or absent. A checksum mismatch deletes the partial file and raises ValueError.
Layouts written: ``<root>/MNIST/raw/``, ``<root>/FashionMNIST/raw/`` (gzipped IDX files, as torchvision
does) and ``<root>/cifar-10-batches-py/`` (extracted from the official archive).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException, IncompleteRead
from pathlib import Path

from dominoes.data.checksums import MD5, md5_file
from dominoes.data.locate import cache_dir

_IDX = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
# dataset -> (mirrors in order of preference, sub-folder of root, files)
RESOURCES = {
    "mnist": (("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"),
              "MNIST/raw", _IDX),
    "fashion-mnist": (("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
                      "FashionMNIST/raw", _IDX),
    "cifar10": (("https://www.cs.toronto.edu/~kriz/",), ".", ("cifar-10-python.tar.gz",)),
}
_CHUNK = 1 << 16


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download` did: the folder holding the dataset, files fetched and files already there."""

    dataset: str
    folder: str
    fetched: tuple[str, ...]
    present: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "folder": self.folder, "fetched": list(self.fetched),
                "present": list(self.present)}


def _transient(exc: Exception) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    return isinstance(exc, OSError | HTTPException)  # URLError, refused or reset connections, timeouts


def _stream(url: str, part: Path, timeout: float) -> None:
    """Append to ``part`` from where it stops (Range request); restart it when the server ignores Range."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        mode = "ab" if have and response.status == 206 else "wb"
        length = response.headers.get("Content-Length")
        written = 0
        with open(part, mode) as out:
            while block := response.read(_CHUNK):
                out.write(block)
                written += len(block)
        # read(n) returns b"" on a dropped connection instead of raising: compare with the announced length
        if length is not None and written < int(length):
            raise IncompleteRead(b"", int(length) - written)


def fetch(url: str, dest: str | Path, md5: str, *, retries: int = 3, timeout: float = 60.0,
          backoff: float = 1.0) -> Path:
    """Download ``url`` to ``dest`` and verify its md5; retried ``retries`` times on transient errors.

    Raises ValueError on a checksum mismatch (the partial file is deleted) and OSError when every attempt
    fails. Returns ``dest``.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        for attempt in range(retries + 1):
            try:
                _stream(url, part, timeout)
                break
            except (OSError, HTTPException) as exc:
                if not _transient(exc) or attempt == retries:
                    raise OSError(f"download of {url} failed: {exc}") from exc
                time.sleep(backoff * 2 ** attempt)
        actual = md5_file(part)
        if actual != md5:
            raise ValueError(f"checksum mismatch for {url}: md5 {actual}, expected {md5}; nothing was kept")
        os.replace(part, dest)
        return dest
    finally:
        part.unlink(missing_ok=True)


def _extract_cifar(archive: Path, root: Path) -> None:
    """Extract the archive's ``cifar-10-batches-py/`` into ``root`` through a temporary folder."""
    with tempfile.TemporaryDirectory(dir=root) as tmp, tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        if not members or any(not m.name.startswith("cifar-10-batches-py") for m in members):
            raise ValueError(f"{archive}: unexpected archive contents (expected cifar-10-batches-py/)")
        tar.extractall(tmp, members=members, filter="data")
        target = root / "cifar-10-batches-py"
        if target.exists():
            shutil.rmtree(target)
        os.replace(Path(tmp) / "cifar-10-batches-py", target)


def download(dataset: str, root: str | Path | None = None, *, mirror: str | None = None, retries: int = 3,
             timeout: float = 60.0, checksums: dict[str, str] | None = None) -> DownloadResult:
    """Fetch ``dataset`` ("mnist", "fashion-mnist" or "cifar10") under ``root`` (default: the cache folder).

    ``mirror`` replaces the list of base URLs (e.g. a local server); ``checksums`` overrides the published
    md5 values (for tests with stand-in files). Files already present with the right md5 are kept.
    """
    if dataset not in RESOURCES:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(RESOURCES)}")
    mirrors, sub, files = RESOURCES[dataset]
    if mirror:
        mirrors = (mirror if mirror.endswith("/") else mirror + "/",)
    root = Path(root).expanduser() if root else cache_dir()
    folder = (root / sub).resolve()
    expected = {**MD5[dataset], **(checksums or {})}
    fetched, present = [], []
    for name in files:
        dest = folder / name
        if dest.exists() and md5_file(dest) == expected[name]:
            present.append(str(dest))
            continue
        errors = []
        for base in mirrors:
            try:
                fetch(base + name, dest, expected[name], retries=retries, timeout=timeout)
                fetched.append(str(dest))
                break
            except OSError as exc:
                errors.append(str(exc))
        else:
            raise OSError(f"could not download {name}: " + "; ".join(errors))
    if dataset == "cifar10":
        extracted = folder / "cifar-10-batches-py"
        if fetched or not (extracted / "test_batch").is_file():
            _extract_cifar(folder / files[0], folder)
        folder = extracted
    return DownloadResult(dataset, str(folder), tuple(fetched), tuple(present))
