"""The local learning coefficient by SGLD (Lau, Furman, Wang, Murfet & Wei 2023, "Quantifying degeneracy in
singular models via the learning coefficient", arXiv:2308.12108, eq. 5 and §4).

    λ̂(w*) = nβ (E_β[L_n(w)] − L_n(w*)),  β = 1/log n,
    E_β over the localised tempered posterior p(w) ∝ exp{−nβ L_n(w) − (γ/2)‖w − w*‖²},

sampled with the SGLD kernels of :func:`slt.run` (Δw = −(ε/2)[nβ ∇L̂(w) + γ(w − w*)] + N(0, ε I)).
For a potential, L_n = K and n is a resolution parameter (n → ∞ is the asymptotic regime); for a toy model
with data, L_n is the empirical loss, the gradient a minibatch one, and n the number of samples.

Choosing the step size. A single ε must be small against the stiffest direction (discretisation bias of the
SGLD stationary law is ≈ ε a / 4 relatively for a direction of curvature a) and as large as possible for the
flat, singular directions to mix. We measure the curvature that matters: at stationarity of p ∝ e^{−U},
E‖∇U‖² = E[ΔU] (integration by parts), so a = E‖∇U‖²/d is the mean curvature seen by the chains. Pilot runs
(``pilot_rounds`` of ``pilot_steps``) measure it, starting from ε = ``step_scale``/nβ, and set
ε = ``step_scale``/a; the last pilot's states start the main run, so the pilot is also the burn-in.

Known biases (design.md §4): a large γ pulls λ̂ down (it confines the flat directions); too large ε diverges
or biases up; at finite n a multiplicity m > 1 makes λ̂ low: with Z(s) ∝ s^{−λ}(log s)^{m−1}, s = nβ,
s E_s[K] = −d log Z / d log s = λ − (m − 1)/log s + …, so λ̂ ≈ λ − (m − 1)/log(nβ), a bias that shrinks only
logarithmically in n (see ``tests/test_estimate_llc.py`` and ``benchmarks/llc.py``). Measured on x²y²
(λ = 1/2, m = 2), defaults otherwise: λ̂ = 0.377 (n = 10³), 0.409 (10⁴), 0.454 ± 0.009 (10⁵). At n ≥ 10⁶ the
pilot's step size is too large for the stiff ends of its arms: some chains diverge and the estimate is not
to be trusted (the diagnostics say so).
"""

from __future__ import annotations

import math
import time

import numpy as np

from slt.estimate.landscape import as_potential, to_point
from slt.estimate.results import LLCDiagnostics, LLCResult

DEFAULT_N = 100_000
DEFAULT_GAMMA = 1.0
DEFAULT_STEP_SCALE = 0.03


def _is_model(target) -> bool:
    return hasattr(target, "X") and hasattr(target, "empirical_loss")


def _resolve(target, at, n):
    """(object for slt.run, names, w*, L(w*), n)."""
    if _is_model(target):
        if n is not None and int(n) != target.n:
            raise ValueError(f"n={n} differs from the toy model's sample size {target.n}; leave n out")
        names = tuple(target.names)
        w_star = to_point(at, names) if at is not None else np.asarray(
            np.zeros(len(names)) if getattr(target, "true_w", None) is None else target.true_w,
            dtype=np.float64)
        return target, names, w_star, target.empirical_loss(w_star), float(target.n)
    potential = as_potential(target)
    names = tuple(str(v) for v in potential.names)
    w_star = to_point(at, names)
    n = DEFAULT_N if n is None else n
    if not (isinstance(n, int | float) and math.isfinite(n) and n > 1):
        raise ValueError(f"n must be a number > 1, got {n!r}")
    loss_at = float(potential.compiled.value(np.ascontiguousarray(w_star)))
    return potential, names, w_star, loss_at, float(n)


def _check_positive(value, what):
    if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a positive number, got {value!r}")


def llc(target, at=None, n: float | None = None, *, n_beta: float | None = None, gamma: float = DEFAULT_GAMMA,
        step_size: float | None = None, step_scale: float = DEFAULT_STEP_SCALE, chains: int = 200,
        steps: int = 30_000, pilot_steps: int = 2_000, pilot_rounds: int = 3, batch_size: int | None = None,
        seed: int = 0, trace_points: int = 200, progress: bool | None = None) -> LLCResult:
    """Estimate the local learning coefficient λ̂(w*) with SGLD chains.

    Parameters
    ----------
    target : a Potential, a formula string, a sympy expression, or a ToyModel (data, minibatch gradients).
    at : w* (dict by name or sequence); default the origin for a potential, ``true_w`` for a toy model.
    n : sample size; for a potential the resolution (default 10⁵), for a toy model its number of samples.
    n_beta : nβ; default n / log n (β = 1/log n, the WBIC temperature).
    gamma : γ, the strength of the localisation (γ/2)‖w − w*‖² (default 1).
    step_size : ε; default chosen by pilot runs as ``step_scale`` / (mean curvature), see the module notes.
    chains, steps : independent chains and SGLD steps per chain after the pilot (all steps enter the mean).
    pilot_steps, pilot_rounds : length and number of the pilot runs (they are the burn-in).
    batch_size : minibatch size for a toy model (default: full batch).
    seed : the pilot rounds and the main run use seeds derived from it (disjoint chain streams).
    trace_points : number of points in the diagnostic loss trace.

    Returns
    -------
    LLCResult: ``llc`` (mean over chains), ``stderr`` (across chains), ``per_chain`` (chains,),
    ``diagnostics`` (loss trace, divergences, the "loss fell below L(w*)" fraction, warnings).

    Example
    -------
    >>> slt.llc("x**2 + y**2").llc    # ≈ 1 = d/2
    """
    from slt.dynamics import run

    t0 = time.perf_counter()
    _check_positive(n_beta, "n_beta")
    _check_positive(step_size, "step_size")
    _check_positive(step_scale, "step_scale")
    if not (isinstance(gamma, int | float) and math.isfinite(gamma) and gamma >= 0):
        raise ValueError(f"gamma must be a number >= 0, got {gamma!r}")
    for value, what in ((chains, "chains"), (steps, "steps"), (pilot_steps, "pilot_steps")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{what} must be an integer >= 2, got {value!r}")
    obj, names, w_star, loss_at, n = _resolve(target, at, n)
    if not math.isfinite(loss_at):
        raise ValueError(f"L(w*) is not finite at {dict(zip(names, w_star.tolist(), strict=True))}")
    nb = float(n_beta) if n_beta is not None else n / math.log(n)
    d = len(names)
    extra = {} if batch_size is None else {"batch_size": batch_size}
    sgld = dict(method="sgld", chains=chains, n_beta=nb, gamma=float(gamma), w_star=w_star, progress=progress,
                **extra)
    seeds = np.random.SeedSequence(seed).generate_state(pilot_rounds + 1)
    eps = step_size if step_size is not None else step_scale / nb
    init = w_star
    for round_ in range(pilot_rounds):
        pilot = run(obj, steps=pilot_steps, step_size=eps, init=init, seed=int(seeds[round_]),
                    record=("grad_norm",), record_every=max(1, pilot_steps // 100), **sgld)
        ok = ~pilot.diverged
        if not ok.any():
            if step_size is not None:
                break
            eps /= 10.0
            continue
        init = np.where(ok[:, None], pilot.final, w_star)
        if step_size is None:
            half = pilot.grad_norm[pilot.grad_norm.shape[0] // 2:, ok]
            curvature = nb**2 * float(np.nanmean(half**2)) / d + gamma
            eps = step_scale / curvature if curvature > 0 else eps * 10.0
            if not ok.all():
                eps /= 10.0
    every = max(1, steps // trace_points)
    main = run(obj, steps=steps, step_size=eps, init=init, seed=int(seeds[-1]), record=("loss",),
               record_every=every, **sgld)
    per_chain = nb * (main.loss_mean - loss_at)
    kept = per_chain[np.isfinite(per_chain)]
    if kept.size < 2:
        raise ValueError(f"all but {kept.size} of {chains} chains diverged at step size {eps:.3g}; "
                         "give a smaller step_size")
    estimate = float(kept.mean())
    stderr = float(kept.std(ddof=1) / math.sqrt(kept.size))
    below = float(np.mean(kept < 0))
    trace = np.nanmean(main.loss, axis=1) - loss_at
    warnings = []
    if not _is_model(obj):
        grad = np.empty(d)
        obj.compiled.grad(np.ascontiguousarray(w_star), grad)
        if np.max(np.abs(grad)) > 1e-6 * (1.0 + abs(loss_at)):
            # λ̂ presumes w* is a local minimum; elsewhere E[K] − K(w*) mostly measures the slope
            warnings.append(f"w* is not a critical point of K (|∇K| = {np.max(np.abs(grad)):.3g}): the "
                            "estimate is not a learning coefficient; pass the minimum with at=")
    if main.n_diverged:
        warnings.append(f"{main.n_diverged} of {chains} chains diverged (excluded); lower step_scale")
    if below > 0.05:
        warnings.append(f"{below:.0%} of chains averaged a loss below L(w*): w* is not a local "
                        "minimum of the "
                        "(localised) loss, or the step size is too large")
    half = trace.size // 2
    drift = abs(trace[half:].mean() - trace[:half].mean()) if half >= 4 else 0.0
    if drift > 4 * stderr / nb + 0.1 * abs(estimate) / nb:
        warnings.append("the loss trace drifts between the two halves of the run: not yet stationary; "
                        "raise steps or pilot_steps")
    diagnostics = LLCDiagnostics(loss_trace=trace, trace_steps=main.steps_recorded,
                                 diverged=int(main.n_diverged),
                                 below_fraction=below, warnings=tuple(warnings))
    return LLCResult(llc=estimate, stderr=stderr, per_chain=per_chain, loss_at=loss_at, n=n, n_beta=nb,
                     gamma=float(gamma), step_size=float(eps), chains=chains, steps=steps,
                     burn_in=pilot_rounds * pilot_steps, at=dict(zip(names, w_star.tolist(), strict=True)),
                     diagnostics=diagnostics, wall_s=time.perf_counter() - t0)
