"""The O(1) constant c_α of a basin's local free energy, where the local form of K allows it.

The local partition function of basin α is Z_α(n) = ∫_{U_α} e^{−nK(w)} φ(w) dw with φ the normalised prior.
Two local forms give its leading term in closed form, Z_α(n) ≈ e^{−nL_α} e^{−c_α} n^{−λ_α}, so that
F_α(n) = −log Z_α(n) ≈ nL_α + λ_α log n + c_α (Watanabe 2009, §6; Laplace's method):

* **Gaussian** (regular minimum, Hessian H positive definite, no Jacobian factor vanishing there):
  Z ≈ e^{−nL} φ(w_α) (2π/n)^{d/2} det(H)^{−1/2}, so λ = d/2 and c = −log[φ(w_α) (2π)^{d/2} det(H)^{−1/2}].
* **Separable quasi-homogeneous** (u = w − w_α): K − L = Σ_i a_i u_i^{k_i} + (terms of weighted degree
  Σ_i α_i/k_i > 1), k_i even, a_i > 0, and a prior φ(w) = φ_s(w) Π_{i: w_α,i = 0} |u_i|^{h_i} with φ_s smooth.
  Then Z ≈ e^{−nL} φ_s(w_α) Π_i 2Γ((h_i+1)/k_i) / (k_i (n a_i)^{(h_i+1)/k_i}), from
  ∫_R |u|^h e^{−n a |u|^k} du = 2Γ((h+1)/k) / (k (na)^{(h+1)/k}); λ = Σ_i (h_i+1)/k_i, m = 1
  (the Newton polyhedron of a diagonal form; Varchenko 1976). It contains the normal-crossing case of one
  monomial per variable.

A basin on a face of the prior box keeps the half of the local integral inside the box: a factor 1/2 per
boundary coordinate (exact for a separable even form; for a Gaussian when the boundary coordinates are
independent under H⁻¹, which holds for one boundary coordinate by symmetry u → −u).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy


@dataclass(frozen=True)
class LocalForm:
    """The leading local term Z_α(n) ≈ e^{−nL} e^{−c} n^{−λ} of a basin.

    kind : ``"gaussian"`` or ``"quasi_homogeneous"``.  lam : λ of this form (Fraction).
    log_constant : c (dimensionless; F_n = nL + λ log n + c + o(1)).  description : the form, in words.
    """

    kind: str
    lam: Fraction
    log_constant: float
    description: str

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "lambda": str(self.lam),
            "log_constant": self.log_constant,
            "description": self.description,
        }


def _box(prior):
    if prior.kind == "box":
        return np.array(prior.low), np.array(prior.high)
    return None, None


def coordinate_normaliser(prior, i: int, low: float | None = None, high: float | None = None) -> float:
    """∫ |t|^{h_i} g_i(t) dt over [low, high] (default: the prior's range), g_i the base density's factor.

    Box: g = 1, ∫_a^b |t|^h dt = G(b) − G(a) with G(t) = sign(t)|t|^{h+1}/(h+1).
    Gaussian: g = e^{−t²/(2s²)}; over R the integral is (2s²)^{(h+1)/2} Γ((h+1)/2); over a finite range by
    quadrature.
    """
    h = prior.exponents[i]
    if prior.kind == "box":
        a = prior.low[i] if low is None else low
        b = prior.high[i] if high is None else high

        def G(t):
            return math.copysign(abs(t) ** (h + 1) / (h + 1), t)

        return G(b) - G(a)
    s = prior.scale[i]
    if low is None and high is None:
        return (2 * s * s) ** ((h + 1) / 2) * math.gamma((h + 1) / 2)
    from scipy.integrate import quad

    a = -8 * s if low is None else low
    b = 8 * s if high is None else high
    points = [0.0] if a < 0 < b else None
    return quad(lambda t: abs(t) ** h * math.exp(-t * t / (2 * s * s)), a, b, points=points, limit=200)[0]


def _log_smooth_prior(prior, x: np.ndarray) -> float:
    """log φ_s(w_α): the normalised prior at w_α without the Jacobian factors that vanish there."""
    out = 0.0
    for i, (h, xi) in enumerate(zip(prior.exponents, x, strict=True)):
        out -= math.log(coordinate_normaliser(prior, i))
        if h and xi != 0:
            out += h * math.log(abs(xi))
        if prior.kind == "gaussian":
            out -= xi * xi / (2 * prior.scale[i] ** 2)
    return out


def _boundary(prior, x: np.ndarray) -> list[int]:
    low, high = _box(prior)
    if low is None:
        return []
    if np.any(x < low - 1e-12) or np.any(x > high + 1e-12):
        raise ValueError(f"the basin point {x.tolist()} lies outside the prior box")
    return [i for i in range(len(x)) if abs(x[i] - low[i]) < 1e-12 or abs(x[i] - high[i]) < 1e-12]


def local_form(potential, point) -> LocalForm | None:
    """The local form of K at ``point`` (a minimum) and its constant c, or None when neither form applies.

    ``point``: dict name → number/text or a sequence (exact values are kept exact). See the module text for
    the two forms and their sources.
    """
    coords = potential.coordinates(point)
    x = np.array([float(c) for c in coords])
    prior = potential.prior
    boundary = _boundary(prior, x)
    log_phi = _log_smooth_prior(prior, x)
    jacobian = [h if c == 0 else 0 for h, c in zip(prior.exponents, coords, strict=True)]
    d = potential.dim
    if not any(jacobian):
        form = _gaussian(potential, point, d, boundary, log_phi)
        if form is not None:
            return form
    return _separable(potential, coords, jacobian, boundary, log_phi)


def _gaussian(potential, point, d, boundary, log_phi) -> LocalForm | None:
    H = potential.hessian_at(point)
    mu = np.linalg.eigvalsh(H)
    if not np.all(mu > 1e-9 * max(1.0, float(np.max(np.abs(mu))))):
        return None
    half = 0.0
    if len(boundary) == 1:
        half = math.log(2)
    elif len(boundary) > 1:
        cov = np.linalg.inv(H)[np.ix_(boundary, boundary)]
        if np.any(np.abs(cov - np.diag(np.diag(cov))) > 1e-12 * np.max(np.abs(cov))):
            return None
        half = len(boundary) * math.log(2)
    logdet = float(np.sum(np.log(mu)))
    c = -(log_phi + 0.5 * d * math.log(2 * math.pi) - 0.5 * logdet) + half
    return LocalForm(
        "gaussian",
        Fraction(d, 2),
        c,
        f"regular minimum: Hessian eigenvalues {np.array2string(mu, precision=4)}",
    )


def _separable(potential, coords, jacobian, boundary, log_phi) -> LocalForm | None:
    u = potential.variables
    shifted = sympy.expand(
        potential.expr.xreplace({v: v + c for v, c in zip(u, coords, strict=True)})
        - potential.expr.xreplace(dict(zip(u, coords, strict=True)))
    )
    if shifted == 0 or not shifted.is_polynomial(*u):
        return None
    terms = sympy.Poly(shifted, *u).terms()
    d = len(u)
    pure: dict[int, tuple[int, sympy.Expr]] = {}
    mixed = []
    for exps, coef in terms:
        nonzero = [i for i, e in enumerate(exps) if e]
        if len(nonzero) == 1:
            i = nonzero[0]
            if i not in pure or exps[i] < pure[i][0]:
                pure[i] = (exps[i], coef)
        else:
            mixed.append(exps)
    if len(pure) != d:
        return None
    k = [pure[i][0] for i in range(d)]
    a = [pure[i][1] for i in range(d)]
    if any(ki % 2 for ki in k) or any(not (ai.is_real and ai > 0) for ai in a):
        return None
    if any(sum(Fraction(e, ki) for e, ki in zip(exps, k, strict=True)) <= 1 for exps in mixed):
        return None
    lam = sum((Fraction(h + 1, ki) for h, ki in zip(jacobian, k, strict=True)), Fraction(0))
    log_z = log_phi - len(boundary) * math.log(2)
    for h, ki, ai in zip(jacobian, k, a, strict=True):
        p = (h + 1) / ki
        log_z += math.log(2 * math.gamma(p) / ki) - p * math.log(float(ai))
    text = " + ".join(f"{ai}*u{i + 1}^{ki}" for i, (ai, ki) in enumerate(zip(a, k, strict=True)))
    return LocalForm("quasi_homogeneous", lam, -log_z, f"K - L = {text} + higher weighted degree")
