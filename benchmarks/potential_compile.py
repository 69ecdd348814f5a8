"""Compile time of a potential's Numba value/gradient: first use, and a second process using the disk cache.

Targets (issue 3): first use ≤ 5 s, cached (second process) ≤ 0.5 s.

Each potential is measured in fresh subprocesses that share a temporary ``SLT_CACHE_DIR`` and
``NUMBA_CACHE_DIR``:

1. **first use** — empty caches: parse, generate the source, write it, import it, let Numba compile
   ``value`` and ``grad`` and call each once;
2. **cached** — a second process doing the same; the module is imported from disk and Numba loads
   machine code from its cache.

Times are measured inside the subprocess from ``Potential(...)`` to the end of the first ``grad``
call, after ``import slt, numba`` (``import_s``) and after Numba's one-off per-process
initialisation (``numba_init_s``, the first call of a trivial jitted function; every process that
runs a kernel pays it, whatever the potential). ``cached_cold_process_s`` adds that initialisation
back. The reference in the same run is one ``value`` call after compilation (``call_us``).

    python benchmarks/potential_compile.py [--json PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

CASES = {
    "line_dot (d=2)": ("(x - 1)**2*(x**2 + y**2)**4", None),
    "squared_cusp (d=2)": ("(x**2 - y**3)**2", None),
    "transcendental (d=3)": ("exp(-x)*tanh(y*z)**2 + log(1 + x**2)*sin(z) + sqrt(1 + Abs(y))", None),
    "polynomial (d=6)": ("(w1*w2 - w3)**2 + (w4**2 - w5*w6)**2*(1 + w1**2) + w2**4*w6**2", None),
    "rrr_5_5_3_0 (d=30)": ("library:rrr_5_5_3_0", None),
}


def worker(formula: str) -> dict:
    t0 = time.perf_counter()
    import numba
    import numpy as np

    import slt
    from slt import Potential

    t_import = time.perf_counter() - t0
    # Numba's first dispatch in a process initialises its compiler target, a fixed per-process cost
    # that any use of the kernels pays as well: measured separately on a trivial function.
    t0 = time.perf_counter()
    numba.njit(lambda v: v + 1.0)(1.0)
    t_numba_init = time.perf_counter() - t0
    if formula.startswith("library:"):
        entry = slt.library.get(formula.split(":", 1)[1])
        formula, names = str(entry.potential.expr), list(entry.potential.names)
    else:
        names = None
    t1 = time.perf_counter()
    K = Potential(formula, names)
    c = K.compiled
    t_codegen = time.perf_counter() - t1
    w = np.full(K.dim, 0.3)
    out = np.empty(K.dim)
    c.value(w)
    c.grad(w, out)
    total = time.perf_counter() - t1
    reps = 20000
    t2 = time.perf_counter()
    for _ in range(reps):
        c.value(w)
    call_us = (time.perf_counter() - t2) / reps * 1e6
    hits = sum(c.value.stats.cache_hits.values()) + sum(c.grad.stats.cache_hits.values())
    return {
        "import_s": t_import,
        "numba_init_s": t_numba_init,
        "codegen_import_s": t_codegen,
        "total_s": total,
        "call_us": call_us,
        "numba_cache_hits": hits,
        "dim": K.dim,
    }


def _spawn(formula: str, env: dict) -> dict:
    run = subprocess.run(
        [sys.executable, __file__, "--worker", formula], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def measure(repeat: int) -> list[dict]:
    rows = []
    for name, (formula, _) in CASES.items():
        first, cached = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                env = {
                    **os.environ,
                    "SLT_CACHE_DIR": os.path.join(tmp, "slt"),
                    "NUMBA_CACHE_DIR": os.path.join(tmp, "numba"),
                }
                first.append(_spawn(formula, env))
                cached.append(_spawn(formula, env))
        best = lambda runs, key: min(r[key] for r in runs)
        rows.append(
            {
                "potential": name,
                "dim": first[0]["dim"],
                "first_use_s": best(first, "total_s"),
                "first_codegen_s": best(first, "codegen_import_s"),
                "cached_s": best(cached, "total_s"),
                "cached_numba_hits": cached[0]["numba_cache_hits"],
                "import_s": best(cached, "import_s"),
                "numba_init_s": best(cached, "numba_init_s"),
                "cached_cold_process_s": best(cached, "total_s") + best(cached, "numba_init_s"),
                "call_us": best(cached, "call_us"),
                "first_use_ok": best(first, "total_s") <= 5.0,
                "cached_ok": best(cached, "total_s") <= 0.5,
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| potential | d | first use (s) | of which codegen (s) | cached (s) | Numba cache hits | "
        "cached + Numba init (s) | import slt+numba (s) | value call (µs) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['potential']} | {r['dim']} | {r['first_use_s']:.2f}{'' if r['first_use_ok'] else ' ✗'} "
            f"| {r['first_codegen_s']:.2f} | {r['cached_s']:.3f}{'' if r['cached_ok'] else ' ✗'} "
            f"| {r['cached_numba_hits']}/2 | {r['cached_cold_process_s']:.2f} | {r['import_s']:.2f} "
            f"| {r['call_us']:.2f} |"
        )
    lines.append("\nTargets: first use ≤ 5 s, cached ≤ 0.5 s (✗ marks a miss). Best of the repeats.")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument(
        "--repeat", type=int, default=2, help="fresh-cache repeats per potential (best is kept)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    rows = measure(args.repeat)
    print(table(rows))
    if args.json:
        import numba
        import numpy
        import sympy

        meta = {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "sympy": sympy.__version__,
            "numpy": numpy.__version__,
            "machine": platform.machine(),
        }
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "results": rows}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
