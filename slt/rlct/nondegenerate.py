"""The Newton-polyhedron method: λ = 1/t₀ and m = codim of the τ-face, when K is non-degenerate.

Theorem (Varchenko 1976 for the uniform prior; Lin 2011, ch. 4, for monomial priors w^{τ−1}):
if for every compact face γ of Γ₊(K) the face polynomial K_γ has no singular zero on the real
torus (R∖0)^d, then the real log canonical threshold of K at 0 is λ = 1/t₀ with
t₀ = min{t : tτ ∈ Γ₊}, and m is the codimension of the face of Γ₊ whose relative interior contains
t₀τ. Without non-degeneracy 1/t₀ is only an upper bound:
(x − y)² has λ = 1/2 while 1/t₀ = 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy

from slt.rlct.newton import NewtonPolyhedron, affine_dimension
from slt.rlct.result import RLCTResult
from slt.rlct.torus import face_polynomial, real_torus_zero

SOURCE = "Varchenko (1976); Lin (2011, PhD thesis, ch. 4) for monomial priors"
FACE_KIND = {0: "vertex", 1: "edge"}


@dataclass(frozen=True)
class NewtonAnalysis:
    """t₀, the Newton bound 1/t₀, the τ-face codimension m, and the non-degeneracy verdict.

    nondegenerate : True (all compact faces checked), False (some face polynomial vanishes on the
    real torus), None (undecided). evidence : per-face explanations; failure : the deciding one.
    """

    t0: Fraction
    m: int
    face: str
    nondegenerate: bool | None
    evidence: tuple[str, ...]
    failure: str

    @property
    def bound(self) -> Fraction:
        return 1 / self.t0


def check_vertex_signs(polyhedron: NewtonPolyhedron, poly: sympy.Poly, names) -> None:
    """Raise if a vertex term c·w^v has c < 0 or an odd exponent: then K < 0 arbitrarily near 0."""
    for face in polyhedron.compact_faces:
        if len(face) != 1:
            continue
        (v,) = face
        c = poly.coeff_monomial(v)
        if c < 0 or any(e % 2 for e in v):
            term = "*".join(f"{n}^{e}" for n, e in zip(names, v, strict=True) if e)
            raise ValueError(
                f"K takes negative values arbitrarily near the point: its Newton-polyhedron vertex term "
                f"{c}*{term} is {'negative' if c < 0 else 'of odd degree in a variable'}; λ needs K ≥ 0"
            )


def analyse(poly: sympy.Poly, tau, names, polyhedron: NewtonPolyhedron) -> NewtonAnalysis:
    """t₀ and m from the polyhedron, then the real-torus test of each compact face, lowest dimension first."""
    t0 = polyhedron.distance(tau)
    point = [t0 * t for t in tau]
    facets = polyhedron.facets_through(point)
    m = polyhedron.codimension(point)
    face = " and ".join(str(f) for f in facets)
    terms = {a: c for a, c in poly.terms()}
    gens = tuple(sympy.Symbol(n) for n in names)
    evidence, undecided = [], ""
    for gamma in polyhedron.compact_faces:
        verdict = real_torus_zero(terms, gamma, gens)
        kind = FACE_KIND.get(affine_dimension(gamma), f"{affine_dimension(gamma)}-face")
        line = f"{kind} {face_polynomial(terms, gamma, gens)}: {verdict.detail}"
        if verdict.vanishes:
            return NewtonAnalysis(t0, m, face, False, tuple(evidence), f"degenerate {line}")
        if verdict.vanishes is None and not undecided:
            undecided = f"undecided {line}"
        evidence.append(line)
    return NewtonAnalysis(t0, m, face, None if undecided else True, tuple(evidence), undecided)


def newton_result(analysis: NewtonAnalysis, tau) -> RLCTResult:
    """The exact result of a non-degenerate K (see module doc)."""
    tau_text = ", ".join(str(t) for t in tau)
    certificate = (
        f"Newton polyhedron with tau = ({tau_text}): t0 = {analysis.t0} on {analysis.face}; t0*tau lies in "
        f"the relative interior of a face of codimension {analysis.m} -> lambda = 1/t0 = {analysis.bound}, "
        f"m = {analysis.m}. Non-degenerate over the real torus ({len(analysis.evidence)} compact faces): "
        + "; ".join(analysis.evidence)
        + f". {SOURCE}"
    )
    return RLCTResult(
        lam=analysis.bound,
        m=analysis.m,
        exact=True,
        method="newton",
        certificate=certificate,
        bound=analysis.bound,
    )
