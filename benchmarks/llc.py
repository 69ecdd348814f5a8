"""LLC accuracy and speed on every reference case and the three reduced-rank cases.

Usage: python benchmarks/llc.py [--json PATH] [--quick] [--no-devinterp]

For each case: the exact λ and m (shared/cases/rlct.json; Aoyagi & Watanabe 2005 for reduced rank); in d ≤ 2
the exact finite-n estimand at the default settings (:func:`slt.estimate.localized_llc_exact`, quadrature);
then, each timed after a warm-up run that compiles the kernels,

* ``mala``: :func:`slt.llc` with its defaults (Metropolis-corrected SGLD, n = 10⁶, γ = 0.1);
* ``sgld``: the same with ``sampler="sgld"`` (Lau et al.'s update, O(ε) bias);
* ``fast``: MALA with 32 chains × 3000 steps and pilot rounds of 500 — the profile compared with devinterp;
* ``devinterp``: devinterp's estimator on the same potential with its documented settings
  (``llc_devinterp.py``), if the package is installed (the ``bench`` extra), else "not installed".

A second table follows the finite-n bias of a multiplicity m = 2 (x²y², λ = 1/2): λ̂, the exact estimand
and the leading-order prediction λ − (m − 1)/log(nβ) for n = 10³ … 10⁷, at the default γ and at γ = 1.
Writes everything as JSON with --json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import time
from fractions import Fraction
from pathlib import Path

import slt
from slt.estimate import localized_llc_exact

CASES_FILE = Path(__file__).resolve().parents[2] / "shared" / "cases" / "rlct.json"
FAST = dict(chains=32, steps=3000, pilot_steps=500)
# where the Gaussian localisation reaches another, lower-λ minimum, the quadrature's estimand is not local
NOT_SINGLE_BASIN = {"line_dot_line"}


def cases():
    data = json.loads(CASES_FILE.read_text())
    for c in data["cases"]:
        prior = None
        if "prior_exponents" in c:
            potential = slt.Potential(c["K"])
            prior = slt.Prior(exponents={k: int(v) for k, v in c["prior_exponents"].items()})
            yield c["name"], slt.Potential(potential.expr, potential.names, prior=prior), c.get("at"), \
                Fraction(c["lambda"]), c["m"]
        else:
            yield c["name"], slt.Potential(c["K"]), c.get("at"), Fraction(c["lambda"]), c["m"]
    for c in data["reduced_rank_regression"]["cases"]:
        entry = slt.library.reduced_rank(c["M"], c["N"], c["H"], c["r"])
        yield f"rrr_{c['M']}_{c['N']}_{c['H']}_{c['r']}", entry.potential, None, Fraction(c["lambda"]), c["m"]


def devinterp_available() -> bool:
    return importlib.util.find_spec("devinterp") is not None


def _devinterp_module():
    """The sibling ``llc_devinterp.py``, loaded by path (benchmarks/ is not a package)."""
    path = Path(__file__).with_name("llc_devinterp.py")
    spec = importlib.util.spec_from_file_location("llc_devinterp", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(potential, at, lam, **settings) -> dict:
    t0 = time.perf_counter()
    r = slt.llc(potential, at=at, **settings)
    wall = time.perf_counter() - t0
    return {"llc": r.llc, "stderr": r.stderr, "rel_error": (r.llc - lam) / lam, "rel_stderr": r.stderr / lam,
            "wall_s": wall, "n_beta": r.n_beta, "gamma": r.gamma, "step_size": r.step_size,
            "acceptance": r.diagnostics.acceptance, "chains": r.chains, "steps": r.steps,
            "burn_in": r.burn_in, "warnings": list(r.diagnostics.warnings)}


def multiplicity_bias(ns=(1e3, 1e4, 1e5, 1e6, 1e7), gammas=(None, 1.0)) -> list[dict]:
    """x²y² at the default γ and at γ = 1 (γ = None: the default of :func:`slt.llc`)."""
    rows = []
    for gamma, n in ((g, n) for g in gammas for n in ns):
        r = slt.llc("x**2*y**2", n=n, **({} if gamma is None else {"gamma": gamma}))
        rows.append({"n": n, "gamma": r.gamma, "n_beta": r.n_beta, "llc": r.llc, "stderr": r.stderr,
                     "exact_estimand": localized_llc_exact("x**2*y**2", n_beta=r.n_beta, gamma=r.gamma),
                     "leading_order": 0.5 - 1.0 / math.log(r.n_beta), "wall_s": r.wall_s})
    return rows


def _cell(entry, digits=4):
    if not isinstance(entry, dict):
        return "—"
    return (f"{entry['llc']:.{digits}f} ± {entry['stderr']:.{digits}f} ({entry['rel_error']:+.1%}, "
            f"{entry['wall_s']:.2f} s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="the fast profile only, no bias table")
    parser.add_argument("--no-devinterp", action="store_true", help="do not run devinterp's estimator")
    args = parser.parse_args(argv)
    di = _devinterp_module() if not args.no_devinterp and devinterp_available() else None
    rows = []
    for name, potential, at, lam, m in cases():
        lam_f = float(lam)
        slt.llc(potential, at=at, chains=4, steps=200, pilot_steps=100)                  # compile: untimed
        slt.llc(potential, at=at, chains=4, steps=200, pilot_steps=100, sampler="sgld")
        row = {"name": name, "d": potential.dim, "lambda": lam_f, "m": m}
        if potential.dim <= 2 and name not in NOT_SINGLE_BASIN:
            row["exact_estimand"] = localized_llc_exact(potential, at=at)
        if not args.quick:
            row["mala"] = _timed(potential, at, lam_f)
            row["sgld"] = _timed(potential, at, lam_f, sampler="sgld")
        row["fast"] = _timed(potential, at, lam_f, **FAST)
        if di is not None:
            dv = di.devinterp_llc(potential, at)
            dv["rel_error"] = (dv["llc"] - lam_f) / lam_f
            dv["wall_ratio_to_fast"] = dv["wall_s"] / row["fast"]["wall_s"]
            row["devinterp"] = dv
        else:
            row["devinterp"] = "not run" if args.no_devinterp else "not installed"
        rows.append(row)
        exact = f"{row['exact_estimand']:.4f}" if "exact_estimand" in row else "—"
        print(f"{name:20s} d={row['d']:2d} λ={lam_f:.4f} m={m} estimand={exact} | "
              f"mala {_cell(row.get('mala'))} | sgld {_cell(row.get('sgld'))} | fast {_cell(row['fast'])} | "
              f"devinterp {_cell(row['devinterp'])}", flush=True)
    bias = [] if args.quick else multiplicity_bias()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {"cases": rows, "multiplicity_bias": bias, "fast_profile": FAST}
        Path(args.json).write_text(json.dumps(payload, indent=2, default=float))
    print("\n| case | d | λ | m | exact estimand | slt mala (default) | slt sgld | slt fast | devinterp | "
          "devinterp / fast wall |\n|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        exact = f"{row['exact_estimand']:.4f}" if "exact_estimand" in row else "—"
        dv = row["devinterp"]
        ratio = f"{dv['wall_ratio_to_fast']:.0f}×" if isinstance(dv, dict) else "—"
        print(f"| {row['name']} | {row['d']} | {row['lambda']:.4f} | {row['m']} | {exact} | "
              f"{_cell(row.get('mala'))} | {_cell(row.get('sgld'))} | {_cell(row['fast'])} | "
              f"{_cell(row['devinterp'])} | {ratio} |")
    if bias:
        print("\nx²y² (λ = 1/2, m = 2): the finite-n bias λ − (m − 1)/log(nβ) + … shrinks with n\n"
              "| γ | n | nβ | λ̂ ± s.e. | exact estimand | λ − 1/log(nβ) |\n|---|---|---|---|---|---|")
        for b in bias:
            print(f"| {b['gamma']:g} | {b['n']:.0e} | {b['n_beta']:.4g} | "
                  f"{b['llc']:.4f} ± {b['stderr']:.4f} | "
                  f"{b['exact_estimand']:.4f} | {b['leading_order']:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
