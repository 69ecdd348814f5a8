"""Result records of the estimators: frozen dataclasses with a short repr and ``to_dict()`` for JSON."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np


def _plain(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return value


class _Record:
    _summary: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """Every field as plain JSON-ready Python values (arrays become lists)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    def __repr__(self) -> str:
        def fmt(v):
            return f"{v:.4g}" if isinstance(v, float) else repr(v)

        inner = ", ".join(f"{name}={fmt(getattr(self, name))}" for name in self._summary)
        return f"{type(self).__name__}({inner})"


@dataclass(frozen=True, repr=False)
class LLCDiagnostics(_Record):
    """What to look at before trusting an LLC estimate.

    loss_trace : (records,) chain-averaged L(w_t) − L(w*) along the run (record steps in ``trace_steps``).
    trace_steps : (records,) the step indices of the trace.
    diverged : number of chains that diverged (excluded from the estimate).
    below_fraction : fraction of the post-burn-in chain means with E[L] < L(w*), i.e. the chain found lower
        loss than the point of interest: w* is not a local minimum, or the step size is too large.
    warnings : human-readable problems found.
    acceptance : mean Metropolis acceptance rate of the main run (sampler "mala"; NaN for "sgld").
    """

    loss_trace: np.ndarray
    trace_steps: np.ndarray
    diverged: int
    below_fraction: float
    warnings: tuple[str, ...] = ()
    acceptance: float = float("nan")
    _summary = ("diverged", "below_fraction", "acceptance", "warnings")


@dataclass(frozen=True, repr=False)
class LLCResult(_Record):
    """The local learning coefficient λ̂(w*) = nβ (E_β[L] − L(w*)) (Lau et al. 2023).

    llc : mean over chains; stderr : standard deviation of the per-chain values / √(chains kept);
    per_chain : (chains,) the per-chain estimates (NaN for diverged chains); loss_at : L(w*);
    n, n_beta, gamma, step_size, chains, steps, burn_in : the settings used; at : w* by name;
    method : the sampler, "mala" or "sgld"; wall_s : seconds.
    """

    llc: float
    stderr: float
    per_chain: np.ndarray
    loss_at: float
    n: float
    n_beta: float
    gamma: float
    step_size: float
    chains: int
    steps: int
    burn_in: int
    at: dict
    diagnostics: LLCDiagnostics
    method: str = "mala"
    wall_s: float = 0.0
    _summary = ("llc", "stderr", "method", "chains", "n_beta", "gamma", "step_size")


@dataclass(frozen=True, repr=False)
class VolumeResult(_Record):
    """λ (and m) from the volume V(ε) = P_φ(K(w) − K(w*) < ε) ≈ c ε^λ (−log ε)^{m−1}.

    lam : λ fitted with multiplicity ``m`` (given, or chosen as in :mod:`slt.estimate.scaling_fit`);
    lam_stderr : its statistical error (jackknife over replicas);
    lam_systematic : its fit-window error (spread of λ over sub-windows of the levels beyond what noise
    explains; see :mod:`slt.estimate.scaling_fit`) — quote λ ± lam_stderr (stat) ± lam_systematic
    (fit window);
    m_fit, m_fit_stderr : the real m of the joint fit of λ and m;
    m_decided : False when m was not given and the levels could not single it out (see ``warnings``);
    m_candidates : one dict {"m", "lam", "lam_stderr", "lam_systematic"} per multiplicity tried;
    eps : (levels,) thresholds ε_k (mean of log ε_k over replicas, exponentiated); log_volume :
    (levels,) log V(ε_k);
    log_eps_stderr : (levels,) spread of log ε_k over replicas / √replicas;
    fit_levels : the number of levels used in the fit; replicas, samples : independent runs, samples
    per level;
    quadrature_lam : in 1-D/2-D, the slope λ of −log Z(n) from quadrature (the deterministic twin), else None;
    warnings : problems found, in words (undecided m, a large fit-window error).
    """

    lam: float
    lam_stderr: float
    lam_systematic: float
    m: int
    m_fit: float
    m_fit_stderr: float
    m_decided: bool
    m_candidates: tuple[dict, ...]
    log_c: float
    eps: np.ndarray
    log_volume: np.ndarray
    log_eps_stderr: np.ndarray
    fit_levels: int
    replicas: int
    samples: int
    at: dict
    quadrature_lam: float | None = None
    method: str = "subset-simulation"
    wall_s: float = 0.0
    warnings: tuple[str, ...] = ()
    _summary = ("lam", "lam_stderr", "lam_systematic", "m", "m_decided", "m_fit", "quadrature_lam")


@dataclass(frozen=True, repr=False)
class FreeEnergyResult(_Record):
    """F_n = −log ∫ e^{−nK} φ over a grid of n, with λ from the slope against log n.

    n : (k,) sample sizes; free_energy : (k,) F_n; free_energy_stderr : (k,) (0 for quadrature);
    wbic : (k,) WBIC = E_{β=1/log n}[nK] (Watanabe 2013), NaN where not computed;
    lam, m : the fit F_n = c + λ log n − (m − 1) log log n (m given, or chosen as in
    :mod:`slt.estimate.scaling_fit`);
    lam_stderr : the statistical error of λ (jackknife over blocks; 0 for the deterministic quadrature);
    lam_systematic : the fit-window error of λ (spread of λ over sub-windows of the n grid beyond what noise
    explains) — quote λ ± lam_stderr (stat) ± lam_systematic (fit window);
    m_fit : the real m of the joint fit; m_decided : False when m was not given and the data could not single
    it out; m_candidates : one dict {"m", "lam", "lam_stderr", "lam_systematic"} per multiplicity tried;
    method : "thermodynamic-integration" or "quadrature"; warnings : problems found, in words.
    """

    n: np.ndarray
    free_energy: np.ndarray
    free_energy_stderr: np.ndarray
    wbic: np.ndarray
    lam: float
    lam_stderr: float
    lam_systematic: float
    m: int
    m_fit: float
    m_decided: bool
    m_candidates: tuple[dict, ...]
    method: str
    at: dict = field(default_factory=dict)
    wall_s: float = 0.0
    warnings: tuple[str, ...] = ()
    _summary = ("lam", "lam_stderr", "lam_systematic", "m", "m_decided", "m_fit", "method")
