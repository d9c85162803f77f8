"""The processes executor: runs in parallel worker processes, each importing TensorFlow once."""

from __future__ import annotations

import os
import signal
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from ... import signals
from ..workers import cores, new_pool
from . import base
from .base import Executor, JobResult


@dataclass
class Unit:
    """What one worker trains at a time: ``function(argument)`` (module-level, so a worker can import it),
    and the names of the runs it covers (for a worker that dies)."""

    function: Callable
    argument: Any
    names: tuple


class ProcessExecutor(Executor):
    """Runs in parallel worker processes (``spawn``: TensorFlow does not fork safely), one per core by default.

    Each worker imports TensorFlow once and trains many runs; its threads are limited to
    cores / workers so the workers do not fight over the cores. After ``start`` the workers stay up
    between ``run`` calls (a tune sweep's batches of trials) and draw the sweep's plots (``call``: they
    have matplotlib loaded from their runs' curves) until ``close``.
    """

    name = "processes"
    trains_in_this_process = False
    calls_in_workers = True

    def __init__(self, workers: int | None = None):
        self._workers = max(1, workers or cores())
        self._keep = False  # after start(): the pool stays up after run (for the next run, for call) until close()
        self._kept = None  # (pool, (workers, threads), stop event) of the last run, while kept

    def start(self) -> None:
        self._keep = True

    def close(self) -> None:
        from ..workers import discard

        self._keep = False
        self._shut_kept()
        discard()  # a pool started early (``workers.start_early``) for a sweep that never asked for it

    def _shut_kept(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept[0].shutdown(wait=True, cancel_futures=True)

    def call(self, function, arguments):
        """In parallel in the kept workers (each has TensorFlow, and matplotlib once it drew a run's curves);
        here when none are kept or the pool broke."""
        from concurrent.futures.process import BrokenProcessPool

        if self._kept is None or not arguments:
            return super().call(function, arguments)
        try:
            futures = [self._kept[0].submit(function, argument) for argument in arguments]
            return [future.result() for future in futures]
        except BrokenProcessPool:
            self._shut_kept()
            return super().call(function, arguments)

    @property
    def workers(self) -> int:
        return self._workers

    def run(self, jobs, on_result):
        self.run_units([Unit(base.run_job, job, (job.name,)) for job in jobs], on_result)

    def run_units(self, units, on_result):
        """Run each ``Unit`` (a function and its argument: one job, or a fused group of jobs) in a worker;
        a unit's result is a ``JobResult`` or a list of them, each handed to ``on_result``."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending = deque(units)
        if not pending:
            return
        workers = min(self._workers, len(pending))
        threads = max(1, cores() // workers)
        if self._kept is not None and self._kept[1] != (workers, threads):
            self._shut_kept()  # kept for another number of workers: a new pool
        if self._kept is None:
            from ..workers import adopt

            early = adopt(workers, threads)  # started by `lossopt sweep` before the sweep was planned
            self._kept = (early[0], (workers, threads), early[1]) if early else None
        kept, self._kept = self._kept, None
        pool, stop = (kept[0], kept[2]) if kept else new_pool(workers, threads)
        running: dict = {}
        finished = False

        def report(future, unit):
            try:
                results = future.result()
            except BrokenProcessPool:
                results = [JobResult(name, "failed", None, None, "the worker process died", 0.0) for name in unit.names]
            for result in results if isinstance(results, list) else [results]:
                if result.status != "not_started":
                    on_result(result)

        try:
            while pending or running:
                while pending and len(running) < workers:  # at most one job per worker: Ctrl-C strands none
                    unit = pending.popleft()
                    try:
                        running[pool.submit(unit.function, unit.argument)] = unit
                    except BrokenProcessPool:
                        pool.shutdown(wait=False, cancel_futures=True)
                        pool, _ = new_pool(workers, threads, stop)
                        running[pool.submit(unit.function, unit.argument)] = unit
                done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                signals.check()  # a signal to this process (recorded while the sweep defers it): stop the workers
                for future in done:
                    report(future, running.pop(future))
            finished = True
        except KeyboardInterrupt:
            stop.set()  # no new run starts; the running ones save what finished and return
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                try:  # SIGTERM sent to this process alone never reached the workers
                    os.kill(process.pid, signal.SIGTERM)
                except (ProcessLookupError, AttributeError, TypeError):
                    pass
            try:
                for future in list(running):
                    report(future, running.pop(future))
            except KeyboardInterrupt:  # a second Ctrl-C: stop the workers now
                for process in list(getattr(pool, "_processes", {}).values()):
                    process.terminate()
            raise
        finally:
            if finished and self._keep:
                self._kept = (pool, (workers, threads), stop)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
