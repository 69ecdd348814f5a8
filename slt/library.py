"""Named potentials from the literature, each with its learning coefficient λ, multiplicity m and source.

``λ`` and ``m`` refer to the point ``at`` (all coordinates given) and the entry's prior: they are the
largest pole −λ of ζ(z) = ∫ (K(w) − K(at))^z φ(w) dw over a small neighbourhood of ``at`` and its
order m (Watanabe 2009). Where K(at) = 0 this is the usual local learning coefficient.

>>> from slt import library
>>> e = library.get("line_dot")
>>> e.lam, e.m
(Fraction(1, 4), 1)

Functions
---------
names() -> tuple of entry names;  get(name) -> Entry;  entries() -> tuple of Entry;
normal_crossing(a, b) -> Entry;  reduced_rank(M, N, H, r, seed=0) -> Entry;
deep_linear(s) -> Entry;  rrr_lambda(M, N, H, r) -> (λ, m).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import sympy

from slt.parsing import symbol
from slt.potential import Potential, Prior

WATANABE_2009 = (
    "S. Watanabe, Algebraic Geometry and Statistical Learning Theory, Cambridge University Press (2009)"
)
LAU_2023 = (
    "E. Lau, Z. Furman, G. Wang, D. Murfet, S. Wei, The Local Learning Coefficient: A Singularity-Aware "
    "Complexity Measure, arXiv:2308.12108 (2023)"
)
AOYAGI_2005 = (
    "M. Aoyagi, S. Watanabe, Stochastic complexities of reduced rank regression in Bayesian estimation, "
    "Neural Networks 18(7):924-933 (2005)"
)
SAXE_2014 = (
    "A. Saxe, J. McClelland, S. Ganguli, Exact solutions to the nonlinear dynamics of learning in deep "
    "linear neural networks, ICLR (2014)"
)
VARCHENKO_1976 = (
    "A. Varchenko, Newton polyhedra and estimation of oscillating integrals, Funct. Anal. Appl. 10 (1976); "
    "S. Lin, Algebraic methods for evaluating integrals in Bayesian statistics, "
    "PhD thesis, UC Berkeley (2011)"
)
KOLLAR_1997 = (
    "J. Kollár, Singularities of pairs, Proc. Symp. Pure Math. 62 (1997), Example 8.15 (lct of x^a - y^b)"
)
CHEN_2023 = (
    "Z. Chen, E. Lau, J. Mendel, S. Wei, D. Murfet, Dynamical versus Bayesian Phase Transitions in a Toy "
    "Model of Superposition, arXiv:2310.06301 (2023)"
)


@dataclass(frozen=True)
class Entry:
    """A named potential with its known learning coefficient.

    name : library key.  potential : the :class:`~slt.potential.Potential` (with its prior).
    lam : λ (exact).  m : multiplicity.  at : the point λ refers to, every variable given
    (name -> Fraction).  citation : where (λ, m) comes from.  description : one or two sentences.
    """

    name: str
    potential: Potential
    lam: Fraction
    m: int
    at: dict[str, Fraction]
    citation: str
    description: str

    def __repr__(self) -> str:
        at = ", ".join(f"{k}={v}" for k, v in self.at.items() if v != 0) or "origin"
        K = str(self.potential.expr)
        K = K if len(K) <= 60 else K[:57] + "..."
        return f"Entry({self.name!r}, K={K!r}, lam={self.lam}, m={self.m}, at={at})"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "K": str(self.potential.expr),
            "variables": list(self.potential.names),
            "prior": self.potential.prior.to_dict(),
            "lam": _fraction_text(self.lam),
            "m": self.m,
            "at": {k: _fraction_text(v) for k, v in self.at.items()},
            "citation": self.citation,
            "description": self.description,
        }


def _fraction_text(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def _entry(name, K, lam, m, citation, description, at=None, variables=None, prior=None, meta=None) -> Entry:
    potential = K if isinstance(K, Potential) else Potential(K, variables, prior=prior, meta=meta)
    at = at or {}
    point = {n: Fraction(at.get(n, 0)) for n in potential.names}
    return Entry(name, potential, Fraction(lam), int(m), point, citation, description)


def normal_crossing(a: int, b: int) -> Entry:
    """K = x^{2a} y^{2b} at the origin, uniform prior: λ = min(1/(2a), 1/(2b)), m = 2 if a = b else 1.

    Normal-crossing formula λ = min_i (h_i + 1)/(2 k_i), m = #{i attaining it} (Watanabe 2009, §2).
    """
    if not (isinstance(a, int) and isinstance(b, int)) or a < 1 or b < 1:
        raise ValueError(f"normal_crossing needs integers a, b >= 1, got a={a!r}, b={b!r}")
    lam = min(Fraction(1, 2 * a), Fraction(1, 2 * b))
    return _entry(
        f"normal_crossing_{a}{b}" if a < 10 and b < 10 else f"normal_crossing_{a}_{b}",
        f"x**{2 * a}*y**{2 * b}",
        lam,
        2 if a == b else 1,
        WATANABE_2009 + ", normal crossing: lambda = min_i (h_i+1)/(2k_i)",
        f"Normal crossing x^{2 * a} y^{2 * b} at the origin.",
    )


def rrr_lambda(M: int, N: int, H: int, r: int) -> tuple[Fraction, int]:
    """λ and m of reduced-rank regression y = BAx (A: H×M, B: N×H) at a true matrix of rank r.

    Aoyagi & Watanabe (2005), Main Theorem; cases tested in this order (r > H is read as r = H):
    1. N+r ≤ M+H, M+r ≤ N+H, H+r ≤ M+N: λ = [2(H+r)(M+N) − (M−N)² − (H+r)²]/8, plus 1/8 and m = 2
       when M+H+N+r is odd, else m = 1;
    2. M+H < N+r: λ = (HM − Hr + Nr)/2;  3. N+H < M+r: λ = (HN − Hr + Mr)/2;  4. M+N < H+r: λ = MN/2.
    """
    for name, v in (("M", M), ("N", N), ("H", H)):
        if not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"reduced-rank regression needs {name} >= 1, got {v!r}")
    if not isinstance(r, int | np.integer) or r < 0:
        raise ValueError(f"reduced-rank regression needs a true rank r >= 0, got {r!r}")
    if r > min(M, N):
        raise ValueError(f"a true {N}x{M} matrix cannot have rank r={r}")
    r = min(r, H)
    if N + r <= M + H and M + r <= N + H and H + r <= M + N:
        lam = Fraction(2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2, 8)
        if (M + H + N + r) % 2 == 1:
            return lam + Fraction(1, 8), 2
        return lam, 1
    if M + H < N + r:
        return Fraction(H * M - H * r + N * r, 2), 1
    if N + H < M + r:
        return Fraction(H * N - H * r + M * r, 2), 1
    return Fraction(M * N, 2), 1


def reduced_rank(M: int, N: int, H: int, r: int, seed: int = 0) -> Entry:
    """Reduced-rank regression as a potential in the entries of A (H×M) and B (N×H).

    K(A, B) = ½ ‖BA − C‖_F², the population loss of y = BAx + noise for whitened inputs
    (E[x xᵀ] = I, unit noise variance), with C = U Vᵀ a fixed N×M matrix of rank r built from
    small integers drawn with ``seed`` (U: N×r, V: M×r). Variables ``a{i}_{j}`` = A[i-1, j-1] and
    ``b{i}_{j}`` = B[i-1, j-1]. The entry's point is the true parameter A₀ = [Vᵀ; 0], B₀ = [U, 0]
    (rank r each, the most singular true parameters), and (λ, m) = :func:`rrr_lambda` (Aoyagi &
    Watanabe 2005). ``potential.meta["rrr"] == (M, N, H, r)``.
    """
    lam, m = rrr_lambda(M, N, H, r)
    rank = min(r, H)
    U, V = _integer_factors(N, M, rank, seed)
    A = sympy.Matrix(H, M, lambda i, j: symbol(f"a{i + 1}_{j + 1}"))
    B = sympy.Matrix(N, H, lambda i, j: symbol(f"b{i + 1}_{j + 1}"))
    C = U * V.T
    residual = B * A - C
    K = sympy.Rational(1, 2) * sum(e**2 for e in residual)
    names = [s.name for s in A] + [s.name for s in B]
    at = {}
    for k in range(rank):
        for j in range(M):
            at[f"a{k + 1}_{j + 1}"] = Fraction(int(V[j, k]))
        for i in range(N):
            at[f"b{i + 1}_{k + 1}"] = Fraction(int(U[i, k]))
    potential = Potential(
        K, names, meta={"rrr": (M, N, H, r), "C": [[int(c) for c in row] for row in C.tolist()]}
    )
    return _entry(
        f"rrr_{M}_{N}_{H}_{r}",
        potential,
        lam,
        m,
        AOYAGI_2005,
        f"Reduced-rank regression, M={M} inputs, N={N} outputs, inner rank H={H}, true rank r={r}: "
        "K = 1/2 ||BA - C||_F^2 at a true parameter of rank r.",
        at=at,
    )


def _integer_factors(N: int, M: int, r: int, seed: int) -> tuple[sympy.Matrix, sympy.Matrix]:
    """U (N×r), V (M×r) with small integer entries and U Vᵀ of rank exactly r, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    while True:
        U = sympy.Matrix(rng.integers(-2, 3, size=(N, r)).tolist()) if r else sympy.zeros(N, 0)
        V = sympy.Matrix(rng.integers(-2, 3, size=(M, r)).tolist()) if r else sympy.zeros(M, 0)
        if r == 0 or (U * V.T).rank() == r:
            return U, V


def deep_linear(s) -> Entry:
    """Single mode of a two-layer deep linear network: K(a, b) = ½ (s − a b)² (Saxe et al. 2014).

    With the factor ½, gradient flow from a = b gives u = ab with u' = 2u(s − u), Saxe's sigmoid
    u(t) = s e^{2st} / (e^{2st} − 1 + s/u₀) (τ = 1). For s ≠ 0 the point (a, b) = (1, s) is a regular
    point of the smooth curve ab = s, so λ = 1/2 (one transverse direction), m = 1. For s = 0 the
    potential is ½ a²b², normal crossing at the origin: λ = 1/2, m = 2 (Watanabe 2009).
    """
    s = Fraction(s)
    K = sympy.Rational(1, 2) * (sympy.Rational(s.numerator, s.denominator) - symbol("a") * symbol("b")) ** 2
    if s == 0:
        return _entry(
            "deep_linear_origin",
            Potential(K, ["a", "b"]),
            Fraction(1, 2),
            2,
            SAXE_2014 + "; lambda: " + WATANABE_2009 + ", normal crossing",
            "Deep-linear mode of strength 0: K = (ab)^2/2, the singular origin where training plateaus.",
        )
    return _entry(
        "deep_linear_mode" if s == 1 else f"deep_linear_mode_{_fraction_text(s).replace('/', '_')}",
        Potential(K, ["a", "b"], meta={"s": _fraction_text(s)}),
        Fraction(1, 2),
        1,
        SAXE_2014 + "; lambda: regular point of the smooth curve ab = s, " + WATANABE_2009,
        f"Deep-linear mode of strength s={s}: K = (s - ab)^2/2 at the solution (a, b) = (1, s).",
        at={"a": 1, "b": s},
    )


TWO_BASIN_DELTA = Fraction(1, 1000)


def two_basin() -> Entry:
    """Two basins with unequal loss and unequal λ, for Bayesian phase transitions.

    K(x, y) = ((x−1)² + y²)((x+1)⁴ + y⁴) + δ(1−u)²(1 + 2u + 3u² + 4u³), δ = 1/1000, u = (x+1)/2,
    prior uniform on [−2, 2]².
    "accurate" (1, 0): K = 0, Hessian positive definite, λ = 1, m = 1.
    "simple" (−1, 0): K = δ; (1−u)²(1+2u+3u²+4u³) = 1 − 5u⁴ + 4u⁵, so K − δ = 4((x+1)⁴ + y⁴)(1 + o(1)),
    quasi-homogeneous: λ = 1/4 + 1/4 = 1/2, m = 1.
    Both are exact critical points and K ≥ 0 on the box (the cubic factor is increasing and equals
    1/4 at u = −1/2). The free energies F ≈ nL + λ log n cross where n/log n = Δλ/ΔL = 500, i.e.
    n ≈ 4.2e3 before O(1) terms (Watanabe 2009; Chen et al. 2023).
    """
    x, y = symbol("x"), symbol("y")
    delta = sympy.Rational(TWO_BASIN_DELTA.numerator, TWO_BASIN_DELTA.denominator)
    u = (x + 1) / 2
    K = ((x - 1) ** 2 + y**2) * ((x + 1) ** 4 + y**4) + delta * (1 - u) ** 2 * (
        1 + 2 * u + 3 * u**2 + 4 * u**3
    )
    basins = {
        "accurate": {"at": {"x": 1, "y": 0}, "K": "0", "lam": "1", "m": 1},
        "simple": {"at": {"x": -1, "y": 0}, "K": _fraction_text(TWO_BASIN_DELTA), "lam": "1/2", "m": 1},
    }
    potential = Potential(K, ["x", "y"], prior=Prior(low=-2, high=2), meta={"basins": basins})
    return _entry(
        "two_basin",
        potential,
        1,
        1,
        WATANABE_2009 + " (regular and quasi-homogeneous minima); phase transitions: " + CHEN_2023,
        "Two basins: 'accurate' at (1,0) with K=0, lambda=1; 'simple' at (-1,0) with K=1/1000, lambda=1/2. "
        "Bayesian transition near n/log n = 500.",
        at={"x": 1, "y": 0},
    )


def tanh_toy() -> Entry:
    """Population loss of y = a·tanh(b x) + N(0, 1) noise with x ~ N(0, 1) and true (a, b) = (0, 0).

    K(a, b) = ½ a² E[tanh²(bx)] has no closed form. With tanh²t = t² − (2/3)t⁴ + (17/45)t⁶ − … and
    E[x²], E[x⁴], E[x⁶] = 1, 3, 15: E[tanh²(bx)] = b² − 2b⁴ + (17/3)b⁶ + O(b⁸). The entry is this
    truncation, K = ½ a² (b² − 2b⁴ + (17/3) b⁶) (≥ 0: the quadratic 1 − 2t + (17/3)t² has no real
    root). Near the origin K = ½ a²b² × (a positive unit), normal crossing: λ = 1/2, m = 2 — for the
    true K as well. For the model with data, see :func:`slt.models.tanh_regression`.
    """
    return _entry(
        "tanh_toy",
        "a**2*(b**2 - 2*b**4 + Rational(17, 3)*b**6)/2",
        Fraction(1, 2),
        2,
        WATANABE_2009 + ", normal crossing a^2 b^2 times a unit",
        "Two-layer tanh toy y = a tanh(bx), x ~ N(0,1): population loss to O(b^6) at the true (0, 0).",
        variables=["a", "b"],
    )


_RLCT_CASES = [
    (
        "regular_2d",
        "x**2 + y**2",
        1,
        1,
        WATANABE_2009 + ", regular model: lambda = d/2",
        "Regular minimum, d = 2.",
    ),
    (
        "regular_3d",
        "x**2 + y**2 + z**2",
        Fraction(3, 2),
        1,
        WATANABE_2009 + ", regular model: lambda = d/2",
        "Regular minimum, d = 3 (the real log canonical threshold is 3/2).",
    ),
    (
        "monomial_1d",
        "x**4",
        Fraction(1, 4),
        1,
        WATANABE_2009 + ", normal crossing",
        "Quartic minimum in 1-D.",
    ),
    (
        "normal_crossing_11",
        "x**2*y**2",
        Fraction(1, 2),
        2,
        WATANABE_2009 + ", zeta(z) = 1/(2z+1)^2 on [0,1]^2",
        "Two crossing lines of minima: Watanabe's first example.",
    ),
    (
        "normal_crossing_12",
        "x**2*y**4",
        Fraction(1, 4),
        1,
        WATANABE_2009 + ", normal crossing",
        "Normal crossing x^2 y^4.",
    ),
    (
        "quasi_homogeneous",
        "x**2 + y**4",
        Fraction(3, 4),
        1,
        VARCHENKO_1976 + "; weighted homogeneous: 1/2 + 1/4",
        "Quasi-homogeneous minimum, weights (1/2, 1/4).",
    ),
    (
        "squared_norm_squared",
        "(x**2 + y**2)**2",
        Fraction(1, 2),
        1,
        WATANABE_2009 + "; polar coordinates: r^4 with Jacobian r",
        "Quartic isotropic minimum.",
    ),
    (
        "line_squared",
        "(x - y)**2",
        Fraction(1, 2),
        1,
        WATANABE_2009 + "; u = x - y (Newton polyhedron gives 1: degenerate)",
        "A line of minima, x = y.",
    ),
    (
        "squared_cusp",
        "(x**2 - y**3)**2",
        Fraction(5, 12),
        1,
        KOLLAR_1997 + "; lct(cusp) = 1/2 + 1/3, halved",
        "Square of the cusp x^2 = y^3.",
    ),
]


@cache
def _registry() -> dict[str, Entry]:
    out = [_entry(name, K, lam, m, cite, desc) for name, K, lam, m, cite, desc in _RLCT_CASES]
    out.append(
        _entry(
            "nc_with_jacobian",
            "x**2*y**4",
            Fraction(1, 4),
            1,
            WATANABE_2009 + ", normal crossing with prior |x|^1: min((1+1)/2, 1/4)",
            "Normal crossing x^2 y^4 with a Jacobian factor |x| in the prior.",
            prior=Prior(exponents={"x": 1}),
        )
    )
    line_dot = "(x - 1)**2*(x**2 + y**2)**4"
    out += [
        _entry(
            "line_dot",
            line_dot,
            Fraction(1, 4),
            1,
            LAU_2023,
            "'Line + dot': minima on the line x = 1 (lambda 1/2) and at the origin (lambda 1/4), equal loss. "
            "Here at the dot.",
        ),
        _entry("line_dot_origin", line_dot, Fraction(1, 4), 1, LAU_2023, "'Line + dot' model at the origin."),
        _entry(
            "line_dot_line",
            line_dot,
            Fraction(1, 2),
            1,
            LAU_2023,
            "'Line + dot' model at a point of the line x = 1.",
            at={"x": 1, "y": Fraction(3, 10)},
        ),
        normal_crossing(2, 2),
        normal_crossing(2, 3),
        reduced_rank(5, 5, 3, 0),
        reduced_rank(3, 4, 8, 0),
        reduced_rank(1, 1, 1, 0),
        reduced_rank(2, 2, 2, 1),
        reduced_rank(3, 2, 2, 1),
        tanh_toy(),
        deep_linear(1),
        deep_linear(0),
        two_basin(),
    ]
    return {e.name: e for e in out}


def names() -> tuple[str, ...]:
    """The names of all library entries, in library order."""
    return tuple(_registry())


def entries() -> tuple[Entry, ...]:
    """All library entries."""
    return tuple(_registry().values())


def get(name: str) -> Entry:
    """The entry called ``name``; KeyError naming close matches otherwise."""
    registry = _registry()
    if name not in registry:
        close = difflib.get_close_matches(name, registry, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(registry)}"
        raise KeyError(f"no library entry named {name!r}{hint}")
    return registry[name]


def resolve(text: str):
    """``(Potential, default point)`` for a command-line argument that names a library entry or is a formula.

    A library name gives that entry's potential and its point ``at``; anything else is parsed (safely) as a
    formula, with no default point. This is how every ``slt`` command accepts ``line_dot`` as well as
    ``"(x - 1)**2*(x**2 + y**2)**4"``.
    """
    from slt.potential import Potential

    if text in _registry():
        entry = _registry()[text]
        return entry.potential, ({k: str(v) for k, v in entry.at.items()} if entry.at else None)
    if text.strip().isidentifier():
        # a bare name is never a useful potential (K = x has no minimum): far likelier a misspelt entry
        close = difflib.get_close_matches(text.strip(), names(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `slt library` lists the names"
        raise ValueError(f"{text!r} is not a library name{hint} (a formula needs an operator, e.g. 'x**2')")
    return Potential(text), None
