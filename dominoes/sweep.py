"""Sweeps: a declarative spec (TOML or a dict) expanded into run configurations, and the driver that
runs them through an executor into the store, resumably.

A spec::

    job = "train"                       # which job runs each configuration (see dominoes.jobs.JOBS)
    seeds = [0, 1, 2]                   # or seeds = 3, meaning 0, 1, 2
    [base]                              # the configuration every run starts from
    mixture.p_both = 0.0
    train.steps = 300
    [grid]                              # cartesian product over these axes
    "train.lr" = [0.01, 0.1]
    [zip]                               # these axes advance together (equal lengths)
    "mixture.p_mnist" = {logspace = [0.1, 0.9, 5]}
    "mixture.p_cifar" = {logspace = [0.9, 0.1, 5]}
    [[cases]]                           # optional explicit list of overrides, also crossed with the rest
    "train.optimizer" = "sgd"

Axis names are dotted paths into the configuration (``"mixture.p_mnist"`` sets
``config["mixture"]["p_mnist"]``). Value helpers: ``{logspace = [a, b, k]}`` — k values from a to b
equally spaced in log (``numpy.geomspace``); ``{linspace = [a, b, k]}``; both rounded to 12
significant digits so the configurations (and their hashes) read cleanly. Every run configuration is
``base`` + one grid point + one zip row + one case, with ``"job"`` and ``"seed"`` set; its identity is
:func:`dominoes.store.config_hash`, so re-running a sweep skips what is done.
"""

from __future__ import annotations

import copy
import itertools
import json
import sys
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dominoes.store import Store, atomic_write, canonical_json, config_hash

STORE_NAME = "runs.sqlite"
SPEC_NAME = "sweep.json"
_SPEC_KEYS = {"job", "seeds", "base", "grid", "zip", "cases", "name", "description"}
_HELPERS = ("logspace", "linspace")


# -- the spec --------------------------------------------------------------------------------------
def _helper_values(name: str, table: Mapping) -> list:
    (kind, args), = table.items()
    if not (isinstance(args, list) and len(args) == 3 and isinstance(args[2], int) and args[2] >= 1):
        raise ValueError(f"axis {name!r}: {kind} needs [start, stop, integer count], got {args!r}")
    start, stop, count = float(args[0]), float(args[1]), args[2]
    if kind == "logspace":
        if start <= 0 or stop <= 0:
            raise ValueError(f"axis {name!r}: logspace needs positive start and stop, got {args!r}")
        values = np.geomspace(start, stop, count)
    else:
        values = np.linspace(start, stop, count)
    return [float(f"{v:.12g}") for v in values]


def _is_helper(value) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _HELPERS


def _axes(section: str, table, prefix: str = "") -> dict[str, list]:
    """Flatten a [grid] / [zip] table into {dotted name: list of values} (TOML nests dotted keys)."""
    if not isinstance(table, Mapping):
        raise ValueError(f"[{section}] must be a table of axis = [values], got {table!r}")
    axes: dict[str, list] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if _is_helper(value):
            axes[name] = _helper_values(name, value)
        elif isinstance(value, Mapping):
            axes.update(_axes(section, value, name + "."))
        elif isinstance(value, list | tuple):
            if not value:
                raise ValueError(f"[{section}] axis {name!r} has no values")
            axes[name] = list(value)
        else:
            raise ValueError(f"[{section}] axis {name!r} must be a list of values or a helper, got {value!r}")
    for name, values in axes.items():
        texts = [canonical_json({"v": v}) for v in values]
        if len(set(texts)) != len(texts):
            raise ValueError(f"[{section}] axis {name!r} repeats a value: {values!r}")
    return axes


def set_path(config: dict, dotted: str, value) -> None:
    """Set ``config[a][b][c] = value`` for ``dotted = "a.b.c"``, creating tables on the way."""
    *parents, last = dotted.split(".")
    node = config
    for i, part in enumerate(parents):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parents[: i + 1])
            raise ValueError(f"cannot set {dotted!r}: {where!r} is {child!r}, not a table")
        node = child
    node[last] = value


def _flat_keys(table: Mapping, prefix: str = "") -> list[str]:
    keys = []
    for key, value in table.items():
        if isinstance(value, Mapping) and value:
            keys.extend(_flat_keys(value, f"{prefix}{key}."))
        else:
            keys.append(f"{prefix}{key}")
    return keys


@dataclass(frozen=True)
class Sweep:
    """A sweep spec (see the module docstring). Build with :meth:`from_toml` or :meth:`from_dict`."""

    job: str
    base: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    zip: dict = field(default_factory=dict)
    cases: tuple = ()
    seeds: tuple = (0,)
    name: str = ""

    @classmethod
    def from_dict(cls, spec: Mapping) -> Sweep:
        """Validate a spec given as a dict (the parsed TOML) and build the sweep."""
        from dominoes.jobs import JOBS

        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ValueError(f"unknown sweep keys {sorted(unknown)}; allowed: {sorted(_SPEC_KEYS)}")
        job = spec.get("job")
        if job not in JOBS:
            raise ValueError(f"job must be one of {sorted(JOBS)}, got {job!r}")
        if not isinstance(spec.get("base", {}), Mapping):
            raise ValueError(f"[base] must be a table, got {spec['base']!r}")
        base = copy.deepcopy(dict(spec.get("base", {})))
        grid = _axes("grid", spec.get("grid", {}))
        zipped = _axes("zip", spec.get("zip", {}))
        lengths = {name: len(values) for name, values in zipped.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"[zip] axes must have equal lengths, got {lengths}")
        cases = []
        for i, case in enumerate(spec.get("cases", [])):
            if not isinstance(case, Mapping) or not case:
                raise ValueError(f"cases[{i}] must be a non-empty table of overrides, got {case!r}")
            cases.append({key: _case_value(case, key) for key in _flat_keys(case)})
        seeds = spec.get("seeds", [base.get("seed", 0)])
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ValueError(f"seeds = {seeds}: give a positive count or a list of seeds")
            seeds = list(range(seeds))
        if not isinstance(seeds, list | tuple) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds
        ):
            raise ValueError(f"seeds must be a non-empty list of non-negative integers, got {seeds!r}")
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds repeat a value: {list(seeds)}")
        reserved = {"job", "seed"} & {*grid, *zipped, *(k for case in cases for k in case)}
        if reserved:
            raise ValueError(f"{sorted(reserved)} cannot be an axis; use job = ... and seeds = [...]")
        case_keys = sorted({k for case in cases for k in case})
        axes = [*grid, *zipped]
        for a, b in [*itertools.combinations(axes, 2), *itertools.product(axes, case_keys)]:
            if a == b or a.startswith(b + ".") or b.startswith(a + "."):
                raise ValueError(f"axes {a!r} and {b!r} overlap")
        return cls(job=job, base=base, grid=grid, zip=zipped, cases=tuple(cases), seeds=tuple(seeds),
                   name=str(spec.get("name", "")))

    @classmethod
    def from_toml(cls, path) -> Sweep:
        """Read a TOML spec file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"sweep spec {str(path)!r} does not exist")
        try:
            spec = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from None
        spec.setdefault("name", path.stem)
        return cls.from_dict(spec)

    @property
    def axes(self) -> list[str]:
        """The swept parameter names (dotted), in spec order; ``seed`` last when there are several seeds."""
        names = [*self.grid, *self.zip, *dict.fromkeys(k for case in self.cases for k in case)]
        return names + (["seed"] if len(self.seeds) > 1 else [])

    def expand(self) -> list[dict]:
        """Every run configuration: grid (cartesian, in spec order) × zip rows × cases × seeds."""
        combos = itertools.product(*self.grid.values())
        grid_points = [dict(zip(self.grid, combo, strict=True)) for combo in combos]
        n_rows = len(next(iter(self.zip.values()))) if self.zip else 1
        zip_rows = [{name: values[i] for name, values in self.zip.items()} for i in range(n_rows)]
        configs = []
        cases = self.cases or ({},)
        for point, row, case, seed in itertools.product(grid_points, zip_rows, cases, self.seeds):
            config = copy.deepcopy(self.base)
            for dotted, value in {**point, **row, **case}.items():
                set_path(config, dotted, copy.deepcopy(value))
            config["job"] = self.job
            config["seed"] = seed
            configs.append(config)
        seen: dict[str, int] = {}
        for i, config in enumerate(configs):
            first = seen.setdefault(config_hash(config), i)
            if first != i:
                raise ValueError(f"runs {first} and {i} of the sweep have the same configuration {config}; "
                                 "is a case repeated?")
        return configs

    def to_dict(self) -> dict:
        return {"name": self.name, "job": self.job, "seeds": list(self.seeds), "base": self.base,
                "grid": self.grid, "zip": self.zip, "cases": list(self.cases), "axes": self.axes}


def _case_value(case: Mapping, dotted: str):
    node = case
    for part in dotted.split("."):
        node = node[part]
    return node


# -- the driver ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepReport:
    """What a call of :func:`run_sweep` did: counts over the sweep's runs and the wall time (s)."""

    out_dir: str
    total: int
    skipped: int
    done: int
    failed: int
    wall_s: float
    executor: str
    failed_runs: dict = field(default_factory=dict)  # run_id -> last line of the error

    def to_dict(self) -> dict:
        return {"out_dir": self.out_dir, "total": self.total, "skipped": self.skipped, "done": self.done,
                "failed": self.failed, "wall_s": self.wall_s, "executor": self.executor,
                "failed_runs": dict(self.failed_runs)}


def make_tasks(configs: list[dict], workers: int, ensemble: bool = True) -> list[list[dict]]:
    """Cut configurations into tasks: ensembles of the configurations that differ only in seed
    (:func:`dominoes.jobs.group_key`) when ``ensemble`` and when that still leaves at least ``workers``
    tasks (so grouping never idles a worker), else one configuration per task."""
    from dominoes.jobs import group_key

    singles = [[c] for c in configs]
    if not ensemble:
        return singles
    groups: dict = {}
    for config in configs:
        key = group_key(config)
        groups.setdefault(key if key is not None else config_hash(config), []).append(config)
    tasks = list(groups.values())
    return tasks if len(tasks) >= workers and len(tasks) < len(configs) else singles


def run_sweep(
    sweep: Sweep,
    out_dir,
    executor=None,
    *,
    job: Callable[[dict], dict] | None = None,
    ensemble: bool = True,
    progress: bool | None = None,
) -> SweepReport:
    """Run every configuration of ``sweep`` not yet 'done' in ``out_dir/runs.sqlite``.

    Runs go to ``executor`` (default: :class:`dominoes.executors.LocalExecutor`); each worker returns
    its outcome and only this process writes the store, one transaction per finished run. A run that
    raises is recorded 'failed' with its traceback and the sweep goes on; a later call re-runs failed
    and unfinished runs and skips finished ones. Seeds of one training configuration run as one
    ensemble where that keeps every worker busy (``ensemble=False`` turns it off; see
    :func:`make_tasks`). ``job`` overrides the job function (default :func:`dominoes.jobs.run_job`,
    which dispatches on ``config["job"]``); a custom job is run one configuration at a time.
    """
    from tqdm.auto import tqdm

    from dominoes.executors import LocalExecutor, execute, lost_outcomes
    from dominoes.jobs import run_group, run_job

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / SPEC_NAME, json.dumps(sweep.to_dict(), indent=2, sort_keys=True).encode())
    configs = sweep.expand()
    start = time.perf_counter()
    owned = executor is None
    executor = executor or LocalExecutor()
    done = failed = 0
    failures: dict[str, str] = {}
    try:
        with Store(out / STORE_NAME) as store:
            statuses = store.statuses()
            pending = [c for c in configs if statuses.get(config_hash(c)) != "done"]
            tasks = make_tasks(pending, executor.workers, ensemble=ensemble and job is None)
            for config in pending:
                store.start_run(config, kind=sweep.job)
            disable = (not sys.stderr.isatty()) if progress is None else not progress
            bar = tqdm(total=len(pending), unit="run", desc=sweep.name or "sweep", file=sys.stderr,
                       disable=disable, dynamic_ncols=True)
            with bar:
                results = executor.map(execute, tasks, job=job or run_job, group_job=run_group)
                for task, outcomes, lost in results:
                    for outcome in outcomes if lost is None else lost_outcomes(task, lost):
                        store.finish_run(
                            outcome["run_id"], status=outcome["status"], result=outcome["result"],
                            error=outcome["error"], wall_s=outcome["wall_s"], device=outcome["device"],
                            metrics=outcome["metrics"],
                        )
                        if outcome["status"] == "done":
                            done += 1
                        else:
                            failed += 1
                            lines = (outcome["error"] or "failed").strip().splitlines()
                            failures[outcome["run_id"]] = lines[-1] if lines else "failed"
                    remaining = len(pending) - done - failed
                    bar.set_postfix(done=done, failed=failed, running=min(remaining, executor.workers))
                    bar.update(len(task))
    finally:
        if owned:
            executor.close()
    return SweepReport(
        out_dir=str(out), total=len(configs), skipped=len(configs) - len(pending), done=done, failed=failed,
        wall_s=time.perf_counter() - start, executor=executor.describe(), failed_runs=failures,
    )


# -- results ---------------------------------------------------------------------------------------
def load_spec(out_dir) -> dict:
    """The spec (as :meth:`Sweep.to_dict`) last run into ``out_dir``."""
    path = Path(out_dir) / SPEC_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{str(out_dir)!r} holds no sweep ({SPEC_NAME}); run `dominoes sweep` first")
    return json.loads(path.read_text())


def results(out_dir, *, status: str | Sequence[str] | None = None):
    """The sweep in ``out_dir`` as a tidy DataFrame: one row per run with the run columns (run_id,
    status, wall_s, ...), the configuration flattened (dotted names) and the results flattened under
    ``result.`` (for a train job: ``result.final.<split>.accuracy`` / ``.loss``). ``status`` keeps only
    runs with that status (or those statuses)."""
    path = Path(out_dir) / STORE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{str(out_dir)!r} holds no sweep store ({STORE_NAME})")
    with Store(path) as store:
        frame = store.runs()
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        frame = frame[frame["status"].isin(wanted)].reset_index(drop=True)
    return frame


def first_step_reaching(out_dir, split: str, target: float, metric: str = "accuracy", *, below: bool = False):
    """For each run, the first recorded step at which ``metric`` on ``split`` is ≥ ``target`` (≤ with
    ``below=True``, for losses); NaN if never. This is the "time to learn a pattern" read off a learning
    curve, a quantity to plot against the swept parameters. Returns a float Series indexed by run_id."""
    import pandas as pd

    with Store(Path(out_dir) / STORE_NAME) as store:
        rows = store.metrics()
        run_ids = store.runs()["run_id"]
    rows = rows[(rows["split"] == split) & (rows["metric"] == metric)]
    if rows.empty and len(run_ids):
        raise ValueError(f"no metric {metric!r} on split {split!r} in {out_dir}")
    hit = rows["value"] <= target if below else rows["value"] >= target
    reached = rows[hit].groupby("run_id")["step"].min()
    index = pd.Index(run_ids, name="run_id")
    return pd.Series(reached, index=index, dtype=float, name=f"step_{split}_{metric}_{target}")
