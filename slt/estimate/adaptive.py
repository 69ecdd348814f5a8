"""Vectorised adaptive Gauss–Kronrod quadrature of many one-dimensional integrals at once.

Each round evaluates the 15-point Kronrod rule and its embedded 7-point Gauss rule on every interval still
open, for every integral, in one call of the integrand; an interval is accepted when |K15 − G7| is below its
share of the tolerance (the larger of its share of the width and of the integral), otherwise it is
bisected (the global-error strategy of QUADPACK's QAG, Piessens et al.
1983, applied to a batch). The node and weight values are the standard Gauss–Kronrod constants (Kronrod 1965;
as tabulated in QUADPACK's ``qk15``); the tests check them against ``numpy.polynomial.legendre.leggauss`` and
against polynomial exactness (degree 22 for K15, 13 for G7).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Kronrod abscissae on [0, 1) in decreasing order; 0 is the centre node. Odd positions are the Gauss nodes.
_XK_HALF = np.array([
    0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
    0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
    0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
    0.207784955007898467600689403773245,
])
_WK_HALF = np.array([
    0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
    0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
    0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
    0.204432940075298892414161999234649,
])
_WK_CENTRE = 0.209482141084727828012999174891714
_WG_HALF = np.array([0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
                     0.381830050505118944950369775488975])
_WG_CENTRE = 0.417959183673469387755102040816327

NODES = np.concatenate([-_XK_HALF, [0.0], _XK_HALF[::-1]])                     # (15,)
KRONROD_WEIGHTS = np.concatenate([_WK_HALF, [_WK_CENTRE], _WK_HALF[::-1]])      # (15,)
GAUSS_WEIGHTS = np.zeros(15)
GAUSS_WEIGHTS[[1, 3, 5]] = _WG_HALF
GAUSS_WEIGHTS[7] = _WG_CENTRE
GAUSS_WEIGHTS[[13, 11, 9]] = _WG_HALF


def integrate_many(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    breaks: np.ndarray | None = None,
    rtol: float = 1e-10,
    atol: float = 0.0,
    max_rounds: int = 60,
    max_intervals: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """I_k = ∫_{a_k}^{b_k} f(k, t) dt for k = 0 … K−1, all at once.

    Parameters
    ----------
    f : ``f(k, t) -> values``; k (N,) integer indices of the integrals, t (N,) points; returns (N,) float64.
    a, b : (K,) the limits, a_k < b_k.
    breaks : (K, B) points where the integrand has a kink or a narrow peak (NaN where unused); each integral
        starts subdivided at its points, which is what makes peaks much narrower than b − a visible.
    rtol, atol : accept when the summed error estimate is below max(atol, rtol |I_k|).
    Returns
    -------
    (I, err): (K,) integrals and (K,) summed error estimates |K15 − G7|.
    """
    a = np.atleast_1d(np.asarray(a, dtype=np.float64))
    b = np.atleast_1d(np.asarray(b, dtype=np.float64))
    n_int = a.size
    pts = [a[:, None], b[:, None]]
    if breaks is not None and np.size(breaks):
        inner = np.asarray(breaks, dtype=np.float64).reshape(n_int, -1)
        inner = np.where((inner > a[:, None]) & (inner < b[:, None]), inner, np.nan)
        pts.insert(1, inner)
    pts = np.sort(np.concatenate(pts, axis=1), axis=1)          # NaN sorts last
    lo, hi = pts[:, :-1], pts[:, 1:]
    valid = np.isfinite(hi) & (hi > lo)
    elem = np.broadcast_to(np.arange(n_int)[:, None], lo.shape)[valid]
    lo, hi = lo[valid], hi[valid]
    width_total = (b - a)
    total = np.zeros(n_int)
    total_err = np.zeros(n_int)
    for round_ in range(max_rounds):
        centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        t = centre[:, None] + half[:, None] * NODES[None, :]
        v = np.asarray(f(np.repeat(elem, 15), t.ravel()), dtype=np.float64).reshape(-1, 15)
        i_k = half * (v @ KRONROD_WEIGHTS)
        err = np.abs(i_k - half * (v @ GAUSS_WEIGHTS))
        estimate = total + np.bincount(elem, i_k, n_int)
        tol = np.maximum(atol, rtol * np.abs(estimate))
        # an interval may keep the error share of its width or of its contribution, whichever is larger
        # (so the summed error stays below 2·tol); a narrow peak then need not be resolved to roundoff
        contribution = np.abs(i_k) / np.maximum(np.abs(estimate[elem]), 1e-300)
        share = np.maximum((hi - lo) / width_total[elem], contribution)
        roundoff = 50 * np.finfo(float).eps * half * (np.abs(v) @ KRONROD_WEIGHTS)
        accept = ((err <= tol[elem] * share) | (err <= roundoff)
                  | (half <= 1e-15 * np.maximum(1.0, np.abs(centre))))
        if round_ == max_rounds - 1 or 2 * np.count_nonzero(~accept) > max_intervals:
            accept[:] = True
        total += np.bincount(elem[accept], i_k[accept], n_int)
        total_err += np.bincount(elem[accept], err[accept], n_int)
        keep = ~accept
        if not keep.any():
            break
        elem, lo, hi, centre = elem[keep], lo[keep], hi[keep], centre[keep]
        elem = np.concatenate([elem, elem])
        lo, hi = np.concatenate([lo, centre]), np.concatenate([centre, hi])
    return total, total_err
