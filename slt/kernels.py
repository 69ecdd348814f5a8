"""Numba kernels for ensembles of GD / SGD / Langevin / SGLD chains, compiled once per potential.

One update covers all four methods (``ĝ`` is the gradient of the loss at w, full or minibatch;
``ξ ~ N(0, I_d)`` comes from the chain's own stream, see :mod:`slt.rng`):

    v ← μ v + ĝ   (v = ĝ when μ = 0),      w ← w − a_grad v − a_loc (w − w*) + σ ξ

=========  ===============================================  ========  =========  ==========  ===
method     update                                           a_grad    a_loc      σ           μ
=========  ===============================================  ========  =========  ==========  ===
gd / sgd   w ← w − ε v  (heavy-ball momentum, PyTorch's)    ε         0          0           μ
langevin   w ← w − ε∇K + √(2Tε) ξ  (Euler–Maruyama for      ε         0          √(2Tε)      0
           dw = −∇K dt + √(2T) dW)
sgld       w ← w − (ε/2)[nβ ∇L̂ + γ(w − w*)] + √ε ξ          ε nβ / 2  ε γ / 2    √ε          0
           (Welling & Teh 2011; Lau et al. 2023, eq. 12)
mala       the sgld update as a proposal, accepted or rejected  (as sgld)
           by Metropolis–Hastings (full batch; see :mod:`slt.chain_loops`)
=========  ===============================================  ========  =========  ==========  ===

:func:`coefficients` computes the table's row. The loops themselves are in
:mod:`slt.chain_loops`; :func:`kernels_for` binds them to a potential's compiled gradient and
caches the machine code on disk (first compile a few seconds, later processes load it).

Parallelism: the loops are single-threaded and release the GIL; :mod:`slt.dynamics` runs disjoint
chunks of chains in a small thread pool (``numba.get_num_threads()`` threads). Each chain only
touches its own row of every array and its own random stream, so results are bit-identical for any
thread count. (Numba's ``parallel=True`` did the same but cost about 40% of the first compile.)
"""

from __future__ import annotations

import hashlib
import math
import sys
import threading
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
from numba import njit

from slt import rng
from slt.importing import import_path

# minibatch modes of the toy-model loop (see slt.chain_loops)
ALL_DATA, WITH_REPLACEMENT, WITHOUT_REPLACEMENT = 0, 1, 2

_TEMPLATE = Path(__file__).with_name("chain_loops.py")
_CACHE_LINE = "_CACHE = False  # the generated copies say True"
_MEMORY: dict[tuple[int, int], tuple[ModuleType, object, object]] = {}
_LOCK = threading.Lock()


# --- small pieces used inside the loops -------------------------------------------------------------
@njit(cache=True, inline="always")
def push_loss(acc, x):
    """Running sums ``acc = (count, shift, Σ(x − shift), Σ(x − shift)²)`` with x added (a new tuple).

    The shift is the first value pushed ("shifted data" algorithm, Chan, Golub & LeVeque 1983,
    Am. Stat. 37(3)): no division per step, and no cancellation as long as the shift is within a
    few standard deviations of the mean. :func:`loss_moments` turns the sums into mean and variance.
    """
    count, shift, s1, s2 = acc
    if count == 0.0:
        shift = x
    dx = x - shift
    return count + 1.0, shift, s1 + dx, s2 + dx * dx


def loss_moments(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, unbiased variance) per chain from running sums of shape (chains, 4) (NaN if too few)."""
    count, shift, s1, s2 = stats.T
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = np.where(count > 0, shift + s1 / count, np.nan)
        var = np.where(count > 1, (s2 - s1 * s1 / count) / (count - 1), np.nan)
    return mean, np.maximum(var, 0.0, where=np.isfinite(var), out=var)


@njit(cache=True)
def shuffle_indices(perm, word):
    """perm ← a uniformly random permutation of 0..n−1 (Fisher–Yates), determined by the uint64 ``word``.

    The shuffle draws from its own xoshiro256** stream seeded by splitmix64(word + k·golden),
    k = 1..4, so an epoch can be rebuilt from its word alone.
    """
    state = np.empty(4, dtype=np.uint64)
    for k in range(4):
        state[k] = rng._splitmix64_mix(word + np.uint64(k + 1) * rng.GOLDEN)
    n = perm.shape[0]
    for i in range(n):
        perm[i] = i
    for i in range(n - 1, 0, -1):
        j = rng.index_below(state, i + 1)
        perm[i], perm[j] = perm[j], perm[i]


def coefficients(method: str, step_size: float, *, temperature: float = 1.0, n_beta: float = 1.0,
                 gamma: float = 0.0, momentum: float = 0.0) -> tuple[float, float, float, float]:
    """(a_grad, a_loc, σ, μ) of the shared update for ``method`` (the table in the module docstring)."""
    eps = float(step_size)
    if method in ("gd", "sgd"):
        return eps, 0.0, 0.0, float(momentum)
    if method == "langevin":
        return eps, 0.0, math.sqrt(2.0 * temperature * eps), 0.0
    if method in ("sgld", "mala"):
        return 0.5 * eps * n_beta, 0.5 * eps * gamma, math.sqrt(eps), 0.0
    raise ValueError(f"unknown method {method!r}")


# --- binding the loops to a potential ---------------------------------------------------------------
def import_function(module_name: str, path: str, qualname: str):
    """The object ``qualname`` of module ``module_name``, importing it from ``path`` if not yet loaded.

    Generated kernel modules call this to reach the potential's functions in a fresh process.
    """
    module = sys.modules.get(module_name) or import_path(module_name, path)
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _check_jitted(fn, what: str) -> None:
    if not isinstance(fn, numba.core.registry.CPUDispatcher):
        raise ValueError(f"{what} must be a Numba @njit function, got {type(fn).__name__}")


def _file_location(fn) -> tuple[str, str, str] | None:
    """(module name, file, qualname) when ``fn`` can be imported again from a file, else None."""
    py = fn.py_func
    module = sys.modules.get(py.__module__)
    path = getattr(module, "__file__", None)
    if module is None or path is None or "<locals>" in py.__qualname__ or py.__module__ == "__main__":
        return None
    try:
        found = import_function(py.__module__, path, py.__qualname__)
    except (AttributeError, ImportError):
        return None
    return (py.__module__, str(path), py.__qualname__) if found is fn else None


def _source_text() -> str:
    text = _TEMPLATE.read_text()
    if text.count(_CACHE_LINE) != 1:
        raise RuntimeError(f"{_TEMPLATE} lost its line {_CACHE_LINE!r}")
    return text


def _kernel_key(locations) -> str:
    """sha256 of everything the cached machine code depends on (Numba itself only watches one file)."""
    h = hashlib.sha256()
    h.update(numba.__version__.encode())
    for path in (_TEMPLATE, Path(__file__), Path(rng.__file__)):
        h.update(path.read_bytes())
    for location in locations:
        if location is None:
            h.update(b"none")
            continue
        name, path, qualname = location
        h.update(f"{name}:{qualname}".encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:24]


def _generated_source(key: str, locations) -> str:
    lines = [f"# Generated by slt.kernels from slt/chain_loops.py; key {key}. Do not edit."]
    lines.append(_source_text().replace(_CACHE_LINE, "_CACHE = True"))
    lines.append("\n# --- bindings -----------------------------------------------------------")
    lines.append("from slt.kernels import import_function  # noqa: E402")
    for name, location in zip(("grad", "sample_loss_grad"), locations, strict=True):
        if location is not None:
            lines.append(f"{name} = import_function({location[0]!r}, {location[1]!r}, {location[2]!r})")
    return "\n".join(lines) + "\n"


def kernels_for(grad=None, sample_loss_grad=None) -> ModuleType:
    """The module of chain loops (``full_batch``, ``minibatch``) bound to these compiled functions.

    grad : njit ``grad(w, out) -> K(w)`` of a potential (used by ``full_batch``), or None.
    sample_loss_grad : njit ``sample_loss_grad(w, x, y, out) -> ℓ`` of a toy model (used by
        ``minibatch``), or None. At least one of the two must be given.

    When the given functions live in importable files (as :mod:`slt.codegen` writes them), the
    loops are written to ``<slt cache>/potentials/kernels_<key>.py`` and Numba caches their machine
    code, so a later process skips the compilation. Otherwise (functions defined in ``__main__`` or
    inside another function) the loops are compiled in memory, for this process only.
    """
    functions = (grad, sample_loss_grad)
    if grad is None and sample_loss_grad is None:
        raise ValueError("kernels_for needs grad or sample_loss_grad")
    for fn, what in zip(functions, ("grad", "sample_loss_grad"), strict=True):
        if fn is not None:
            _check_jitted(fn, what)
    with _LOCK:
        ident = (id(grad), id(sample_loss_grad))
        cached = _MEMORY.get(ident)
        if cached is not None and cached[1] is grad and cached[2] is sample_loss_grad:
            return cached[0]
    locations = [None if fn is None else _file_location(fn) for fn in functions]
    if all(fn is None or loc is not None for fn, loc in zip(functions, locations, strict=True)):
        from slt.codegen import load_module

        key = "kernels_" + _kernel_key(locations)
        module = load_module(key, lambda: _generated_source(key, locations))
    else:
        module = ModuleType("slt_kernels_in_memory")
        module.__dict__["__file__"] = str(_TEMPLATE)
        exec(compile(_source_text(), str(_TEMPLATE), "exec"), module.__dict__)
        for name, fn in zip(("grad", "sample_loss_grad"), functions, strict=True):
            if fn is not None:
                setattr(module, name, fn)
    with _LOCK:
        _MEMORY[ident] = (module, grad, sample_loss_grad)
    return module
