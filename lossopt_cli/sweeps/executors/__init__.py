"""Executors: how a sweep's runs are carried out. One file per executor, one registry of names.

``EXECUTORS`` maps each ``--executor`` name to its class (the CLI's choices come from it);
``make_executor(name, workers)`` builds one. A new executor is a new file here with an
``Executor`` subclass (``base.py`` has the interface) and one line in ``EXECUTORS``.
"""

from __future__ import annotations

from .base import Executor, Job, JobResult, run_job  # noqa: F401 - the interface, importable from here
from .processes import ProcessExecutor
from .serial import SerialExecutor

EXECUTORS: dict[str, type[Executor]] = {
    "processes": ProcessExecutor,  # the default: parallel worker processes, one per core
    "serial": SerialExecutor,
}
DEFAULT_EXECUTOR = "processes"


def make_executor(name: str, workers: int | None = None) -> Executor:
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](workers=workers)
