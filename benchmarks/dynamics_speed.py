"""SGLD throughput of the slt kernels against the random-number limit, numpy and torch, in one run.

For each case (K = (x y)², d = 2; a reduced-rank-regression potential, d = 24) it measures
chain-steps per second of

* ``slt``: :func:`slt.run` (Numba kernels, all threads, ``stats_only``; compile excluded), and
  the same on one thread (numpy and the torch loop use one core, so on a loaded machine this is
  the like-for-like ratio);
* the random-number limit: Numba's ``np.random.Generator.standard_normal`` in a scalar loop,
  normals/s on one thread × threads / d (an SGLD step needs d normals); also the same limit for
  slt's own ziggurat (:func:`slt.rng.standard_normal`), which is faster than Numba's;
* numpy: the same SGLD vectorised over chains (gradient from sympy's numpy printer);
* torch loop: one chain at a time, autograd and an ``torch.optim.Optimizer`` step per draw (the
  style of current LLC libraries such as devinterp);
* torch batched: all chains in one tensor, one autograd call per step.

Usage: ``python benchmarks/dynamics_speed.py [--quick] [--json PATH] [--cpu-time]``. Prints a markdown
table. ``--cpu-time`` divides by the CPU time of this process instead of wall time: every rate is
then per core (the RNG limit is not multiplied by the threads), which stays meaningful on a machine
shared with other jobs, where wall-clock rates mostly measure the share of CPU this process got.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import numba
import numpy as np
import sympy
from numba import njit

import slt
from slt import rng as slt_rng

EPS, N_BETA, GAMMA = 1e-4, 100.0, 100.0
_clock = time.perf_counter  # --cpu-time: time.process_time (all threads of this process)


@njit
def _normals_loop(generator, count):
    total = 0.0
    for _ in range(count):
        total += generator.standard_normal()
    return total


@njit
def _slt_normals_loop(state, count):
    total = 0.0
    for _ in range(count):
        total += slt_rng.standard_normal(state)
    return total


def rng_limit(d: int, threads: int, seconds: float = 1.0, own: bool = False) -> float:
    """Chain-steps/s allowed by one-thread normals/s × threads / d, with Numba's Generator
    (or slt's ziggurat when ``own``)."""
    if own:
        state = slt_rng.chain_states(0, 1)[0]
        loop = lambda count: _slt_normals_loop(state, count)  # noqa: E731
    else:
        generator = np.random.default_rng(0)
        loop = lambda count: _normals_loop(generator, count)  # noqa: E731
    loop(10)
    count, elapsed = 10**6, 0.0
    while elapsed < seconds:
        count *= 2
        start = _clock()
        loop(count)
        elapsed = _clock() - start
    return count / elapsed * (1 if _clock is time.process_time else threads) / d


def slt_rate(potential, chains: int, steps: int, threads: int | None = None, method: str = "sgld") -> float:
    """Chain-steps/s of :func:`slt.run` (SGLD or MALA, ``stats_only``) with ``threads`` threads (default:
    all)."""
    before = numba.get_num_threads()
    numba.set_num_threads(threads or before)
    try:
        return _slt_rate(potential, chains, steps, method)
    finally:
        numba.set_num_threads(before)


def _slt_rate(potential, chains: int, steps: int, method: str) -> float:
    kw = dict(method=method, chains=chains, step_size=EPS, n_beta=N_BETA, gamma=GAMMA, stats_only=True,
              progress=False)
    slt.run(potential, steps=2, **kw)  # compile (or load from the cache)
    start = _clock()
    result = slt.run(potential, steps=steps, **kw)
    elapsed = _clock() - start
    if result.n_diverged:
        raise RuntimeError(f"{result.n_diverged} chains diverged in the benchmark")
    return chains * steps / elapsed


def _timed_steps(step, budget_s: float, max_steps: int) -> float:
    """Steps per second of ``step()`` over about ``budget_s`` seconds (at least 5 steps)."""
    step()
    start, done = _clock(), 0
    while done < max_steps and (done < 5 or _clock() - start < budget_s):
        step()
        done += 1
    return done / (_clock() - start)


def numpy_rate(potential, chains: int, budget_s: float) -> float:
    grad_fn = sympy.lambdify(potential.variables, list(potential.gradient), "numpy")
    rng = np.random.default_rng(0)
    W = np.zeros((chains, potential.dim))
    w_star = W.copy()

    def step():
        nonlocal W
        g = np.stack(np.broadcast_arrays(*grad_fn(*W.T)), axis=1)
        W = W - EPS / 2 * (N_BETA * g + GAMMA * (W - w_star)) + math.sqrt(EPS) * rng.standard_normal(W.shape)

    return chains * _timed_steps(step, budget_s, 10**6)


def _torch_loss(potential):
    # polynomials only: sympy's printed code is plain +, *, ** that torch tensors support
    return sympy.lambdify(potential.variables, potential.expr, "math")


def torch_loop_rate(potential, budget_s: float) -> float:
    import torch

    loss_fn = _torch_loss(potential)

    class SGLD(torch.optim.Optimizer):
        """Δw = −(ε/2)[nβ ∇L + γ(w − w*)] + N(0, ε), one parameter group (as devinterp's SGLD)."""

        def __init__(self, params, lr, n_beta, gamma):
            super().__init__(params, dict(lr=lr, n_beta=n_beta, gamma=gamma))
            for group in self.param_groups:
                for p in group["params"]:
                    self.state[p]["w_star"] = p.detach().clone()

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    drift = group["n_beta"] * p.grad + group["gamma"] * (p - self.state[p]["w_star"])
                    p.add_(-0.5 * group["lr"] * drift + math.sqrt(group["lr"]) * torch.randn_like(p))

    w = torch.zeros(potential.dim, dtype=torch.float64, requires_grad=True)
    optimizer = SGLD([w], EPS, N_BETA, GAMMA)

    def step():
        optimizer.zero_grad()
        loss = loss_fn(*w.unbind())
        loss.backward()
        optimizer.step()

    return _timed_steps(step, budget_s, 10**6)


def torch_batched_rate(potential, chains: int, budget_s: float) -> float:
    import torch

    loss_fn = _torch_loss(potential)
    W = torch.zeros((chains, potential.dim), dtype=torch.float64, requires_grad=True)
    w_star = W.detach().clone()

    def step():
        W.grad = None
        loss_fn(*W.unbind(dim=1)).sum().backward()
        with torch.no_grad():
            W.add_(-EPS / 2 * (N_BETA * W.grad + GAMMA * (W - w_star)) + math.sqrt(EPS) * torch.randn_like(W))

    return chains * _timed_steps(step, budget_s, 10**6)


def cases(quick: bool):
    chains, steps = (1024, 2000) if quick else (4096, 10_000)
    rrr = slt.library.reduced_rank(4, 4, 3, 1, seed=0).potential
    return [
        ("sgld_xy2", slt.Potential("(x*y)**2"), chains, steps),
        ("sgld_rrr_M4_N4_H3_r1", rrr, chains, steps // 4),
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (under a minute)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--cpu-time", action="store_true",
                        help="rates per CPU-second of this process (per core; steadier on a shared machine)")
    args = parser.parse_args(argv)
    global _clock
    _clock = time.process_time if args.cpu_time else time.perf_counter
    threads = numba.get_num_threads()
    import torch

    torch.set_num_threads(threads)
    budget = 1.0 if args.quick else 3.0
    rows = []
    for name, potential, chains, steps in cases(args.quick):
        print(f"[{name}] d={potential.dim} chains={chains} steps={steps}", file=sys.stderr, flush=True)
        row = {
            "name": name, "d": potential.dim, "chains": chains, "steps": steps, "threads": threads,
            "chain_steps_per_s": slt_rate(potential, chains, steps),
            "one_thread_chain_steps_per_s": slt_rate(potential, chains, steps, threads=1),
            "mala_chain_steps_per_s": slt_rate(potential, chains, steps, method="mala"),
            "rng_limit_chain_steps_per_s": rng_limit(potential.dim, threads, budget / 2),
            "slt_rng_limit_chain_steps_per_s": rng_limit(potential.dim, threads, budget / 2, own=True),
            "numpy_chain_steps_per_s": numpy_rate(potential, chains, budget),
            "torch_loop_chain_steps_per_s": torch_loop_rate(potential, budget),
            "torch_batched_chain_steps_per_s": torch_batched_rate(potential, chains, budget),
        }
        rows.append(row)
    print(("Rates per CPU-second (per core).\n" if args.cpu_time else "") + table(rows))
    if args.json:
        out = {
            "cases": rows,
            "clock": "process_time (rates per core)" if args.cpu_time else "wall",
            "machine": {"cpus": os.cpu_count(), "threads": threads, "python": platform.python_version(),
                        "numpy": np.__version__, "numba": numba.__version__, "torch": torch.__version__,
                        "platform": platform.platform()},
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)
    return 0


def table(rows) -> str:
    lines = [
        "| case | d | chains × steps | threads | slt chain-steps/s | % of RNG limit | % of slt-RNG limit "
        "| × numpy | × numpy, 1 thread each | × torch loop | × torch batched | MALA chain-steps/s (÷ SGLD) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rate = r["chain_steps_per_s"]
        limit, numpy_rate_ = r["rng_limit_chain_steps_per_s"], r["numpy_chain_steps_per_s"]
        loop, batched = r["torch_loop_chain_steps_per_s"], r["torch_batched_chain_steps_per_s"]
        lines.append(
            f"| {r['name']} | {r['d']} | {r['chains']} × {r['steps']} | {r['threads']} | {rate:.3g} "
            f"| {100 * rate / limit:.0f}% | {100 * rate / r['slt_rng_limit_chain_steps_per_s']:.0f}% "
            f"| {rate / numpy_rate_:.1f} | {r['one_thread_chain_steps_per_s'] / numpy_rate_:.1f} "
            f"| {rate / loop:.0f} | {rate / batched:.1f} "
            f"| {r['mala_chain_steps_per_s']:.3g} ({r['mala_chain_steps_per_s'] / rate:.2f}) |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
