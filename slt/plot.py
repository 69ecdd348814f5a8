"""Pictures of potentials: a 2-D landscape with its zero set, a 1-D profile, and overlays of points or chains.

Every function returns (or draws into) a matplotlib Figure and never calls ``plt.show``; it works with
the non-interactive Agg backend. Evaluation uses ``sympy.lambdify`` on the (already parsed) sympy
expression with numpy, so plotting needs no Numba compilation.
"""

from __future__ import annotations

import numpy as np
import sympy


def _figure(ax):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
    return fig, ax


def _numeric(expr, variables):
    f = sympy.lambdify(variables, expr, modules="numpy")

    def evaluate(*args):
        # poles, domain edges and overflow are expected on a plot grid (log at 0, 1/x, exp(1000 x)): they
        # become inf/nan pixels, not RuntimeWarnings on the user's terminal
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(*args), dtype=np.float64), np.shape(args[0]))

    return evaluate


def default_bounds(potential, center=None) -> np.ndarray:
    """Plot window per variable, shape (d, 2): the prior box widened by 10% (Gaussian prior: ±3 scales)."""
    prior = potential.prior
    if prior.kind == "box":
        low, high = np.asarray(prior.low), np.asarray(prior.high)
        pad = 0.1 * (high - low)
        return np.stack([low - pad, high + pad], axis=1)
    c = np.zeros(potential.dim) if center is None else _point(potential, center)
    s = 3 * np.asarray(prior.scale)
    return np.stack([c - s, c + s], axis=1)


def _point(potential, point) -> np.ndarray:
    return np.array([float(c) for c in potential.coordinates(point)])


def landscape(
    potential,
    ax=None,
    bounds=None,
    center=None,
    resolution: int = 241,
    levels: int = 24,
    zero_set: bool = True,
    cmap: str = "viridis",
):
    """Log-scaled filled contours of a 2-D potential with its zero set {K = 0} drawn in red.

    Shows log10(K − min K + ε) on a ``resolution``² grid, ε = 1e-12 · (max K − min K) (so exact zeros
    stay finite). The zero set is drawn factor by factor (``sympy.factor_list``): a factor that
    changes sign on the grid is drawn as its zero curve; a factor that does not (e.g. x² + y²) is
    searched for isolated zeros, refined from grid minima by Nelder–Mead and drawn as dots.

    Parameters
    ----------
    potential : a :class:`~slt.potential.Potential` in two variables.
    bounds : ((x0, x1), (y0, y1)); default :func:`default_bounds`.
    center : if given (a point), the window is ``bounds`` translated to be centred there.

    Returns the matplotlib Figure (its first axes holds the plot).
    """
    if potential.dim != 2:
        raise ValueError(f"landscape draws potentials in 2 variables; this one has {potential.dim}")
    B = np.asarray(bounds if bounds is not None else default_bounds(potential), dtype=np.float64)
    if B.shape != (2, 2) or not np.all(B[:, 0] < B[:, 1]):
        raise ValueError(f"bounds must be ((x0, x1), (y0, y1)) with x0 < x1 and y0 < y1, got {bounds!r}")
    if center is not None:
        B = B - B.mean(axis=1, keepdims=True) + _point(potential, center)[:, None]
    fig, ax = _figure(ax)
    gx, gy = np.linspace(*B[0], resolution), np.linspace(*B[1], resolution)
    X, Y = np.meshgrid(gx, gy)
    K = _numeric(potential.expr, potential.variables)(X, Y)
    finite = np.isfinite(K)
    if not finite.any():
        raise ValueError("the potential is not finite anywhere in the plot window")
    lo, hi = K[finite].min(), K[finite].max()
    if abs(lo) <= 1e-9 * (hi - lo):
        lo = 0.0  # rounding noise at an exact zero of K: draw log10 K itself
    eps = 1e-12 * max(hi - lo, 1e-300)
    Z = np.log10(np.where(finite, np.maximum(K - lo, 0.0) + eps, np.nan))
    # the colour range starts at the 0.1% quantile so that exact zeros do not stretch it to log10(eps)
    Z = np.maximum(Z, np.nanquantile(Z, 0.001))
    filled = ax.contourf(X, Y, Z, levels=levels, cmap=cmap)
    label = "log10 K" if lo == 0 else f"log10(K - {lo:.3g})"
    fig.colorbar(filled, ax=ax, label=label)
    if zero_set:
        _draw_zero_set(ax, potential, X, Y)
    x, y = potential.names
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_xlim(*B[0])
    ax.set_ylim(*B[1])
    ax.set_title(f"K = {_short(potential.expr)}", fontsize=9)
    return fig


def _short(expr, width: int = 60) -> str:
    text = str(expr)
    return text if len(text) <= width else text[: width - 3] + "..."


def _draw_zero_set(ax, potential, X, Y) -> None:
    from scipy.ndimage import minimum_filter
    from scipy.optimize import minimize

    _, factors = sympy.factor_list(potential.expr)
    drawn_curve = False
    for base, _ in factors:
        if not base.free_symbols:
            continue
        f = _numeric(base, potential.variables)
        F = f(X, Y)
        if not np.all(np.isfinite(F)):
            continue
        if F.min() < 0 < F.max():
            ax.contour(X, Y, F, levels=[0.0], colors="red", linewidths=1.5)
            drawn_curve = True
            continue
        A = np.abs(F)
        scale = max(A.max(), 1e-300)
        candidates = np.argwhere((A == minimum_filter(A, size=5)) & (A < 1e-2 * scale))[:20]
        for i, j in candidates:
            res = minimize(
                lambda p, f=f: abs(float(f(p[0], p[1]))),
                x0=[X[i, j], Y[i, j]],
                method="Nelder-Mead",
                options={"xatol": 1e-10, "fatol": 1e-14 * scale, "maxiter": 2000},
            )
            if res.fun <= 1e-9 * scale:
                ax.plot(*res.x, "o", color="red", markersize=5, zorder=5)
                drawn_curve = True
    if drawn_curve:
        ax.plot([], [], color="red", label="K = 0")


def profile(
    potential, ax=None, bounds=None, center=None, direction=None, resolution: int = 401, log: bool = False
):
    """K along a line: t ↦ K(center + t·u) with u = direction/|direction| (default: the first axis).

    For a 1-D potential this is simply K(x) on ``bounds`` (default :func:`default_bounds`). ``log``
    uses a logarithmic y axis (K − min K + ε, as in :func:`landscape`). Returns the Figure.
    """
    c = np.zeros(potential.dim) if center is None else _point(potential, center)
    u = np.zeros(potential.dim)
    if direction is None:
        u[0] = 1.0
    else:
        u = np.asarray(direction, dtype=np.float64).reshape(-1)
        if u.shape != (potential.dim,) or not np.linalg.norm(u) > 0:
            raise ValueError(f"direction must be a non-zero vector of length {potential.dim}")
        u = u / np.linalg.norm(u)
    if bounds is None:
        B = default_bounds(potential)
        t0, t1 = (B[0] - c[0]) if potential.dim == 1 else (-1.0, 1.0)
    else:
        t0, t1 = map(float, bounds)
        if not t0 < t1:
            raise ValueError(f"bounds must be (t0, t1) with t0 < t1, got {bounds!r}")
    t = np.linspace(t0, t1, resolution)
    W = c[None, :] + t[:, None] * u[None, :]
    K = _numeric(potential.expr, potential.variables)(*W.T)
    fig, ax = _figure(ax)
    if log:
        lo = np.nanmin(K)
        ax.semilogy(t, K - lo + 1e-12 * max(np.nanmax(K) - lo, 1e-300))
        ax.set_ylabel("K" if lo == 0 else f"K - {lo:.3g}")
    else:
        ax.plot(t, K)
        ax.set_ylabel("K")
    xlabel = (
        potential.names[0] if potential.dim == 1 and direction is None else "t (distance along direction)"
    )
    ax.set_xlabel(xlabel)
    ax.set_title(f"K = {_short(potential.expr)}", fontsize=9)
    return fig


def overlay(ax, points_or_trajectories, label: str | None = None, color=None, **kwargs):
    """Draw points (n, 2) as dots, or trajectories (records, chains, 2) as lines with start/end markers.

    A list of (records, 2) arrays is drawn as one line each. Extra keyword arguments go to matplotlib.
    Returns ``ax``.
    """
    data = points_or_trajectories
    if isinstance(data, list | tuple) and data and np.ndim(data[0]) == 2:
        for k, path in enumerate(data):
            overlay(ax, np.asarray(path)[:, None, :], label=label if k == 0 else None, color=color, **kwargs)
        return ax
    A = np.asarray(data, dtype=np.float64)
    if A.ndim == 2 and A.shape[1] == 2:
        ax.scatter(
            A[:, 0],
            A[:, 1],
            s=kwargs.pop("s", 14),
            color=color or "white",
            edgecolors="black",
            label=label,
            zorder=6,
            **kwargs,
        )
    elif A.ndim == 3 and A.shape[2] == 2:
        for k in range(A.shape[1]):
            (line,) = ax.plot(
                A[:, k, 0],
                A[:, k, 1],
                lw=kwargs.get("lw", 0.8),
                color=color,
                alpha=0.8,
                label=label if k == 0 else None,
                zorder=4,
            )
            ax.plot(A[0, k, 0], A[0, k, 1], "o", ms=3, color=line.get_color(), zorder=5)
            ax.plot(A[-1, k, 0], A[-1, k, 1], "s", ms=3, color=line.get_color(), zorder=5)
    else:
        raise ValueError(
            f"overlay takes points (n, 2) or trajectories (records, chains, 2), got shape {A.shape}"
        )
    if label:
        ax.legend(loc="upper right", fontsize=8)
    return ax
