"""Plain-Python / numpy reference of the dynamics kernels, for tests only.

Written from the formulas, not from the kernel code: xoshiro256** on Python integers (Blackman &
Vigna 2021), the ziggurat of Marsaglia & Tsang (2000) over the tables of :mod:`slt.rng`, and each
method's update exactly as its paper writes it. The order in which a chain consumes its stream
(minibatch first, then d normals) is the documented one of :mod:`slt.chain_loops`.
"""

from __future__ import annotations

import math

import numpy as np

from slt import rng

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK


def splitmix64_mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


class Stream:
    """One chain's xoshiro256** stream, with the ziggurat normal sampler."""

    def __init__(self, state):
        self.s = [int(x) for x in state]

    def next_u64(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def uniform(self) -> float:
        return (self.next_u64() >> 11) * 2.0**-53

    def index_below(self, n: int) -> int:
        return int(self.uniform() * n)

    def normal(self) -> float:
        while True:
            u = self.next_u64()
            i, negative, j = u & 0xFF, (u >> 8) & 1, u >> 12
            x = j * rng.ZIG_W[i]
            sign = -1.0 if negative else 1.0
            if j < int(rng.ZIG_K[i]):
                return sign * x
            if i == 0:
                while True:
                    a = -math.log(1.0 - self.uniform()) / rng.ZIG_R
                    b = -math.log(1.0 - self.uniform())
                    if 2 * b > a * a:
                        return sign * (rng.ZIG_R + a)
            y = rng.ZIG_F[i] + self.uniform() * (rng.ZIG_F[i + 1] - rng.ZIG_F[i])
            if y < math.exp(-0.5 * x * x):
                return sign * x

    def normals(self, d: int) -> np.ndarray:
        return np.array([self.normal() for _ in range(d)])


def shuffled(n: int, word: int) -> np.ndarray:
    """Fisher–Yates permutation of 0..n−1 from a stream seeded by splitmix64(word + k·golden)."""
    stream = Stream([splitmix64_mix((word + (k + 1) * GOLDEN) & MASK) for k in range(4)])
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = stream.index_below(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return np.array(perm)


# --- the updates, as the papers write them ----------------------------------------------------------
def gd_step(w, g, eps, v=None, momentum=0.0):
    """w − ε v with v ← μ v + g (heavy ball as in PyTorch's SGD); returns (w', v')."""
    v = g if v is None or momentum == 0 else momentum * v + g
    return w - eps * v, v


def langevin_step(w, g, eps, temperature, xi):
    """Euler–Maruyama for dw = −∇K dt + √(2T) dW."""
    return w - eps * g + math.sqrt(2 * temperature * eps) * xi


def sgld_step(w, g, eps, n_beta, gamma, w_star, xi):
    """Δw = −(ε/2)[nβ g + γ(w − w*)] + √ε ξ   (Lau et al. 2023)."""
    return w - (eps / 2) * (n_beta * g + gamma * (w - w_star)) + math.sqrt(eps) * xi


def mala_step(w, loss, g, grad, eps, n_beta, gamma, w_star, xi, u, drift_cap):
    """One Metropolis-adjusted Langevin step for π ∝ exp(−U), U = nβK + (γ/2)‖w − w*‖² (Roberts & Tweedie
    1996), with the proposal mean w − δ(w), δ = (ε/2)∇U truncated to length drift_cap·√(εd) (MALTA).
    Returns (w, K(w), ∇K(w)) after the step."""
    d = w.size

    def U(v, k):
        return n_beta * k + 0.5 * gamma * np.sum((v - w_star) ** 2)

    def drift(v, gv):
        delta = 0.5 * eps * (n_beta * gv + gamma * (v - w_star))
        cap = drift_cap * math.sqrt(eps * d)
        norm = np.linalg.norm(delta)
        return delta * (cap / norm) if norm > cap else delta

    def log_q(to, frm, g_frm):        # log N(to; frm − δ(frm), ε I) up to a constant
        return -np.sum((to - frm + drift(frm, g_frm)) ** 2) / (2 * eps)

    p = w - drift(w, g) + math.sqrt(eps) * xi
    loss_p, g_p = grad(p)
    log_alpha = U(w, loss) - U(p, loss_p) + log_q(w, p, g_p) - log_q(p, w, g)
    return (p, loss_p, g_p) if math.log(u) < log_alpha else (w, loss, g)


def reference_run(method, W0, steps, seed, *, grad=None, X=None, Y=None, sample_grad=None, batch_size=None,
                  replace=False, eps, momentum=0.0, temperature=1.0, n_beta=1.0, gamma=0.0, w_star=None,
                  drift_cap=2.0):
    """Trajectories (steps + 1, chains, d) and losses (steps, chains) of ``method`` from W0.

    ``grad(w) -> (loss, gradient)`` for a potential; ``sample_grad(w, x, y) -> (ℓ, ∇ℓ)`` with data
    X, Y for a toy model (minibatch gradients as documented in slt.chain_loops).
    """
    W0 = np.asarray(W0, dtype=float)
    chains, d = W0.shape
    states = rng.chain_states(seed, chains)
    traj = np.empty((steps + 1, chains, d))
    losses = np.empty((steps, chains))
    w_star = W0 if w_star is None else np.broadcast_to(w_star, W0.shape)
    for c in range(chains):
        stream = Stream(states[c])
        w, v = W0[c].copy(), None
        perm, pos = None, 0
        traj[0, c] = w
        for s in range(steps):
            if sample_grad is None:
                loss, g = grad(w)
            else:
                n = X.shape[0]
                b = n if batch_size is None else batch_size
                if replace:
                    idx = [stream.index_below(n) for _ in range(b)]
                elif b == n:
                    idx = list(range(n))
                else:
                    if pos == 0:
                        perm = shuffled(n, stream.next_u64())
                    idx = list(perm[pos:pos + b])
                    pos = 0 if pos + 2 * b > n else pos + b
                parts = [sample_grad(w, X[i], Y[i]) for i in idx]
                loss = sum(p[0] for p in parts) / b
                g = sum(p[1] for p in parts) / b
            losses[s, c] = loss
            if method in ("gd", "sgd"):
                w, v = gd_step(w, g, eps, v, momentum)
            elif method == "langevin":
                w = langevin_step(w, g, eps, temperature, stream.normals(d))
            elif method == "sgld":
                w = sgld_step(w, g, eps, n_beta, gamma, w_star[c], stream.normals(d))
            elif method == "mala":
                xi = stream.normals(d)
                w, _, _ = mala_step(w, loss, g, grad, eps, n_beta, gamma, w_star[c], xi, stream.uniform(),
                                    drift_cap)
            else:
                raise ValueError(method)
            traj[s + 1, c] = w
    return traj, losses
