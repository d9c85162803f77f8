"""The serial executor: one run after another, in this process."""

from __future__ import annotations

from typing import Callable

from . import base
from .base import Executor, Job, JobResult


class SerialExecutor(Executor):
    """One run after another in this process."""

    name = "serial"

    def __init__(self, run_one: Callable[[Job], JobResult] | None = None, workers: int | None = None):
        self.run_one = run_one  # default: run_job (looked up when called); workers: one, always

    def run(self, jobs, on_result):
        from ... import signals

        for job in jobs:
            signals.check()  # a signal between runs: start no other
            result = (self.run_one or base.run_job)(job)  # looked up when called: tests replace it
            on_result(result)
            if result.status == "interrupted":
                raise KeyboardInterrupt
