"""Volume scaling: λ and m from V(ε) = P_φ(K(w) − K(w*) < ε) ≈ c ε^λ (−log ε)^{m−1} (Watanabe 2009, §4).

Plain Monte Carlo needs ~1/V(ε) prior draws to see the set {K < ε}. Subset simulation (Au & Beck 2001)
reaches V ~ 10^{-12} with a few thousand draws per level: draw N points from the prior; take as threshold
ε₁ the p₀-quantile of K (so V(ε₁) ≈ p₀); keep the p₀N points below it as seeds, regrow N points from the
conditional distribution φ(w | K < ε₁) by Metropolis moves started at the seeds (:mod:`.metropolis`); repeat.
Level k then gives V(ε_k) ≈ p₀^k. The levels of R independent replicas are averaged in log ε at each level,
λ and m are fitted on the levels with V ≤ ``v_max`` (:mod:`.scaling_fit`), the statistical error comes from a
jackknife over replicas, and the fit-window error from refitting λ on sub-windows of the levels (the part of
their spread that the replica noise does not explain).
"""

from __future__ import annotations

import time

import numpy as np

from slt.estimate.landscape import landscape, locality_warnings
from slt.estimate.metropolis import metropolis, sample_prior
from slt.estimate.results import VolumeResult
from slt.estimate.scaling_fit import fit_lambda, fit_scaling_law, jackknife


def subset_levels(land, rng: np.random.Generator, samples: int, p0: float, levels: int,
                  sweeps: int) -> np.ndarray:
    """log ε_k for k = 1 … levels, with V(ε_k) = p₀^k by construction.

    Returns (levels,), −inf once K hits 0.
    """
    k0 = land.K(land.at)
    W = sample_prior(land, samples, rng)
    k = land.values(W) - k0
    seeds = max(2, int(round(p0 * samples)))
    out = np.full(levels, -np.inf)
    decades = 0.0
    for level in range(levels):
        order = np.argsort(k)
        threshold = 0.5 * (k[order[seeds - 1]] + k[order[seeds]])
        if not threshold > 0:
            break
        out[level] = np.log(threshold)
        keep = order[np.arange(samples) % seeds]
        W, k = W[keep], k[keep]
        W, k, decades = metropolis(land, W, k, rng, sweeps, eps=threshold, k0=k0, decades=decades)
    return out


def volume_scaling(target, at=None, *, m: int | None = None, samples: int = 4000, replicas: int = 8,
                   p0: float = 0.1, levels: int = 12, v_max: float = 1e-2, sweeps: int = 10,
                   radius: float | None = None, region=None, quadrature: bool = False,
                   seed: int = 0) -> VolumeResult:
    """Estimate λ (and m) at ``at`` from the scaling of the prior volume of {K − K(w*) < ε}.

    Parameters
    ----------
    target : a Potential, sympy expression or formula string.
    at : the point w* (dict by name or sequence; default the origin).
    m : the multiplicity if known (used as given); if None, each m in 1 … d is fitted and m is chosen by
        which law stays stable over sub-windows of the levels, with a warning naming the candidate (λ, m)
        pairs when the levels cannot decide (:mod:`slt.estimate.scaling_fit`).
    samples, replicas, p0, levels, sweeps : N points per level, independent runs, level probability, number
        of levels (V reaches p0^levels), Metropolis sweeps per level.
    v_max : only levels with V ≤ v_max enter the fit (the law is asymptotic in ε → 0).
    radius, region : restrict the prior box to a neighbourhood of w* (needed when K has other zeros that are
        more singular than w*, e.g. the origin of the line–dot model seen from the line).
    quadrature : in 1-D/2-D also fit λ from −log Z(n) by quadrature (the deterministic twin).
    seed : replicas use independent child streams of ``numpy.random.SeedSequence(seed)``.

    Returns
    -------
    VolumeResult: λ with its statistical (jackknife) error ``lam_stderr`` and its fit-window error
    ``lam_systematic``, m, the level curve, and ``warnings``.

    Example
    -------
    >>> slt.volume_scaling("x**2*y**4").lam   # ≈ 0.25
    """
    t0 = time.perf_counter()
    land = landscape(target, at=at, radius=radius, region=region)
    if not 0 < p0 < 0.5 or samples * p0 < 10:
        raise ValueError(f"need 0 < p0 < 0.5 and samples*p0 >= 10, got p0={p0}, samples={samples}")
    if replicas < 2:
        raise ValueError(f"replicas must be >= 2 for a standard error, got {replicas}")
    if m is not None and not 1 <= m <= land.dim:
        raise ValueError(f"m must be between 1 and d={land.dim}, got {m}")
    streams = np.random.SeedSequence(seed).spawn(replicas)
    log_eps = np.array([subset_levels(land, np.random.default_rng(s), samples, p0, levels, sweeps)
                        for s in streams])                                           # (R, levels)
    log_v = np.log(p0) * np.arange(1, levels + 1)
    usable = np.all(np.isfinite(log_eps), axis=0) & (log_v <= np.log(v_max)) & np.all(log_eps < -0.5, axis=0)
    if np.count_nonzero(usable) < 4:
        raise ValueError("fewer than 4 usable volume levels: K may vanish on a set of positive volume, or "
                         "the box is too small; try more levels or a smaller v_max "
                         "(slt.volume_scaling(levels=, v_max=))")
    L = -log_eps[:, usable]                                                          # (R, k) = −log ε
    F = -log_v[usable]                                                               # −log V

    everyone = np.arange(replicas)
    m_fit_se = jackknife([fit_lambda(L[np.delete(everyone, r)].mean(axis=0), F, None)[1] for r in everyone])
    fit = fit_scaling_law(L, F, m=m, m_max=land.dim, hint=", or add levels to reach smaller volumes")
    quad_lam = None
    if quadrature and land.dim <= 2:
        from slt.estimate.free_energy import quadrature_free_energy

        quad_lam = quadrature_free_energy(target, at=at, radius=radius, region=region, m=m).lam
    return VolumeResult(
        lam=fit.lam, lam_stderr=fit.lam_stderr, lam_systematic=fit.lam_systematic, m=fit.m, m_fit=fit.m_fit,
        m_fit_stderr=m_fit_se, m_decided=fit.m_decided, m_candidates=fit.candidates, log_c=-fit.c,
        eps=np.exp(log_eps.mean(axis=0)), log_volume=log_v,
        log_eps_stderr=log_eps.std(axis=0, ddof=1) / np.sqrt(replicas),
        fit_levels=int(np.count_nonzero(usable)),
        replicas=replicas, samples=samples, at=dict(zip(land.names, land.at.tolist(), strict=True)),
        quadrature_lam=quad_lam, wall_s=time.perf_counter() - t0,
        warnings=tuple(fit.warnings) + locality_warnings(land, radius, region))
