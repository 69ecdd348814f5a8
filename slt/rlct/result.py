"""The record every exact-RLCT method returns."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


def fraction_text(value: Fraction | None) -> str | None:
    """``Fraction(1, 4)`` -> ``"1/4"``, ``Fraction(6)`` -> ``"6"``, ``None`` -> ``None``."""
    return None if value is None else str(value)


@dataclass(frozen=True)
class RLCTResult:
    """A learning coefficient λ (real log canonical threshold) and its multiplicity m.

    Attributes
    ----------
    lam : λ as an exact fraction. When ``exact`` is False it is not a certified value: with
        ``method="newton_bound"`` it is the Newton upper bound 1/t₀ (``"dimension_bound"``:
        Σ (h_i + 1)/2, for more variables than the Newton engine handles); after a Taylor truncation that
        could not be justified it is the λ of the Taylor polynomial (see ``reason``).
    m : the multiplicity (order of the pole of ζ(z) = ∫ K^z φ at z = −λ). Only certified when
        ``exact`` is True; otherwise the multiplicity the Newton polyhedron would give.
    exact : True when a theorem certifies (λ, m) for this K, prior and point.
    method : which method decided: ``"normal_crossing"``, ``"newton"``, ``"blowup"``,
        ``"separable"``, ``"reduced_rank"``, or (not exact) ``"newton_bound"`` / ``"dimension_bound"``.
    certificate : a human-readable account of the computation (faces, divisors, closed-form case).
    bound : the Newton-polyhedron upper bound 1/t₀ where it was computed (≥ λ), else None.
    reason : why the result is not exact (empty when it is).
    """

    lam: Fraction
    m: int
    exact: bool
    method: str
    certificate: str
    bound: Fraction | None = None
    reason: str = ""

    def __repr__(self) -> str:
        return f"RLCT(lam={self.lam}, m={self.m}, exact={self.exact}, method={self.method!r})"

    def to_dict(self) -> dict:
        """JSON-ready form; λ and the bound as exact fraction strings such as ``"1/4"``."""
        return {
            "lambda": fraction_text(self.lam),
            "m": self.m,
            "exact": self.exact,
            "method": self.method,
            "certificate": self.certificate,
            "bound": fraction_text(self.bound),
            "reason": self.reason or None,
        }
