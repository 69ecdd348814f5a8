"""The toy pattern-learning theory of dominoes: two deep-linear modes with the dominoes structure.

Model
-----
Each pattern j ∈ {m (MNIST side), c (CIFAR side)} is one mode of a two-layer linear network with
weights ``a_j, b_j`` and strength ``u_j = a_j b_j`` (Saxe, McClelland & Ganguli 2014). On a domino
the network's score for the true class is the sum of the modes of the halves it shows,

    f = σ_m u_m z_m 1[m shown] + σ_c u_c z_c 1[c shown],

where σ_j is the pattern's signal strength (its *simplicity*) and z_j the agreement of the class the
network reads in the half with the label: 1 when it is the label, −1/(K−1) otherwise. The read class
is the label with the *perceived reliability* π_j = ρ_j A_j + (1 − ρ_j)(1 − A_j)/(K − 1)
(:func:`perceived_reliability`: the half shows the label with probability ρ_j, and the network reads
a half of source j right with probability A_j, the source's accuracy *ceiling*), and
:func:`~dominoes.bridge.closed_form.reliability_moments` of π_j gives ``r_j = E z_j``, ``e_j = E z_j²``.
With fractions ``q_m, q_c`` of one-sided dominoes, ``q_2`` of two-sided and ``q_0`` of empty ones, the
expected squared loss ``½ E (1 − f)²`` is the potential

    K(a, b) = ½ [1 − 2 g_m u_m − 2 g_c u_c + h_m u_m² + h_c u_c² + 2 h_mc u_m u_c],

    g_j = (q_j + q_2) σ_j r_j,   h_j = (q_j + q_2) σ_j² e_j,   h_mc = q_2 σ_m σ_c r_m r_c

(halves are corrupted independently). What this builds in:

* one-sided dominoes of side j drive mode j alone (Saxe's law, closed form in
  :func:`~dominoes.bridge.closed_form.one_sided_learning_time`);
* two-sided dominoes drive the *sum* of the modes: once the faster mode fits them, the cross term
  ``h_mc`` removes the slower mode's gradient (gradient starvation; with only two-sided dominoes
  the minimum is the whole line σ_m u_m + σ_c u_c = const — a singular, non-isolated set);
* empty dominoes only add the irreducible ``½ q_0``; reliability lowers the target ``r_j``;
* a hard source (small ceiling A_j) explains only part of the label even when learned, so it takes
  only part of the two-sided dominoes' signal from the other pattern.

The minima of one mode form the hyperbola a_j b_j = const (a non-isolated, singular set). The origin
a = b = 0 is a saddle whose Hessian has eigenvalues ±g_j: training starts near it (scale ``u₀``), escapes
at rate g_j and then rises to the hyperbola — the plateau-then-sigmoid of per-pattern learning curves.

Time and accuracy
-----------------
Gradient flow in theory time t maps to training steps as ``step = τ t``. A clean half of pattern j
gives the true class the margin ``v_j = σ_j u_j``, which a clean one-sided half of its source drives
to r/e at π = A_j. Accuracy on an evaluation split is the chance level ``1/K`` plus the pattern's
gain ``A_j − 1/K`` times the margin as a fraction of that fixed point, clipped to [0, 1]:

* ``mnist_only``: v_m;  ``cifar_only``: v_c;  ``both``: the sum, with gains added and capped at 1;
* ``mnist_randomized`` (MNIST half shuffled): the shown wrong class competes with score v_m, so the
  margin is v_c − v_m (and symmetrically for ``cifar_randomized``).

The dynamics run on :func:`slt.run` (gradient descent over an ensemble of chains whose initial
weights are spread log-normally around √u₀). For speed, all sweep points share one compiled
kernel: each chain carries its point's coefficients (g_m, g_c, h_m, h_c, h_mc) as extra
coordinates whose gradient is zero (see :class:`PatternFlow`). :func:`pattern_potential` gives the
same K of one point as an :class:`slt.Potential` in (a_m, b_m, a_c, b_c), for symbolic work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from dominoes.bridge.closed_form import reliability_moments

PATTERNS = ("mnist", "cifar")
N_WEIGHTS = 4  # a_m, b_m, a_c, b_c
N_COEFFS = 5  # g_m, g_c, h_m, h_c, h_mc
PREDICTED_SPLITS = ("both", "mnist_only", "cifar_only", "mnist_randomized", "cifar_randomized")


@dataclass(frozen=True)
class PatternPoint:
    """One sweep point as the theory sees it: the composition of the training set and the dials.

    ``q_empty, q_mnist, q_cifar, q_both`` are the fractions of empty, MNIST-only, CIFAR-only and
    two-sided dominoes (they sum to 1); ``rho_*`` the reliabilities; ``mnist_source`` and
    ``cifar_source`` name the sources, whose simplicity σ and ceiling are looked up in
    :class:`TheoryConstants`.
    """

    name: str
    q_empty: float
    q_mnist: float
    q_cifar: float
    q_both: float
    rho_mnist: float = 1.0
    rho_cifar: float = 1.0
    n_classes: int = 10
    mnist_source: str = "mnist"
    cifar_source: str = "cifar"

    def __post_init__(self):
        fractions = (self.q_empty, self.q_mnist, self.q_cifar, self.q_both)
        if min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6:
            raise ValueError(
                f"point {self.name!r}: domino fractions must be >= 0 and sum to 1, got {fractions}"
            )
        reliability_moments(self.rho_mnist, self.n_classes)
        reliability_moments(self.rho_cifar, self.n_classes)

    @classmethod
    def from_kinds(cls, name: str, kinds: np.ndarray, **dials) -> PatternPoint:
        """Fractions counted from a training set's kind codes (see :mod:`dominoes.dataset`)."""
        from dominoes.dataset import BOTH, CIFAR_ONLY, EMPTY, MNIST_ONLY

        kinds = np.asarray(kinds)
        if kinds.size == 0:
            raise ValueError(f"point {name!r}: the training set is empty")
        frac = {k: float(np.mean(kinds == k)) for k in (EMPTY, MNIST_ONLY, CIFAR_ONLY, BOTH)}
        return cls(name, frac[EMPTY], frac[MNIST_ONLY], frac[CIFAR_ONLY], frac[BOTH], **dials)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SourceConstants:
    """A source's simplicity σ (signal strength; MNIST's is 1 by convention) and accuracy ceiling."""

    sigma: float
    ceiling: float

    def to_dict(self) -> dict:
        return {"sigma": self.sigma, "ceiling": self.ceiling}


@dataclass(frozen=True)
class TheoryConstants:
    """The constants the theory needs besides the macroscopic parameters.

    ``tau``: training steps per unit of theory time; ``u0``: initial mode strength (a = b = √u₀);
    ``sources``: name -> :class:`SourceConstants`; ``init_spread``: standard deviation of the
    log-normal spread of the initial weights across the ensemble.
    """

    tau: float
    u0: float
    sources: dict[str, SourceConstants] = field(default_factory=dict)
    init_spread: float = 0.1

    def __post_init__(self):
        if self.tau <= 0 or self.u0 <= 0:
            raise ValueError(f"tau and u0 must be positive, got tau={self.tau}, u0={self.u0}")

    def source(self, name: str) -> SourceConstants:
        if name not in self.sources:
            raise ValueError(f"no simplicity fitted for source {name!r}; known: {sorted(self.sources)}")
        return self.sources[name]

    def to_dict(self) -> dict:
        return {
            "tau": self.tau,
            "u0": self.u0,
            "init_spread": self.init_spread,
            "sources": {k: v.to_dict() for k, v in self.sources.items()},
        }


def perceived_reliability(rho: float, ceiling: float, n_classes: int) -> float:
    """P(the class the network reads in a half equals the label) = ρ A + (1 − ρ)(1 − A)/(K − 1).

    The half shows the label's class with probability ρ and the network reads a shown class right
    with probability A (the source's ceiling), wrong ones uniformly; a wrong shown class is read as the
    label with probability (1 − A)/(K − 1). A weak source (small A) thus explains only part of the
    label even when fully learned, so it cannot take the two-sided dominoes' signal from the other.
    """
    return rho * ceiling + (1.0 - rho) * (1.0 - ceiling) / (n_classes - 1)


def coefficients(
    point: PatternPoint,
    sigma_mnist: float,
    sigma_cifar: float,
    ceiling_mnist: float = 1.0,
    ceiling_cifar: float = 1.0,
) -> np.ndarray:
    """(g_m, g_c, h_m, h_c, h_mc) of the potential (see the module docstring), shape (5,); the agreement
    moments r_j, e_j are those of the perceived reliability (:func:`perceived_reliability`)."""
    k = point.n_classes
    r_m, e_m = reliability_moments(perceived_reliability(point.rho_mnist, ceiling_mnist, k), k)
    r_c, e_c = reliability_moments(perceived_reliability(point.rho_cifar, ceiling_cifar, k), k)
    seen_m = point.q_mnist + point.q_both
    seen_c = point.q_cifar + point.q_both
    return np.array(
        [
            seen_m * sigma_mnist * r_m,
            seen_c * sigma_cifar * r_c,
            seen_m * sigma_mnist**2 * e_m,
            seen_c * sigma_cifar**2 * e_c,
            point.q_both * sigma_mnist * sigma_cifar * r_m * r_c,
        ],
        dtype=np.float64,
    )


def pattern_potential(
    point: PatternPoint,
    sigma_mnist: float,
    sigma_cifar: float,
    ceiling_mnist: float = 1.0,
    ceiling_cifar: float = 1.0,
):
    """K(a_m, b_m, a_c, b_c) of one point as an :class:`slt.Potential` (coefficients as exact rationals
    of their float values, so the symbolic tools of ``slt`` apply)."""
    import sympy

    from slt import Potential

    a_m, b_m, a_c, b_c = sympy.symbols("a_m b_m a_c b_c", real=True)
    g_m, g_c, h_m, h_c, h_mc = (
        sympy.Rational(x) for x in coefficients(point, sigma_mnist, sigma_cifar, ceiling_mnist, ceiling_cifar)
    )
    u_m, u_c = a_m * b_m, a_c * b_c
    expr = sympy.Rational(1, 2) * (
        1 - 2 * g_m * u_m - 2 * g_c * u_c + h_m * u_m**2 + h_c * u_c**2 + 2 * h_mc * u_m * u_c
    )
    return Potential(expr, ["a_m", "b_m", "a_c", "b_c"], meta={"dominoes_point": point.name})


@njit(cache=True)
def _flow_value(w):
    u_m = w[0] * w[1]
    u_c = w[2] * w[3]
    g_m, g_c, h_m, h_c, h_mc = w[4], w[5], w[6], w[7], w[8]
    return 0.5 * (
        1.0 - 2.0 * g_m * u_m - 2.0 * g_c * u_c + h_m * u_m * u_m + h_c * u_c * u_c + 2.0 * h_mc * u_m * u_c
    )


@njit(cache=True)
def _flow_grad(w, out):
    u_m = w[0] * w[1]
    u_c = w[2] * w[3]
    g_m, g_c, h_m, h_c, h_mc = w[4], w[5], w[6], w[7], w[8]
    # chain rule through u = a b: ∂K/∂a = b ∂K/∂u, ∂K/∂b = a ∂K/∂u
    dk_dum = -g_m + h_m * u_m + h_mc * u_c
    dk_duc = -g_c + h_c * u_c + h_mc * u_m
    out[0] = w[1] * dk_dum
    out[1] = w[0] * dk_dum
    out[2] = w[3] * dk_duc
    out[3] = w[2] * dk_duc
    for i in range(N_WEIGHTS, N_WEIGHTS + N_COEFFS):
        out[i] = 0.0  # the coefficients are fixed parameters carried by the chain, never trained
    return _flow_value(w)


class PatternFlow:
    """K over the augmented state (a_m, b_m, a_c, b_c, g_m, g_c, h_m, h_c, h_mc), for :func:`slt.run`.

    Exposes the compiled-potential interface (``value(w)``, ``grad(w, out)``, ``dim = 9``); the
    gradient is zero along the five coefficients, so under gradient descent every chain keeps its
    own sweep point's potential and one compiled kernel serves every point and every fit iteration.
    """

    value = staticmethod(_flow_value)
    grad = staticmethod(_flow_grad)
    dim = N_WEIGHTS + N_COEFFS

    def values(self, W: np.ndarray) -> np.ndarray:
        return np.array([_flow_value(np.ascontiguousarray(w, dtype=np.float64)) for w in W])

    def grads(self, W: np.ndarray) -> np.ndarray:
        out = np.empty((len(W), self.dim))
        for i, w in enumerate(W):
            _flow_grad(np.ascontiguousarray(w, dtype=np.float64), out[i])
        return out


@dataclass(frozen=True)
class Prediction:
    """The theory's curves for one point at the requested training steps (all arrays shape (k,)).

    ``margin_mnist``, ``margin_cifar``: ensemble means of v_j = σ_j a_j b_j; ``train_loss``: mean K;
    ``accuracy``: split name -> predicted accuracy.
    """

    point: str
    steps: np.ndarray
    margin_mnist: np.ndarray
    margin_cifar: np.ndarray
    train_loss: np.ndarray
    accuracy: dict[str, np.ndarray]

    def __repr__(self) -> str:
        final = ", ".join(f"{k}={v[-1]:.3f}" for k, v in self.accuracy.items())
        return f"Prediction(point={self.point!r}, steps={len(self.steps)}, final: {final})"

    def to_dict(self) -> dict:
        return {
            "point": self.point,
            "steps": self.steps.tolist(),
            "margin_mnist": self.margin_mnist.tolist(),
            "margin_cifar": self.margin_cifar.tolist(),
            "train_loss": self.train_loss.tolist(),
            "accuracy": {k: v.tolist() for k, v in self.accuracy.items()},
        }


def split_accuracy(margin_mnist, margin_cifar, ceiling_mnist: float, ceiling_cifar: float, n_classes: int):
    """Accuracy per evaluation split from the two margins (see the module docstring); arrays broadcast.

    A margin counts as fully learned at the fixed point r/e of a clean one-sided half of its source
    (the regression coefficient of the label on the read class, with perceived reliability A).
    """
    chance = 1.0 / n_classes
    gain_m = (ceiling_mnist - chance) / (1.0 - chance)
    gain_c = (ceiling_cifar - chance) / (1.0 - chance)
    full_m = np.divide(*reliability_moments(ceiling_mnist, n_classes))
    full_c = np.divide(*reliability_moments(ceiling_cifar, n_classes))
    v_m = np.asarray(margin_mnist) / full_m
    v_c = np.asarray(margin_cifar) / full_c
    learned = {
        "mnist_only": gain_m * np.clip(v_m, 0.0, 1.0),
        "cifar_only": gain_c * np.clip(v_c, 0.0, 1.0),
        "both": np.minimum(gain_m * np.clip(v_m, 0.0, 1.0) + gain_c * np.clip(v_c, 0.0, 1.0), 1.0),
        "mnist_randomized": gain_c * np.clip(v_c - v_m, 0.0, 1.0),
        "cifar_randomized": gain_m * np.clip(v_m - v_c, 0.0, 1.0),
    }
    return {split: chance + (1.0 - chance) * p for split, p in learned.items()}


def simulate(
    points: list[PatternPoint],
    constants: TheoryConstants,
    steps: np.ndarray,
    *,
    chains: int = 16,
    seed: int = 0,
    resolution: int = 2000,
    method: str = "gd",
    temperature: float = 0.0,
) -> list[Prediction]:
    """Run the theory for every point on :func:`slt.run` and read its curves.

    Parameters
    ----------
    points : the sweep points; constants : τ, u₀ and each source's σ and ceiling.
    steps : (k,) training steps (≥ 0) at which the curves are wanted; the flow runs to ``max(steps)/τ``.
    chains : ensemble size per point; the initial a_j, b_j are √u₀ · exp(init_spread · N(0, 1))
        (the same weight scale for every pattern, as a network's initialisation ignores the data),
        drawn from ``seed`` (so the same seed gives the same prediction, and the prediction is a
        smooth function of the constants, as a least-squares fit needs).
    resolution : at least this many gradient-descent steps over the horizon (the step is also kept
        below 0.05 / (largest curvature) so that GD follows the gradient flow).
    method : ``"gd"`` — gradient descent, all points in one ensemble on :class:`PatternFlow` (what the
        fit uses); ``"langevin"`` — w ← w − ε∇K + √(2Tε) ξ on each point's :func:`pattern_potential`
        with ``temperature`` T (in units of the loss, per unit of theory time), a stand-in for SGD
        noise, which shortens the plateau at the singular origin.

    Returns one :class:`Prediction` per point, in order.
    """
    import slt

    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or steps.size == 0 or steps.min() < 0:
        raise ValueError("steps must be a non-empty 1-D array of non-negative training steps")
    if chains < 1:
        raise ValueError(f"chains must be >= 1, got {chains}")
    horizon = max(float(steps.max()), 1.0) / constants.tau
    init, sigmas = _initial_state(points, constants, chains, seed)
    # the fastest direction once a mode is learned has curvature ≈ 2 h_j u_j* ≤ 2 g_j (+ cross terms)
    curvature = 2.0 * float(np.max(init[:, 4:6].sum(axis=1) + init[:, 8])) + 1e-12
    step_size = min(horizon / resolution, 0.05 / curvature)
    n_steps = int(np.ceil(horizon / step_size))
    record_every = max(1, n_steps // resolution)
    common = {
        "steps": n_steps,
        "step_size": step_size,
        "seed": seed,
        "record_every": record_every,
        "record": ("positions", "loss"),
    }
    if method == "gd":
        run = slt.run(PatternFlow(), method="gd", chains=len(init), init=init, **common)
        times, positions, losses = _records(run, init, step_size, n_steps)
    elif method == "langevin":
        if not temperature > 0:
            raise ValueError(f"langevin needs a positive temperature, got {temperature!r}")
        parts = []
        for i, point in enumerate(points):
            rows = init[i * chains : (i + 1) * chains]
            ceilings = (
                constants.source(point.mnist_source).ceiling,
                constants.source(point.cifar_source).ceiling,
            )
            potential = pattern_potential(point, sigmas[i, 0], sigmas[i, 1], *ceilings)
            run = slt.run(
                potential,
                method="langevin",
                temperature=temperature,
                chains=chains,
                init=rows[:, :N_WEIGHTS].copy(),
                **common,
            )
            parts.append(_records(run, rows, step_size, n_steps))
        times = parts[0][0]
        positions = np.concatenate([p[1] for p in parts], axis=1)
        losses = np.concatenate([p[2] for p in parts], axis=1)
    else:
        raise ValueError(f"method must be 'gd' or 'langevin', got {method!r}")
    wanted = steps / constants.tau
    out = []
    for i, point in enumerate(points):
        rows = slice(i * chains, (i + 1) * chains)
        v_m = sigmas[i, 0] * np.mean(positions[:, rows, 0] * positions[:, rows, 1], axis=1)
        v_c = sigmas[i, 1] * np.mean(positions[:, rows, 2] * positions[:, rows, 3], axis=1)
        v_m, v_c = np.interp(wanted, times, v_m), np.interp(wanted, times, v_c)
        loss = np.interp(wanted, times, np.mean(losses[:, rows], axis=1))
        ceil_m = constants.source(point.mnist_source).ceiling
        ceil_c = constants.source(point.cifar_source).ceiling
        acc = split_accuracy(v_m, v_c, ceil_m, ceil_c, point.n_classes)
        out.append(Prediction(point.name, steps.copy(), v_m, v_c, loss, acc))
    return out


def _initial_state(points, constants, chains, seed):
    rng = np.random.default_rng(seed)
    # one draw shared by all points: a point's prediction does not depend on which others are run
    spread = np.exp(constants.init_spread * rng.standard_normal((chains, N_WEIGHTS)))
    init = np.empty((len(points) * chains, N_WEIGHTS + N_COEFFS))
    sigmas = np.empty((len(points), 2))
    for i, point in enumerate(points):
        sigmas[i] = constants.source(point.mnist_source).sigma, constants.source(point.cifar_source).sigma
        rows = slice(i * chains, (i + 1) * chains)
        init[rows, :N_WEIGHTS] = np.sqrt(constants.u0) * spread
        mnist, cifar = constants.source(point.mnist_source), constants.source(point.cifar_source)
        init[rows, N_WEIGHTS:] = coefficients(point, sigmas[i, 0], sigmas[i, 1], mnist.ceiling, cifar.ceiling)
    return init, sigmas


def _records(run, init, step_size, n_steps):
    """Times (R,), positions (R, C, 9) and losses (R, C) of a run, from the initial state at t = 0 to the
    final state at ``n_steps`` (added where the run's records stop short); a run on a point's
    4-variable :func:`pattern_potential` gets the point's coefficients appended to its positions."""
    recorded = np.asarray(run.steps_recorded, dtype=np.float64)
    positions = np.asarray(run.positions)
    final = np.asarray(run.final)
    if positions.shape[-1] == N_WEIGHTS:
        coeffs = init[:, N_WEIGHTS:]
        positions = np.concatenate([positions, np.broadcast_to(coeffs, (*positions.shape[:2], N_COEFFS))], -1)
        final = np.concatenate([final, coeffs], axis=-1)
    losses = np.asarray(run.loss)
    if recorded.size == 0 or recorded[0] > 0:
        positions = np.concatenate([init[None], positions])
        losses = np.concatenate([PatternFlow().values(init)[None], losses])
        recorded = np.concatenate([[0.0], recorded])
    if recorded[-1] < n_steps:
        positions = np.concatenate([positions, final[None]])
        losses = np.concatenate([losses, PatternFlow().values(final)[None]])
        recorded = np.concatenate([recorded, [float(n_steps)]])
    return recorded * step_size, positions, losses
