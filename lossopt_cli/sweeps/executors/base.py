"""The executor interface: a ``Job`` (one run of a sweep), its ``JobResult``, ``run_job`` (train one job,
in whatever process or worker the executor chose) and the ``Executor`` base class.

An ``Executor`` has one method, ``run(jobs, on_result)``: it trains every ``Job`` and calls
``on_result`` with a ``JobResult`` as each finishes. A failed or diverged run is a result like
any other; Ctrl-C stops the executor (the runs in progress save what finished, status
``interrupted``) and ``run`` re-raises ``KeyboardInterrupt``. New ways of running (several
configurations fused into one compiled step, a Ray cluster) are new subclasses, one file each
in this package, registered by name in ``executors/__init__.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ... import rundir, signals
from ...config import RunConfig, validate
from ..workers import WORKER, Worker, init_worker  # noqa: F401 - a worker's state and entry point, importable here


@dataclass
class Job:
    """One run to train: its name in the sweep, its config (the ``RunConfig`` the sweep's plan validated; a
    resolved config mapping given instead is validated here, once), and where its run directory goes."""

    name: str
    config: RunConfig
    runs_root: str
    resume_dir: str | None = None  # an interrupted attempt to continue from its checkpoint, in place
    prune: dict | None = None  # a tune sweep's trial: the PruneCallback's arguments (training.callbacks.pruning)

    def __post_init__(self) -> None:
        if not isinstance(self.config, RunConfig):  # executors, workers and Ray tasks read it, never validate it
            self.config = validate(dict(self.config))


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
    from ...config import as_run_config

    started = time.time()
    run_dir = None
    try:
        if WORKER.stopping():
            return JobResult(job.name, "not_started", None, None, None, 0.0)
        WORKER.busy = True
        from ...training.callbacks import pruning
        from ...training.runner import execute, prepare_run

        with signals.busy(), pruning(job.prune):
            if job.resume_dir:
                from ...training.resume import prepare_resumed

                prepared = prepare_resumed(job.resume_dir)
            else:
                prepared = prepare_run(as_run_config(job.config))
            signals.check()  # a signal while preparing that an import swallowed: no run directory
            with signals.deferred():  # a signal stops the run at the end of a step; it saves what finished
                if job.resume_dir:
                    run_dir = Path(job.resume_dir)
                    result = execute(prepared, verbose=0, run_dir=run_dir, resume=True)
                else:
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
        WORKER.busy = False


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
    # False when the runs train in other processes (workers, a Ray cluster): this process only waits, so it can
    # prepare the sweep's report meanwhile (``sweep_report.warm_up``)
    trains_in_this_process = True
    # True when ``call`` runs in worker processes kept after ``run`` (which drew their runs' curves): the sweep's
    # plots are drawn there, and this process needs no matplotlib
    calls_in_workers = False

    def run(self, jobs: Iterable[Job], on_result: Callable[[JobResult], None]) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Acquire what ``run`` needs (e.g. a cluster connection) before the sweep directory is made, so a
        bad address is a ConfigError with nothing written. Optional: ``run`` starts what is missing itself.
        After ``start`` the executor may keep its workers up between ``run`` calls (and for ``call``) until
        ``close``."""

    def call(self, function: Callable, arguments: list) -> list:
        """``[function(a) for a in arguments]``: in parallel in the workers this executor kept up after ``run``
        (worker processes that have drawn their runs' curves have matplotlib loaded: the sweep's plots), else
        here, one after the other. ``function`` must be module-level (a worker imports it)."""
        return [function(argument) for argument in arguments]

    def close(self) -> None:
        """Release what ``start`` or ``run`` kept (worker processes). Idempotent; the sweep calls it at its end."""

    @property
    def workers(self) -> int:
        return 1
