"""Readers, locating, checksums, the restricted unpickler; real-data checks against the data README."""

import gzip
import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest

from dominoes.data.checksums import check_file, md5_file
from dominoes.data.cifar import read_cifar_batch, restricted_loads
from dominoes.data.idx import read_idx, read_idx_bytes
from dominoes.data.locate import locate
from dominoes.data.sources import load_real, pad_gray
from dominoes.mixture import MixtureSpec, build

DATA = Path(os.environ.get("DOMINOES_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
real = pytest.mark.skipif(not (DATA / "mnist").is_dir() or not (DATA / "cifar10").is_dir(),
                          reason=f"real data not found at {DATA}")


def _idx(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_idx_round_trip_raw_and_gzipped(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "raw").write_bytes(_idx(images, 0x08))
    (tmp_path / "zipped").write_bytes(gzip.compress(_idx(images, 0x08)))
    assert np.array_equal(read_idx(tmp_path / "raw"), images)
    assert np.array_equal(read_idx(tmp_path / "zipped"), images)
    ints = np.array([1, -2, 70000], dtype=np.int32)
    assert np.array_equal(read_idx_bytes(_idx(ints, 0x0C)), ints)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01", "bad magic"),
    (bytes([0, 0, 0x42, 1]) + (3).to_bytes(4, "big") + b"abc", "unknown IDX element type"),
    (bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"abc", "declares shape"),
])
def test_idx_refuses_malformed_files(data, message):
    with pytest.raises(ValueError, match=message):
        read_idx_bytes(data)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_a_pickle_that_would_run_code(tmp_path):
    evil = pickle.dumps({"data": _RunsCode(), "labels": [0]}, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load global"):
        restricted_loads(evil)
    (tmp_path / "test_batch").write_bytes(evil)
    with pytest.raises(ValueError, match="refusing"):
        read_cifar_batch(tmp_path / "test_batch")


def test_restricted_unpickler_reads_a_cifar_style_batch(tmp_path):
    data = np.random.default_rng(0).integers(0, 256, size=(4, 3072), dtype=np.uint8)
    batch = {b"data": data, b"labels": [3, 8, 8, 0], b"batch_label": b"testing batch 1 of 1"}
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch, protocol=2))
    images, labels = read_cifar_batch(tmp_path / "test_batch")
    assert images.shape == (4, 3, 32, 32) and labels.tolist() == [3, 8, 8, 0]
    # row layout: 1024 red, 1024 green, 1024 blue values, each 32×32 row-major
    assert images[1, 2, 0, 5] == data[1, 2048 + 5] and images[2, 0, 31, 31] == data[2, 1023]


def test_pad_gray_centres_28_pixel_digits_and_repeats_channels():
    x = np.full((1, 28, 28), 200, dtype=np.uint8)
    out = pad_gray(x)
    assert out.shape == (1, 3, 32, 32)
    assert out[0, :, 2:30, 2:30].min() == 200 and out.sum() == 3 * 28 * 28 * 200


def test_locate_prefers_explicit_then_environment_then_cache(tmp_path, monkeypatch):
    for name in ("explicit", "env", "cache/dominoes"):
        folder = tmp_path / name / "MNIST" / "raw"
        folder.mkdir(parents=True)
        for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            (folder / stem).write_bytes(b"")
    monkeypatch.setenv("DOMINOES_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    explicit = locate("mnist", tmp_path / "explicit")
    assert explicit.folder == (tmp_path / "explicit" / "MNIST" / "raw").resolve()
    assert locate("mnist").folder == (tmp_path / "env" / "MNIST" / "raw").resolve()
    monkeypatch.delenv("DOMINOES_DATA")
    assert locate("mnist").folder == (tmp_path / "cache" / "dominoes" / "MNIST" / "raw").resolve()
    assert locate("cifar10") is None
    with pytest.raises(ValueError, match="unknown dataset"):
        locate("svhn")


@real
def test_real_mnist_matches_the_published_files():
    found = locate("mnist", DATA)
    assert found is not None and not found.has_train  # only the test set is shipped
    for role in ("test_images", "test_labels"):
        assert check_file("mnist", found.files[role]).status == "ok"
    (test,) = load_real(found)
    assert test.images.shape == (10000, 3, 32, 32) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert md5_file(found.files["test_images"]) == "9fb629c4189551a2d022fa330f9573f3"


@real
def test_real_cifar_labels_and_the_rebuilt_batch_is_reported_not_refused():
    found = locate("cifar10", DATA)
    (test,) = load_real(found)
    assert test.images.shape == (10000, 3, 32, 32)
    assert test.labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert test.class_names[1] == "automobile" and test.class_names[9] == "truck"
    assert any("test_batch" in note and "differs from the published" in note for note in test.notes)
    # per-channel means from the README: 0.4941, 0.4851, 0.4504
    means = test.images.mean(axis=(0, 2, 3)) / 255
    assert np.allclose(means, [0.4941, 0.4851, 0.4504], atol=2e-4)


@real
def test_real_build_splits_the_only_copy_and_is_fast():
    start = time.perf_counter()
    data = build(MixtureSpec(0.7, 0.8, rho_mnist=0.9), seed=0, data_dir=DATA)
    elapsed = time.perf_counter() - start
    assert "mnist from" in data.source and "cifar10 from" in data.source
    assert data.info["notes"]  # the CIFAR checksum mismatch is reported
    # MNIST test counts minus a 20 % stratified hold-out; CIFAR 800 per class remain for training
    counts = np.array([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert data.info["available"]["mnist"] == (counts - np.floor(0.2 * counts + 0.5)).astype(int).tolist()
    assert data.info["available"]["cifar"] == [800] * 10
    # the continuous optimum N* = min_s min_j K·A_sj / p_s = min(714·10/0.7, 800·10/0.8) = 10000
    assert 10000 - 10 / 0.7 - 1 <= data.info["N"] <= 10000
    train_m = data.train.mnist_index[data.train.mnist_index >= 0]
    for ds in data.evals.values():
        assert not np.intersect1d(train_m, ds.mnist_index[ds.mnist_index >= 0]).size
    assert elapsed < 20  # a few seconds on an idle core; generous for a shared CI machine
