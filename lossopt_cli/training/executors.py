"""Executors: how a sweep's runs are carried out, one run after another or in worker processes.

An ``Executor`` has one method, ``run(jobs, on_result)``: it trains every ``Job`` and calls
``on_result`` with a ``JobResult`` as each finishes. A failed or diverged run is a result like
any other; Ctrl-C stops the executor (the runs in progress save what finished, status
``interrupted``) and ``run`` re-raises ``KeyboardInterrupt``. New ways of running (several
configurations fused into one compiled step, a Ray cluster) are new subclasses.
"""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .. import rundir


@dataclass
class Job:
    """One run to train: its name in the sweep, its resolved config, and where its run directory goes."""

    name: str
    config: dict
    runs_root: str


@dataclass
class JobResult:
    name: str
    status: str  # a run status (completed, early_stopped, diverged, interrupted, failed) or not_started
    run_dir: str | None
    summary: dict | None
    error: str | None
    wall_time: float


def run_job(job: Job) -> JobResult:
    """Validate, prepare and train one job; never raises (a crash becomes status ``failed``)."""
    from ..config import validate

    started = time.time()
    run_dir = None
    try:
        if _WORKER["stop"] is not None and _WORKER["stop"].is_set():
            return JobResult(job.name, "not_started", None, None, None, 0.0)
        _WORKER["busy"], _WORKER["interrupted"] = True, False
        from .. import signals
        from .runner import execute, prepare_run

        with signals.busy():
            prepared = prepare_run(validate(job.config))
            with signals.deferred():  # a signal stops the run at the end of a step; it saves what finished
                run_dir = rundir.create_run_dir(job.runs_root, job.name, stamp=False)  # a re-run: name-2
                result = execute(prepared, verbose=0, run_dir=run_dir)
        return JobResult(job.name, result.status, str(result.run_dir), result.summary, result.summary.get("error"),
                         time.time() - started)
    except KeyboardInterrupt:  # the run saved what finished; it may even have finished just before
        summary = _saved_summary(run_dir)
        return JobResult(job.name, summary.get("status", "interrupted"), _str(run_dir), summary or None,
                         summary.get("error"), time.time() - started)
    except Exception as exc:  # the sweep goes on; the error is recorded
        return JobResult(job.name, "failed", _str(run_dir), None, f"{type(exc).__name__}: {exc}"[:2000],
                         time.time() - started)
    finally:
        _WORKER["busy"] = False


class _suppress_lookup:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], (ProcessLookupError, AttributeError, TypeError))


def _saved_summary(run_dir: Path | None) -> dict:
    try:
        summary = rundir.read_json(run_dir / rundir.SUMMARY) if run_dir is not None else {}
    except (OSError, ValueError):
        return {}
    return summary if summary.get("status") != "running" else {}


def _str(path) -> str | None:
    return str(path) if path is not None else None


class Executor:
    """Trains jobs and reports each result as it finishes."""

    name = "executor"

    def run(self, jobs: Iterable[Job], on_result: Callable[[JobResult], None]) -> None:
        raise NotImplementedError

    @property
    def workers(self) -> int:
        return 1


class SerialExecutor(Executor):
    """One run after another in this process."""

    name = "serial"

    def __init__(self, run_one: Callable[[Job], JobResult] | None = None, workers: int | None = None):
        self.run_one = run_one  # default: run_job (looked up when called); workers: one, always

    def run(self, jobs, on_result):
        from .. import signals

        for job in jobs:
            signals.check()  # a signal between runs: start no other
            result = (self.run_one or run_job)(job)
            on_result(result)
            if result.status == "interrupted":
                raise KeyboardInterrupt


# --- worker processes -------------------------------------------------------------------------

_WORKER: dict = {"busy": False, "interrupted": False, "stop": None}


def init_worker(threads: int, stop, handle_sigint: bool = True) -> None:
    """Limit TensorFlow to ``threads`` threads before any op runs, and install the Ctrl-C handler
    (unless the sweep itself ignores Ctrl-C, as a background job does)."""
    from .. import signals

    _WORKER["stop"] = stop
    signals.install_worker(handle_sigint)  # Ctrl-C/SIGTERM stop the run in progress; the worker ends with its parent
    for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from . import import_tensorflow

    tf = import_tensorflow()

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def cores() -> int:
    """The cores this process may use (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ProcessExecutor(Executor):
    """Runs in parallel worker processes (``spawn``: TensorFlow does not fork safely), one per core by default.

    Each worker imports TensorFlow once and trains many runs; its threads are limited to
    cores / workers so the workers do not fight over the cores.
    """

    name = "processes"

    def __init__(self, workers: int | None = None):
        self._workers = max(1, workers or cores())

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, jobs, on_result):
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        from .. import signals

        pending = deque(jobs)
        if not pending:
            return
        workers = min(self._workers, len(pending))
        threads = max(1, cores() // workers)
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        handle_sigint = signal.getsignal(signal.SIGINT) is not signal.SIG_IGN

        def new_pool():
            return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                                       initargs=(threads, stop, handle_sigint))

        pool = new_pool()
        running: dict = {}

        def report(future, job):
            try:
                result = future.result()
            except BrokenProcessPool:
                result = JobResult(job.name, "failed", None, None, "the worker process died", 0.0)
            if result.status != "not_started":
                on_result(result)

        try:
            while pending or running:
                while pending and len(running) < workers:  # at most one job per worker: Ctrl-C strands none
                    job = pending.popleft()
                    try:
                        running[pool.submit(run_job, job)] = job
                    except BrokenProcessPool:
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool = new_pool()
                        running[pool.submit(run_job, job)] = job
                done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                signals.check()  # a signal to this process (recorded while the sweep defers it): stop the workers
                for future in done:
                    report(future, running.pop(future))
        except KeyboardInterrupt:
            stop.set()  # no new run starts; the running ones save what finished and return
            for process in list(getattr(pool, "_processes", {}).values()):  # SIGTERM sent to this process alone
                with _suppress_lookup():
                    os.kill(process.pid, signal.SIGTERM)
            try:
                for future in list(running):
                    report(future, running.pop(future))
            except KeyboardInterrupt:  # a second Ctrl-C: stop the workers now
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


EXECUTORS = {"processes": ProcessExecutor, "serial": SerialExecutor}  # --executor NAME; a new executor adds a line


def make_executor(name: str, workers: int | None = None) -> Executor:
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](workers=workers)
