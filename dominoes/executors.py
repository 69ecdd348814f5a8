"""Where the runs of a sweep execute: a local process pool (the default) or a Dask cluster.

Both executors expose the same small interface, generic over the function they run::

    executor.map(fn, items, **kwargs)   -> iterator of (item, fn(item, **kwargs), None) in completion
                                           order, or (item, None, reason) for an item whose worker was lost
    executor.workers                    -> how many items execute at once
    executor.describe() / executor.close()   (also usable as a context manager)

For sweeps, an item is a *task*: one configuration, or several that differ only in their seed and
train as one ensemble. :func:`execute` runs a task in a worker and turns whatever happens into one
*outcome* per configuration (``run_id``, ``status`` 'done' | 'failed', ``result``, ``metrics``,
``error`` traceback, ``wall_s``, ``device``, ``worker``). A job that raises becomes 'failed' outcomes,
never a crashed pool. A worker process that dies (killed, out of memory) is the executor's business:
the local pool restarts and re-submits the tasks it lost (``retries`` times), Dask reschedules them on
the surviving workers. Workers never touch the store: the driver (:func:`dominoes.sweep.run_sweep`)
writes it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from dominoes.store import canonical_json, config_hash

# thread-count variables read by BLAS, OpenMP (torch) and Numba when a worker process starts
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def available_cpus() -> int:
    """CPU cores this process may use (its affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _outcome(config: dict, returned, wall_s: float) -> dict:
    """The outcome of a run from what its job returned (checked: a bad return fails its own run)."""
    outcome = {"run_id": config_hash(config), "status": "done", "result": None, "metrics": [], "error": None,
               "device": None, "worker": f"{socket.gethostname()}:{os.getpid()}", "wall_s": wall_s}
    try:
        if not isinstance(returned, dict) or not isinstance(returned.get("result", {}), dict):
            raise TypeError(f"a job must return a dict with a 'result' dict, got {type(returned).__name__}")
        result = returned.get("result", {})
        canonical_json(result)  # JSON-ready, or this run fails here rather than the driver later
        rows = returned.get("metrics", ())
        outcome.update(result=result, device=returned.get("device"),
                       metrics=[(int(s), str(sp), str(m), float(v)) for s, sp, m, v in rows])
    except Exception:
        outcome.update(status="failed", result=None, metrics=[], error=traceback.format_exc())
    return outcome


def _failed(config: dict, error: str, wall_s: float | None, worker: str | None) -> dict:
    return {"run_id": config_hash(config), "status": "failed", "result": None, "metrics": [], "error": error,
            "device": None, "worker": worker, "wall_s": wall_s}


def execute(task: list[dict], job: Callable[[dict], dict],
            group_job: Callable[[list[dict]], list[dict]] | None = None) -> list[dict]:
    """Run one task in a worker and return one outcome per configuration, never raising.

    A task of one configuration runs ``job(config)``, which returns ``{"result": dict, "metrics":
    [(step, split, metric, value), ...], "device": str}`` (metrics and device optional). A task of
    several configurations (an ensemble over seeds) runs ``group_job(configs)``, which returns one such
    dict per configuration; if it raises, every configuration of the task fails with its traceback.
    """
    start = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        if len(task) == 1:
            returned = [job(task[0])]
        else:
            if group_job is None:
                raise ValueError(f"a task of {len(task)} configurations needs a group job")
            returned = group_job(task)
            if len(returned) != len(task):
                raise ValueError(f"the group job returned {len(returned)} results for {len(task)} runs")
    except Exception:
        error = traceback.format_exc()
        return [_failed(config, error, time.perf_counter() - start, worker) for config in task]
    wall_s = time.perf_counter() - start
    return [_outcome(config, value, wall_s) for config, value in zip(task, returned, strict=True)]


def lost_outcomes(task: list[dict], reason: str) -> list[dict]:
    """The outcomes of a task whose worker never reported back."""
    error = f"the worker running this configuration was lost: {reason}"
    return [_failed(config, error, None, None) for config in task]


@contextlib.contextmanager
def _thread_limits(threads: int):
    """Set the thread-count variables while worker processes are spawned (they inherit them), so
    that W workers × T threads never oversubscribe the cores. BLAS reads them when it loads, which
    is before any initializer of ours could run in the child."""
    saved = {name: os.environ.get(name) for name in _THREAD_VARIABLES}
    os.environ.update({name: str(threads) for name in _THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class LocalExecutor:
    """A pool of ``max_workers`` processes on this machine (default: one per available core).

    Processes are started with the 'spawn' method (safe with torch and threads); each gets
    ``cores // workers`` threads for torch / BLAS / Numba. When a worker process dies, the pool is
    rebuilt and the runs that had not reported are submitted again (see :meth:`map`); a run that
    kills its worker more than ``retries`` times is given up as lost.
    """

    def __init__(self, max_workers: int | None = None, retries: int = 2):
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be ≥ 1, got {max_workers}")
        if retries < 0:
            raise ValueError(f"retries must be ≥ 0, got {retries}")
        self.workers = max_workers or available_cpus()
        self.retries = retries

    def describe(self) -> str:
        return f"local process pool ({self.workers} workers)"

    def map(self, fn: Callable, items: Iterable, **kwargs) -> Iterator[tuple]:
        """Yield ``(item, fn(item, **kwargs), None)`` per item in completion order; ``(item, None,
        reason)`` for an item whose worker died more than ``retries`` times (or whose ``fn`` raised).

        A dying worker breaks the whole pool, so every item in flight is a suspect. Suspects are then
        re-run alone, one per pool: only a death with a single item in flight counts against that
        item, and a configuration that kills its worker cannot use up the retries of its neighbours.
        """
        pending = dict(enumerate(items))
        queue, alone = list(pending), []
        attempts = dict.fromkeys(pending, 0)
        while queue or alone:
            if alone:
                keys, workers = [alone.pop(0)], 1
            else:
                keys, queue, workers = queue, [], min(self.workers, len(queue))
            suspects, unstarted = yield from self._run_pool(fn, keys, pending, workers, kwargs)
            queue = unstarted + queue
            if len(suspects) > 1:
                alone.extend(suspects)
            for key in suspects if len(suspects) == 1 else ():
                attempts[key] += 1
                if attempts[key] > self.retries:
                    yield pending.pop(key), None, f"its worker process died {attempts[key]} times"
                else:
                    alone.append(key)

    def _run_pool(self, fn, keys: list, pending: dict, workers: int, kwargs: dict):
        """Run ``keys`` on a fresh pool, at most ``workers`` in flight; yield results; return the keys
        in flight when the pool broke (the suspects) and those never started."""
        queue = list(keys)
        threads = max(1, available_cpus() // workers)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        in_flight: dict = {}
        suspects: list = []
        finished = False
        try:
            while (queue or in_flight) and not suspects:
                with _thread_limits(threads):
                    while queue and len(in_flight) < workers:
                        key = queue.pop(0)
                        in_flight[pool.submit(fn, pending[key], **kwargs)] = key
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    done, _ = wait(in_flight)  # the pool is dead: every future ends now
                for future in done:
                    key = in_flight.pop(future)
                    error = future.exception()
                    if isinstance(error, BrokenProcessPool):
                        suspects.append(key)
                    elif error is not None:  # fn itself raised (execute never does)
                        yield pending.pop(key), None, f"{type(error).__name__}: {error}"
                    else:
                        yield pending.pop(key), future.result(), None
            finished = True
        finally:
            # after an interrupt, do not wait for the runs in flight: their results would be dropped
            pool.shutdown(wait=finished, cancel_futures=True)
        return suspects, queue

    def close(self) -> None:
        """Nothing to release: each :meth:`map` call owns its pool."""

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DaskExecutor:
    """Runs on a Dask cluster: ``address="local"`` starts a ``LocalCluster`` of ``max_workers``
    single-threaded worker processes on 127.0.0.1; ``"tcp://host:8786"`` connects to a running
    scheduler; a ``distributed.Client`` is used as given. Tasks that raise are retried ``retries``
    times; tasks of a lost worker are rescheduled by the scheduler
    (``distributed.scheduler.allowed-failures`` times before it gives up with ``KilledWorker``,
    which becomes a 'failed' outcome).
    """

    def __init__(self, address="local", max_workers: int | None = None, retries: int = 1):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("the Dask executor needs dask.distributed: pip install 'slt-toolkit[dask]'") \
                from None
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be ≥ 1, got {max_workers}")
        self.retries = retries
        self._cluster = None
        self._owns_client = True
        if isinstance(address, Client):
            self.client, self._owns_client = address, False
            self._where = f"dask {address.scheduler.address}"
        elif address == "local":
            n = max_workers or available_cpus()
            # everything on the loopback interface, HTTP server on a free port (8787 may be taken)
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                         dashboard_address="127.0.0.1:0")
            self.client = Client(self._cluster)
            self._where = f"dask LocalCluster ({n} workers)"
        elif isinstance(address, str) and "://" in address:
            if max_workers is not None:
                raise ValueError("--max-workers sizes a local pool or LocalCluster; a running scheduler "
                                 "has the workers it has")
            try:
                self.client = Client(address, timeout="20s")
            except OSError as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
            self._where = f"dask {address}"
        else:
            raise ValueError(f"--dask must be 'local' or an address like tcp://host:8786, got {address!r}")

    @property
    def workers(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        return self._where

    def map(self, fn: Callable, items: Iterable, **kwargs) -> Iterator[tuple]:
        """Yield ``(item, fn(item, **kwargs), None)`` per item in completion order; ``(item, None,
        reason)`` for an item the cluster gave up on (``KilledWorker``, a lost connection)."""
        from distributed import as_completed as dask_as_completed

        futures = {}
        for item in items:
            future = self.client.submit(fn, item, pure=False, retries=self.retries, **kwargs)
            futures[future] = item
        try:
            for future in dask_as_completed(list(futures)):
                item = futures.pop(future)
                try:
                    value, reason = future.result(), None
                except Exception as exc:  # KilledWorker, a lost connection, a cancelled task
                    value, reason = None, f"{type(exc).__name__}: {exc}"
                future.release()
                yield item, value, reason
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_executor(dask: str | None = None, max_workers: int | None = None):
    """The executor a command line asks for: local by default, Dask when ``dask`` is given."""
    if dask:
        return DaskExecutor(dask, max_workers=max_workers)
    return LocalExecutor(max_workers=max_workers)
