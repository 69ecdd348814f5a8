"""Normal crossing: K = w^a · u(w) with u(0) ≠ 0, prior Π|w_i|^{h_i}.

Then ζ(z) = ∫ K^z φ factorises near 0 into Π_i ∫ |w_i|^{a_i z + h_i} dw_i, whose poles are
z = −(h_i + 1)/a_i, so λ = min_i (h_i + 1)/a_i over i with a_i > 0 and m = #{i attaining the min}
(Watanabe 2009, the normal crossing case that resolution of singularities reduces every K to;
for K = Π w_i^{2k_i}: λ = min (h_i+1)/(2k_i)).
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from slt.rlct.result import RLCTResult

SOURCE = "Watanabe (2009), Algebraic Geometry and Statistical Learning Theory, normal crossing case"


def monomial_factor(poly: sympy.Poly) -> tuple[int, ...]:
    """The exponent a of the largest monomial w^a dividing K."""
    return tuple(min(col) for col in zip(*poly.monoms(), strict=True))


def candidates_text(names, a, tau) -> str:
    return ", ".join(f"{n}: {t}/{e} = {t / e}" for n, e, t in zip(names, a, tau, strict=True) if e)


def normal_crossing(poly: sympy.Poly, tau, names) -> RLCTResult | None:
    """λ, m when K is a monomial times a unit at 0 (see module doc); None otherwise."""
    a = monomial_factor(poly)
    if poly.coeff_monomial(a) == 0 or not any(a):
        return None  # the quotient K / w^a vanishes at 0: not a unit
    ratios = {i: Fraction(tau[i]) / e for i, e in enumerate(a) if e}
    lam = min(ratios.values())
    winners = [names[i] for i, r in ratios.items() if r == lam]
    monomial = "*".join(f"{n}^{e}" for n, e in zip(names, a, strict=True) if e)
    unit = "" if len(poly.terms()) == 1 else " times a unit u(w), u(0) != 0"
    priors = [f"|{n}|^{t - 1}" for n, t in zip(names, tau, strict=True) if t != 1]
    certificate = (
        f"K = c*{monomial}{unit}; prior {'*'.join(priors) if priors else 'uniform'} near the point; "
        f"candidates (h_i+1)/a_i: {candidates_text(names, a, tau)}; lambda = {lam} attained by "
        f"{', '.join(winners)} -> m = {len(winners)}. {SOURCE}"
    )
    return RLCTResult(
        lam=lam, m=len(winners), exact=True, method="normal_crossing", certificate=certificate, bound=lam
    )
