"""Time of the exact learning-coefficient engine per reference case, and its correctness.

Target (issue 4): ≤ 2 s per case of ``../shared/cases/rlct.json`` on one core.

For every case (the reference file, then the library entries not already covered, then a few
harder ones) the script times ``slt.rlct`` in this process after one warm-up call that pays the
imports (sympy's polynomial module, scipy's Qhull): ``first_s`` is the first call for that case,
``best_s`` the best of ``--repeat`` further calls. The reference measured in the same run is the
time sympy takes to expand K into a polynomial (``expand_s``), the least any symbolic method must
spend reading K; ``ratio`` = best_s / expand_s. ``ok`` says whether λ, m and exactness match the
stated values (cases without stated values: only timed).

    python benchmarks/rlct.py [--json PATH] [--repeat 3] [--cases ../shared/cases/rlct.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

DEFAULT_CASES = Path(__file__).resolve().parents[2] / "shared" / "cases" / "rlct.json"
HARDER = [
    ("degenerate_3d (bound only)", "(x + y + z)**2", None, None, "3/2", None, False),
    ("separable_3d", "(x - y)**2 + z**2", None, None, "1", 1, True),
    ("cusp_plus_x8", "(y**2 - x**3)**2 + x**8", None, None, "5/12", 1, True),
    ("four_lines", "(x*y*(x - y)*(x + y))**2", None, None, "1/4", 1, True),
    ("tanh_taylor", "tanh(x)**2 + tanh(y)**4", None, None, "3/4", 1, True),
    ("irrational_centre", "(x**2 - 2*y**2)**2 + y**6", None, None, "1/2", 2, True),
]


def load_cases(path: Path):
    data = json.loads(path.read_text())
    cases = [
        (c["name"], c["K"], c.get("at"), c.get("prior_exponents"), c["lambda"], c["m"], True)
        for c in data["cases"]
    ]
    rrr = [
        (
            f"rrr_{c['M']}_{c['N']}_{c['H']}_{c['r']}",
            ("rrr", c["M"], c["N"], c["H"], c["r"]),
            None,
            None,
            c["lambda"],
            c["m"],
            True,
        )
        for c in data["reduced_rank_regression"]["cases"]
    ]
    return cases + rrr


def run_case(rlct, reduced_rank, K, at, prior):
    if isinstance(K, tuple):
        return reduced_rank(*K[1:])
    taylor = 4 if isinstance(K, str) and "tanh" in K else None
    return rlct(K, at=at, prior_exponents=prior, taylor_order=taylor)


def expand_time(K) -> float:
    import sympy

    from slt.parsing import parse_expression

    if isinstance(K, tuple):
        return float("nan")
    start = time.perf_counter()
    expr = parse_expression(K)
    if expr.is_polynomial(*expr.free_symbols):
        sympy.Poly(sympy.expand(expr), *sorted(expr.free_symbols, key=str))
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the measurements here")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    import numpy
    import scipy
    import sympy

    import slt
    from slt.rlct import reduced_rank, rlct

    rlct("x**2 + y**4")  # warm-up: imports of sympy.polys, scipy.spatial
    warmup_s = time.perf_counter() - start

    cases = load_cases(args.cases) if args.cases.exists() else []
    names = {c[0] for c in cases}
    for name in slt.library.names():
        entry = slt.library.get(name)
        if name not in names and not name.startswith("rrr_"):
            cases.append((f"library:{name}", entry, None, None, str(entry.lam), entry.m, True))
    cases += HARDER

    rows = []
    for name, K, at, prior, lam, m, exact in cases:
        t0 = time.perf_counter()
        result = run_case(rlct, reduced_rank, K, at, prior)
        first = time.perf_counter() - t0
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run_case(rlct, reduced_rank, K, at, prior)
            best = min(best, time.perf_counter() - t0)
        ref = expand_time(K) if isinstance(K, str | tuple) else float("nan")
        ok = result.lam == Fraction(lam) and result.exact == exact and (m is None or result.m == m)
        rows.append(
            {
                "case": name,
                "lambda": str(result.lam),
                "m": result.m,
                "exact": result.exact,
                "method": result.method,
                "ok": ok,
                "first_s": first,
                "best_s": best,
                "expand_s": ref,
                "ratio": best / ref if ref == ref and ref > 0 else None,
                "within_2s": first <= 2.0,
            }
        )

    print(f"warm-up (imports + first call): {warmup_s:.2f} s\n")
    print("| case | lambda | m | exact | method | ok | first (s) | best (s) | expand K (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.0f}"
        expand = "" if r["expand_s"] != r["expand_s"] else f"{r['expand_s']:.4f}"
        print(
            f"| {r['case']} | {r['lambda']} | {r['m']} | {r['exact']} | {r['method']} | {r['ok']} | "
            f"{r['first_s']:.3f} | {r['best_s']:.3f} | {expand} | {ratio} |"
        )
    slowest = max(rows, key=lambda r: r["first_s"])
    print(
        f"\nall correct: {all(r['ok'] for r in rows)}; slowest first call: {slowest['case']} "
        f"{slowest['first_s']:.3f} s (target <= 2 s)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "cpu_count": os.cpu_count(),
            "threads": 1,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "sympy": sympy.__version__,
            "scipy": scipy.__version__,
            "numpy": numpy.__version__,
            "warmup_s": warmup_s,
        }
        args.json.write_text(json.dumps({"meta": meta, "cases": rows}, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
