"""devinterp's LLC estimator on the toy potentials of ``benchmarks/llc.py``, for the side-by-side (issue #6).

``devinterp_llc(potential, at, n)`` runs the PyPI package ``devinterp`` (the ``bench`` extra; written against
2.0.1) on K(w) and returns ``{"llc", "stderr", "wall_s", "settings", ...}``. Only devinterp's public API is
used: ``devinterp.slt.llc.llc`` (the v2 entry point; v1's ``estimate_learning_coeff_with_summary``, ``SGLD``
and ``LLCEstimator`` are gone in 2.x) and ``devinterp.utils.default_nbeta``.

The model. An ``nn.Module`` with one parameter vector ``w`` whose entries are the potential's variables, in
``potential.names`` order, initialised at w* (``at``: None → the origin, or a dict name → value, values
such as ``"3/10"`` allowed). One vector rather than one scalar parameter per variable: devinterp's SGLD acts
coordinate by coordinate, so the chain is the same, and one tensor keeps the optimizer's per-parameter loop
short (d = 56 for the largest reduced-rank case). Its loss is K(w), evaluated in torch by a function built
from ``potential.expr`` by walking the sympy tree (:func:`torch_function`; no eval, no lambdify). devinterp
2.x wants per-token losses of shape (batch, seq − 1) from a HuggingFace ``Dataset`` with ``input_ids``: the
dataset is a dummy (256 rows of two zero tokens), and the ``loss_fn`` returns K(w) broadcast to that shape,
so the per-sample mean loss that devinterp differentiates and records is exactly K(w).

The formula is ours, with no extra factor. devinterp's ``sgmcmc_sgld`` step is
Δw = −(ε/2)[nβ ∇L(w) + γ (w − w₀)] + √ε N(0, I) with L the per-sample mean loss (= K here), and
``compute_llc`` returns nβ (mean of L over the steps − L(w₀)) per chain — the update and the estimator of
:func:`slt.llc` (λ̂ = nβ (E[K] − K(w*)), Δw = −(ε/2)[nβ ∇K + γ(w − w*)] + N(0, ε I)). Checked on the regular
case K = x² + y² (λ = 1): devinterp gives 1.055 ± 0.023 (seed 0) and 1.037 ± 0.026 (seed 1), where its own
step size predicts 1.077 (the SGLD stationary variance is 1/(a(1 − εa/4)), εa = lr·nβ·K'' = 0.29), and
devinterp's optimizer run directly on 4000 chains gives 1.076 ± 0.001: no factor is missing or extra.
Neither sampler sees a Jacobian prior |w_i|^{h_i} (``nc_with_jacobian``): SGLD samples exp(−nβ K) in both.

What differs, by devinterp's design rather than this wrapper's: its step size is fixed by hand, not measured
(above: +5 to +17 % discretisation bias on the quadratic directions at the calibrated lr·nβ); its mean
includes the burn-in steps (``compute_llc`` "averages ... over every step (including burn-in)"); and 8 chains
× 2000 steps at that lr do not reach stationarity along the flat directions of a singular K (per-step noise
√lr ≈ 0.004 against a posterior that spreads ~0.1 to ~1 along them), so each chain's mean depends on how far
it happened to diffuse: on x²y⁴ the per-chain values run from 0.000 to 0.316 (λ = 1/4, λ̂ = 0.070), and
10× more draws (4 chains × 10 000) give 0.257 ± 0.065; on x⁴ 0.354 → 0.262 ± 0.050. The across-chain
standard error of 8 such chains understates the error.

Settings (each can be overridden by keyword; the values used are returned under ``"settings"``):

* nβ: the same nβ as :func:`slt.llc` for this n, n / log n, with n = ``slt.estimate.llc.DEFAULT_N`` read at
  call time (10⁵ when written: nβ ≈ 8686).
* localization γ = ``slt.estimate.llc.DEFAULT_GAMMA`` read at call time (1.0 when written). devinterp's own
  default is 0; γ is matched so that both tools estimate the same localised quantity.
* num_chains = 8, num_draws = 1000, num_burnin_steps = 1000, num_steps_bw_draws = 1, batch_size = 16: the
  settings of devinterp's own calibration of ``llc()`` against analytic learning coefficients on toy
  potentials (``examples/llc_calibration.py`` in the devinterp repository, the documented usage closest to
  ours: a data-independent loss through ``loss_fn``, a dummy dataset, CPU). The package defaults
  (``sample()``: 4 chains × 200 draws, no burn-in) are tuned for language models on a GPU.
* lr: devinterp has no default step size (``lr`` is required). Its calibration example tuned lr = 10⁻³ at
  nβ = ``default_nbeta(1000)`` ≈ 144.8 on K = x² + y², i.e. lr·nβ ≈ 0.145. The SGLD drift is
  (lr/2)·nβ·∇K, so what matters is lr·nβ: we keep lr·nβ at that tuned value, lr = 10⁻³ × 144.8 / nβ
  (≈ 1.67·10⁻⁵ at nβ ≈ 8686). The example's lr = 10⁻³ itself at nβ ≈ 8686 gives lr·nβ·K'' ≈ 17 on the
  regular cases, past the stability limit 4 of the drift: every chain diverges.
* The wall-time cap: ``max_steps`` = 100 000 caps num_chains × (num_draws + num_burnin_steps), about
  1.5–3 minutes at the 0.9–1.8 ms per step measured on 2 cores (the cost per step hardly depends on d
  here: K is evaluated vectorised); a larger request is refused rather than silently cut. The settings
  above are 16 000 steps, 13–32 s per case.
* observables = {} (they are extra probe losses per draw that do not enter the LLC; passing the sampling
  dataset again, as devinterp's examples do, only adds work), ``init_seed`` = ``seed``, ``device="cpu"``,
  ``sampling_method="sgmcmc_sgld"`` (devinterp's default), float32 parameters (torch's default).

Timing: ``wall_s`` is devinterp's ``llc()`` call (sampling, its zarr writes and ``compute_llc``), after one
tiny warm-up call per process (like the Numba warm-up of ``benchmarks/llc.py``); building the torch function
from sympy and importing devinterp are not counted. Torch runs on one thread during the call (tiny tensors;
the thread count is restored afterwards).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import sympy
import torch

# devinterp's calibration settings for toy potentials (examples/llc_calibration.py), see the module notes
CALIBRATION_LR = 1e-3
CALIBRATION_N = 1000
NUM_CHAINS = 8
NUM_DRAWS = 1000
NUM_BURNIN_STEPS = 1000
BATCH_SIZE = 16
MAX_STEPS = 100_000      # ~1.5-3 minutes of devinterp on 2 cores, see the module notes

_UNARY = {
    sympy.exp: torch.exp,
    sympy.log: torch.log,
    sympy.Abs: torch.abs,
    sympy.sin: torch.sin,
    sympy.cos: torch.cos,
    sympy.tanh: torch.tanh,
}


def available() -> bool:
    """Whether devinterp is installed (then it is imported, see :func:`_import_devinterp`)."""
    if importlib.util.find_spec("devinterp") is None:
        return False
    _import_devinterp()
    return True


def _import_devinterp():
    import devinterp
    import devinterp.slt.llc
    import devinterp.slt.sampler
    import devinterp.utils

    return devinterp


def _monomial(node, index):
    """(c, [variable index repeated by its power]) if ``node`` is c·Π w_i^{k_i} (k_i ≥ 1 integers)."""
    coefficient, factors = 1.0, []
    for f in sympy.Mul.make_args(node):
        if f.is_Number and f.is_real:
            coefficient *= float(f)
        elif f.is_Symbol and f.name in index:
            factors.append(index[f.name])
        elif f.is_Pow and f.args[0].is_Symbol and f.args[0].name in index and f.args[1].is_Integer \
                and f.args[1] > 0:
            factors.extend([index[f.args[0].name]] * int(f.args[1]))
        else:
            return None
    return coefficient, factors


def _powered_sum(node, index):
    """(c, k, monomials of S) if ``node`` is c·S^k, S a sum of monomials (or one monomial), k ≥ 1."""
    single = _monomial(node, index)
    if single is not None:
        return single[0], 1, [(1.0, single[1])]
    coefficient, rest = 1.0, []
    for f in sympy.Mul.make_args(node):
        if f.is_Number and f.is_real:
            coefficient *= float(f)
        else:
            rest.append(f)
    if len(rest) != 1:
        return None
    base, k = rest[0], 1
    if base.is_Pow and base.args[1].is_Integer and base.args[1] > 0:
        base, k = base.args[0], int(base.args[1])
    if not base.is_Add:
        return None
    monomials = [_monomial(a, index) for a in base.args]
    if any(m is None for m in monomials):
        return None
    return coefficient, k, monomials


def _vectorised_sum(terms, d):
    """Σ_j c_j S_j^{k_j} with every S_j a sum of monomials, in a handful of tensor operations."""
    flat = [(j, c, f) for j, (_, _, monomials) in enumerate(terms) for c, f in monomials]
    width = max(1, max(len(f) for _, _, f in flat))
    # each monomial's factor indices, padded with index d, which points at an appended constant 1
    gather = torch.tensor([f + [d] * (width - len(f)) for _, _, f in flat], dtype=torch.long)
    inner = torch.tensor([c for _, c, _ in flat], dtype=torch.float64)
    segment = torch.tensor([j for j, _, _ in flat], dtype=torch.long)
    outer = torch.tensor([c for c, _, _ in terms], dtype=torch.float64)
    powers = torch.tensor([k for _, k, _ in terms], dtype=torch.float64)
    all_linear = bool((powers == 1).all())

    def vectorised(w, cols):
        padded = torch.cat([w, w.new_ones(1)])
        products = padded[gather].prod(dim=1) * inner.to(w.dtype)
        sums = w.new_zeros(len(terms)).index_add(0, segment, products)
        if not all_linear:
            sums = sums ** powers.to(w.dtype)
        return (sums * outer.to(w.dtype)).sum()
    return vectorised


def torch_function(expr: sympy.Expr, names):
    """K as a function of a (d,) tensor ``w`` (entries in ``names`` order), built by walking the sympy tree.

    Supported nodes: Add, Mul, Pow with a numeric exponent (integer, rational or float), numbers, the
    symbols of ``names``, and exp, log, Abs, sin, cos, tanh; anything else raises ``ValueError``. Nothing
    is expanded or simplified (no cancellation is introduced): the tree is evaluated as written, except that
    an Add whose terms are all of the form c·S^k, S a sum of monomials Π w_i^{k_i} (a polynomial as
    written, or a sum of powers of such, as the reduced-rank K), is evaluated in a few vectorised operations
    (gather, product, segment sum, power), and the scalar leaves come from one ``w.unbind()`` per call.
    Walked node by node, the d = 56 reduced-rank K cost ~10 ms per forward-backward in autograd overhead
    (more than devinterp's own step, so it would have been timed as devinterp's); vectorised, ~0.4 ms.
    """
    index = {name: i for i, name in enumerate(names)}
    d = len(names)

    def build(node):
        # every built function takes (w, cols): the (d,) tensor and its unbound scalar entries
        if node.is_Number:
            if not node.is_real:
                raise ValueError(f"non-real constant {node} in the potential")
            value = float(node)
            return lambda w, cols: value
        if node.is_Symbol:
            if node.name not in index:
                raise ValueError(f"symbol {node.name!r} is not a variable of the potential {list(names)}")
            i = index[node.name]
            return lambda w, cols: cols[i]
        if node.is_Add:
            powered = [_powered_sum(a, index) for a in node.args]
            if all(t is not None for t in powered):
                return _vectorised_sum(powered, d)
            parts = [build(a) for a in node.args]

            def add(w, cols):
                total = parts[0](w, cols)
                for p in parts[1:]:
                    total = total + p(w, cols)
                return total
            return add
        if node.is_Mul:
            parts = [build(a) for a in node.args]

            def mul(w, cols):
                total = parts[0](w, cols)
                for p in parts[1:]:
                    total = total * p(w, cols)
                return total
            return mul
        if node.is_Pow:
            base, exponent = node.args
            if not exponent.is_Number or not exponent.is_real:
                raise ValueError(f"only real numeric exponents are supported, got {node}")
            f = build(base)
            e = int(exponent) if exponent.is_Integer else float(exponent)
            return lambda w, cols: f(w, cols) ** e
        if node.func in _UNARY and len(node.args) == 1:
            f, op = build(node.args[0]), _UNARY[node.func]
            return lambda w, cols: op(torch.as_tensor(f(w, cols)))
        raise ValueError(f"unsupported expression {node.func.__name__}: {node}")

    body = build(sympy.sympify(expr))

    def K(w: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(body(w, w.unbind()), dtype=w.dtype)

    return K


class PotentialModel(torch.nn.Module):
    """A module whose parameter ``w`` holds the potential's variables; ``forward()`` returns K(w)."""

    def __init__(self, potential, w_star: np.ndarray):
        super().__init__()
        self.names = tuple(str(n) for n in potential.names)
        self.w = torch.nn.Parameter(torch.tensor(np.asarray(w_star, dtype=np.float64), dtype=torch.float32))
        self._K = torch_function(potential.expr, self.names)

    def forward(self) -> torch.Tensor:
        return self._K(self.w)


def _potential_loss(model: PotentialModel, input_ids: torch.Tensor) -> torch.Tensor:
    """devinterp ``loss_fn``: K(w), the same for every sample and position, shape (batch, seq − 1)."""
    return model().reshape(1, 1).expand(input_ids.shape[0], input_ids.shape[1] - 1)


def _dummy_dataset(rows: int = 256):
    from datasets import Dataset

    return Dataset.from_dict({"input_ids": [[0, 0]] * rows}).with_format("torch")


def _settings(n, n_beta, overrides: dict) -> dict:
    from devinterp.utils import default_nbeta

    slt_llc = importlib.import_module("slt.estimate.llc")    # the module (slt.estimate.llc is the function)
    n = slt_llc.DEFAULT_N if n is None else n
    nb = float(n_beta) if n_beta is not None else n / math.log(n)
    calibration_nb = float(default_nbeta(CALIBRATION_N))
    settings = {
        "n": n, "n_beta": nb,
        "lr": CALIBRATION_LR * calibration_nb / nb,
        "localization": float(slt_llc.DEFAULT_GAMMA),
        "num_chains": NUM_CHAINS, "num_draws": NUM_DRAWS, "num_burnin_steps": NUM_BURNIN_STEPS,
        "num_steps_bw_draws": 1, "batch_size": BATCH_SIZE, "sampling_method": "sgmcmc_sgld",
    }
    unknown = sorted(set(overrides) - set(settings) - {"max_steps"})
    if unknown:
        raise ValueError(f"unknown devinterp setting(s) {unknown}; known: {sorted(settings)}")
    settings.update(overrides)
    return settings


_warmed_up = False


def _run(model, dataset, s, seed, output_path):
    from devinterp.slt.llc import llc

    return llc(model=model, dataset=dataset, observables={}, loss_fn=_potential_loss, lr=s["lr"],
               n_beta=s["n_beta"], localization=s["localization"], num_chains=s["num_chains"],
               num_draws=s["num_draws"], num_burnin_steps=s["num_burnin_steps"],
               num_steps_bw_draws=s["num_steps_bw_draws"], batch_size=s["batch_size"],
               sampling_method=s["sampling_method"], num_init_loss_batches=1, init_seed=seed, device="cpu",
               output_path=output_path)


def devinterp_llc(potential, at=None, n=None, *, seed: int = 0, n_beta: float | None = None,
                  progress: bool = False, **settings) -> dict:
    """devinterp's LLC estimate of ``potential`` at ``at`` (see the module notes for the settings).

    Returns ``{"llc": mean over chains, "stderr": std over chains (ddof 1) / √chains, "wall_s": ...,
    "settings": {...}, "per_chain": [...], "failed_chains": k, "version": devinterp's version,
    "llc_draws_only": ...}``; the last is a diagnostic, the same mean without the burn-in steps (devinterp's
    ``compute_llc`` includes them). Chains that devinterp stops on a NaN/inf loss are excluded from the
    mean, counted in ``failed_chains`` and listed as None in ``per_chain``.
    """
    global _warmed_up
    devinterp = _import_devinterp()
    from devinterp.slt.sampler import calculate_num_steps

    from slt.estimate.landscape import to_point

    max_steps = settings.pop("max_steps", MAX_STEPS)
    s = _settings(n, n_beta, settings)
    total = s["num_chains"] * calculate_num_steps(num_draws=s["num_draws"],
                                                  num_steps_bw_draws=s["num_steps_bw_draws"],
                                                  num_burnin_steps=s["num_burnin_steps"])
    if total > max_steps:
        raise ValueError(f"{total} SGLD steps requested, over the cap max_steps={max_steps} "
                         "(~1.5-3 minutes of devinterp on 2 cores); pass a larger max_steps to run it")
    names = tuple(str(v) for v in potential.names)
    w_star = to_point(at, names)
    model = PotentialModel(potential, w_star)
    dataset = _dummy_dataset(max(256, s["batch_size"]))
    threads = torch.get_num_threads()
    quiet = contextlib.nullcontext() if progress else contextlib.redirect_stderr(io.StringIO())
    try:
        torch.set_num_threads(1)
        with tempfile.TemporaryDirectory(prefix="devinterp-llc-") as tmp, quiet, \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if not _warmed_up:
                warm = dict(s, num_chains=2, num_draws=5, num_burnin_steps=0)
                _run(PotentialModel(potential, w_star), dataset, warm, seed, Path(tmp) / "warm.zarr")
                _warmed_up = True
            t0 = time.perf_counter()
            result = _run(model, dataset, s, seed, Path(tmp) / "samples.zarr")
            per_chain = np.asarray(result["llc_per_chain"].values, dtype=np.float64)
            init_loss = float(result["init_loss"])
            wall = time.perf_counter() - t0
            # diagnostic, not timed: the same estimator without the burn-in steps in the mean
            trace = np.asarray(result["loss_trace"].values, dtype=np.float64)[:, s["num_burnin_steps"]:]
    finally:
        torch.set_num_threads(threads)
    kept = per_chain[np.isfinite(per_chain)]
    failed = int(per_chain.size - kept.size)
    chain_warnings = sorted({str(w.message) for w in caught if "Chain failed" in str(w.message)})
    llc_mean = float(kept.mean()) if kept.size else float("nan")
    draws_only = s["n_beta"] * (trace.mean(axis=1) - init_loss)
    draws_only = float(draws_only[np.isfinite(draws_only)].mean()) if kept.size else float("nan")
    stderr = float(kept.std(ddof=1) / math.sqrt(kept.size)) if kept.size >= 2 else float("nan")
    s.update(init_seed=seed, observables={}, num_init_loss_batches=1, device="cpu", dtype="float32",
             steps_total=total, max_steps=max_steps, torch_threads=1)
    return {"llc": llc_mean, "stderr": stderr, "wall_s": wall, "settings": s,
            "per_chain": [float(v) if math.isfinite(v) else None for v in per_chain],
            "failed_chains": failed, "chain_warnings": chain_warnings,
            "llc_draws_only": draws_only, "loss_at": init_loss,
            "version": getattr(devinterp, "__version__", None) or _version()}


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("devinterp")
    except PackageNotFoundError:
        return "unknown"
