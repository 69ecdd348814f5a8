"""Where dataset files are looked for: an explicit folder, then ``$DOMINOES_DATA``, then a cache folder.

Inside each root the usual layouts are recognised:

* MNIST: ``<root>/MNIST/raw/`` (torchvision), ``<root>/mnist/`` (flat, as in ``../shared/data``), ``<root>/``;
* Fashion-MNIST: ``<root>/FashionMNIST/raw/``, ``<root>/fashion-mnist/``, ``<root>/fashion_mnist/``;
* CIFAR-10: ``<root>/cifar-10-batches-py/`` (the official archive's folder), ``<root>/cifar10/``, ``<root>/``.

IDX files may be gzipped (``.gz``) or raw.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ENV_VAR = "DOMINOES_DATA"

_SUBDIRS = {
    "mnist": ("MNIST/raw", "MNIST", "mnist", "."),
    "fashion-mnist": ("FashionMNIST/raw", "FashionMNIST", "fashion-mnist", "fashion_mnist"),
    "cifar10": ("cifar-10-batches-py", "cifar10", "cifar-10", "."),
}
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
DATASETS = tuple(_SUBDIRS)


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/dominoes`` (default ``~/.cache/dominoes``): where downloads go by default."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "dominoes"


def search_roots(explicit: str | Path | None = None) -> list[Path]:
    """The roots searched, in order: ``explicit``, ``$DOMINOES_DATA``, the cache folder."""
    roots = []
    if explicit is not None and not str(explicit).strip():
        raise ValueError("data folder: empty path")
    if explicit:
        folder = Path(explicit).expanduser()
        # an explicit folder that is not there is a typo, not a request for the procedural stand-ins
        if not folder.exists():
            raise FileNotFoundError(f"data folder {str(explicit)!r} does not exist")
        if not folder.is_dir():
            raise ValueError(f"data folder {str(explicit)!r} is not a folder")
        roots.append(folder)
    if os.environ.get(ENV_VAR):
        roots.append(Path(os.environ[ENV_VAR]).expanduser())
    roots.append(cache_dir())
    return roots


@dataclass(frozen=True)
class Located:
    """Files found for one dataset: ``files`` maps a role (``test_images``, ``test_batch``, …) to a path."""

    dataset: str
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def has_train(self) -> bool:
        if self.dataset == "cifar10":
            return any(name in self.files for name in CIFAR_TRAIN)
        return "train_images" in self.files and "train_labels" in self.files


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def _scan(dataset: str, folder: Path) -> Located | None:
    if dataset == "cifar10":
        files = {name: folder / name for name in (*CIFAR_TRAIN, "test_batch", "batches.meta")
                 if (folder / name).is_file()}
        return Located(dataset, folder, files) if "test_batch" in files else None
    files = {role: p for role, stem in IDX_FILES.items() if (p := _idx_file(folder, stem)) is not None}
    return Located(dataset, folder, files) if {"test_images", "test_labels"} <= files.keys() else None


def locate(dataset: str, root: str | Path | None = None) -> Located | None:
    """The first folder, over :func:`search_roots` and the known layouts, that holds ``dataset``'s test files.

    Returns None when nothing is found (callers then fall back or raise with :func:`describe_search`).
    """
    if dataset not in _SUBDIRS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    for base in search_roots(root):
        for sub in _SUBDIRS[dataset]:
            folder = (base / sub).resolve() if sub != "." else base.resolve()
            if folder.is_dir() and (found := _scan(dataset, folder)) is not None:
                return found
    return None


def describe_search(dataset: str, root: str | Path | None = None) -> str:
    """A one-line account of where ``dataset`` was looked for (for error messages)."""
    places = ", ".join(str(r) for r in search_roots(root))
    return (f"no {dataset} files found under {places} (layouts: {', '.join(_SUBDIRS[dataset])}); "
            f"pass --data-dir, set ${ENV_VAR}, or run `dominoes download {dataset}`")
