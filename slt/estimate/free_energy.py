"""The Bayes free energy F_n = −log ∫ e^{−nK(w)} φ(w) dw, WBIC, and λ from the slope of F_n against log n.

Thermodynamic integration (Ogata 1989; Gelman & Meng 1998): with Z(s) = ∫ e^{−sK} φ,
d(−log Z)/ds = E_s[K], so F_n = ∫₀¹ E_β[nK] dβ = ∫₀ⁿ E_s[K] ds, where E_s is the mean under
p_s(w) ∝ φ(w) e^{−sK(w)} (s = nβ). One annealed population therefore gives F_n for every n on its grid.
The grid in s is geometric (dense near β = 0 on the log scale, where E_s[K] changes from its prior value to
λ/s); on it the integrand s E_s[K] is smooth in log s and the trapezoid rule in log s is accurate; the piece
[0, s₀] is s₀ E_φ[K] to first order in s₀ = 10⁻³/E_φ[K]. Samples come from random-walk Metropolis on the
exact prior (:mod:`.metropolis`), annealed up the grid with a resampling step between grid points
(a sequential Monte Carlo sampler); standard errors come from independent blocks of
chains. WBIC(n) = E_{β=1/log n}[nK] (Watanabe 2013, JMLR 14) is read off the same population.
As everywhere in this package the potential K stands for L_n − S_n, so F_n here is F_n − n S_n of Watanabe.

In d ≤ 2 :func:`quadrature_free_energy` computes the same F_n deterministically (:mod:`.quadrature`).
Both fit F_n = c + λ log n − (m − 1) log log n (:mod:`.scaling_fit`) and report two errors of λ: the
statistical one (a jackknife over blocks; 0 for quadrature) and the fit-window one (how much λ moves when the
fit is restricted to sub-windows of the n grid), and choose m only where the data decide it.

Because quadrature is deterministic and cheap, its default grid is wide — n = 10³ … 10¹⁰, two points per
decade — which is what lets the slope converge: the neglected term of F_n decays like n^{−δ}, δ the gap to
the next pole of the zeta function, only 1/6 for x²y²(x + y)² and 1/12 for (x² − y³)². Below n ≈ 10³ the prior
box's edges still show (the line–dot model in a box of half-width 1/2); beyond 10¹⁰ a two-dimensional Z(n)
costs seconds per n where the zero set is curved ((x² − y³)²: ~10 s at n = 10¹¹).
"""

from __future__ import annotations

import time

import numpy as np

from slt.estimate.landscape import landscape, locality_warnings
from slt.estimate.metropolis import metropolis, sample_prior
from slt.estimate.results import FreeEnergyResult
from slt.estimate.scaling_fit import ScalingFit, fit_scaling_law

DEFAULT_NS = np.logspace(2, 6, 9)
DEFAULT_QUADRATURE_NS = np.logspace(3, 10, 15)


def _sample_sizes(n, default: np.ndarray = DEFAULT_NS) -> np.ndarray:
    ns = default if n is None else np.atleast_1d(np.asarray(n, dtype=np.float64))
    if ns.size < 3 or np.any(~np.isfinite(ns)) or np.any(ns <= 2):
        raise ValueError(f"give at least 3 sample sizes n > 2 to fit the slope, got {n!r}")
    return np.unique(ns)


def _check_m(m, d: int) -> None:
    if m is not None and (int(m) != m or not 1 <= m <= d):
        raise ValueError(f"m must be an integer between 1 and d={d}, got {m!r}")


def _fit(ns, F_blocks, m, d, hint: str) -> ScalingFit:
    """The fit of F (blocks, k) at sample sizes ns (k,) against log n (see :func:`.fit_scaling_law`)."""
    return fit_scaling_law(np.log(ns), F_blocks, m=None if m is None else int(m), m_max=d, hint=hint)


def _fit_fields(fit: ScalingFit, extra_warnings=()) -> dict:
    return dict(lam=fit.lam, lam_stderr=fit.lam_stderr, lam_systematic=fit.lam_systematic, m=fit.m,
                m_fit=fit.m_fit, m_decided=fit.m_decided, m_candidates=fit.candidates,
                warnings=tuple(fit.warnings) + tuple(extra_warnings))


def _reweight(W, k, ds, block_of, rng):
    """Resample each block with weights ∝ e^{−ds·K} (systematic resampling): p_{s} → p_{s+ds} in law.

    Random-walk moves alone contract the population too slowly when s grows geometrically (a run without
    this step lags by ~30% in s E_s[K]); this is the reweighting step of a sequential Monte Carlo sampler
    (Del Moral, Doucet & Jasra 2006), done inside each block so that the blocks stay independent.
    """
    out = np.empty(W.shape[0], dtype=np.intp)
    for b in block_of:
        logw = -ds * k[b]
        w = np.exp(logw - logw.max())
        cdf = np.cumsum(w / w.sum())
        u = (rng.random() + np.arange(b.size)) / b.size
        out[b] = b[np.minimum(np.searchsorted(cdf, u), b.size - 1)]
    return W[out], k[out]


def free_energy(target, at=None, n=None, *, method: str = "thermodynamic", m: int | None = None,
                chains: int = 2000, blocks: int = 8, grid_per_decade: int = 8, sweeps: int = 3,
                radius: float | None = None, region=None, seed: int = 0) -> FreeEnergyResult:
    """F_n for several n, WBIC, and λ from the slope of F_n against log n.

    Parameters
    ----------
    target : a Potential, sympy expression or formula string (K ≥ 0, K(w*) = 0 where the minimum is).
    at : a point of interest (only used to centre ``radius`` and as K's reference value K(w*)).
    n : sample sizes (≥ 3 values > 2); default 10², 10^{2.5}, …, 10⁶ (thermodynamic) or 10³, 10^{3.5}, …,
        10¹⁰ (quadrature). Give ≥ 7 values: fewer leave the fit-window error and the choice of m with
        fewer sub-windows to check (:mod:`slt.estimate.scaling_fit`).
    method : "thermodynamic" (Metropolis thermodynamic integration, any d) or "quadrature" (d ≤ 2, exact).
    m : the multiplicity if known (used as given); otherwise chosen among 1 … d by which law stays stable
        over sub-windows of the n grid, with a warning when the data cannot decide
        (:mod:`slt.estimate.scaling_fit`).
    chains, blocks : population size and number of independent blocks for standard errors.
    grid_per_decade, sweeps : the s-grid density and Metropolis sweeps per grid point.
    radius, region : restrict the prior box (see :func:`slt.estimate.landscape.landscape`).

    Returns
    -------
    FreeEnergyResult with F_n (k,), its standard error, WBIC (k,), and λ, m from the fit; λ comes with a
    statistical error ``lam_stderr`` and a fit-window error ``lam_systematic`` (quote both), and
    ``warnings`` says when m is undecided or the slope has not settled.

    Example
    -------
    >>> r = slt.free_energy("x**2*y**2*(x+y)**2", method="quadrature")   # exact λ = 1/3, m = 1
    >>> r.lam, r.lam_stderr, r.lam_systematic, r.m, r.m_decided         # ≈ 0.319, 0, 0.023, 1, False
    """
    if method == "quadrature":
        return quadrature_free_energy(target, at=at, n=n, m=m, radius=radius, region=region)
    if method != "thermodynamic":
        raise ValueError(f"method must be 'thermodynamic' or 'quadrature', got {method!r}")
    t0 = time.perf_counter()
    ns = _sample_sizes(n)
    land = landscape(target, at=at, radius=radius, region=region)
    if blocks < 2 or chains < 10 * blocks:
        raise ValueError(f"need blocks >= 2 and chains >= 10*blocks, got chains={chains}, blocks={blocks}")
    _check_m(m, land.dim)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    k0 = land.K(land.at)
    W = sample_prior(land, chains, rng)
    k = land.values(W) - k0
    prior_mean = np.array([b.mean() for b in np.array_split(k, blocks)])
    s0 = 1e-3 / max(float(k.mean()), 1e-300)
    wbic_s = ns / np.log(ns)
    decades = np.log10(ns.max() / s0)
    grid = np.unique(np.concatenate([np.geomspace(s0, ns.max(), int(np.ceil(decades * grid_per_decade)) + 1),
                                     ns, wbic_s[wbic_s > s0]]))
    means = np.empty((grid.size, blocks))                     # E_s[K − K(w*)] per block
    block_of = np.array_split(np.arange(chains), blocks)
    step_decades, s_prev = 0.0, 0.0
    for i, s in enumerate(grid):
        W, k = _reweight(W, k, s - s_prev, block_of, rng)
        W, k, step_decades = metropolis(land, W, k, rng, sweeps, s=s, k0=k0, decades=step_decades)
        means[i] = [k[b].mean() for b in block_of]
        s_prev = s
    # F(s) = s0 E_φ[K] + ∫_{s0}^{s} E_u[K] u d(log u), trapezoid in log u
    integrand = grid[:, None] * means
    steps = np.diff(np.log(grid))[:, None] * 0.5 * (integrand[1:] + integrand[:-1])
    F_grid = s0 * prior_mean[None, :] + np.vstack([np.zeros((1, blocks)), np.cumsum(steps, axis=0)])
    F_blocks = F_grid[np.searchsorted(grid, ns)].T                                   # (blocks, k)
    wbic = np.full(ns.size, np.nan)
    ok = wbic_s > s0
    wbic[ok] = ns[ok] * means[np.searchsorted(grid, wbic_s[ok])].mean(axis=1)
    fit = _fit(ns, F_blocks, m, land.dim, hint=", or give n over more decades")
    return FreeEnergyResult(
        n=ns, free_energy=F_blocks.mean(axis=0),
        free_energy_stderr=F_blocks.std(axis=0, ddof=1) / np.sqrt(blocks), wbic=wbic,
        method="thermodynamic-integration", at=dict(zip(land.names, land.at.tolist(), strict=True)),
        wall_s=time.perf_counter() - t0, **_fit_fields(fit, locality_warnings(land, radius, region)))


def quadrature_free_energy(target, at=None, n=None, *, m: int | None = None, radius: float | None = None,
                           region=None) -> FreeEnergyResult:
    """F_n = −log Z(n) by adaptive quadrature (d ≤ 2) and λ from its slope; WBIC is not computed (NaN).

    ``n`` defaults to 10³, 10^{3.5}, …, 10¹⁰ (:data:`DEFAULT_QUADRATURE_NS`). F_n is deterministic and
    accurate to ≲ 10⁻⁶ (:mod:`.quadrature`), so ``lam_stderr`` is 0 and the error of λ is the fit-window
    error ``lam_systematic``.
    """
    from slt.estimate.quadrature import log_partition_function

    t0 = time.perf_counter()
    ns = _sample_sizes(n, DEFAULT_QUADRATURE_NS)
    land = landscape(target, at=at, radius=radius, region=region)
    _check_m(m, land.dim)
    F = -log_partition_function(target, ns, region=np.column_stack([land.low, land.high]), at=at)
    fit = _fit(ns, F[None, :], m, land.dim, hint=", or widen the range of n")
    return FreeEnergyResult(
        n=ns, free_energy=F, free_energy_stderr=np.zeros_like(F), wbic=np.full(ns.size, np.nan),
        method="quadrature", at=dict(zip(land.names, land.at.tolist(), strict=True)),
        wall_s=time.perf_counter() - t0, **_fit_fields(fit, locality_warnings(land, radius, region)))
