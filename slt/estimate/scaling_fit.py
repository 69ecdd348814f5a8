"""Fit λ (and m) from the asymptotic law shared by the free energy and the volume.

Both laws have the form F(L) = c + λ L − (m − 1) log L:
  * free energy, L = log n: F_n = λ log n − (m − 1) log log n + O(1)   (Watanabe 2009, Thm 6.7);
  * volume, L = −log ε:     −log V(ε) = λ(−log ε) − (m − 1) log(−log ε) − log c   (Watanabe 2009,
  §4; design.md §4).
The two slopes λ and m − 1 are strongly correlated over a finite window, so the fit is linear least squares on
the basis [1, L, −log L]. With m ≥ 2 given, a 1/L column absorbs the next term of the expansion of the
logarithmic factor (e.g. V(ε) = t(1 + log(1/t)), t = √ε, for K = x²y² on [−1, 1]², whose log is
λ log ε + log(−log ε) + const + O(1/log ε)); for m = 1 the corrections are powers of ε and need no column.
The uncertainty is taken from independent replicas (a jackknife over replicas),
never from the residuals alone.
"""

from __future__ import annotations

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
