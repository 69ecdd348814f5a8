"""Procedural sources, the noise/contrast dial and the measured simplicity score."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dominoes.data.procedural import glyphs, textures
from dominoes.data.sources import degrade
from dominoes.mixture import MixtureSpec
from dominoes.simplicity import probe_accuracy, score_side

DATA = Path(os.environ.get("DOMINOES_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
PROBE = dict(n_train=1000, n_test=500, features=512)


def test_procedural_sources_are_deterministic_balanced_and_seed_dependent():
    for make in (glyphs, textures):
        a, la = make(5, seed=1)
        b, lb = make(5, seed=1)
        c, _ = make(5, seed=2)
        assert a.dtype == np.uint8 and a.shape == (50, 3, 32, 32)
        assert np.array_equal(a, b) and np.array_equal(la, lb) and not np.array_equal(a, c)
        assert np.bincount(la).tolist() == [5] * 10


def test_glyph_ink_follows_the_seven_segment_count():
    images, labels = glyphs(40, seed=0)
    ink = images[:, 0].reshape(len(images), -1).sum(axis=1)
    mean_ink = np.array([ink[labels == d].mean() for d in range(10)])
    segments = np.array([6, 2, 5, 5, 4, 5, 6, 3, 7, 6])  # segments lit for digits 0..9
    assert np.argmin(mean_ink) == 1 and np.argmax(mean_ink) == 8
    assert np.corrcoef(mean_ink, segments)[0, 1] > 0.95
    # glyphs are grey: the three channels are equal; 28×28 content inside the 32×32 frame (2-px border)
    assert np.array_equal(images[:, 0], images[:, 2])


def test_glyph_jitter_dial_controls_within_class_spread():
    def spread(jitter):
        images, labels = glyphs(20, seed=0, jitter=jitter)
        x = images[:, 0].reshape(len(images), -1).astype(float)
        return np.mean([x[labels == d].std(axis=0).mean() for d in range(10)])

    # without jitter only stroke width and ink vary; the geometry spread adds much more
    assert spread(0.0) < 0.5 * spread(1.0)


@given(st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_degrade_keeps_each_image_mean_and_scales_its_spread_by_contrast(contrast, seed):
    images, _ = textures(2, seed=seed % 7)
    out = degrade(images, 0.0, contrast, np.random.default_rng(seed))
    x, y = images.astype(float) / 255, out.astype(float) / 255
    mean_x, mean_y = x.mean(axis=(1, 2, 3)), y.mean(axis=(1, 2, 3))
    assert np.allclose(mean_x, mean_y, atol=2 / 255)
    dev_x = x - mean_x[:, None, None, None]
    dev_y = y - mean_y[:, None, None, None]
    assert np.allclose(dev_y, contrast * dev_x, atol=2 / 255)


def test_degrade_identity_and_grey_noise_stays_grey():
    images, _ = glyphs(2, seed=0)
    assert degrade(images, 0.0, 1.0, np.random.default_rng(0)) is images
    noisy = degrade(images, 0.2, 1.0, np.random.default_rng(0), grayscale=True)
    assert np.array_equal(noisy[:, 0], noisy[:, 1]) and not np.array_equal(noisy, images)


def test_simplicity_score_orders_glyphs_above_textures_and_follows_the_dial():
    glyph_images, glyph_labels = glyphs(150, seed=0)
    tex_images, tex_labels = textures(150, seed=0)
    easy = probe_accuracy(glyph_images, glyph_labels, **PROBE)
    hard = probe_accuracy(tex_images, tex_labels, **PROBE)
    assert easy.accuracy > 0.9 and easy.accuracy > hard.accuracy + 0.15 and hard.accuracy > 0.3
    noisy = probe_accuracy(degrade(glyph_images, 0.6, 1.0, np.random.default_rng(0), grayscale=True),
                           glyph_labels, **PROBE)
    assert noisy.accuracy < easy.accuracy - 0.1
    # contrast 0 leaves each texture a flat image at its mean, which carries no class: chance (1/10)
    flat = probe_accuracy(degrade(tex_images, 0.0, 0.0, np.random.default_rng(0)), tex_labels, **PROBE)
    assert flat.chance == 0.1 and abs(flat.accuracy - 0.1) < 0.05 and abs(flat.normalized) < 0.06


def test_probe_refuses_bad_input():
    images, labels = glyphs(2, seed=0)
    with pytest.raises(ValueError, match="need n_train"):
        probe_accuracy(images, labels, n_train=100, n_test=10)
    with pytest.raises(ValueError, match="two classes"):
        probe_accuracy(images[:2], np.zeros(2, dtype=int), n_train=1, n_test=1)


@pytest.mark.skipif(not (DATA / "mnist").is_dir() or not (DATA / "cifar10").is_dir(), reason="no real data")
def test_real_mnist_is_simpler_than_cifar():
    spec = MixtureSpec()
    mnist = score_side(spec, "mnist", DATA, **PROBE)
    cifar = score_side(spec, "cifar", DATA, **PROBE)
    # linear read-outs: ~88 % on MNIST (LeCun et al. 1998), ~40 % on CIFAR-10 (full training sets)
    assert mnist.source == "mnist" and cifar.source == "cifar10"
    assert mnist.accuracy > 0.8 and 0.15 < cifar.accuracy < 0.45
