"""Fit λ (and m) from the asymptotic law shared by the free energy and the volume, with honest errors.

Both laws have the form F(L) = c + λ L − (m − 1) log L:
  * free energy, L = log n: F_n = λ log n − (m − 1) log log n + O(1)   (Watanabe 2009, Thm 6.7);
  * volume, L = −log ε:     −log V(ε) = λ(−log ε) − (m − 1) log(−log ε) − log c   (Watanabe 2009,
  §4; design.md §4).
The two slopes λ and m − 1 are strongly correlated over a finite window, so the fit is linear least squares on
the basis [1, L, −log L]. With m ≥ 2 given, a 1/L column absorbs the next term of the expansion of the
logarithmic factor (e.g. V(ε) = t(1 + log(1/t)), t = √ε, for K = x²y² on [−1, 1]², whose log is
λ log ε + log(−log ε) + const + O(1/log ε)); for m = 1 the corrections are powers of ε and need no column.

**Two errors, reported separately** (:func:`fit_scaling_law`).

* Statistical, σ_stat: a jackknife over R independent replicas (or blocks), never the residuals alone
  (Efron & Stein 1981). It is 0 for deterministic data (quadrature).
* Systematic, σ_fit (the "fit window" error): the law holds only as L → ∞, and the neglected terms — the next
  pole of the zeta function, e^{−δL} with δ = λ' − λ (δ = 1/6 for x²y²(x + y)², 1/12 for (x² − y³)² and
  x⁴y⁶), or O(1/L²) for m ≥ 2 — bias a slope fitted over a finite window. Two checks measure that bias, with
  m fixed:

  - windows: λ is refitted on W = {all points, lower half, upper half, all but the lowest point} (halves of
    ⌈k/2⌉ points; a window is used only if it has a point more than the law has columns);
  - next-order term: λ_c is refitted on all points with a column e^{−δ(L − L_min)} added, δ profiled over
    [1/(L_max − L_min), 2] (:func:`fit_lambda_corrected`).

  Only the part of a shift that noise cannot explain counts (Barlow 2002, "Systematic errors: facts and
  fictions", hep-ex/0207026): with σ_{a−b} the jackknife standard error of the difference λ_a − λ_b itself
  (the replicas are shared, so this accounts for the overlap of the fits; σ = 0 for quadrature),

      S_w = max over pairs (w, w') of W of max(0, (λ_w − λ_w')² − σ²_{w−w'}),
      S_c = max(0, (λ_c − λ_all)² − σ²_{c−all}),
      σ_fit = √(S_w + S_c).

  For a slope that still drifts, S_w is about the drift of the local slope across the window, and S_c the
  step to a law that models the drift; together they reach the limit on the reference cases (the window spread
  alone falls short when δ·(L_max − L_min) ≲ 1: x⁴y⁶ from n = 10³ … 10¹⁰ is off by 0.021, its window spread
  is 0.017, σ_fit = 0.025). σ_fit is a one-standard-error scale, not a bound. The point estimate stays the
  plain fit on all points: the corrected fit is far more accurate on exact data (quadrature) but too noisy on
  sampled data (volume, thermodynamic integration) to replace it. On sampled data the largest of several
  noisy shifts leaves σ_fit of the order of σ_stat even for an exact law, and a sampler bias that changes
  along the levels (e.g. too few Metropolis sweeps per level) shows up in σ_fit — as it should.

**Choosing m** when it is not given. In-sample residuals always favour the law with more columns (m ≥ 2 has
the 1/L column), so they cannot decide. Instead each candidate m = 1 … m_max is fitted and scored by its own
σ_fit — a law of the wrong m leaves a drift ∝ 1/L in the slope, which the window refits expose (a
cross-validation in L). The smallest score wins only if every other candidate's score exceeds ``decisive``
(default 2) times it; otherwise the data cannot decide: the smallest m among the candidates within that factor
(the simpler law — generic potentials have m = 1) is used, ``m_decided`` is False and a warning names every
such (λ, m) pair. A candidate whose σ_fit cannot be computed (too few points) cannot be ruled out. An m given
by the caller is always used as given. Quadrature over n = 10³ … 10¹⁰: x²y² scores 0.044 (m = 1) against
0.001 (m = 2), decided; x²y²(x + y)² scores 0.023 against 0.027, undecided (m = 1 is right).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def fit_lambda(L: np.ndarray, F: np.ndarray, m: float | None = None) -> tuple[float, float, float]:
    """Least-squares (λ, m, c) of F = c + λ L − (m − 1) log L; with ``m`` given only λ and c are fitted.

    L : (k,) with L > 0; F : (k,). Returns floats (λ, m, c).
    """
    L = np.asarray(L, dtype=np.float64)
    F = np.asarray(F, dtype=np.float64)
    if m is None:
        A = np.column_stack([np.ones_like(L), L, -np.log(L)])
        (c, lam, m_minus_1), *_ = np.linalg.lstsq(A, F, rcond=None)
        return float(lam), float(m_minus_1 + 1.0), float(c)
    columns = [np.ones_like(L), L] + ([1.0 / L] if m >= 2 else [])
    (c, lam, *_), *_ = np.linalg.lstsq(np.column_stack(columns), F + (m - 1.0) * np.log(L), rcond=None)
    return float(lam), float(m), float(c)


def jackknife(estimates_without: np.ndarray) -> float:
    """Jackknife standard error from the R leave-one-out estimates (R,) (Efron & Stein 1981)."""
    x = np.asarray(estimates_without, dtype=np.float64)
    r = x.size
    if r < 2:
        return float("nan")
    return float(np.sqrt((r - 1) / r * np.sum((x - x.mean()) ** 2)))


def fit_lambda_corrected(L: np.ndarray, F: np.ndarray, m: int) -> tuple[float, float]:
    """(λ, δ) of F = c + λ L − (m − 1) log L [+ a/L for m ≥ 2] + b e^{−δ(L − L₀)}, δ profiled.

    The extra term is the next pole of the zeta function (δ = λ' − λ). δ runs over a geometric grid from
    1/(L_max − L_min) — slower terms are indistinguishable from the slope itself — to 2; for each δ the rest
    is linear least squares, and the δ with the smallest residual wins. L, F : (k,) with k ≥ columns + 2.
    """
    L = np.asarray(L, dtype=np.float64)
    y = np.asarray(F, dtype=np.float64) + (m - 1.0) * np.log(L)
    span = float(L.max() - L.min())
    base = [np.ones_like(L), L] + ([1.0 / L] if m >= 2 else [])
    best = (np.inf, float("nan"), float("nan"))
    for delta in np.geomspace(min(1.0 / span, 1.0), 2.0, _DELTA_GRID):
        A = np.column_stack(base + [np.exp(-delta * (L - L.min()))])
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        rss = float(np.sum((y - A @ coef) ** 2))
        if rss < best[0]:
            best = (rss, float(coef[1]), float(delta))
    return best[1], best[2]


_DELTA_GRID = 48
CORRECTED = "all, with a next-order term"


def _columns(m: int) -> int:
    return 3 if m >= 2 else 2


def fit_windows(k: int, m: int) -> dict[str, slice]:
    """The windows of :func:`fit_scaling_law` over k sorted points that hold ≥ (columns + 1) points."""
    half = (k + 1) // 2
    windows = {"all": slice(0, k), "lower half": slice(0, half), "upper half": slice(k - half, k),
               "without the lowest": slice(1, k)}
    need = _columns(m) + 1
    return {name: w for name, w in windows.items() if w.stop - w.start >= need}


@dataclass(frozen=True)
class ScalingFit:
    """The fit of F = c + λ L − (m − 1) log L with its two errors (see the module docstring).

    lam : λ on all points with multiplicity ``m``; lam_stderr : its jackknife error (0 without replicas);
    lam_systematic : σ_fit, the fit-window error (NaN when fewer than two windows fit);
    m : the multiplicity used; m_fit : the real m of the joint fit on [1, L, −log L];
    m_decided : False when m was not given and the data could not single it out;
    candidates : one dict per candidate m, {"m", "lam", "lam_stderr", "lam_systematic"};
    windows : λ on each window (and with the next-order term, key :data:`CORRECTED`) for the m used;
    c : the intercept; warnings : problems, in words.
    """

    lam: float
    lam_stderr: float
    lam_systematic: float
    m: int
    m_fit: float
    m_decided: bool
    candidates: tuple[dict, ...]
    windows: dict
    c: float
    warnings: tuple[str, ...] = ()


def _fit_one(L: np.ndarray, F: np.ndarray, m: int) -> dict:
    """λ, c, σ_stat, σ_fit and the variant λs for one m, from replicas L, F of shape (R, k)."""
    R, k = L.shape
    windows = fit_windows(k, m)
    corrected = k >= _columns(m) + 2
    leave_out = [np.delete(np.arange(R), r) for r in range(R)] if R > 1 else []

    def variants(rows) -> dict[str, float]:
        Lm, Fm = L[rows].mean(axis=0), F[rows].mean(axis=0)
        out = {name: fit_lambda(Lm[w], Fm[w], m)[0] for name, w in windows.items()}
        out["all"] = fit_lambda(Lm, Fm, m)[0]
        if corrected:
            out[CORRECTED] = fit_lambda_corrected(Lm, Fm, m)[0]
        return out

    every = variants(np.arange(R))
    without = [variants(rows) for rows in leave_out]
    lam, _, c = fit_lambda(L.mean(axis=0), F.mean(axis=0), m)
    stderr = jackknife([w["all"] for w in without]) if leave_out else 0.0
    def excess(a: str, b: str) -> float:
        """(λ_a − λ_b)² less the part that noise explains (jackknife variance of the difference)."""
        shift = every[a] - every[b]
        noise = jackknife([w[a] - w[b] for w in without]) if leave_out else 0.0
        return max(0.0, shift * shift - noise * noise)

    if len(windows) < 2:
        systematic = float("nan")
    else:
        names = list(windows)
        window_part = max(excess(a, b) for i, a in enumerate(names) for b in names[i + 1:])
        systematic = float(np.sqrt(window_part + (excess(CORRECTED, "all") if corrected else 0.0)))
    return {"m": m, "lam": lam, "lam_stderr": stderr, "lam_systematic": systematic, "c": c, "windows": every}


def _pair(candidate: dict) -> str:
    return f"(λ = {candidate['lam']:.4g}, m = {candidate['m']})"


def fit_scaling_law(L, F, m: int | None = None, m_max: int = 1, *, decisive: float = 2.0,
                    hint: str = "") -> ScalingFit:
    """Fit F = c + λ L − (m − 1) log L with statistical and fit-window errors, choosing m if not given.

    Parameters
    ----------
    L, F : (k,) or (R, k) arrays (R replicas, broadcast against each other), L > 0 increasing along k.
    m : the multiplicity if known (used as given); otherwise chosen among 1 … ``m_max``.
    decisive : how many times less stable (σ_fit) a competing m must be before the data count as deciding.
    hint : appended to the undecided-m warning (e.g. how to widen the range for this estimator).

    Returns
    -------
    :class:`ScalingFit`.

    Example
    -------
    >>> L = np.log(np.logspace(3, 10, 15)); fit_scaling_law(L, 0.5 * L - np.log(L) + 1.0, m_max=2).m
    2
    """
    L = np.atleast_2d(np.asarray(L, dtype=np.float64))
    F = np.atleast_2d(np.asarray(F, dtype=np.float64))
    L, F = np.broadcast_arrays(L, F)
    _, m_fit, _ = fit_lambda(L.mean(axis=0), F.mean(axis=0), None)
    warnings: list[str] = []
    if m is not None:
        chosen = _fit_one(L, F, int(m))
        candidates, decided = [chosen], True
    else:
        candidates = [_fit_one(L, F, mm) for mm in range(1, max(1, int(m_max)) + 1)]
        scores = np.array([c["lam_systematic"] for c in candidates])
        if len(candidates) == 1 or np.all(np.isnan(scores)):
            chosen, decided = candidates[0], len(candidates) == 1
            if not decided:
                warnings.append(f"too few points to compare multiplicities; m = 1 is used (the joint fit "
                                f"gives m = {m_fit:.2f}); pass m= if it is known{hint}")
        else:
            best = float(np.nanmin(scores))
            # a candidate whose σ_fit cannot be computed (too few points for its law) cannot be ruled out
            plausible = [c for c, s in zip(candidates, scores, strict=True)
                         if np.isnan(s) or s <= decisive * best]
            chosen = plausible[0]
            decided = len(plausible) == 1
            if not decided:
                spreads = ", ".join("n/a" if np.isnan(c["lam_systematic"]) else f"{c['lam_systematic']:.2g}"
                                for c in plausible)
                warnings.append(
                    "the data cannot decide the multiplicity: "
                    + " and ".join(_pair(c) for c in plausible)
                    + f" fit about equally well (fit-window errors {spreads}); m = {chosen['m']} is used "
                    f"(the simpler law); pass m= if it is known{hint}")
    lam, stat, syst = chosen["lam"], chosen["lam_stderr"], chosen["lam_systematic"]
    if np.isnan(syst):
        warnings.append(f"too few points for a fit-window error (the law with m = {chosen['m']} needs "
                        f"{_columns(chosen['m']) + 2} or more, {2 * _columns(chosen['m']) + 1} for both "
                        f"half-windows); λ = {lam:.4g} ± {stat:.2g} (stat) has no systematic error estimate")
    elif syst > 0.05 * abs(lam):
        warnings.append(f"λ = {lam:.4g} ± {stat:.2g} (stat) ± {syst:.2g} (fit window): the slope moves by "
                        f"more than 5% of λ between sub-windows or with a next-order term, so the law has "
                        f"not settled over this range; the limit may lie beyond the fit-window error")
    return ScalingFit(lam=lam, lam_stderr=stat, lam_systematic=syst, m=int(chosen["m"]), m_fit=m_fit,
                      m_decided=decided,
                      candidates=tuple({key: c[key] for key in ("m", "lam", "lam_stderr", "lam_systematic")}
                                       for c in candidates),
                      windows=dict(chosen["windows"]), c=chosen["c"], warnings=tuple(warnings))
