"""Offline, class-conditional image sources generated from a seed: glyphs (digit-like) and textures.

* :func:`glyphs` — the ten digits drawn as seven-segment glyphs (segments a–g as on a calculator display),
  each image with its own width, height, slant, position, stroke width and ink intensity, grey on black,
  28×28 inside a 32×32 frame like padded MNIST. Easy: a linear read-out separates them.
* :func:`textures` — class k is a faint sinusoidal grating at orientation θ_k = kπ/K with a random phase,
  overlaid on smooth random clutter and pixel grain. The phase is random, so the class
  mean carries almost no signal and a linear read-out of raw pixels does poorly: the class lives in the
  local orientation energy, which a convolutional network must learn to detect. Harder than glyphs.

Both take dials: ``jitter`` (glyph geometry spread) and ``amplitude`` / ``frequency`` /
``orientation_jitter`` / ``clutter`` / ``grain`` / ``tint`` (textures). Noise and contrast for any source
are applied by :func:`dominoes.data.sources.degrade`. Same seed -> same images.
"""

from __future__ import annotations

import numpy as np

SIZE = 32
# seven-segment endpoints in glyph units (x in [0, 1] left to right, y in [0, 2] top to bottom)
_SEGMENTS = {
    "a": ((0, 0), (1, 0)), "b": ((1, 0), (1, 1)), "c": ((1, 1), (1, 2)), "d": ((0, 2), (1, 2)),
    "e": ((0, 1), (0, 2)), "f": ((0, 0), (0, 1)), "g": ((0, 1), (1, 1)),
}
_DIGIT_SEGMENTS = ("abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg")
_SEGMENT_MASK = np.array([[s in _DIGIT_SEGMENTS[d] for s in "abcdefg"] for d in range(10)])
GLYPH_CLASS_NAMES = tuple(str(d) for d in range(10))
TEXTURE_CLASS_NAMES = tuple(f"grating {180 * k // 10}deg" for k in range(10))


def _balanced_labels(n_per_class: int, n_classes: int) -> np.ndarray:
    return np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)


def _to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def _segment_distance(px, py, x0, y0, x1, y1):
    """Distance from pixel centres (px, py) to segments (x0, y0)–(x1, y1); segment arrays broadcast."""
    dx, dy = x1 - x0, y1 - y0
    length2 = np.maximum(dx * dx + dy * dy, np.float32(1e-12))
    t = np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
    return np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))


def glyphs(n_per_class: int, seed: int = 0, *, jitter: float = 1.0, n_classes: int = 10,
           chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Seven-segment digit glyphs: images uint8 (n_per_class·n_classes, 3, 32, 32), labels int64.

    Per image: glyph width ~ 9 ± 2·jitter px, height ~ 18 ± 2·jitter px, slant ± 0.2·jitter, centre
    offset ± 2·jitter px, stroke half-width 1.2–2.0 px, ink 0.7–1.0; anti-aliased by distance to the
    segments. ``jitter=0`` draws every glyph of a class identically.
    """
    if n_per_class < 0 or not 1 <= n_classes <= 10:
        raise ValueError(f"glyphs: need n_per_class >= 0 and 1 <= n_classes <= 10, "
                         f"got {n_per_class}, {n_classes}")
    rng = np.random.default_rng([seed, 0x61F])
    labels = _balanced_labels(n_per_class, n_classes)
    n = len(labels)
    u = rng.uniform(-1.0, 1.0, size=(n, 5))
    width = 9.0 + 2.0 * jitter * u[:, 0]
    height = 18.0 + 2.0 * jitter * u[:, 1]
    slant = 0.2 * jitter * u[:, 2]
    cx = SIZE / 2 + 2.0 * jitter * u[:, 3]
    cy = SIZE / 2 + 2.0 * jitter * u[:, 4]
    half_width = rng.uniform(1.2, 2.0, size=n)
    ink = rng.uniform(0.7, 1.0, size=n)

    yy, xx = (np.mgrid[0:SIZE, 0:SIZE] + 0.5).astype(np.float32)
    px, py = xx.reshape(1, -1), yy.reshape(1, -1)
    out = np.empty((n, SIZE * SIZE), dtype=np.float32)
    for s in range(0, n, chunk):
        e = slice(s, min(n, s + chunk))
        dist = np.full((e.stop - e.start, SIZE * SIZE), np.inf, dtype=np.float32)
        for k, ((u0, v0), (u1, v1)) in enumerate(_SEGMENTS.values()):
            active = np.flatnonzero(_SEGMENT_MASK[labels[e], k])
            if len(active) == 0:
                continue
            rows = e.start + active
            # glyph units -> pixels: y scaled by height/2, x by width, slanted by y, centred
            ends = []
            for u, v in ((u0, v0), (u1, v1)):
                y = (v - 1.0) * height[rows] / 2 + cy[rows]
                x = (u - 0.5) * width[rows] - slant[rows] * (v - 1.0) * height[rows] / 2 + cx[rows]
                ends += [x.astype(np.float32)[:, None], y.astype(np.float32)[:, None]]
            d = _segment_distance(px, py, *ends)
            dist[active] = np.minimum(dist[active], d)
        hw, ink_e = half_width[e, None].astype(np.float32), ink[e, None].astype(np.float32)
        out[e] = np.clip(hw + 0.5 - dist, 0.0, 1.0) * ink_e
    gray = _to_uint8(out).reshape(n, 1, SIZE, SIZE)
    return np.ascontiguousarray(np.broadcast_to(gray, (n, 3, SIZE, SIZE))), labels


def _smooth_field(rng, n: int, cells: int = 4) -> np.ndarray:
    """Smooth random fields (n, 32, 32) in [-1, 1]: bilinear upsampling of a (cells+1)² grid of uniforms."""
    grid = rng.uniform(-1.0, 1.0, size=(n, cells + 1, cells + 1))
    t = np.linspace(0.0, cells, SIZE)
    i = np.minimum(t.astype(int), cells - 1)
    f = t - i
    rows = grid[:, i, :] * (1 - f)[None, :, None] + grid[:, i + 1, :] * f[None, :, None]
    return rows[:, :, i] * (1 - f)[None, None, :] + rows[:, :, i + 1] * f[None, None, :]


def textures(n_per_class: int, seed: int = 0, *, frequency: float = 0.18, amplitude: float = 0.15,
             orientation_jitter: float = 0.15, clutter: float = 1.5, grain: float = 0.1, tint: float = 0.0,
             n_classes: int = 10, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Oriented gratings in clutter: images uint8 (n_per_class·n_classes, 3, 32, 32), labels int64.

    Pixel (c, y, x) of an image of class k, before clipping to [0, 1]:
        0.5 + A·cos(2π f (x cos θ + y sin θ) + φ)·(1 + t·s_{k,c}) + 0.25·clutter·S(y, x) + t·s_{k,c} + g·ξ
    with A = ``amplitude``, θ = π(k + orientation_jitter·N(0, 1))/K (classes 180°/K apart), f = ``frequency``
    cycles/px (±10 %), φ uniform, S a smooth random field in [-1, 1], s_k a fixed class colour scaled by
    t = ``tint`` (0 by default: no colour cue), and ξ i.i.d. N(0, 1) grain of std g = ``grain``.
    The defaults make the class learnable (orientation jitter 0.15 of the class spacing) but harder than
    :func:`glyphs` for a fixed small learner (see :mod:`dominoes.simplicity`).
    """
    if n_per_class < 0 or not 1 <= n_classes <= 10:
        raise ValueError(f"textures: need n_per_class >= 0 and 1 <= n_classes <= 10, "
                         f"got {n_per_class}, {n_classes}")
    if not 0 < frequency <= 0.5:
        raise ValueError(f"textures: frequency must be in (0, 0.5] cycles per pixel, got {frequency}")
    rng = np.random.default_rng([seed, 0x7E7])
    colours = np.random.default_rng(0x7E7).uniform(-1.0, 1.0, size=(n_classes, 3))  # fixed per class
    labels = _balanced_labels(n_per_class, n_classes)
    n = len(labels)
    theta = np.pi * (labels + orientation_jitter * rng.standard_normal(n)) / n_classes
    freq = frequency * rng.uniform(0.9, 1.1, size=n)
    phase = rng.uniform(0.0, 2 * np.pi, size=n)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    out = np.empty((n, 3, SIZE, SIZE), dtype=np.uint8)
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    for s in range(0, n, chunk):
        e = slice(s, min(n, s + chunk))
        m = e.stop - e.start
        c, si = f32(np.cos(theta[e]))[:, None, None], f32(np.sin(theta[e]))[:, None, None]
        k_e, phi_e = f32(2 * np.pi * freq[e])[:, None, None], f32(phase[e])[:, None, None]
        wave = np.cos(k_e * (xx * c + yy * si) + phi_e)
        background = 0.5 + f32(clutter * 0.25) * f32(_smooth_field(rng, m))
        colour = f32(tint * colours[labels[e]])[:, :, None, None]
        x = f32(amplitude) * wave[:, None] * (1 + colour) + (background[:, None] + colour)
        if grain > 0:
            x += f32(grain) * rng.standard_normal((m, 3, SIZE, SIZE), dtype=np.float32)
        out[e] = _to_uint8(x)
    return out, labels
