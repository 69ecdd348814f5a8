"""Reduced-rank regression: the closed form of Aoyagi & Watanabe (2005).

Model y = B A x with A an H×M matrix, B an N×H matrix (M inputs, N outputs, inner rank H), true
matrix of rank r. The learning coefficient over the whole parameter space (the deepest point of the
set of true parameters) is, testing the cases in this order (if r > H the true rank seen by the
model is H):

1. N + r ≤ M + H, M + r ≤ N + H and H + r ≤ M + N:
   λ = [2(H + r)(M + N) − (M − N)² − (H + r)²] / 8, and if M + H + N + r is odd,
   λ is increased by 1/8 and m = 2 (otherwise m = 1);
2. M + H < N + r: λ = (HM − Hr + Nr)/2, m = 1;
3. N + H < M + r: λ = (HN − Hr + Mr)/2, m = 1;
4. M + N < H + r: λ = MN/2, m = 1.

Source: M. Aoyagi and S. Watanabe, "Stochastic complexities of reduced rank regression in Bayesian
estimation", Neural Networks 18 (2005) 924–933, Main Theorem.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral

from slt.rlct.result import RLCTResult

CITATION = "Aoyagi & Watanabe (2005), Neural Networks 18:924-933, Main Theorem"


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"reduced-rank regression needs an integer {name} >= {minimum}, got {value!r}")
    return int(value)


def reduced_rank(M: int, N: int, H: int, r: int) -> RLCTResult:
    """Exact (λ, m) of reduced-rank regression y = BAx (Aoyagi & Watanabe 2005; see module doc).

    Parameters
    ----------
    M : input dimension (≥ 1).  N : output dimension (≥ 1).  H : inner rank of the model (≥ 1).
    r : rank of the true matrix (≥ 0); a value above H is read as H.

    Examples
    --------
    >>> reduced_rank(5, 5, 3, 0)
    RLCT(lam=13/2, m=2, exact=True, method='reduced_rank')
    """
    M, N, H = _count(M, "M", 1), _count(N, "N", 1), _count(H, "H", 1)
    r = _count(r, "r", 0)
    notes = []
    if r > H:
        notes.append(f"the true rank r={r} exceeds H={H}, so r = H = {H} is used")
        r = H
    if N + r <= M + H and M + r <= N + H and H + r <= M + N:
        lam = Fraction(2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2, 8)
        odd = (M + H + N + r) % 2 == 1
        m = 2 if odd else 1
        case = "case 1 (N+r <= M+H, M+r <= N+H, H+r <= M+N): lambda = [2(H+r)(M+N) - (M-N)^2 - (H+r)^2]/8" + (
            " + 1/8 and m = 2 since M+H+N+r is odd" if odd else ", m = 1 since M+H+N+r is even"
        )
        if odd:
            lam += Fraction(1, 8)
    elif M + H < N + r:
        lam, m, case = Fraction(H * M - H * r + N * r, 2), 1, "case 2 (M+H < N+r): lambda = (HM - Hr + Nr)/2"
    elif N + H < M + r:
        lam, m, case = Fraction(H * N - H * r + M * r, 2), 1, "case 3 (N+H < M+r): lambda = (HN - Hr + Mr)/2"
    else:
        lam, m, case = Fraction(M * N, 2), 1, "case 4 (M+N < H+r): lambda = MN/2"
    certificate = (
        f"reduced-rank regression M={M} inputs, N={N} outputs, H={H}, true rank r={r}; {case}; "
        f"{CITATION}" + "".join(f"; {note}" for note in notes)
    )
    return RLCTResult(lam=lam, m=m, exact=True, method="reduced_rank", certificate=certificate)
