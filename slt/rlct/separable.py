"""Sums over separate variables: K(w) = K₁(w_{G₁}) + ... + K_g(w_{G_g}) with disjoint groups G_j.

For K_j ≥ 0 the volumes V_j(ε) ~ c_j ε^{λ_j} (−log ε)^{m_j − 1} convolve, so
λ(K) = Σ_j λ(K_j) and m(K) = Σ_j m_j − (g − 1) (Watanabe 2009, ch. 7 examples; Lin 2011, ch. 4:
RLCT of a sum of functions in disjoint variables). With K ≥ 0 and K(0) = 0 each summand may be taken
as K_j(w_{G_j}) = K restricted to the group (the others set to 0), which is ≥ 0 near 0.
"""

from __future__ import annotations

import sympy


def variable_groups(poly: sympy.Poly) -> list[tuple[int, ...]]:
    """Connected groups of the variables that occur in K (linked when they share a monomial)."""
    parent = list(range(len(poly.gens)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    used = set()
    for monom in poly.monoms():
        present = [i for i, e in enumerate(monom) if e]
        used.update(present)
        for i in present[1:]:
            parent[find(i)] = find(present[0])
    groups: dict[int, list[int]] = {}
    for i in sorted(used):
        groups.setdefault(find(i), []).append(i)
    return [tuple(g) for g in groups.values()]


def restrict(poly: sympy.Poly, group: tuple[int, ...]) -> sympy.Poly:
    """K restricted to the variables of ``group`` (the terms in those variables only)."""
    terms = {
        tuple(m[i] for i in group): c
        for m, c in poly.terms()
        if all(m[i] == 0 or i in group for i in range(len(m)))
    }
    return sympy.Poly.from_dict(terms, *(poly.gens[i] for i in group), domain="QQ")
