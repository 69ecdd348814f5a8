"""Toy models with data: f(x; w) given as a formula, a dataset (x_i, y_i), and compiled per-sample gradients.

Loss per sample ℓ(w; x, y) = ½ (f(x; w) − y)², empirical loss L_n(w) = (1/n) Σ_i ℓ(w; x_i, y_i).
When the data are generated here (x ~ N(0, I_dx), y = f(x; w₀) + σ ε, ε ~ N(0, 1)) and f is a
polynomial in x, the population loss has the closed form

    K(w) = E_x[½ (f(x; w) − f(x; w₀))²]   (= E[ℓ] − σ²/2, Watanabe 2009, §1.2: K is the KL divergence
                                            of Gaussian-noise regression, up to the factor 1/σ²)

computed exactly from the Gaussian moments E[x^k] = (k − 1)!! for even k, 0 for odd k; it is
:attr:`ToyModel.population_potential`. Otherwise that attribute is ``None`` unless given.

Example
-------
>>> m = ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=1000, true_w=[1, 2], noise=0.5, seed=0)
>>> m.population_potential.expr
(a*b - 2)**2/2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numba
import numpy as np
import sympy

from slt.parsing import check_variable_names, natural_key, parse_expression, parse_number, symbol
from slt.potential import Potential, Prior


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """Numba functions of a toy model (d weights, dx inputs, one output).

    sample_loss_grad : ``(w: float64[::1] (d,), x: float64[::1] (dx,), y: float64[::1] (1,),
        out: float64[::1] (d,)) -> float64`` — writes ∇_w ℓ(w; x, y) into ``out``, returns ℓ.
    batch_loss_grad : ``(w, X (m, dx), Y (m, 1), out (d,)) -> float64`` — mean loss and gradient
        over the rows of any (mini)batch.
    value : ``(w) -> L_n(w)`` and grad : ``(w, out) -> L_n(w)`` over this model's full dataset (the
        data are frozen into these two functions, so they compile per model, not from the cache).
    """

    sample_loss_grad: object = field(repr=False)
    batch_loss_grad: object = field(repr=False)
    value: object = field(repr=False)
    grad: object = field(repr=False)
    dim: int
    names: tuple[str, ...]
    path: str


def _full_batch(batch_loss_grad, X: np.ndarray, Y: np.ndarray):
    # Numba freezes closure arrays into the compiled code: value/grad then have the
    # one-argument signature the dynamics kernels expect.
    @numba.njit(fastmath=False)
    def grad(w, out):
        return batch_loss_grad(w, X, Y, out)

    @numba.njit(fastmath=False)
    def value(w):
        return batch_loss_grad(w, X, Y, np.empty(w.shape[0]))

    return value, grad


class ToyModel:
    """A model f(x; w) with a dataset, giving L_n(w), per-sample gradients and (when closed) K(w).

    Parameters
    ----------
    formula : f(x; w) as a string (safe parser) or sympy expression.
    variables : weight names (the coordinates of w, in order). Default: the formula's names that
        are not inputs, sorted by name.
    inputs : input names (columns of X), default ``("x",)``.
    X, Y : the data, shapes (n, dx) and (n,) or (n, 1); if omitted, generated from ``true_w``:
        X ~ N(0, I) (n rows), Y = f(X; true_w) + noise · N(0, 1).
    n : sample size when generating.  true_w : the true parameter w₀ (sequence or dict) for generation.
    noise : σ, the noise standard deviation when generating (default 1).
    seed : seed of the generator (numpy default_rng).  prior : prior of the weights (see :class:`Prior`).
    population : an explicit population potential K(w) (string or Potential), e.g. from a paper.

    Attributes
    ----------
    X (n, dx), Y (n, 1) : float64, C-contiguous.  n, dim, names, inputs, formula (sympy),
    true_w (np.ndarray (d,) or None), population_potential (Potential or None), compiled (CompiledModel).
    """

    def __init__(
        self,
        formula: str | sympy.Expr,
        variables: Sequence[str] | None = None,
        inputs: Sequence[str] = ("x",),
        X=None,
        Y=None,
        n: int | None = None,
        true_w=None,
        noise: float = 1.0,
        seed: int = 0,
        prior: Prior | None = None,
        population: str | Potential | None = None,
    ):
        self.inputs = check_variable_names(inputs)
        if not self.inputs:
            raise ValueError("a toy model needs at least one input name")
        weights = None if variables is None else check_variable_names(variables)
        both = set(self.inputs) & set(weights or ())
        if both:
            raise ValueError(f"name(s) {sorted(both)} are both a weight and an input")
        allowed = None if weights is None else (*weights, *self.inputs)
        f = parse_expression(formula, allowed) if isinstance(formula, str) else _real(formula)
        used = {s.name for s in f.free_symbols}
        if weights is None:
            weights = check_variable_names(sorted(used - set(self.inputs), key=natural_key))
        unknown = sorted(used - set(weights) - set(self.inputs))
        if unknown:
            raise ValueError(
                f"unknown name(s) {unknown} in the model "
                f"(weights {list(weights)}, inputs {list(self.inputs)})"
            )
        if not weights:
            raise ValueError("a toy model needs at least one weight")
        self.formula = f
        self.names = weights
        self._weights = tuple(symbol(n) for n in weights)
        self._inputs = tuple(symbol(n) for n in self.inputs)
        self.prior = prior
        self.noise = float(noise)
        self.seed = seed
        self.true_w = None if true_w is None else self._point(true_w)
        self.X, self.Y = self._data(X, Y, n)
        self._population = population

    def _point(self, w) -> np.ndarray:
        if isinstance(w, dict):
            unknown = sorted(set(w) - set(self.names))
            if unknown:
                raise ValueError(f"true_w names unknown weight(s) {unknown} (weights: {list(self.names)})")
            w = [w.get(n, 0) for n in self.names]
        values = [float(parse_number(v, "weight")) for v in w]
        if len(values) != len(self.names):
            raise ValueError(f"true_w has {len(values)} entries, the model has {len(self.names)} weights")
        return np.array(values)

    def _data(self, X, Y, n):
        dx = len(self.inputs)
        if X is None and Y is None:
            if self.true_w is None or n is None:
                raise ValueError("give the data X, Y, or n and true_w to generate them")
            if int(n) != n or n < 1:
                raise ValueError(f"n must be a positive integer, got {n!r}")
            if not self.noise >= 0:
                raise ValueError(f"noise must be >= 0, got {self.noise}")
            rng = np.random.default_rng(self.seed)
            X = rng.standard_normal((int(n), dx))
            Y = self.predict(self.true_w, X) + self.noise * rng.standard_normal(int(n))
            self._generated = True
        elif X is None or Y is None:
            raise ValueError("give both X and Y (or neither, to generate them)")
        else:
            self._generated = False
        X = np.ascontiguousarray(np.asarray(X, dtype=np.float64).reshape(len(X), -1))
        Y = np.ascontiguousarray(np.asarray(Y, dtype=np.float64).reshape(len(Y), -1))
        if X.shape[1] != dx:
            raise ValueError(f"X has {X.shape[1]} columns but the model has {dx} inputs {list(self.inputs)}")
        if Y.shape[1] != 1:
            raise ValueError(f"Y must have one output column, got shape {Y.shape}")
        if X.shape[0] != Y.shape[0] or X.shape[0] == 0:
            raise ValueError(
                f"X and Y must have the same, positive number of rows, got {X.shape[0]} and {Y.shape[0]}"
            )
        if n is not None and X.shape[0] != n:
            raise ValueError(f"n={n} but the data have {X.shape[0]} rows")
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
            raise ValueError("the data contain NaN or infinite values")
        return X, Y

    def __getstate__(self):
        # compiled Numba closures are rebuilt on demand in the receiving process, never pickled
        return {k: v for k, v in self.__dict__.items() if k not in ("compiled", "population_potential")}

    n = property(lambda self: self.X.shape[0], doc="Number of samples.")
    dim = property(lambda self: len(self.names), doc="Number of weights d.")

    def __repr__(self) -> str:
        return (
            f"ToyModel({str(self.formula)!r}, variables={self.names!r}, inputs={self.inputs!r}, n={self.n})"
        )

    def predict(self, w, X) -> np.ndarray:
        """f(x; w) at the rows of X (n, dx) -> (n,), by numpy evaluation of the formula."""
        w = np.asarray(w, dtype=np.float64)
        X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        f = sympy.lambdify((self._weights, self._inputs), self.formula, modules="numpy")
        return np.broadcast_to(np.asarray(f(w, X.T), dtype=np.float64), (X.shape[0],)).copy()

    @cached_property
    def compiled(self) -> CompiledModel:
        """Numba per-sample and full-batch loss/gradient (see :class:`CompiledModel`)."""
        from slt.codegen import compile_sample_loss

        module = compile_sample_loss(self.formula, self._weights, self._inputs)
        value, grad = _full_batch(module.batch_loss_grad, self.X, self.Y)
        return CompiledModel(
            sample_loss_grad=module.sample_loss_grad,
            batch_loss_grad=module.batch_loss_grad,
            value=value,
            grad=grad,
            dim=self.dim,
            names=self.names,
            path=str(module.__file__),
        )

    def empirical_loss(self, w) -> float:
        """L_n(w) = (1/n) Σ ½ (f(x_i; w) − y_i)² (compiled)."""
        w = np.ascontiguousarray(self._point(w) if isinstance(w, dict) else w, dtype=np.float64)
        if w.shape != (self.dim,):
            raise ValueError(f"w must have shape ({self.dim},), got {w.shape}")
        return float(self.compiled.value(w))

    @cached_property
    def population_potential(self) -> Potential | None:
        """K(w) = E_x ½ (f(x; w) − f(x; w₀))² for generated Gaussian inputs and f polynomial in x; else None.

        An explicit ``population`` given to the constructor takes precedence.
        """
        if self._population is not None:
            if isinstance(self._population, Potential):
                return self._population
            return Potential(self._population, self.names, prior=self.prior)
        if not self._generated or not self.formula.is_polynomial(*self._inputs):
            return None
        truth = dict(zip(self._weights, (parse_number(v) for v in self.true_w), strict=True))
        diff = sympy.expand((self.formula - self.formula.xreplace(truth)) ** 2)
        K = sympy.Rational(1, 2) * gaussian_expectation(diff, self._inputs)
        return Potential(sympy.factor(K), self.names, prior=self.prior, meta={"model": str(self.formula)})


def gaussian_expectation(poly: sympy.Expr, inputs: Sequence[sympy.Symbol]) -> sympy.Expr:
    """E over x ~ N(0, I) of a polynomial in ``inputs`` (other symbols are parameters).

    Uses E[x^k] = (k − 1)!! for even k and 0 for odd k, independently per coordinate.
    """
    p = sympy.Poly(sympy.expand(poly), *inputs)
    total = sympy.Integer(0)
    for powers, coeff in p.terms():
        if any(k % 2 for k in powers):
            continue
        moment = sympy.Integer(1)
        for k in powers:
            moment *= sympy.factorial2(k - 1) if k else 1
        total += coeff * moment
    return total


def tanh_regression(n: int = 1000, true_w=(0, 0), noise: float = 1.0, seed: int = 0) -> ToyModel:
    """The two-layer tanh toy y = a·tanh(b x) + σ ε, x ~ N(0, 1) (population K: see ``library.tanh_toy``)."""
    return ToyModel(
        "a*tanh(b*x)", variables=["a", "b"], inputs=["x"], n=n, true_w=true_w, noise=noise, seed=seed
    )


def deep_linear_regression(s=1, n: int = 1000, noise: float = 1.0, seed: int = 0) -> ToyModel:
    """Single-mode deep linear regression y = a b x + σ ε, true ab = s; K = ½ (s − ab)² (Saxe et al. 2014)."""
    return ToyModel("a*b*x", variables=["a", "b"], inputs=["x"], n=n, true_w=(1, s), noise=noise, seed=seed)


def _real(expr) -> sympy.Expr:
    if not isinstance(expr, sympy.Expr):
        raise ValueError(f"a model formula is a string or a sympy expression, got {type(expr).__name__}")
    return expr.xreplace({s: symbol(s.name) for s in expr.free_symbols})
