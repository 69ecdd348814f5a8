"""The Newton polyhedron of a polynomial at the origin, in exact integer arithmetic.

Γ₊(K) = conv(∪_{α ∈ supp K} (α + R^d_{≥0})) (Varchenko 1976; Lin 2011, ch. 4). Every facet is written
⟨a, x⟩ ≥ b with a primitive integer normal a ≥ 0 and an integer b. Facets are located with Qhull on
the truncated polytope conv(S ∪ {α + R e_i}) — its facets with inner normal a ≥ 0 are exactly the
facets of Γ₊, for any R > 0 — and then recomputed exactly from the integer points they contain, so
nothing downstream depends on floating point.

With prior weights τ = h + 1 (prior Π|w_i|^{h_i}), the τ-distance is t₀ = min{t : tτ ∈ Γ₊}. The
linear program min t has its dual optimum at a facet normal, so t₀ = max_facets b/⟨a, τ⟩, an exact
rational. The multiplicity candidate is the codimension of the face whose relative interior contains
t₀τ, i.e. the rank of the normals of the facets through t₀τ.

A face is compact iff its normal cone meets R^d_{>0}: iff the sum of the normals of the facets
containing it is strictly positive. Compact faces give the face polynomials K_γ = Σ_{α ∈ γ} c_α w^α
used by the non-degeneracy test.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import gcd, lcm

import numpy as np
from scipy.spatial import ConvexHull

Exponent = tuple[int, ...]


def _dot(a, x) -> Fraction | int:
    return sum(ai * xi for ai, xi in zip(a, x, strict=True))


def _echelon(rows) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row echelon form over Q (exact) and the pivot columns."""
    matrix = [[Fraction(v) for v in row] for row in rows]
    pivots: list[int] = []
    r = 0
    ncols = len(matrix[0]) if matrix else 0
    for c in range(ncols):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][c] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        lead = matrix[r][c]
        matrix[r] = [v / lead for v in matrix[r]]
        for i in range(len(matrix)):
            if i != r and matrix[i][c] != 0:
                factor = matrix[i][c]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        pivots.append(c)
        r += 1
    return matrix[:r], pivots


def _rank(rows) -> int:
    rows = [list(r) for r in rows]
    return len(_echelon(rows)[1]) if rows else 0


def _kernel_vector(rows, ncols: int) -> list[Fraction]:
    """The one vector spanning the kernel of ``rows`` (a facet normal), exactly."""
    echelon, pivots = _echelon(rows)
    free = [c for c in range(ncols) if c not in pivots]
    if len(free) != 1:
        raise ArithmeticError(f"facet points span a {ncols - len(pivots)}-dimensional normal space")
    vector = [Fraction(0)] * ncols
    vector[free[0]] = Fraction(1)
    for row, c in zip(echelon, pivots, strict=True):
        vector[c] = -row[free[0]]
    return vector


@dataclass(frozen=True)
class Facet:
    """The facet ⟨normal, x⟩ ≥ offset of Γ₊ (normal ≥ 0, primitive, integer)."""

    normal: Exponent
    offset: int

    def __str__(self) -> str:
        lhs = " + ".join(f"{a}*a{i + 1}" for i, a in enumerate(self.normal) if a) or "0"
        return f"{lhs} >= {self.offset}"


class NewtonPolyhedron:
    """Γ₊ of a finite set S ⊂ N^d of exponents, with exact facets, distance and compact faces.

    Example: S = {(2, 0), (0, 4)} (K = x² + y⁴) has the compact facet 2a₁ + a₂ ≥ 4, so with τ = (1, 1)
    t₀ = 4/3 and λ = 3/4 when K is non-degenerate.
    """

    def __init__(self, exponents):
        points = sorted({tuple(int(e) for e in alpha) for alpha in exponents})
        if not points:
            raise ValueError("the Newton polyhedron of the zero polynomial is empty")
        self.points: tuple[Exponent, ...] = tuple(points)
        self.dim = len(points[0])
        self.facets: tuple[Facet, ...] = _facets(self.points)

    def contains(self, x) -> bool:
        """Whether x ∈ Γ₊ (exact)."""
        return all(_dot(f.normal, x) >= f.offset for f in self.facets)

    def distance(self, tau) -> Fraction:
        """t₀ = min{t : tτ ∈ Γ₊} = max over facets of offset / ⟨normal, τ⟩ (τ > 0)."""
        return max(Fraction(f.offset) / _dot(f.normal, tau) for f in self.facets)

    def facets_through(self, x) -> list[Facet]:
        return [f for f in self.facets if _dot(f.normal, x) == f.offset]

    def codimension(self, x) -> int:
        """Codimension of the face whose relative interior contains the boundary point x."""
        return _rank(f.normal for f in self.facets_through(x))

    def face_of(self, points: frozenset) -> list[Facet]:
        """The facets containing every point of ``points``."""
        return [f for f in self.facets if all(_dot(f.normal, p) == f.offset for p in points)]

    @cached_property
    def compact_faces(self) -> tuple[frozenset, ...]:
        """The compact faces, each as the set of exponents of S on it, by increasing dimension."""
        facet_sets = [frozenset(p for p in self.points if _dot(f.normal, p) == f.offset) for f in self.facets]
        faces = {s for s in facet_sets if s}
        frontier = list(faces)
        while frontier:
            fresh = []
            for face in frontier:
                for s in facet_sets:
                    meet = face & s
                    if meet and meet not in faces:
                        faces.add(meet)
                        fresh.append(meet)
            frontier = fresh
        compact = [face for face in faces if all(c > 0 for c in self.positive_weight(face))]
        return tuple(sorted(compact, key=lambda face: (affine_dimension(face), sorted(face))))

    def positive_weight(self, face: frozenset) -> tuple[int, ...]:
        """Sum of the normals of the facets containing ``face`` (> 0 iff the face is compact)."""
        normals = [f.normal for f in self.face_of(face)]
        return tuple(sum(col) for col in zip(*normals, strict=True)) if normals else (0,) * self.dim


def affine_dimension(points) -> int:
    points = sorted(points)
    base = points[0]
    return _rank([tuple(p - b for p, b in zip(q, base, strict=True)) for q in points[1:]])


def _facets(points: tuple[Exponent, ...]) -> tuple[Facet, ...]:
    d = len(points[0])
    if d == 1:
        return (Facet((1,), min(p[0] for p in points)),)
    reach = 1 + max(max(p) for p in points)
    generators = [p for p in points] + [
        tuple(c + reach * (i == j) for j, c in enumerate(p)) for p in points for i in range(d)
    ]
    coords = np.array(generators, dtype=np.float64)
    hull = ConvexHull(coords)
    tolerance = 1e-7 * (1 + np.abs(coords).max())
    planes = {}
    for equation in hull.equations:
        if np.all(equation[:-1] <= 1e-9):  # otherwise a cap of the truncation, not a facet of Γ₊
            # Qhull triangulates: many simplices share one hyperplane, so compute each plane once
            planes.setdefault(tuple(np.round(equation, 7)), equation)
    found: dict[Facet, None] = {}
    for equation in planes.values():
        outward, offset = equation[:-1], equation[-1]
        on = [g for g, row in zip(generators, coords, strict=True) if abs(outward @ row + offset) < tolerance]
        found.setdefault(_exact_facet(on, -outward, points), None)
    return tuple(sorted(found, key=lambda f: (f.normal, f.offset)))


def _exact_facet(on, inner, points) -> Facet:
    base = on[0]
    kernel = _kernel_vector([[c - b for c, b in zip(g, base, strict=True)] for g in on[1:]], len(base))
    scale = lcm(*(v.denominator for v in kernel))
    normal = [int(v * scale) for v in kernel]
    common = gcd(*normal)
    normal = [v // common for v in normal]
    if float(np.dot(normal, inner)) < 0:
        normal = [-v for v in normal]
    if min(normal) < 0:
        raise ArithmeticError(f"Newton facet with a negative normal {normal}")  # cannot happen for Γ₊
    offset = min(_dot(normal, p) for p in points)
    return Facet(tuple(normal), int(offset))
