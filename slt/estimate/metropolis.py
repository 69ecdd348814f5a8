"""Random-walk Metropolis over many chains at once: the prior restricted to {K < ε}, or tempered by e^{−sK}.

Target density π(w) ∝ φ(w) e^{−s (K(w) − K₀)} 1[K(w) − K₀ < ε] on the prior box (Metropolis et al. 1953).
This is what subset simulation (volume scaling) and thermodynamic integration (free energy) need: exact
prior weighting including the Jacobian factors Π|w_i|^{h_i}, which the SGLD kernels do not model.

Each sweep makes one full-vector move and, in up to 8 dimensions, two moves per coordinate (singular sets are
often unions of coordinate subspaces, e.g. {xy = 0}, along which single-coordinate moves travel freely): an
additive one and a multiplicative one about w*, w_j' − w*_j = (w_j − w*_j) e^{σz} with σ log-uniform in
[0.01, 3] and the Hastings factor |w_j' − w*_j| / |w_j − w*_j|. The multiplicative move crosses decades of
|w_j − w*_j| in a few steps: near {xy < t} the conditional mass is spread evenly in log|x| (that is where
the log factor of V(ε) for m = 2 comes from), which an additive walk cannot reach in reasonable time. The
proposal scale of every move is σ_j · 10^{−(D + 3U)}, U ~ Uniform(0, 1), drawn independently of the state: a
symmetric scale mixture that keeps detailed balance while covering three decades of length, so the sampler
works both in the bulk and in thin neighbourhoods {K < ε} of a singular set. σ_j is twice the spread of the
current population in coordinate j; the decade offset D ≥ 0 is moved by one after a sweep whose acceptance
is below 15% (down) or above 50% (up), because a neighbourhood {(x − y)² < ε} is √ε thin across while the
population spreads along it. The adaptation only uses past sweeps and stops with the run.
"""

from __future__ import annotations

import numpy as np

from slt.estimate.landscape import Landscape


def sample_prior(land: Landscape, size: int, rng: np.random.Generator) -> np.ndarray:
    """(size, d) independent draws from φ(w) ∝ Π |w_i|^{h_i} on the box (or the Gaussian prior).

    Box: inverse CDF of |t|^h on [l, u], F(t) ∝ sign(t)|t|^{h+1}. Gaussian with scale σ: w²/(2σ²) ~
    Gamma((h+1)/2).
    """
    out = np.empty((size, land.dim))
    for i in range(land.dim):
        h, lo, hi = land.exponents[i], land.low[i], land.high[i]
        if land.scale is not None:
            u = rng.gamma((h + 1.0) / 2.0, 1.0, size)
            col = np.sign(rng.random(size) - 0.5) * land.scale * np.sqrt(2.0 * u)
            out[:, i] = np.clip(col, lo, hi)
            continue
        p = h + 1.0
        a, b = np.sign(lo) * abs(lo) ** p, np.sign(hi) * abs(hi) ** p
        v = a + rng.random(size) * (b - a)
        out[:, i] = np.sign(v) * np.abs(v) ** (1.0 / p)
    return out


def _move(land, W, k, logp, rng, s, eps, k0, scale, coord, multiplicative=False):
    n, d = W.shape
    step = scale * 10.0 ** (-3.0 * rng.random((n, 1)))
    proposal = W.copy()
    hastings = 0.0
    if coord is None:
        proposal += step * rng.standard_normal((n, d))
    elif multiplicative:
        log_factor = 10.0 ** rng.uniform(-2.0, np.log10(3.0), n) * rng.standard_normal(n)
        proposal[:, coord] = land.at[coord] + (W[:, coord] - land.at[coord]) * np.exp(log_factor)
        hastings = log_factor
    else:
        proposal[:, coord] += step[:, 0] * rng.standard_normal(n)
    logp_new = land.log_prior(proposal)
    ok = np.isfinite(logp_new)
    k_new = np.full(n, np.inf)
    if ok.any():
        k_new[ok] = land.values(proposal[ok]) - k0
    log_ratio = logp_new - logp + hastings - (s * (k_new - k) if s else 0.0)
    accept = ok & (k_new < eps) & (np.log(rng.random(n)) < log_ratio)
    W[accept], k[accept], logp[accept] = proposal[accept], k_new[accept], logp_new[accept]
    return np.count_nonzero(accept)


def metropolis(land: Landscape, W: np.ndarray, k: np.ndarray, rng: np.random.Generator, sweeps: int,
               s: float = 0.0, eps: float = np.inf, k0: float = 0.0,
               decades: float = 0.0) -> tuple[np.ndarray, np.ndarray, float]:
    """Run ``sweeps`` sweeps on every chain; W (N, d) states, k (N,) their K − K₀.

    ``decades`` is the starting offset D of the proposal scales. Returns (W, k, D at the end).
    """
    W, k = W.copy(), k.copy()
    logp = land.log_prior(W)
    d = land.dim
    moves = [(None, False)] + ([(j, m) for j in range(d) for m in (False, True)] if d <= 8 else [])
    for _ in range(sweeps):
        spread = 2.0 * np.std(W, axis=0) * 10.0**-decades + 1e-300
        accepted = 0
        for coord, multiplicative in moves:
            scale = spread if coord is None else spread[coord]
            accepted += _move(land, W, k, logp, rng, s, eps, k0, scale, coord, multiplicative)
        rate = accepted / (len(moves) * W.shape[0])
        if rate < 0.15:
            decades += 1.0
        elif rate > 0.5 and decades > 0:
            decades -= 1.0
    return W, k, decades
