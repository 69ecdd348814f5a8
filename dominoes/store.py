"""The crash-safe results store of training runs and sweeps: one SQLite file (WAL mode) plus artifacts.

Layout of a store at ``<dir>/runs.sqlite`` (any file name works)::

    runs     one row per run: run_id (= config_hash(config)), kind, config (canonical JSON), seed,
             status ('running' | 'done' | 'failed'), device, code_version, attempts, started_at,
             finished_at (Unix seconds), wall_s, result (JSON), error (traceback text)
    metrics  long format (run_id, step, split, metric, value), primary key (run_id, step, split, metric)
    <dir>/artifacts/<run_id>/   checkpoints and arrays, each written atomically (temporary name + rename)

Why this shape (design brief §3): every finished run and every batch of metrics is one transaction, so
a process killed at any moment leaves the file consistent and loses at most the batch being written;
rewriting a metric row that already exists replaces it instead of duplicating it, so a run resumed from
a checkpoint may log the same steps again. WAL mode lets readers (a results viewer, a test) read while
the driver writes. Only one process should write: in a sweep the driver, never the workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from slt import __version__

STATUSES = ("running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    config       TEXT NOT NULL,
    seed         INTEGER,
    status       TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    device       TEXT NOT NULL DEFAULT '',
    code_version TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 1,
    started_at   REAL NOT NULL,
    finished_at  REAL,
    wall_s       REAL,
    result       TEXT,
    error        TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs (run_id),
    step   INTEGER NOT NULL,
    split  TEXT NOT NULL,
    metric TEXT NOT NULL,
    value  REAL,
    PRIMARY KEY (run_id, step, split, metric)
) WITHOUT ROWID;
"""

# columns of the runs table, in the order runs() shows them
_RUN_COLUMNS = (
    "run_id", "kind", "status", "seed", "device", "code_version", "attempts",
    "started_at", "finished_at", "wall_s", "error",
)


def _plain(value, where: str):
    """``value`` as plain JSON types (numpy scalars/arrays and tuples converted); reject NaN/inf."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"config keys must be strings, got {key!r} at {where or 'top level'}")
            out[key] = _plain(item, f"{where}.{key}" if where else key)
        return out
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise ValueError(f"config value at {where!r} is {value}; NaN and infinity have no stable hash")
        return float(value)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"config value at {where!r} has type {type(value).__name__}; use JSON types")


def canonical_json(config: Mapping) -> str:
    """The canonical JSON text of a configuration: sorted keys, no spaces, floats by ``repr``.

    Two configurations that are equal as JSON values (after numpy scalars and tuples are made plain)
    give the same text in every process and on every platform; ``1`` and ``1.0`` stay different.
    """
    return json.dumps(_plain(config, ""), sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: Mapping) -> str:
    """The first 16 hex digits of the SHA-256 of :func:`canonical_json` — a run's stable identity."""
    return hashlib.sha256(canonical_json(config).encode()).hexdigest()[:16]


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic(path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    A reader sees either the old file or the complete new one, never a partial write, even if the
    process is killed mid-way.
    """
    return _atomic(path, lambda handle: handle.write(data))


def atomic_save_npz(path, **arrays) -> Path:
    """``numpy.savez`` of ``arrays`` to ``path``, atomically (see :func:`atomic_write`)."""
    return _atomic(path, lambda handle: np.savez(handle, **arrays))


class Store:
    """The SQLite store of runs and their metrics (see the module docstring for the layout).

    >>> with Store(tmp / "runs.sqlite") as store:                      # doctest: +SKIP
    ...     rid = store.start_run({"lr": 0.1, "seed": 0})
    ...     store.log_metrics(rid, [(0, "train", "loss", 2.3), (10, "train", "loss", 1.1)])
    ...     store.finish_run(rid, result={"final_loss": 1.1}, wall_s=3.2)
    ...     store.runs()                                                # one row, columns lr, seed, ...
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"store path {str(self.path)!r} is a folder; name a file in it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open every transaction ourselves, so none is left half-open
        self._db = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable in WAL mode against process kills (only an OS crash may lose the last commit)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._transaction():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    # -- plumbing ---------------------------------------------------------------------------------
    def _transaction(self):
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def _require(self, run_id: str) -> None:
        if self._db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
            raise ValueError(f"unknown run {run_id!r} in {self.path}; call start_run first")

    # -- writing ----------------------------------------------------------------------------------
    def start_run(
        self, config: Mapping, *, kind: str = "train", seed: int | None = None, device: str = ""
    ) -> str:
        """Record that the run of ``config`` starts (status 'running'); return its id ``config_hash(config)``.

        Starting a run that exists already (a resume, or a re-run of a failed run) keeps its metrics,
        sets it 'running' again and counts the attempt. ``seed`` defaults to ``config["seed"]``.
        """
        text = canonical_json(config)
        run_id = config_hash(config)
        if seed is None:
            seed = config.get("seed")
        if seed is not None and not isinstance(seed, int | np.integer):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        now = time.time()
        with self._transaction():
            self._db.execute(
                """INSERT INTO runs (run_id, kind, config, seed, status, device, code_version, started_at)
                   VALUES (?, ?, ?, ?, 'running', ?, ?, ?)
                   ON CONFLICT (run_id) DO UPDATE SET
                       status = 'running', kind = excluded.kind, device = excluded.device,
                       code_version = excluded.code_version, attempts = attempts + 1,
                       started_at = excluded.started_at, finished_at = NULL, wall_s = NULL,
                       result = NULL, error = NULL""",
                (run_id, kind, text, None if seed is None else int(seed), device, __version__, now),
            )
        return run_id

    def log_metrics(self, run_id: str, rows: Iterable[tuple[int, str, str, float]]) -> int:
        """Write metric rows ``(step, split, metric, value)`` of a run in one transaction; return how many.

        Idempotent: a row whose (run, step, split, metric) exists already replaces it.
        """
        clean = _metric_rows(run_id, rows)
        self._require(run_id)
        with self._transaction():
            self._db.executemany(_INSERT_METRIC, clean)
        return len(clean)

    def finish_run(
        self,
        run_id: str,
        *,
        status: str = "done",
        result: Mapping | None = None,
        error: str | None = None,
        wall_s: float | None = None,
        device: str | None = None,
        metrics: Iterable[tuple[int, str, str, float]] = (),
    ) -> None:
        """Mark a run 'done' or 'failed', with its result (a JSON-ready dict), error text and wall time.

        ``metrics`` rows (as in :meth:`log_metrics`) are written in the same transaction, so a run that
        returns all its metrics at the end (a sweep worker) is recorded whole or not at all.
        """
        if status not in ("done", "failed"):
            raise ValueError(f"status must be 'done' or 'failed', got {status!r}")
        self._require(run_id)
        text = None if result is None else json.dumps(_plain(result, "result"), sort_keys=True)
        rows = _metric_rows(run_id, metrics)
        with self._transaction():
            self._db.executemany(_INSERT_METRIC, rows)
            self._db.execute(
                """UPDATE runs SET status = ?, result = ?, error = ?, wall_s = ?, finished_at = ?,
                       device = COALESCE(?, device) WHERE run_id = ?""",
                (status, text, error, wall_s, time.time(), device, run_id),
            )

    # -- reading ----------------------------------------------------------------------------------
    def status(self, run_id: str) -> str | None:
        """The status of a run, or None when the store has never seen it."""
        row = self._db.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else row[0]

    def statuses(self) -> dict[str, str]:
        """``{run_id: status}`` for every run in the store."""
        return dict(self._db.execute("SELECT run_id, status FROM runs"))

    def config(self, run_id: str) -> dict:
        """The configuration a run was started with."""
        row = self._db.execute("SELECT config FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise ValueError(f"unknown run {run_id!r} in {self.path}")
        return json.loads(row[0])

    def result(self, run_id: str) -> dict | None:
        """The result dict a finished run recorded (None if it recorded none)."""
        self._require(run_id)
        row = self._db.execute("SELECT result FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row[0] is None else json.loads(row[0])

    def runs(self):
        """All runs as a pandas DataFrame, one row each.

        Columns: run_id, kind, status, seed, device, code_version, attempts, started_at, finished_at
        (Unix seconds), wall_s, error; then the configuration flattened with dotted names
        (``{"mixture": {"p_mnist": 0.5}}`` gives a column ``mixture.p_mnist``; a config key that clashes
        with a run column gets the prefix ``config.``); then the result flattened under ``result.``.
        """
        import pandas as pd

        rows = self._db.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)}, config, result FROM runs ORDER BY started_at, run_id"
        ).fetchall()
        records = []
        for row in rows:
            record = dict(zip(_RUN_COLUMNS, row[: len(_RUN_COLUMNS)], strict=True))
            for key, value in _flatten(json.loads(row[-2])).items():
                record[f"config.{key}" if key in _RUN_COLUMNS else key] = value
            if row[-1] is not None:
                for key, value in _flatten(json.loads(row[-1])).items():
                    record[f"result.{key}"] = value
            records.append(record)
        frame = pd.DataFrame.from_records(records)
        if frame.empty:
            frame = pd.DataFrame(columns=list(_RUN_COLUMNS))
        return frame

    def metrics(self, run_id: str | None = None):
        """Metric rows as a long pandas DataFrame (run_id, step, split, metric, value), sorted."""
        import pandas as pd

        query = "SELECT run_id, step, split, metric, value FROM metrics"
        params: tuple = ()
        if run_id is not None:
            query += " WHERE run_id = ?"
            params = (run_id,)
        rows = self._db.execute(query + " ORDER BY run_id, step, split, metric", params).fetchall()
        return pd.DataFrame(rows, columns=["run_id", "step", "split", "metric", "value"])

    def artifact_dir(self, run_id: str) -> Path:
        """``<store folder>/artifacts/<run_id>/`` (created), for checkpoints and arrays of a run."""
        if not run_id or any(c in run_id for c in "/\\") or run_id in (".", ".."):
            raise ValueError(f"bad run id {run_id!r}")
        folder = self.path.parent / "artifacts" / run_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder


_INSERT_METRIC = "INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?)"


def _metric_rows(run_id: str, rows: Iterable) -> list[tuple]:
    clean = []
    for row in rows:
        try:
            step, split, metric, value = row
        except (TypeError, ValueError):
            raise ValueError(f"a metric row must be (step, split, metric, value), got {row!r}") from None
        value = None if value is None else float(value)
        clean.append((run_id, int(step), str(split), str(metric), value))
    return clean


def _flatten(value: Mapping, prefix: str = "") -> dict:
    out = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            out.update(_flatten(item, name + "."))
        elif isinstance(item, list):
            out[name] = json.dumps(item)  # lists stay one cell, so every row has the same columns
        else:
            out[name] = item
    return out


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self):
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb):
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")
