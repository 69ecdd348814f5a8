"""The partition function Z(n) = ∫ e^{−nK(w)} φ(w) dw in one and two dimensions, by adaptive quadrature.

This is the deterministic twin of the stochastic estimators: the Bayes free energy of a potential is
F_n = −log Z(n) = λ log n − (m − 1) log log n + O(1) (Watanabe 2009, Thm 6.7 / design.md §4), and
−d log Z / d log n = n E_n[K] → λ. In d ≤ 2 the integral is computed to ~10 significant digits on the
closed-form checks (tests); for x²y²(x + y)² against its polar closed form the error of log Z stays below 10⁻⁶
(8·10⁻⁷ at n = 10⁷, where the adaptive rule's error estimate is fooled; ≤ 10⁻⁸ at n = 10¹⁰ … 10¹⁴).

Method: nested, vectorised adaptive Gauss–Kronrod (:mod:`slt.estimate.adaptive`). At large n the integrand
is a spike of width ~n^{-1/2} (or wider, where K is flat) around the zero set of K, invisible to any fixed
rule; so each one-dimensional integral is first subdivided at the minimisers of K along its line (found on a
grid and refined by golden-section search; near the point of interest also on a geometric grid, which
separates zero curves that cross there), at the point of interest and at 0 (where a Jacobian prior factor
|w_i|^{h_i} has its kink), with break points graded geometrically towards each of them down to 10^{-3}/√n.
K is shifted by its smallest value on the grid, so log Z stays finite for potentials whose minimum is > 0
(e.g. a basin at loss δ > 0) and n up to 10^{12}.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from slt.estimate.adaptive import integrate_many
from slt.estimate.landscape import Landscape, landscape

_GRID = 65
_GOLDEN = 0.5 * (np.sqrt(5.0) - 1.0)
# a minimum along a line matters only where e^{-n(K - K0)} is not negligible there
_RELEVANT = 60.0
# ratio of the geometric search grid around focus points (see _focus_grid)
_SEARCH_RATIO = 2.0 ** 0.25


def _finest(n: float) -> float:
    return 1e-3 / np.sqrt(max(n, 1.0))


def _graded(points: np.ndarray, spacing: float, n: float) -> np.ndarray:
    """Break points p ± spacing·8^{-j}, j = 0 … J, down to 1e-3/√n, for each p in ``points`` (…, P)."""
    levels = max(0, int(np.ceil(np.log(spacing / _finest(n)) / np.log(8.0))))
    offsets = spacing * 8.0 ** -np.arange(levels + 1)
    offsets = np.concatenate([[0.0], offsets, -offsets])
    return (points[..., :, None] + offsets).reshape(*points.shape[:-1], -1)


def _focus_grid(lo: float, hi: float, focus: np.ndarray, n: float) -> np.ndarray:
    """Points p and p ± 4h·r^{-j} (h the uniform spacing, r = 2^{1/4}, j = 0 … J, down to 10⁻³/√n) around each
    focus point p inside [lo, hi], sorted: the grid of :func:`_minima_near_focus`."""
    spacing = (hi - lo) / (_GRID - 1)
    levels = max(0, int(np.ceil(np.log(4.0 * spacing / _finest(n)) / np.log(_SEARCH_RATIO))))
    offsets = 4.0 * spacing * _SEARCH_RATIO ** -np.arange(levels + 1)
    near = (focus[:, None] + np.concatenate([[0.0], offsets, -offsets])[None, :]).ravel()
    return np.unique(near[(near >= lo) & (near <= hi)])


def _minima_near_focus(fun, lo: float, hi: float, rows: int, focus, n: float, below: float) -> np.ndarray:
    """Minimisers of t ↦ fun(r, t) close to the focus points, which the uniform grid cannot separate.

    Zero curves of K that cross at a focus point (the point of interest, where branches of the zero set meet)
    come closer than the uniform spacing on lines near it; the uniform grid then sees one minimum where there
    are two, and the peak of e^{−nK} at the other one is lost (K = x²y²(x + y)² lost 2% of Z at n = 10¹²).
    This search runs on the geometric grid of :func:`_focus_grid`, where two zeros at distances a and b from p
    stay apart once b/a is a few times r. It keeps only interior minima farther than 4·10⁻³/√n and 10⁻⁷ of the
    interval from every focus point (with r = 2^{1/4} the zero c of K = |t|^a (t − c)² on [−1, 1], a ≤ 6, is
    then found for every |c| beyond that radius): a minimum at the focus point itself already has its break
    points, and
    next to it K is flat to rounding (x² + y² = x² for |y| ≪ |x|), where a grid minimum comes and goes from
    one line to the next — which would make the inner integrals jump between neighbouring lines at the 10⁻⁹
    level and the outer integral subdivide without end. Returns (rows, 6), NaN-padded.
    """
    focus = np.asarray([p for p in np.atleast_1d(focus) if lo <= p <= hi], dtype=np.float64)
    if not focus.size:
        return np.full((rows, 0), np.nan)
    out = _line_minima(fun, lo, hi, rows, below=below, tol=_finest(n), grid=_focus_grid(lo, hi, focus, n),
                       interior=True)
    radius = max(4.0 * _finest(n), 1e-7 * (hi - lo))
    close = np.any(np.abs(out[..., None] - focus) < radius, axis=-1)
    return np.where(close, np.nan, out)


def _line_minima(fun, lo: float, hi: float, rows: int, below: float = np.inf, tol: float = 0.0,
                 max_minima: int = 6, grid: np.ndarray | None = None, interior: bool = False) -> np.ndarray:
    """Minimisers of t ↦ fun(r, t) on [lo, hi] for each row r: grid local minima refined by golden search.

    ``fun(r, t)`` takes (N,) row indices and (N,) points. ``grid`` is the sorted search grid (default
    _GRID uniform points on [lo, hi]); with ``interior`` its two end points are never minima. Only minima
    whose value is below ``below`` are kept; the search stops when the brackets are narrower than ``tol``.
    Returns (rows, max_minima), NaN-padded.
    """
    uniform = grid is None
    grid = np.linspace(lo, hi, _GRID) if uniform else grid
    size = grid.size
    r = np.repeat(np.arange(rows), size)
    k = fun(r, np.tile(grid, rows)).reshape(rows, size)
    edge = -np.inf if interior else np.inf
    left = np.concatenate([np.full((rows, 1), edge), k[:, :-1]], axis=1)
    right = np.concatenate([k[:, 1:], np.full((rows, 1), edge)], axis=1)
    is_min = (k <= left) & (k <= right) & ((k < left) | (k < right))
    # keep the lowest few minima of each row
    ranked = np.where(is_min, k, np.inf)
    order = np.argsort(ranked, axis=1)[:, :max_minima]
    chosen = np.take_along_axis(is_min, order, axis=1)
    rr, cc = np.nonzero(chosen)
    idx = order[rr, cc]
    a = grid[np.maximum(idx - 1, 0)]
    b = grid[np.minimum(idx + 1, size - 1)]
    widest = 2 * (grid[1] - grid[0]) if uniform else (float(np.max(b - a)) if a.size else 1.0)
    iterations = int(np.ceil(np.log(max(tol, 1e-16) / widest) / np.log(_GOLDEN)))
    for _ in range(max(iterations, 0)):
        c = b - _GOLDEN * (b - a)
        d = a + _GOLDEN * (b - a)
        left_lower = fun(rr, c) <= fun(rr, d)
        b = np.where(left_lower, d, b)
        a = np.where(left_lower, a, c)
    t_min = 0.5 * (a + b)
    out = np.full((rows, max_minima), np.nan)
    out[rr, cc] = np.where(fun(rr, t_min) < below, t_min, np.nan)
    return out


def _log_weight_1d(t: np.ndarray, h: float, scale: float | None) -> np.ndarray:
    out = np.zeros_like(t)
    if h:
        with np.errstate(divide="ignore"):
            out = h * np.log(np.abs(t))
    if scale is not None:
        out = out - 0.5 * t * t / scale**2
    return out


def _special_points(land: Landscape, i: int) -> list[float]:
    pts = [land.at[i]]
    if land.exponents[i] or land.scale is not None:
        pts.append(0.0)
    return pts


def _integral_1d(land: Landscape, n: float, k0: float, rtol: float) -> float:
    lo, hi = land.low[0], land.high[0]
    h, s = land.exponents[0], land.scale

    def f(_, t):
        return np.exp(_log_weight_1d(t, h, s) - n * (land.values(t[:, None]) - k0))

    def k_line(_, t):
        return land.values(t[:, None])

    below = k0 + _RELEVANT / max(n, 1.0)
    minima = _line_minima(k_line, lo, hi, 1, below=below, tol=_finest(n))
    near = _minima_near_focus(k_line, lo, hi, 1, _special_points(land, 0), n, below)
    pts = np.concatenate([minima[0], near[0], _special_points(land, 0)])[None, :]
    breaks = _graded(pts, (hi - lo) / (_GRID - 1), n)
    value, _ = integrate_many(f, np.array([lo]), np.array([hi]), breaks, rtol=rtol)
    return float(value[0])


def _outer_points_2d(land: Landscape) -> np.ndarray:
    """x-coordinates of the local minima of K on a 2-D grid, refined by Nelder–Mead (at most 16)."""
    gx = np.linspace(land.low[0], land.high[0], _GRID)
    gy = np.linspace(land.low[1], land.high[1], _GRID)
    X, Y = np.meshgrid(gx, gy, indexing="ij")
    k = land.values(np.column_stack([X.ravel(), Y.ravel()])).reshape(_GRID, _GRID)
    padded = np.pad(k, 1, constant_values=np.inf)
    neigh = np.stack([padded[1 + di:_GRID + 1 + di, 1 + dj:_GRID + 1 + dj]
                      for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj])
    is_min = np.all(k <= neigh, axis=0) & np.any(k < neigh, axis=0)
    ii, jj = np.nonzero(is_min)
    order = np.argsort(k[ii, jj])[:16]
    xs = []
    for i, j in zip(ii[order], jj[order], strict=True):
        res = minimize(lambda w: land.K(w), np.array([gx[i], gy[j]]), method="Nelder-Mead",
                       options={"xatol": 1e-12, "fatol": 1e-300, "maxiter": 400})
        xs.append(res.x[0] if land.low[0] <= res.x[0] <= land.high[0] else gx[i])
    return np.array(xs)


def _integral_2d(land: Landscape, n: float, k0: float, rtol: float, outer_points: np.ndarray) -> float:
    (lx, ly), (hx, hy) = land.low, land.high
    hx_exp, hy_exp, s = land.exponents[0], land.exponents[1], land.scale
    y_special = np.array(_special_points(land, 1))
    y_spacing = (hy - ly) / (_GRID - 1)
    below = k0 + _RELEVANT / max(n, 1.0)

    def outer(_, xs):
        rows = xs.size

        def k_row(r, y):
            return land.values(np.column_stack([xs[r], y]))

        minima = _line_minima(k_row, ly, hy, rows, below=below, tol=_finest(n))
        near = _minima_near_focus(k_row, ly, hy, rows, y_special, n, below)
        pts = np.concatenate([minima, near, np.broadcast_to(y_special, (rows, y_special.size))], axis=1)
        breaks = _graded(pts, y_spacing, n)

        def inner(r, y):
            return np.exp(_log_weight_1d(y, hy_exp, s) - n * (k_row(r, y) - k0))

        # the inner integrals are the outer integrand: make their noise small against the outer tolerance
        g, _ = integrate_many(inner, np.full(rows, ly), np.full(rows, hy), breaks, rtol=rtol * 1e-1)
        return g * np.exp(_log_weight_1d(xs, hx_exp, s))

    pts = np.concatenate([outer_points, _special_points(land, 0)])[None, :]
    breaks = _graded(pts, (hx - lx) / (_GRID - 1), n)
    value, _ = integrate_many(outer, np.array([lx]), np.array([hx]), breaks, rtol=rtol)
    return float(value[0])


def _grid_minimum(land: Landscape) -> float:
    axes = [np.linspace(land.low[i], land.high[i], _GRID) for i in range(land.dim)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return float(np.min(land.values(np.column_stack([m.ravel() for m in mesh]))))


def log_partition_function(potential, n, region=None, at=None, radius=None,
                           rtol: float = 1e-10) -> np.ndarray:
    """log Z(n) = log ∫ e^{−nK(w)} φ(w) dw with φ the normalised prior, for d = 1 or 2.

    Parameters
    ----------
    potential : a Potential, sympy expression or formula string in one or two variables.
    n : a number or an array of numbers ≥ 0 (the sample size; n = 0 gives log Z = 0).
    region : d pairs (low, high) replacing the prior's box; ``radius`` instead cuts the box to a cube of that
        half-width around ``at`` (for a local Z). ``at`` also marks a point where K may be singular.
    rtol : relative accuracy of each one-dimensional integral.

    Returns
    -------
    log Z(n), shape of ``n``, float64 (dimensionless).

    Example
    -------
    >>> float(np.exp(log_partition_function("x**2", 100.0)))   # √(π/100)·erf(10)/2
    0.08862269254527...
    """
    land = landscape(potential, at=at, radius=radius, region=region)
    if land.dim > 2:
        raise ValueError(f"quadrature works in 1 or 2 dimensions; this potential has {land.dim} "
                         f"({land.names}); "
                         "use slt.volume_scaling or slt.free_energy instead")
    ns = np.asarray(n, dtype=np.float64)
    if np.any(~np.isfinite(ns)) or np.any(ns < 0):
        raise ValueError(f"n must be finite and >= 0, got {n!r}")
    k0 = _grid_minimum(land)
    outer_points = _outer_points_2d(land) if land.dim == 2 else None

    def log_integral(m: float) -> float:
        value = (_integral_1d(land, m, k0, rtol) if land.dim == 1
                 else _integral_2d(land, m, k0, rtol, outer_points))
        if not value > 0:
            raise ValueError(f"Z({m:g}) underflowed: K is much larger than its grid minimum "
                             f"{k0:g} everywhere")
        return np.log(value) - m * k0

    log_norm = log_integral(0.0)
    out = np.array([log_integral(float(m)) - log_norm for m in ns.ravel()])
    return out.reshape(ns.shape)


def partition_function(potential, n, region=None, at=None, radius=None, rtol: float = 1e-10) -> np.ndarray:
    """Z(n) = ∫ e^{−nK(w)} φ(w) dw (see :func:`log_partition_function`, which is safer for large n)."""
    return np.exp(log_partition_function(potential, n, region=region, at=at, radius=radius, rtol=rtol))


def free_energy(potential, n, region=None, at=None, radius=None, rtol: float = 1e-10) -> np.ndarray:
    """F_n = −log Z(n) for the potential K in place of n L_n − n S_n (design.md §4), shape of ``n``."""
    return -log_partition_function(potential, n, region=region, at=at, radius=radius, rtol=rtol)
