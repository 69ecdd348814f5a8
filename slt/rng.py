"""Per-chain random streams for the Numba kernels: xoshiro256** words and ziggurat normals.

Choice and why
--------------
* **Generator: xoshiro256**** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number
  generators", ACM TOMS 47(4)). Its whole state is four ``uint64`` words, so the states of all
  chains live in one ``(chains, 4)`` array that the kernels update in place: no Python objects in
  the kernels, any chain can be resumed anywhere, and a chain's numbers never depend on which thread
  ran it. One 64-bit word costs a few integer operations, well below the cost of a normal draw.
* **Seeding**: ``numpy.random.SeedSequence(seed)`` hashes the user's seed into a 256-bit key (so
  seeds 0, 1, 2, ... give unrelated keys, never shifted copies of each other); chain ``c`` then gets
  the words ``splitmix64(key[j] + (c + 1) * GOLDEN)``, j = 0..3. Seeding xoshiro from splitmix64
  outputs is the authors' recommendation; it runs in Numba, so 10⁶ chains seed in milliseconds where
  ``SeedSequence.spawn`` would take seconds.
* **Normals: the ziggurat method** (Marsaglia & Tsang 2000, "The ziggurat method for generating
  random variables", J. Stat. Softw. 5(8)) with 256 layers: 98.5% of draws cost one 64-bit word,
  one table look-up, one multiply and one compare, and no state is carried between draws (unlike
  Box–Muller's spare value), so a run split into chunks draws exactly the same numbers.

Bits of a word ``u`` used by :func:`standard_normal`: the low 8 bits choose the layer, bit 8 the
sign, the top 52 bits the abscissa ``j * x_i / 2**52``.

The tables are built here from the defining equations (layer areas all equal ``v``), with ``r``
found by root finding; ``r = 3.6541528853610088`` and ``v = 0.004928673233974658`` agree with
Marsaglia & Tsang's published constants.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, splitmix64's increment

_U7 = np.uint64(7)
_U9 = np.uint64(9)
_U5 = np.uint64(5)
_U17 = np.uint64(17)
_U45 = np.uint64(45)
_U64 = np.uint64(64)
_U1 = np.uint64(1)
_LAYER_MASK = np.uint64(0xFF)
_SIGN_SHIFT = np.uint64(8)
_MANTISSA_SHIFT = np.uint64(12)
_UNIFORM_SHIFT = np.uint64(11)
_TWO_M53 = 2.0**-53

N_LAYERS = 256


def _ziggurat_tables(n_layers: int = N_LAYERS):
    """Tables for the ziggurat under f(x) = exp(−x²/2) on x ≥ 0 (Marsaglia & Tsang 2000, §2).

    Layer 0 is the base strip [0, x₀] × [0, f(r)] (it stands for [0, r] × [0, f(r)] plus the tail
    x > r); layer i ≥ 1 is the box [0, x_i] × [f(x_i), f(x_{i+1})]. All have area
    v = r f(r) + ∫_r^∞ f. Recursion: x₁ = r, x_{i+1} = f⁻¹(f(x_i) + v/x_i); r solves x_N = 0.

    Returns ``(r, w, k, fx)``: ``w[i] = x_i / 2**52`` (scale of the 52-bit abscissa),
    ``k[i] = floor(2**52 x_{i+1} / x_i)`` (fast-accept threshold), ``fx[i] = f(x_i)`` for
    i = 0..N (``fx[N] = f(0) = 1``).
    """
    f = lambda x: math.exp(-0.5 * x * x)
    area = lambda r: r * f(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))

    def abscissae(r):
        v = area(r)
        xs = [v / f(r), r]
        for _ in range(n_layers - 2):
            y = f(xs[-1]) + v / xs[-1]
            if y >= 1.0:  # r too small: the stack reaches the top before N layers
                return xs, y
            xs.append(math.sqrt(-2.0 * math.log(y)))
        return xs, f(xs[-1]) + v / xs[-1]

    def top_mismatch(r):
        xs, y = abscissae(r)
        return (y - 1.0) + (n_layers - len(xs))

    low, high = 2.0, 5.0  # top_mismatch(low) > 0 > top_mismatch(high); bisect to the last bit
    while True:
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        low, high = (mid, high) if top_mismatch(mid) > 0 else (low, mid)
    r = low
    xs = np.array(abscissae(r)[0] + [0.0])
    scale = 2.0**52
    w = xs[:-1] / scale
    k = np.floor(scale * xs[1:] / xs[:-1]).astype(np.uint64)
    fx = np.exp(-0.5 * xs * xs)
    return r, w, k, fx


ZIG_R, ZIG_W, ZIG_K, ZIG_F = _ziggurat_tables()
_INV_R = 1.0 / ZIG_R


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << k) | (x >> (_U64 - k))


@njit(cache=True, inline="always")
def next_word(t):
    """(next word, advanced state) of the xoshiro256** state held as a tuple ``t`` of 4 uint64.

    The kernels keep a chain's state in such a tuple (registers) rather than in its row of the
    states array: stores into an array may alias the chain's other arrays, which forces reloads
    and made every step about 9 ns slower. Same numbers as :func:`next_u64`.
    """
    s0, s1, s2, s3 = t
    result = _rotl(s1 * _U5, _U7) * _U9
    shifted = s1 << _U17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= shifted
    s3 = _rotl(s3, _U45)
    return result, (s0, s1, s2, s3)


@njit(cache=True, inline="always")
def next_u64(s):
    """Advance the xoshiro256** state ``s`` (uint64[4], in place) and return its next word."""
    result, t = next_word((s[0], s[1], s[2], s[3]))
    s[0], s[1], s[2], s[3] = t
    return result


@njit(cache=True, inline="always")
def uniform_t(t):
    """(a uniform double in [0, 1), advanced state), state as a tuple (see :func:`next_word`)."""
    u, t = next_word(t)
    return float(u >> _UNIFORM_SHIFT) * _TWO_M53, t


@njit(cache=True, inline="always")
def uniform(s):
    """A uniform double in [0, 1) from the top 53 bits of the next word."""
    return float(next_u64(s) >> _UNIFORM_SHIFT) * _TWO_M53


@njit(cache=True)
def _normal_slow(u, t):
    """The rest of a ziggurat draw whose first word ``u`` missed the fast test (1.5% of draws)."""
    while True:
        i = np.intp(u & _LAYER_MASK)
        negative = (u >> _SIGN_SHIFT) & _U1
        j = u >> _MANTISSA_SHIFT
        x = float(j) * ZIG_W[i]
        if j < ZIG_K[i]:
            return (-x if negative else x), t
        if i == 0:
            # Marsaglia's tail method: x = r + a with density ∝ exp(−(r + a)²/2) for a > 0.
            while True:
                ua, t = uniform_t(t)
                ub, t = uniform_t(t)
                a = -math.log(1.0 - ua) * _INV_R
                b = -math.log(1.0 - ub)
                if b + b > a * a:
                    return (-(ZIG_R + a) if negative else ZIG_R + a), t
        uy, t = uniform_t(t)
        y = ZIG_F[i] + uy * (ZIG_F[i + 1] - ZIG_F[i])
        if y < math.exp(-0.5 * x * x):
            return (-x if negative else x), t
        u, t = next_word(t)


@njit(cache=True, inline="always")
def normal_t(t):
    """(one N(0, 1) draw, advanced state) by the 256-layer ziggurat, state as a tuple (see :func:`next_word`).

    The fast path (one word, one look-up, one compare) is inlined; the rare rest is a call.
    """
    u, t = next_word(t)
    i = np.intp(u & _LAYER_MASK)
    j = u >> _MANTISSA_SHIFT
    if j < ZIG_K[i]:
        x = float(j) * ZIG_W[i]
        return (-x if (u >> _SIGN_SHIFT) & _U1 else x), t
    return _normal_slow(u, t)


@njit(cache=True, inline="always")
def standard_normal(s):
    """One N(0, 1) draw by the 256-layer ziggurat (see the module docstring); ``s`` uint64[4] in place."""
    x, t = normal_t((s[0], s[1], s[2], s[3]))
    s[0], s[1], s[2], s[3] = t
    return x


@njit(cache=True, inline="always")
def index_below(s, n):
    """A uniform integer in {0, ..., n−1}: floor(U n) with a 53-bit U (bias below n / 2**53)."""
    return np.intp(uniform(s) * n)


@njit(cache=True, inline="always")
def index_below_t(t, n):
    """(:func:`index_below` of ``n``, advanced state) with the state as a tuple (see :func:`next_word`)."""
    x, t = uniform_t(t)
    return np.intp(x * n), t


@njit(cache=True)
def _splitmix64_mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _states_from_key(key, first_chain, chains):
    states = np.empty((chains, 4), dtype=np.uint64)
    for c in range(chains):
        counter = np.uint64(first_chain + c + 1)
        for j in range(4):
            states[c, j] = _splitmix64_mix(key[j] + counter * GOLDEN)
    return states


def seed_key(seed: int | np.random.SeedSequence) -> np.ndarray:
    """The 256-bit key (uint64[4]) that ``SeedSequence(seed)`` derives from ``seed``."""
    if isinstance(seed, np.random.SeedSequence):
        return seed.generate_state(4, np.uint64)
    if isinstance(seed, bool | float) or not isinstance(seed, int | np.integer):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.SeedSequence(int(seed)).generate_state(4, np.uint64)


def chain_states(seed: int | np.random.SeedSequence, chains: int, first_chain: int = 0) -> np.ndarray:
    """xoshiro256** states, shape ``(chains, 4)`` uint64, for chains ``first_chain, ...``.

    Chain c's state depends only on (seed, c): the first 10 chains of a 1000-chain run are the
    10 chains of a 10-chain run with the same seed.
    """
    if chains < 0 or first_chain < 0:
        raise ValueError(f"chains and first_chain must be >= 0, got {chains}, {first_chain}")
    return _states_from_key(seed_key(seed), first_chain, chains)


@njit(cache=True)
def fill_standard_normal(states, out):
    """Fill ``out`` (chains, k) with chain c's next k normals in row c (the order the kernels use)."""
    for c in range(out.shape[0]):
        s = states[c]
        for j in range(out.shape[1]):
            out[c, j] = standard_normal(s)
