"""``Potential``: a loss landscape K(w) written as a formula, with its prior, derivatives and compiled form.

Conventions follow Watanabe (*Algebraic Geometry and Statistical Learning Theory*, 2009): K(w) ≥ 0,
K = 0 on the true parameters, prior φ(w). The learning coefficient λ is the largest pole −λ of
ζ(z) = ∫ K(w)^z φ(w) dw, so the prior matters: a Jacobian factor Π|w_i|^{h_i} in φ changes λ
(e.g. for K = Π w_i^{2k_i}, λ = min_i (h_i + 1)/(2 k_i)).

Example
-------
>>> K = Potential("(x - 1)**2 * (x**2 + y**2)**4")
>>> K.names, K.hessian_rank({"x": 1, "y": "3/10"})
(('x', 'y'), 1)
>>> K.compiled.value(np.array([0.5, 0.0]))   # doctest: +SKIP
0.015625
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import sympy
from sympy.polys.domains import QQ
from sympy.polys.polyerrors import CoercionFailed, GeneratorsError
from sympy.polys.rings import ring

from slt.parsing import (
    MAX_TERMS,
    check_magnitude,
    check_variable_names,
    expansion_size_bound,
    natural_key,
    parse_expression,
    parse_number,
    symbol,
)

PRIOR_KINDS = ("box", "gaussian")


@dataclass(frozen=True)
class Prior:
    """The prior φ(w) of a potential: a base density times the Jacobian factor Π_i |w_i|^{h_i}.

    kind : ``"box"`` — uniform on the box Π_i [low_i, high_i]; default box [−1, 1]^d around the
        origin of the potential's coordinates (so the point of interest of a library entry, which
        sits at the origin after :meth:`Potential.shift`, is interior) — or ``"gaussian"`` —
        N(0, scale_i²) independently per coordinate, default scale 1.
    exponents : h_i ≥ 0 (integers), one per variable, default all 0; a dict ``{name: h}`` is
        accepted and completed with zeros by the potential.
    low, high : box bounds, scalars (broadcast) or one per variable; ``None`` means −1 / +1.
    scale : Gaussian standard deviation(s); ``None`` means 1.

    A Prior attached to a :class:`Potential` is always resolved: tuples of length d.
    """

    kind: str = "box"
    exponents: tuple[int, ...] | Mapping[str, int] = ()
    low: tuple[float, ...] | float | None = None
    high: tuple[float, ...] | float | None = None
    scale: tuple[float, ...] | float | None = None

    def __post_init__(self):
        if self.kind not in PRIOR_KINDS:
            raise ValueError(f"prior kind must be one of {PRIOR_KINDS}, got {self.kind!r}")
        values = self.exponents.values() if isinstance(self.exponents, Mapping) else self.exponents
        for h in values:
            if isinstance(h, bool) or int(h) != h or h < 0:
                raise ValueError(f"prior exponents must be integers >= 0, got {h!r}")
        if self.kind == "gaussian" and (self.low is not None or self.high is not None):
            raise ValueError("a gaussian prior takes 'scale', not 'low'/'high'")
        if self.kind == "box" and self.scale is not None:
            raise ValueError("a box prior takes 'low'/'high', not 'scale'")

    def resolve(self, names: Sequence[str]) -> Prior:
        """This prior with every field expanded to one entry per variable of ``names``."""
        d = len(names)
        if isinstance(self.exponents, Mapping):
            unknown = sorted(set(self.exponents) - set(names))
            if unknown:
                raise ValueError(
                    f"prior exponent given for unknown variable(s) {unknown} (variables: {list(names)})"
                )
            exponents = tuple(int(self.exponents.get(n, 0)) for n in names)
        else:
            exponents = tuple(int(h) for h in self.exponents) if len(self.exponents) else (0,) * d
        if len(exponents) != d:
            raise ValueError(f"prior has {len(exponents)} exponents but the potential has {d} variables")
        if self.kind == "gaussian":
            scale = _per_variable(self.scale, 1.0, d, "scale")
            if any(s <= 0 for s in scale):
                raise ValueError(f"gaussian prior scale must be > 0, got {scale}")
            return Prior("gaussian", exponents, scale=scale)
        low = _per_variable(self.low, -1.0, d, "low")
        high = _per_variable(self.high, 1.0, d, "high")
        for name, a, b in zip(names, low, high, strict=True):
            if not a < b:
                raise ValueError(f"prior box for {name!r} is empty: low={a} is not below high={b}")
        return Prior("box", exponents, low=low, high=high)

    def log_density(self, W) -> np.ndarray:
        """Unnormalised log φ at the rows of ``W`` (n, d): −inf outside the box; 0·log 0 counts as 0."""
        W = np.atleast_2d(np.asarray(W, dtype=np.float64))
        h = np.asarray(self.exponents, dtype=np.float64)
        weighted = np.broadcast_to(h > 0, W.shape)
        logs = np.zeros_like(W)
        with np.errstate(divide="ignore"):
            np.log(np.abs(W), out=logs, where=weighted)
        out = (h * logs).sum(axis=1)
        if self.kind == "box":
            inside = np.all((W >= np.asarray(self.low)) & (W <= np.asarray(self.high)), axis=1)
            return np.where(inside, out, -np.inf)
        return out - 0.5 * np.sum((W / np.asarray(self.scale)) ** 2, axis=1)

    def describe(self, names: Sequence[str] | None = None) -> str:
        """One line for people, e.g. ``uniform on [-1, 1] x [-1, 1], Jacobian |x|^1``."""
        names = names or [f"w{i + 1}" for i in range(len(self.exponents))]
        if self.kind == "box":
            sides = (f"[{a:g}, {b:g}]" for a, b in zip(self.low, self.high, strict=True))
            text = "uniform on " + " x ".join(sides)
        else:
            text = "gaussian, scale " + ", ".join(f"{s:g}" for s in self.scale)
        factors = [f"|{n}|^{h}" for n, h in zip(names, self.exponents, strict=True) if h]
        return text + (", Jacobian " + " ".join(factors) if factors else "")

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "exponents": _jsonable(self.exponents)}
        if self.kind == "box":
            out.update(low=_jsonable(self.low), high=_jsonable(self.high))
        else:
            out["scale"] = _jsonable(self.scale)
        return out


def _per_variable(value, default: float, d: int, what: str) -> tuple[float, ...]:
    if value is None:
        return (float(default),) * d
    out = (float(value),) * d if np.ndim(value) == 0 else tuple(float(v) for v in value)
    if len(out) != d:
        raise ValueError(f"prior {what} has {len(out)} entries but the potential has {d} variables")
    if not all(np.isfinite(out)):
        raise ValueError(f"prior {what} must be finite, got {out}")
    return out


def _jsonable(value):
    return dict(value) if isinstance(value, Mapping) else (list(value) if isinstance(value, tuple) else value)


class Potential:
    """A potential K(w) in named real variables, with a prior, symbolic derivatives and compiled numerics.

    Parameters
    ----------
    expr : a formula (parsed safely by :func:`slt.parsing.parse_expression`) or a sympy expression.
    variables : the variable order (names). Default: the free symbols sorted by name, digit runs
        compared as numbers (w2 before w10). Explicit variables may include names that do not
        occur in ``expr`` (flat directions); a name in ``expr`` missing from them is an error.
    prior : a :class:`Prior`; default uniform on [−1, 1]^d with no Jacobian factor.
    meta : free-form information (e.g. ``{"rrr": (M, N, H, r)}`` for reduced-rank regression).

    Attributes
    ----------
    expr : sympy.Expr in real symbols.  variables : tuple of sympy.Symbol.  names : tuple of str.
    dim : d.  prior : the resolved Prior.  meta : dict.
    gradient : tuple of d sympy expressions ∂K/∂w_i.  hessian : d×d sympy.Matrix ∂²K/∂w_i∂w_j.
    compiled : :class:`slt.codegen.CompiledPotential` (Numba value/grad; generated on first access).

    Points (``point`` arguments) are a dict name → number (missing names mean 0) or a sequence in
    variable order; numbers may be ints, floats, Fractions or strings such as ``"3/10"`` or
    ``"sqrt(2)"``, and are kept exact where they are exact.
    """

    def __init__(
        self,
        expr: str | sympy.Expr,
        variables: Sequence[str] | None = None,
        prior: Prior | None = None,
        meta: dict | None = None,
    ):
        names = (
            None
            if variables is None
            else check_variable_names(
                [v.name if isinstance(v, sympy.Symbol) else v for v in variables]
                if not isinstance(variables, str)
                else variables
            )
        )
        if isinstance(expr, str):
            parsed = parse_expression(expr, names)
        elif isinstance(expr, sympy.Basic):
            parsed = _as_real_symbols(sympy.sympify(expr))
        elif isinstance(expr, int | float):
            parsed = parse_number(expr, "potential")
        else:
            raise ValueError(
                f"a potential is a formula string or a sympy expression, got {type(expr).__name__}"
            )
        if not isinstance(parsed, sympy.Expr):
            raise ValueError(f"a potential must be a scalar expression, got {type(parsed).__name__}")
        used = sorted((s.name for s in parsed.free_symbols), key=natural_key)
        if names is None:
            names = check_variable_names(used)
        else:
            missing = [n for n in used if n not in names]
            if missing:
                raise ValueError(
                    f"unknown name(s) {missing} in the potential (the variables are: {list(names)})"
                )
        if not names:
            raise ValueError("a potential needs at least one variable")
        self._expr = parsed
        self._names = tuple(names)
        self._variables = tuple(symbol(n) for n in names)
        prior = Prior() if prior is None else prior
        if not isinstance(prior, Prior):
            raise ValueError(f"prior must be a slt.Prior, got {type(prior).__name__}")
        self._prior = prior.resolve(self._names)
        self._meta = dict(meta or {})

    # --- identity -------------------------------------------------------------------------------
    expr = property(lambda self: self._expr, doc="K as a sympy expression (real symbols).")
    variables = property(lambda self: self._variables, doc="The variables, as sympy symbols, in order.")
    names = property(lambda self: self._names, doc="The variable names, in order.")
    dim = property(lambda self: len(self._names), doc="The number of variables d.")
    prior = property(lambda self: self._prior, doc="The resolved prior.")
    meta = property(lambda self: self._meta, doc="Free-form information about the potential.")

    def __repr__(self) -> str:
        prior = "" if self._prior == Prior().resolve(self._names) else f", prior={self._prior!r}"
        return f"Potential({str(self._expr)!r}, variables={self._names!r}{prior})"

    def __getstate__(self):
        # derived caches (sympy derivatives, Numba dispatchers) are rebuilt on demand, never shipped
        return {k: self.__dict__[k] for k in ("_expr", "_names", "_variables", "_prior", "_meta")}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def to_dict(self) -> dict:
        """JSON-ready description: expression text, variables, prior and meta."""
        return {
            "expr": str(self._expr),
            "variables": list(self._names),
            "prior": self._prior.to_dict(),
            "meta": {k: _jsonable(v) for k, v in self._meta.items()},
        }

    def symbol(self, name: str) -> sympy.Symbol:
        """The sympy symbol of variable ``name``."""
        if name not in self._names:
            raise ValueError(f"unknown variable {name!r} (variables: {list(self._names)})")
        return self._variables[self._names.index(name)]

    @property
    def is_polynomial(self) -> bool:
        """Whether K is a polynomial in its variables."""
        return bool(self._expr.is_polynomial(*self._variables))

    # --- symbolic derivatives -------------------------------------------------------------------
    @cached_property
    def _polynomial_ring(self):
        """K as a sparse polynomial over QQ (fast exact derivatives), or None if it is not one."""
        if not self._expr.is_polynomial(*self._variables):
            return None
        if expansion_size_bound(self._expr) > MAX_TERMS:
            return None  # e.g. (x+y+z+w)**1000: expanding would never finish; sympy.diff keeps it factored
        try:
            _, *gens = ring(self._variables, QQ)
            return gens[0].ring(self._expr), gens
        except (CoercionFailed, GeneratorsError, ValueError, TypeError):
            return None

    @cached_property
    def gradient(self) -> tuple[sympy.Expr, ...]:
        """(∂K/∂w_1, ..., ∂K/∂w_d) as sympy expressions."""
        from slt.codegen import partial_derivatives

        return tuple(partial_derivatives(self._expr, self._variables))

    @cached_property
    def hessian(self) -> sympy.Matrix:
        """The d×d matrix of second derivatives ∂²K/∂w_i∂w_j (symmetric; expanded when K is a polynomial)."""
        d, v = self.dim, self._variables
        H = sympy.zeros(d, d)
        if self._polynomial_ring is not None:
            # sparse polynomial arithmetic: reduced-rank regression with 56 variables takes < 1 s
            p, gens = self._polynomial_ring
            for i, gi in enumerate(p.diff(x) for x in gens):
                for j in range(i, d):
                    H[i, j] = H[j, i] = gi.diff(gens[j]).as_expr()
            return H
        g = self.gradient
        for i in range(d):
            present = g[i].free_symbols
            for j in range(i, d):
                if v[j] in present:
                    H[i, j] = H[j, i] = sympy.diff(g[i], v[j])
        return H

    # --- points ---------------------------------------------------------------------------------
    def coordinates(self, point=None) -> tuple[sympy.Expr, ...]:
        """The exact coordinates of ``point`` in variable order (``None`` is the origin)."""
        if point is None:
            return (sympy.Integer(0),) * self.dim
        if isinstance(point, Mapping):
            unknown = [k for k in point if k not in self._names]
            if unknown:
                raise ValueError(
                    f"point names unknown variable(s) {unknown} (variables: {list(self._names)})"
                )
            return tuple(
                parse_number(point[n], f"coordinate {n}") if n in point else sympy.Integer(0)
                for n in self._names
            )
        if isinstance(point, str | bytes) or not isinstance(point, Sequence | np.ndarray):
            raise ValueError(
                f"a point is a dict name -> number or a sequence of {self.dim} numbers, got {point!r}"
            )
        values = list(np.asarray(point).ravel()) if isinstance(point, np.ndarray) else list(point)
        if len(values) != self.dim:
            raise ValueError(
                f"point has {len(values)} coordinates but the potential has {self.dim} variables"
            )
        return tuple(parse_number(v, f"coordinate {n}") for n, v in zip(self._names, values, strict=True))

    def _subs(self, point, what: str = "K", *exprs) -> dict:
        """The substitution for ``point``, after checking that ``exprs`` do not overflow there."""
        subs = dict(zip(self._variables, self.coordinates(point), strict=True))
        for e in exprs:
            check_magnitude(e, subs, what)
        return subs

    def __call__(self, point=None) -> float:
        """K(point) as a float (evaluated exactly, then rounded)."""
        return _to_float(self._expr.xreplace(self._subs(point, "K", self._expr)), "K")

    def exact_value(self, point=None) -> sympy.Expr:
        """K(point) as an exact sympy number."""
        return sympy.simplify(self._expr.xreplace(self._subs(point, "K", self._expr)))

    def gradient_at(self, point=None) -> np.ndarray:
        """∇K(point), shape (d,), float64."""
        subs = self._subs(point, "gradient", *self.gradient)
        return np.array([_to_float(g.xreplace(subs), "gradient") for g in self.gradient])

    def hessian_at(self, point=None) -> np.ndarray:
        """The Hessian matrix at ``point``, shape (d, d), float64."""
        subs = self._subs(point, "Hessian", *self.hessian)
        H = np.array([[_to_float(h.xreplace(subs), "Hessian") for h in row] for row in self.hessian.tolist()])
        return H.reshape(self.dim, self.dim)

    def hessian_eigenvalues(self, point=None) -> np.ndarray:
        """Eigenvalues of the Hessian at ``point``, ascending, shape (d,)."""
        return np.linalg.eigvalsh(self.hessian_at(point))

    def hessian_rank(self, point=None, tol: float = 1e-9) -> int:
        """Number of Hessian eigenvalues with |μ| > tol · max(1, max|μ|) at ``point``.

        At a minimum, d − rank is the number of degenerate (flat to second order) directions; a
        regular minimum has full rank and λ = d/2 (Watanabe 2009, §1.4).
        """
        mu = self.hessian_eigenvalues(point)
        if mu.size == 0:
            return 0
        return int(np.sum(np.abs(mu) > tol * max(1.0, float(np.max(np.abs(mu))))))

    def shift(self, point) -> Potential:
        """The same landscape re-centred so that ``point`` becomes the origin: K'(u) = K(point + u).

        The prior box moves with the coordinates (low − p, high − p); a Jacobian exponent h_i is kept
        where p_i = 0 and dropped where p_i ≠ 0 (there |w_i|^{h_i} is a smooth non-vanishing factor,
        which does not change the local λ). A Gaussian prior keeps its scale (it is then centred at −p).
        """
        p = self.coordinates(point)
        moved = self._expr.xreplace({v: v + c for v, c in zip(self._variables, p, strict=True)})
        exponents = tuple(h if c == 0 else 0 for h, c in zip(self._prior.exponents, p, strict=True))
        pf = [float(c) for c in p]
        if self._prior.kind == "box":
            prior = replace(
                self._prior,
                exponents=exponents,
                low=tuple(a - c for a, c in zip(self._prior.low, pf, strict=True)),
                high=tuple(b - c for b, c in zip(self._prior.high, pf, strict=True)),
            )
        else:
            prior = replace(self._prior, exponents=exponents)
        shift = {n: str(c) for n, c in zip(self._names, p, strict=True)}
        meta = {**self._meta, "shifted_by": shift}
        return Potential(moved, self._names, prior=prior, meta=meta)

    # --- compiled numerics ----------------------------------------------------------------------
    @cached_property
    def compiled(self):
        """The Numba value/gradient (:class:`slt.codegen.CompiledPotential`), generated and cached on disk."""
        from slt.codegen import compile_potential

        return compile_potential(self._expr, self._variables)


def _as_real_symbols(expr: sympy.Basic) -> sympy.Basic:
    """Replace every free symbol by the real symbol of the same name (the toolkit's convention)."""
    return expr.xreplace({s: symbol(s.name) for s in expr.free_symbols if isinstance(s, sympy.Symbol)})


def _to_float(value: sympy.Expr, what: str) -> float:
    try:
        out = complex(sympy.N(value, 30))
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not a number at this point ({value})") from None
    if out.imag != 0 or not np.isfinite(out.real):
        raise ValueError(f"{what} is not a finite real number at this point ({value})")
    return out.real


__all__ = ["Potential", "Prior"]
