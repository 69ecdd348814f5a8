"""Ensembles of GD / SGD / Langevin / SGLD / MALA chains on a potential or a toy model: :func:`run`.

The Python face of :mod:`slt.kernels`: it checks the input once, builds the arrays, calls the
compiled loops (in chunks, for a progress bar), and wraps the arrays in a :class:`RunResult`.

Example
-------
>>> import slt
>>> r = slt.run("(x*y)**2", method="sgld", chains=64, steps=2000, step_size=1e-3,
...             n_beta=100.0, gamma=10.0, init=[0.0, 0.0], seed=0)      # doctest: +SKIP
>>> r.loss_mean.mean()                                                   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from slt import kernels
from slt.rng import chain_states

METHODS = ("gd", "sgd", "langevin", "sgld", "mala")
RECORDABLE = ("positions", "loss", "grad_norm")
_METHOD_PARAMS = {
    "gd": {"momentum", "burn_in"},
    "sgd": {"batch_size", "replace", "momentum", "burn_in"},
    "langevin": {"temperature", "burn_in"},
    "sgld": {"n_beta", "gamma", "w_star", "batch_size", "replace", "burn_in"},
    "mala": {"n_beta", "gamma", "w_star", "drift_cap", "burn_in"},
}
_COEF_KEYS = ("momentum", "temperature", "n_beta", "gamma")
DEFAULT_DRIFT_CAP = 2.0
_MAX_RECORD_BYTES = 8 * 2**30
_CHUNKS_WITH_PROGRESS = 100
_CHUNKS_PER_THREAD = 4
_MIN_CHUNK = 8


@dataclass(frozen=True, eq=False, repr=False)
class RunResult:
    """The arrays of one ensemble run (chains × steps) and the parameters that produced it.

    Shapes (R = number of records = ceil(steps / record_every), C = chains, d = dimension):
    positions (R, C, d), loss (R, C), grad_norm (R, C): each None unless recorded; record r holds
    the state after ``steps_recorded[r] = r * record_every`` updates, the loss and gradient norm
    there (minibatch loss and gradient for minibatch methods). NaN after a chain diverged.
    final (C, d): the last state (the last good one for a diverged chain).
    diverged (C,) bool; diverged_step (C,) int64: the step whose state was first out of bounds or
    non-finite (−1: never).
    loss_mean, loss_var (C,): mean and unbiased variance of the loss over steps ``burn_in ..
    steps − 1`` (every step, not only recorded ones); NaN for diverged chains.
    acceptance (C,): the fraction of accepted proposals per chain (``"mala"`` only, else None).
    params: every setting of the run (JSON-ready).
    """

    method: str
    names: tuple[str, ...]
    steps_recorded: np.ndarray
    final: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    loss_mean: np.ndarray
    loss_var: np.ndarray
    params: dict = field(default_factory=dict)
    positions: np.ndarray | None = None
    loss: np.ndarray | None = None
    grad_norm: np.ndarray | None = None
    acceptance: np.ndarray | None = None
    wall_s: float = float("nan")

    _ARRAYS = ("steps_recorded", "final", "diverged", "diverged_step", "loss_mean", "loss_var", "positions",
               "loss", "grad_norm", "acceptance")

    @property
    def chains(self) -> int:
        return self.final.shape[0]

    @property
    def dim(self) -> int:
        return self.final.shape[1]

    @property
    def n_diverged(self) -> int:
        return int(self.diverged.sum())

    def __repr__(self) -> str:
        recorded = [name for name in RECORDABLE if getattr(self, name) is not None]
        ok = ~self.diverged
        mean = float(np.mean(self.loss_mean[ok])) if ok.any() else float("nan")
        return (
            f"RunResult(method={self.method!r}, chains={self.chains}, steps={self.params.get('steps')}, "
            f"d={self.dim}, records={len(self.steps_recorded)} {recorded}, diverged={self.n_diverged}, "
            f"mean loss={mean:.6g}, wall_s={self.wall_s:.3g})"
        )

    def to_dict(self, arrays: bool = True) -> dict:
        """JSON-ready dict: method, names, params, wall_s and (if ``arrays``) every array as nested lists."""
        out = {"method": self.method, "names": list(self.names), "params": self.params, "wall_s": self.wall_s,
               "chains": self.chains, "n_diverged": self.n_diverged}
        if arrays:
            for name in self._ARRAYS:
                value = getattr(self, name)
                out[name] = None if value is None else value.tolist()
        return out

    def save(self, path) -> Path:
        """Write the result to ``path`` (.npz), atomically (temporary file in the same folder + rename)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {name: getattr(self, name) for name in self._ARRAYS if getattr(self, name) is not None}
        meta = self.to_dict(arrays=False)
        payload["meta"] = np.array(json.dumps(meta))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **payload)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    @classmethod
    def load(cls, path) -> RunResult:
        """Read a result written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: (data[name] if name in data.files else None) for name in cls._ARRAYS}
        return cls(method=meta["method"], names=tuple(meta["names"]), params=meta["params"],
                   wall_s=meta["wall_s"], **arrays)


@dataclass(frozen=True)
class _Target:
    """What the kernels need from a potential or model."""

    grad: object
    sample_loss_grad: object
    X: np.ndarray | None
    Y: np.ndarray | None
    dim: int
    names: tuple[str, ...]
    label: str


def _resolve(target) -> _Target:
    if isinstance(target, str):
        from slt.potential import Potential

        target = Potential(target)
    elif type(target).__module__.startswith("sympy"):
        from slt.potential import Potential

        target = Potential(target)
    compiled = getattr(target, "compiled", None)
    if compiled is not None and hasattr(compiled, "sample_loss_grad") and hasattr(target, "X"):
        X = np.ascontiguousarray(target.X, dtype=np.float64)
        Y = np.ascontiguousarray(target.Y, dtype=np.float64)
        return _Target(None, compiled.sample_loss_grad, X, Y, int(compiled.dim), tuple(target.names),
                       f"ToyModel({getattr(target, 'formula', '?')}, n={X.shape[0]})")
    source = compiled if compiled is not None else target
    if not (hasattr(source, "grad") and hasattr(source, "dim")):
        raise ValueError(
            f"cannot run dynamics on {type(target).__name__}: give a Potential, a formula, a ToyModel or an "
            "object with a Numba .grad(w, out) and .dim"
        )
    names = tuple(getattr(target, "names", None) or getattr(source, "names", None)
                  or (f"w{i}" for i in range(int(source.dim))))
    label = str(getattr(target, "expr", None) or type(target).__name__)
    return _Target(source.grad, None, None, None, int(source.dim), names, label)


def _positive_int(value, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive_float(value, what: str, allow_zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{what} must be a finite number {'>=' if allow_zero else '>'} 0, got {value!r}")
    return x


def _points(value, what: str, chains: int, names: tuple[str, ...]) -> np.ndarray:
    """(chains, d) float64 from None (origin), a dict name -> value, a (d,) or a (chains, d) array."""
    d = len(names)
    if value is None:
        return np.zeros((chains, d))
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{what} names unknown variable(s) {unknown} (variables: {list(names)})")
        value = [float(value.get(name, 0.0)) for name in names]
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers, got {value!r}") from None
    if arr.shape == (d,):
        arr = np.broadcast_to(arr, (chains, d))
    if arr.shape != (chains, d):
        raise ValueError(f"{what} must have shape ({d},) or ({chains}, {d}), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite")
    return np.ascontiguousarray(arr, dtype=np.float64)


def _method_settings(method, tgt: _Target, params: dict, chains: int, init: np.ndarray, step_size: float):
    """Validated method parameters, the update coefficients and the minibatch mode."""
    is_model = tgt.X is not None
    for key in ("batch_size", "replace"):
        if key in params and not is_model:
            raise ValueError(f"{key} needs a ToyModel (a potential has no data to draw minibatches from)")
    unknown = sorted(set(params) - _METHOD_PARAMS[method])
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for method {method!r}; "
                         f"it takes {sorted(_METHOD_PARAMS[method])}")
    settings: dict = {}
    if method == "sgd" and not is_model:
        raise ValueError("sgd needs a ToyModel with data for minibatches; use gd or langevin for a potential")
    if method in ("gd", "sgd"):
        settings["momentum"] = _positive_float(params.get("momentum", 0.0), "momentum", allow_zero=True)
        if settings["momentum"] >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {settings['momentum']}")
    if method == "langevin":
        settings["temperature"] = _positive_float(params.get("temperature", 1.0), "temperature")
    if method in ("sgld", "mala"):
        if "n_beta" in params:
            settings["n_beta"] = _positive_float(params["n_beta"], "n_beta")
        elif is_model:
            n = tgt.X.shape[0]
            if n < 2:
                raise ValueError("the default n_beta = n / log n needs n >= 2 samples; give n_beta")
            settings["n_beta"] = n / math.log(n)
        else:
            raise ValueError(f"{method} on a potential needs n_beta (nβ, e.g. n / log n for sample size n)")
        settings["gamma"] = _positive_float(params.get("gamma", 0.0), "gamma", allow_zero=True)
    if method == "mala":
        cap = params.get("drift_cap", DEFAULT_DRIFT_CAP)
        settings["drift_cap"] = math.inf if cap == math.inf else _positive_float(cap, "drift_cap")
    w_star = _points(params.get("w_star"), "w_star", chains, tgt.names) if "w_star" in params else init
    mode, batch_size = _minibatch_mode(method, tgt, params)
    if is_model:
        settings["batch_size"] = batch_size
        settings["replace"] = mode == kernels.WITH_REPLACEMENT
    coefs = kernels.coefficients(method, step_size, **{k: v for k, v in settings.items() if k in _COEF_KEYS})
    return settings, coefs, w_star, mode, batch_size


def _minibatch_mode(method: str, tgt: _Target, params: dict) -> tuple[int, int]:
    """(minibatch mode, batch size) for a toy model; (ALL_DATA, 0) for a potential."""
    if tgt.X is None:
        return kernels.ALL_DATA, 0
    if method == "mala":
        return kernels.ALL_DATA, tgt.X.shape[0]
    if tgt.sample_loss_grad is None:
        return kernels.ALL_DATA, 0
    n = tgt.X.shape[0]
    default = min(32, n) if method == "sgd" else n
    batch_size = params.get("batch_size", default)
    batch_size = n if batch_size is None else _positive_int(batch_size, "batch_size")
    if batch_size > n:
        raise ValueError(f"batch_size={batch_size} exceeds the number of samples n={n}")
    replace = params.get("replace", False)
    if not isinstance(replace, bool | np.bool_):
        raise ValueError(f"replace must be True or False, got {replace!r}")
    if replace:
        return kernels.WITH_REPLACEMENT, batch_size
    return (kernels.ALL_DATA if batch_size == n else kernels.WITHOUT_REPLACEMENT), batch_size


def _show_progress(progress, work: int) -> bool:
    if progress is None:
        return work >= 10**8 and sys.stderr.isatty()
    return bool(progress)


def _chain_chunks(chains: int, threads: int) -> list[tuple[np.int64, np.int64]]:
    """Contiguous chunks of chains: up to ``_CHUNKS_PER_THREAD`` per thread (load balance when some
    chains diverge early), but no chunk below ``_MIN_CHUNK`` chains beyond one chunk per thread."""
    if threads <= 1:
        return [(np.int64(0), np.int64(chains))]
    count = min(chains, threads * _CHUNKS_PER_THREAD, max(threads, -(-chains // _MIN_CHUNK)))
    edges = np.linspace(0, chains, count + 1).astype(np.int64)
    return [(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True) if hi > lo]


def _run_chunks(pool, advance, pieces) -> None:
    """advance(c0, c1) for every chunk; the compiled loops release the GIL, so the pool runs them in parallel.

    Chunks touch disjoint chains, each with its own random stream: the result does not depend on the
    number of threads or on the order in which chunks finish.
    """
    if pool is None:
        for c0, c1 in pieces:
            advance(c0, c1)
        return
    for future in [pool.submit(advance, c0, c1) for c0, c1 in pieces]:
        future.result()


def run(target, method: str = "sgld", chains: int = 8, steps: int = 1000, step_size: float = 1e-3,
        init=None, seed: int = 0, record_every: int | None = None, record=("loss",), stats_only: bool = False,
        bound: float | None = None, progress: bool | None = None, **method_params) -> RunResult:
    """Run an ensemble of independent chains of GD, SGD, Langevin or SGLD; return a :class:`RunResult`.

    Updates (ε = ``step_size``; ĝ the gradient of K, or of the minibatch loss of a toy model):

    * ``"gd"``: w ← w − ε v, v ← μ v + ∇K(w) (``momentum`` μ, default 0 = plain gradient descent).
    * ``"sgd"`` (toy models): the same with the minibatch gradient of ``batch_size`` samples
      (default min(32, n)), drawn ``replace``-d or (default) as shuffled epochs, one per chain.
    * ``"langevin"``: overdamped Langevin dw = −∇K dt + √(2T) dW by Euler–Maruyama,
      w ← w − ε∇K(w) + √(2Tε) ξ (``temperature`` T, default 1); stationary density ∝ exp(−K/T)
      as ε → 0.
    * ``"sgld"``: Δw = −(ε/2)[nβ ∇L̂(w) + γ(w − w*)] + N(0, ε I) (Welling & Teh 2011; the localized
      form of Lau, Furman, Wang, Murfet & Wei 2023). ``n_beta`` = nβ (required for a potential;
      n / log n for a toy model), ``gamma`` γ (default 0), ``w_star`` w* (default: ``init``);
      for a toy model ``batch_size`` (default n: full batch) and ``replace``.
    * ``"mala"``: the full-batch sgld step as a proposal, accepted with the Metropolis–Hastings
      probability (Roberts & Tweedie 1996): the chains sample ∝ exp(−nβL − (γ/2)‖w − w*‖²) exactly,
      with no step-size bias; the same parameters as sgld without the minibatch ones, and
      ``drift_cap`` c (default 2): the drift is shortened to at most c·√(εd), which stops chains from
      freezing where K is steep (truncated-drift MALA; :mod:`slt.chain_loops`).
      ``RunResult.acceptance`` holds each chain's acceptance rate.

    Parameters
    ----------
    target : a :class:`slt.Potential`, a formula string, a :class:`slt.ToyModel`, or any object with
        a Numba ``grad(w, out) -> K`` and ``dim`` (e.g. ``Potential.compiled``).
    chains, steps : ensemble size and number of updates per chain.
    init : start: None (the origin), a dict name -> value, shape (d,) or (chains, d).
    seed : chain c draws from its own xoshiro256** stream derived from (seed, c) (:mod:`slt.rng`),
        so results are identical for any number of threads, and chain c is the same in any
        ensemble size.
    record_every : k; records at steps 0, k, 2k, ... (default: about 1000 records, max(1, steps // 1000)).
    record : any of ``"positions"``, ``"loss"``, ``"grad_norm"``.
        Memory: R × C × (8d for positions + 8 for loss + 8 for grad_norm) bytes, R = ceil(steps / k);
        plus about C × (8(3d + 4) + 32) bytes of state. Above 8 GiB of records the call refuses.
    stats_only : record nothing; keep only the running loss statistics (constant memory per chain,
        so 10⁶ chains are fine).
    bound : a chain whose coordinate leaves [−bound, bound] (or turns non-finite) stops and is flagged
        (default: only non-finite values stop a chain). The run continues with the other chains.
    progress : a tqdm bar on stderr; None: only for long runs on a terminal.
    burn_in : (method parameter, default 0) steps excluded from ``loss_mean`` / ``loss_var``.

    Returns
    -------
    RunResult with the recorded arrays, the final states, the divergence flags and running statistics.
    """
    started = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    tgt = _resolve(target)
    if method == "mala" and tgt.sample_loss_grad is not None:
        # Metropolis needs the exact loss: the toy model's full-batch L_n(w) and its gradient
        tgt = dataclasses.replace(tgt, grad=target.compiled.grad, sample_loss_grad=None)
    chains = _positive_int(chains, "chains")
    steps = _positive_int(steps, "steps")
    step_size = _positive_float(step_size, "step_size")
    if record_every is None:
        record_every = max(1, steps // 1000)
    record_every = _positive_int(record_every, "record_every")
    burn_in = _positive_int(method_params.get("burn_in", 0), "burn_in", minimum=0)
    if burn_in >= steps:
        raise ValueError(f"burn_in={burn_in} leaves no steps for the loss statistics (steps={steps})")
    bound_value = math.inf if bound is None else _positive_float(bound, "bound")
    if isinstance(record, str):
        record = (record,)
    record = tuple(record)
    bad = sorted(set(record) - set(RECORDABLE))
    if bad:
        raise ValueError(f"record must name some of {RECORDABLE}, got {bad}")
    if stats_only:
        record = ()
    seed_value = seed
    W = _points(init, "init", chains, tgt.names).copy()
    settings, (a_grad, a_loc, sigma, momentum), w_star, mode, batch_size = _method_settings(
        method, tgt, method_params, chains, W, step_size)
    w_star = np.array(w_star, dtype=np.float64, order="C")
    d = tgt.dim

    n_records = -(-steps // record_every) if record else 0
    need = n_records * chains * (8 * d * ("positions" in record) + 8 * ("loss" in record)
                                 + 8 * ("grad_norm" in record))
    if need > _MAX_RECORD_BYTES:
        raise ValueError(f"recording needs {need / 2**30:.1f} GiB; raise record_every, record less, "
                         "or use stats_only=True")

    def records(shape, wanted):
        return np.full(shape, np.nan) if wanted else np.empty((0,) + shape[1:])

    rec_pos = records((n_records, chains, d), "positions" in record)
    rec_loss = records((n_records, chains), "loss" in record)
    rec_gnorm = records((n_records, chains), "grad_norm" in record)
    V = np.zeros((chains, d))
    states = chain_states(seed_value, chains)
    stats = np.zeros((chains, 4))
    diverged_at = np.full(chains, -1, dtype=np.int64)
    epochs = np.zeros((chains, 2), dtype=np.int64)
    accepted = np.zeros((chains, 1))

    module = kernels.kernels_for(tgt.grad, tgt.sample_loss_grad)
    show = _show_progress(progress, chains * steps)
    n_chunks = min(_CHUNKS_WITH_PROGRESS, steps) if show else 1
    bounds = np.linspace(0, steps, n_chunks + 1).astype(np.int64)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=f"{method} x {chains} chains", unit="step", file=sys.stderr)
    common = (np.float64(a_grad), np.float64(a_loc), np.float64(sigma), np.float64(momentum))
    drift_cap = settings.get("drift_cap", math.inf) * sigma * math.sqrt(d) if method == "mala" else math.inf
    threads = numba.get_num_threads()
    pieces = _chain_chunks(chains, threads)
    pool = ThreadPoolExecutor(max_workers=min(threads, len(pieces))) if len(pieces) > 1 else None
    try:
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            tail = (np.int64(lo), np.int64(hi - lo), np.int64(record_every), np.int64(burn_in),
                    np.float64(bound_value), rec_pos, rec_loss, rec_gnorm)
            if method == "mala":
                def advance(c0, c1, tail=tail):
                    module.full_batch_mala(W, states, stats, accepted, diverged_at, w_star, *common[:3],
                                           np.float64(drift_cap), *tail, c0, c1)
            elif tgt.sample_loss_grad is None:
                def advance(c0, c1, tail=tail):
                    module.full_batch(W, V, states, stats, diverged_at, w_star, *common, *tail, c0, c1)
            else:
                def advance(c0, c1, tail=tail):
                    module.minibatch(W, V, states, stats, diverged_at, w_star, tgt.X, tgt.Y,
                                     np.int64(batch_size), np.int64(mode), epochs, *common, *tail, c0, c1)
            try:
                _run_chunks(pool, advance, pieces)
            except ZeroDivisionError:
                raise ValueError("K or its gradient divides by zero at a state of the chains (e.g. 1/x at "
                                 "x = 0): start them elsewhere or reformulate K") from None
            if bar is not None:
                bar.update(int(hi - lo))
    finally:
        if pool is not None:
            pool.shutdown()
        if bar is not None:
            bar.close()

    diverged = diverged_at >= 0
    loss_mean, loss_var = kernels.loss_moments(stats)
    loss_mean[diverged] = np.nan
    loss_var[diverged] = np.nan
    params = {
        "method": method, "target": tgt.label, "chains": chains, "steps": steps, "step_size": step_size,
        "seed": int(seed_value), "record_every": record_every, "record": list(record),
        "stats_only": stats_only,
        "bound": None if bound is None else bound_value, "burn_in": burn_in, **settings,
    }
    if method in ("sgld", "mala"):
        params["w_star"] = w_star[0].tolist() if np.all(w_star == w_star[0]) else w_star.tolist()
    return RunResult(
        method=method,
        names=tgt.names,
        steps_recorded=np.arange(n_records, dtype=np.int64) * record_every,
        final=W,
        diverged=diverged,
        diverged_step=diverged_at,
        loss_mean=loss_mean,
        loss_var=loss_var,
        params=params,
        positions=rec_pos if "positions" in record else None,
        loss=rec_loss if "loss" in record else None,
        grad_norm=rec_gnorm if "grad_norm" in record else None,
        acceptance=accepted[:, 0] / steps if method == "mala" else None,
        wall_s=time.perf_counter() - started,
    )
