"""Measured posterior basin masses P_n(W_α) = ∫_{W_α} e^{−nK} φ / ∫ e^{−nK} φ, and the measured n_c.

Two measurements:

* :func:`masses_quadrature` (d ≤ 2): each region is a box; its integral is the prior mass of the box
  times the conditional partition function from :func:`slt.estimate.quadrature.log_partition_function`
  (nested adaptive Gauss–Kronrod, ~10 digits). Default regions are slabs along the coordinate on which the
  basin points are most spread, cut half-way between consecutive points: the exact nearest-basin (Voronoi)
  cells when the basin points lie on a line parallel to that axis.
* :func:`masses_smc` (any d): tempered sequential Monte Carlo (Del Moral, Doucet & Jasra 2006, "Sequential
  Monte Carlo samplers", JRSS B 68(3)): particles drawn from the prior (n = 0) are carried up a ladder of n
  chosen adaptively so that each reweighting e^{−(n_{k+1} − n_k)K} keeps the effective sample size at half
  the particles (Jasra et al. 2011), resampled (systematic) when the ESS falls below half, and moved by
  overdamped Langevin steps at temperature 1/n with the compiled kernels (:func:`slt.run`), reflected into
  the prior box. Basin masses are weighted fractions of particles by basin (nearest basin point, or a
  user's ``assign``). Unlike one long chain, the weights carry mass between basins even when the barrier
  between them is never crossed at large n. Known bias: the unadjusted Langevin moves have an O(step_size ×
  curvature) error in the stationary law.

The measured n_c is where the masses of the two basins of a transition are equal (refined by Brent's method
on the quadrature, interpolated linearly in log n for the Monte Carlo estimate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp

from slt.phases.basins import Basin, nearest_basin
from slt.phases.local_form import coordinate_normaliser


@dataclass(frozen=True, eq=False)
class BasinMasses:
    """Posterior basin masses against n.

    n : (N,) sample sizes.  names : (B,) basin names.  mass : (N, B), rows sum to 1.
    stderr : (N, B) Monte Carlo standard errors (None for quadrature).  method : "quadrature" or "smc".
    log_evidence : (N,) log Z(n) = log ∫ e^{−nK} φ (−F_n), where the method gives it.
    """

    n: np.ndarray
    names: tuple[str, ...]
    mass: np.ndarray
    method: str
    stderr: np.ndarray | None = None
    log_evidence: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"BasinMasses(method={self.method!r}, basins={list(self.names)}, n={self.n.min():.3g}.."
            f"{self.n.max():.3g} ({len(self.n)} values))"
        )

    def of(self, name: str) -> np.ndarray:
        """The (N,) mass of basin ``name``."""
        if name not in self.names:
            raise ValueError(f"no basin named {name!r} (basins: {list(self.names)})")
        return self.mass[:, self.names.index(name)]

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "n": self.n.tolist(),
            "names": list(self.names),
            "mass": self.mass.tolist(),
            "stderr": None if self.stderr is None else self.stderr.tolist(),
            "log_evidence": None if self.log_evidence is None else self.log_evidence.tolist(),
        }


def _prior_box(prior) -> tuple[np.ndarray, np.ndarray]:
    if prior.kind == "box":
        return np.array(prior.low), np.array(prior.high)
    s = np.array(prior.scale)
    return -8 * s, 8 * s  # where slt.estimate's landscape cuts a Gaussian prior


def default_regions(potential, basins: Sequence[Basin]) -> dict[str, np.ndarray]:
    """Slabs of the prior box along the axis on which the basin points are most spread (see module text)."""
    low, high = _prior_box(potential.prior)
    X = np.stack([b.coordinates for b in basins])
    axis = int(np.argmax(np.ptp(X, axis=0)))
    order = np.argsort(X[:, axis])
    xs = X[order, axis]
    if np.any(np.diff(xs) <= 0):
        raise ValueError(
            f"two basins share the coordinate {potential.names[axis]}; give the regions (a box each)"
        )
    cuts = np.concatenate([[low[axis]], 0.5 * (xs[1:] + xs[:-1]), [high[axis]]])
    out = {}
    for j, k in enumerate(order):
        box = np.column_stack([low, high])
        box[axis] = (cuts[j], cuts[j + 1])
        out[basins[k].name] = box
    return out


def _region_log_prior_mass(prior, box: np.ndarray) -> float:
    return sum(
        math.log(coordinate_normaliser(prior, i, lo, hi) / coordinate_normaliser(prior, i, *_full(prior, i)))
        for i, (lo, hi) in enumerate(box)
    )


def _full(prior, i):
    low, high = _prior_box(prior)
    return low[i], high[i]


def _check_regions(potential, basins, regions) -> dict[str, np.ndarray]:
    if regions is None:
        return default_regions(potential, basins)
    out = {}
    for b in basins:
        if b.name not in regions:
            raise ValueError(f"no region given for basin {b.name!r}")
        box = np.asarray(regions[b.name], dtype=np.float64)
        if box.shape != (potential.dim, 2) or not np.all(box[:, 0] < box[:, 1]):
            raise ValueError(
                f"region of {b.name!r} must be {potential.dim} pairs (low, high), got {regions[b.name]}"
            )
        x = b.coordinates
        if not np.all((x >= box[:, 0]) & (x <= box[:, 1])):
            raise ValueError(f"region of {b.name!r} does not contain its basin point {x.tolist()}")
        out[b.name] = box
    return out


def _log_masses_quadrature(potential, basins, regions, n, rtol) -> np.ndarray:
    from slt.estimate.quadrature import log_partition_function

    n = np.atleast_1d(np.asarray(n, dtype=np.float64))
    cols = []
    for b in basins:
        box = regions[b.name]
        log_z = log_partition_function(potential, n, region=box, at=b.coordinates, rtol=rtol)
        cols.append(_region_log_prior_mass(potential.prior, box) + log_z)
    return np.stack(cols, axis=1)  # (N, B): log ∫_{W_α} e^{-nK} φ


def masses_quadrature(
    potential, basins: Sequence[Basin], n, regions: Mapping[str, object] | None = None, rtol: float = 1e-8
) -> BasinMasses:
    """Posterior masses of box regions by adaptive quadrature (d ≤ 2); ``n`` array-like of sample sizes.

    ``regions``: basin name → d pairs (low, high); default :func:`default_regions`. The regions should
    cover the prior box without overlap, else the masses are relative to their union.
    """
    if potential.dim > 2:
        raise ValueError(f"quadrature needs d <= 2 (this potential has d={potential.dim}); use masses_smc")
    boxes = _check_regions(potential, basins, regions)
    n = np.atleast_1d(np.asarray(n, dtype=np.float64))
    log_m = _log_masses_quadrature(potential, basins, boxes, n, rtol)
    total = logsumexp(log_m, axis=1)
    return BasinMasses(
        n, tuple(b.name for b in basins), np.exp(log_m - total[:, None]), "quadrature", log_evidence=total
    )


def measured_crossover(
    masses: BasinMasses, source: str, target: str, near: float | None = None
) -> float | None:
    """n where mass(target) = mass(source), linear in log n between grid points (nearest ``near``)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # a basin of zero mass: log 0 = -inf is fine here
        diff = np.log(masses.of(target)) - np.log(masses.of(source))
    t = np.log(masses.n)
    roots = []
    for i in np.flatnonzero(np.sign(diff[:-1]) * np.sign(diff[1:]) < 0):
        s = t[i] - diff[i] * (t[i + 1] - t[i]) / (diff[i + 1] - diff[i])
        roots.append(math.exp(s))
    if not roots:
        return None
    if near is None:
        return roots[0]
    return min(roots, key=lambda r: abs(math.log(r) - math.log(near)))


def refine_crossover_quadrature(
    potential, basins: Sequence[Basin], source: str, target: str, bracket, regions=None, rtol: float = 1e-8
) -> float:
    """n where the quadrature masses of ``source`` and ``target`` are equal, by Brent's method in log n."""
    boxes = _check_regions(potential, basins, regions)
    names = [b.name for b in basins]
    i, j = names.index(source), names.index(target)

    def f(t):
        log_m = _log_masses_quadrature(potential, basins, boxes, [math.exp(t)], rtol)[0]
        return log_m[j] - log_m[i]

    return math.exp(brentq(f, math.log(bracket[0]), math.log(bracket[1]), xtol=1e-6))


def _reflect(W: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Mirror coordinates into [low, high] (reflecting boundary of the prior box)."""
    width = high - low
    y = np.mod(W - low, 2 * width)
    return low + width - np.abs(y - width)


def _ess(logw: np.ndarray) -> float:
    w = np.exp(logw - logsumexp(logw))
    return 1.0 / np.sum(w * w)


def _next_n(n_now: float, K: np.ndarray, logw: np.ndarray, n_stop: float, target_ess: float) -> float:
    """Largest n' ≤ n_stop with ESS(logw − (n' − n_now)K) ≥ target_ess (bisection in log of the increment)."""
    if _ess(logw - (n_stop - n_now) * K) >= target_ess:
        return n_stop
    lo, hi = 0.0, n_stop - n_now
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _ess(logw - mid * K) >= target_ess:
            lo = mid
        else:
            hi = mid
    return n_now + max(lo, 1e-12 * max(1.0, n_now))


def _systematic_resample(logw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    w = np.exp(logw - logsumexp(logw))
    positions = (rng.random() + np.arange(len(w))) / len(w)
    return np.minimum(np.searchsorted(np.cumsum(w), positions), len(w) - 1)


def _smc_evidence(potential, wanted, particles, moves, step_size, rng, seed_key, inside):
    """log ∫_R e^{−nK} φ/P(R) at each n of ``wanted`` for the region R = {w : inside(w)}, by tempered SMC.

    Starts from the uniform prior restricted to R (rejection sampling); moves that leave R are undone, which
    keeps the restricted target invariant.
    """
    from slt.dynamics import run

    low, high = np.array(potential.prior.low), np.array(potential.prior.high)
    W = np.empty((0, potential.dim))
    while len(W) < particles:
        draw = rng.uniform(low, high, size=(4 * particles, potential.dim))
        W = np.concatenate([W, draw[inside(draw)]])
    W = W[:particles]
    compiled = potential.compiled
    K = compiled.values(W)
    logw = np.full(particles, -math.log(particles))
    log_z, n_now, rung = 0.0, 0.0, 0
    evidence = np.zeros(len(wanted))
    for k, n_stop in enumerate(wanted):
        while n_now < n_stop:
            n_next = _next_n(n_now, K, logw, n_stop, particles / 2)
            inc = -(n_next - n_now) * K
            log_z += logsumexp(logw + inc) - logsumexp(logw)
            logw = logw + inc
            n_now = n_next
            if _ess(logw) < particles / 2:
                idx = _systematic_resample(logw, rng)
                W, logw = W[idx], np.full(particles, -math.log(particles))
            # a stream per (seed, basin, replicate, rung): no two move calls share noise
            stream = int(np.random.SeedSequence((*seed_key, rung)).generate_state(1)[0] >> 1)
            moved = run(
                potential,
                method="langevin",
                chains=particles,
                steps=moves,
                step_size=step_size,
                init=W,
                seed=stream,
                stats_only=True,
                bound=1e6,
                temperature=1.0 / n_now,
            )
            new = _reflect(moved.final, low, high)
            keep = ~moved.diverged & inside(new)
            W = np.where(keep[:, None], new, W)
            K = compiled.values(W)
            rung += 1
        evidence[k] = log_z
    return evidence


def masses_smc(
    potential,
    basins: Sequence[Basin],
    n,
    particles: int = 1024,
    replicates: int = 4,
    moves: int = 200,
    step_size: float = 1e-3,
    seed: int = 0,
    assign: Callable[[np.ndarray], np.ndarray] | None = None,
    prior_samples: int = 2**20,
) -> BasinMasses:
    """Posterior basin masses at the sample sizes ``n`` by tempered sequential Monte Carlo (module text).

    Stratified by basin: for each region W_α (nearest basin point, or ``assign``) an SMC run restricted to
    W_α estimates Z_α(n)/P(W_α); P(W_α) is the fraction of ``prior_samples`` uniform prior draws in W_α.
    The mass is Z_α/Σ_β Z_β. Each basin thus keeps all its particles even where its mass is tiny (one
    unstratified run loses a rare basin to resampling drift).

    Parameters
    ----------
    potential : a Potential with a box prior without Jacobian factors (the moves sample e^{−nK} on the box).
    basins : the basins; ``assign`` maps an (N, d) array of positions to (N,) basin indices (default: the
        nearest basin point).
    n : sample sizes (> 0) at which to report the masses.
    particles, replicates : particles per SMC run, and independent runs per basin; the masses use the mean
        evidence of the runs, the standard error is the spread of the per-replicate masses over √R.
    moves : Langevin steps per ladder rung (step ``step_size``).
    seed : the same seed gives the same masses.

    Returns
    -------
    :class:`BasinMasses` with ``stderr`` and ``log_evidence`` = log of the SMC estimate of ∫ e^{−nK} φ.
    """
    prior = potential.prior
    if prior.kind != "box" or any(prior.exponents):
        raise ValueError(
            "masses_smc samples a uniform box prior; this potential's prior is "
            f"{prior.describe(potential.names)}"
        )
    wanted = np.unique(np.atleast_1d(np.asarray(n, dtype=np.float64)))
    if np.any(wanted <= 0) or not np.all(np.isfinite(wanted)):
        raise ValueError(f"n must be finite and > 0, got {n!r}")
    if replicates < 1 or particles < 2:
        raise ValueError(f"need replicates >= 1 and particles >= 2, got {replicates} and {particles}")
    labels = assign if assign is not None else (lambda P: nearest_basin(P, basins))
    rng = np.random.default_rng((seed, 0))
    draws = rng.uniform(prior.low, prior.high, size=(prior_samples, potential.dim))
    prior_mass = np.bincount(np.asarray(labels(draws)), minlength=len(basins)) / prior_samples
    if np.any(prior_mass == 0):
        empty = [b.name for b, p in zip(basins, prior_mass, strict=True) if p == 0]
        raise ValueError(f"basin region(s) {empty} have no prior mass")
    log_z = np.empty((replicates, len(wanted), len(basins)))
    for j in range(len(basins)):

        def inside(P, j=j):
            return np.asarray(labels(P)) == j

        for r in range(replicates):
            rep_rng = np.random.default_rng((seed, 1 + j, r))
            log_z[r, :, j] = np.log(prior_mass[j]) + _smc_evidence(
                potential, wanted, particles, moves, step_size, rep_rng, (seed, j, r), inside
            )
    per_rep = np.exp(log_z - logsumexp(log_z, axis=2, keepdims=True))  # (R, N, B)
    pooled = logsumexp(log_z, axis=0) - math.log(replicates)  # (N, B)
    total = logsumexp(pooled, axis=1)
    mass = np.exp(pooled - total[:, None])
    stderr = (
        per_rep.std(axis=0, ddof=1) / math.sqrt(replicates) if replicates > 1 else np.full_like(mass, np.nan)
    )
    return BasinMasses(wanted, tuple(b.name for b in basins), mass, "smc", stderr=stderr, log_evidence=total)
