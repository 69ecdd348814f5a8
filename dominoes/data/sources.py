"""The uniform image-source record, loaders that fill it from each known source, and the noise/contrast dial.

Every source, real or procedural, becomes an :class:`ImageSource`: uint8 images (n, 3, 32, 32), int64
labels (n,), its name and its split. MNIST-like 28×28 greys are padded by 2 pixels on each side and repeated
over the three channels (design §5).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dominoes.data import procedural
from dominoes.data.checksums import check_file
from dominoes.data.cifar import read_cifar_batch, read_label_names
from dominoes.data.idx import read_idx
from dominoes.data.locate import CIFAR_TRAIN, Located, describe_search, locate

REAL = ("mnist", "fashion-mnist", "cifar10")
PROCEDURAL = ("glyphs", "textures")
SOURCES = REAL + PROCEDURAL
# what "auto" means for each side: the real dataset when found, else its procedural stand-in
AUTO = {"mnist": ("mnist", "glyphs"), "cifar": ("cifar10", "textures")}

CIFAR10_CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                       "truck")
FASHION_CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                       "Bag", "Ankle boot")


@dataclass(frozen=True)
class ImageSource:
    """Images of one source and split.

    images : uint8 (n, 3, 32, 32), read-only; labels : int64 (n,) in 0..9 (the source's own classes);
    name : "mnist", "fashion-mnist", "cifar10", "glyphs" or "textures"; split : "train" or "test" (the
    file's own split; procedural sources use "train" and "test" for independently generated sets);
    origin : where it came from (a folder, or the generator); notes : e.g. checksum mismatches.
    """

    name: str
    images: np.ndarray
    labels: np.ndarray
    split: str
    class_names: tuple[str, ...]
    origin: str
    grayscale: bool = False
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        return f"ImageSource(name={self.name!r}, split={self.split!r}, n={len(self)}, origin={self.origin!r})"


def _check_labels(labels: np.ndarray, k: int, where) -> None:
    """Refuse labels outside 0..k-1 (a corrupt or foreign file) rather than silently drop those images."""
    if len(labels) and (labels.min() < 0 or labels.max() >= k):
        low, high = int(labels.min()), int(labels.max())
        raise ValueError(f"{where}: labels must lie in 0..{k - 1}, found {low}..{high}")


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


def pad_gray(images: np.ndarray) -> np.ndarray:
    """(n, 28, 28) uint8 greys -> (n, 3, 32, 32): 2-pixel zero border, repeated over three channels."""
    n, h, w = images.shape
    if h > 32 or w > 32:
        raise ValueError(f"expected images at most 32×32, got {h}×{w}")
    out = np.zeros((n, 3, 32, 32), dtype=np.uint8)
    top, left = (32 - h) // 2, (32 - w) // 2
    out[:, :, top:top + h, left:left + w] = images[:, None]
    return out


def _notes(dataset: str, paths) -> tuple[str, ...]:
    return tuple(r.note for p in paths if (r := check_file(dataset, p)).status == "mismatch")


@functools.lru_cache(maxsize=8)
def _load_idx_pair(dataset: str, images_path: Path, labels_path: Path, split: str,
                   origin: str) -> ImageSource:
    images, labels = read_idx(images_path), read_idx(labels_path).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{images_path}: expected (n, 28, 28) images and n labels, "
                         f"got {images.shape}, {labels.shape}")
    names = FASHION_CLASS_NAMES if dataset == "fashion-mnist" else tuple(str(d) for d in range(10))
    _check_labels(labels, len(names), labels_path)
    return ImageSource(dataset, _readonly(pad_gray(images)), _readonly(labels), split, names, origin,
                       grayscale=True, notes=_notes(dataset, (images_path, labels_path)))


@functools.lru_cache(maxsize=8)
def _load_cifar(paths: tuple[Path, ...], split: str, origin: str, meta: Path | None) -> ImageSource:
    parts = [read_cifar_batch(p) for p in paths]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    names = read_label_names(meta) if meta is not None else CIFAR10_CLASS_NAMES
    if len(names) != len(CIFAR10_CLASS_NAMES):
        raise ValueError(f"{meta}: expected {len(CIFAR10_CLASS_NAMES)} class names, got {len(names)}")
    _check_labels(labels, len(names), paths[0] if len(paths) == 1 else paths[0].parent)
    files = paths + ((meta,) if meta is not None else ())
    return ImageSource("cifar10", _readonly(images), _readonly(labels), split, names, origin,
                       notes=_notes("cifar10", files))


def load_real(found: Located) -> list[ImageSource]:
    """The splits present in ``found`` (train first when present, then test)."""
    origin = str(found.folder)
    f = found.files
    if found.dataset == "cifar10":
        meta = f.get("batches.meta")
        out = []
        train = tuple(f[name] for name in CIFAR_TRAIN if name in f)
        if train:
            out.append(_load_cifar(train, "train", origin, meta))
        out.append(_load_cifar((f["test_batch"],), "test", origin, meta))
        return out
    out = []
    if found.has_train:
        out.append(_load_idx_pair(found.dataset, f["train_images"], f["train_labels"], "train", origin))
    out.append(_load_idx_pair(found.dataset, f["test_images"], f["test_labels"], "test", origin))
    return out


@functools.lru_cache(maxsize=8)
def _procedural(name: str, per_class_train: int, per_class_test: int, seed: int) -> tuple[ImageSource, ...]:
    make = procedural.glyphs if name == "glyphs" else procedural.textures
    names = procedural.GLYPH_CLASS_NAMES if name == "glyphs" else procedural.TEXTURE_CLASS_NAMES
    out = []
    for split, n, stream in (("train", per_class_train, 2 * seed), ("test", per_class_test, 2 * seed + 1)):
        images, labels = make(n, stream)
        out.append(ImageSource(name, _readonly(images), _readonly(labels), split, names,
                               f"procedural {name} (seed {seed})", grayscale=name == "glyphs"))
    return tuple(out)


def load_procedural(name: str, per_class_train: int, per_class_test: int, seed: int = 0) -> list[ImageSource]:
    """Independently generated train and test sets of a procedural source (cached per process)."""
    if name not in PROCEDURAL:
        raise ValueError(f"unknown procedural source {name!r}; choose one of {', '.join(PROCEDURAL)}")
    return list(_procedural(name, int(per_class_train), int(per_class_test), int(seed)))


def resolve(name: str, side: str, data_dir: str | Path | None = None) -> tuple[str, Located | None]:
    """Resolve a source name for ``side`` ("mnist" or "cifar"): "auto" -> real if found, else procedural.

    Returns (concrete name, Located or None). A named real source that is not found: FileNotFoundError.
    """
    if name == "auto":
        real, fallback = AUTO[side]
        found = locate(real, data_dir)
        return (real, found) if found is not None else (fallback, None)
    if name in PROCEDURAL:
        return name, None
    if name in REAL:
        found = locate(name, data_dir)
        if found is None:
            raise FileNotFoundError(describe_search(name, data_dir))
        return name, found
    raise ValueError(f"unknown source {name!r}; choose one of auto, {', '.join(SOURCES)}")


def degrade(images: np.ndarray, noise: float, contrast: float, rng: np.random.Generator,
            grayscale: bool = False) -> np.ndarray:
    """The simplicity dial applied to uint8 images (n, 3, H, W):  x' = clip(μ + c·(x − μ) + σ·ξ, 0, 1).

    x in [0, 1], μ the image's own mean, c = ``contrast`` in [0, 1], σ = ``noise`` (std of the i.i.d.
    Gaussian ξ, shared over channels for grey sources so they stay grey). c = 1, σ = 0 returns the input.
    """
    if noise == 0 and contrast == 1:
        return images
    x = images.astype(np.float32) / 255.0
    mu = x.mean(axis=(1, 2, 3), keepdims=True)
    x = mu + np.float32(contrast) * (x - mu)
    if noise > 0:
        shape = (x.shape[0], 1, *x.shape[2:]) if grayscale else x.shape
        x += np.float32(noise) * rng.standard_normal(shape, dtype=np.float32)
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)
