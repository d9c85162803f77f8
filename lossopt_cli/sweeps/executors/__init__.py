"""Executors: how a sweep's runs are carried out. One file per executor, one registry of names.

``EXECUTORS`` maps each ``--executor`` name to its class (the CLI's choices come from it);
``make_executor(name, workers)`` builds one. A new executor is a new file here with an
``Executor`` subclass (``base.py`` has the interface) and one line in ``EXECUTORS``.
"""

from __future__ import annotations

from .auto import AutoExecutor
from .base import Executor, Job, JobResult, run_job  # noqa: F401 - the interface, importable from here
from .fused import FusedExecutor
from .processes import ProcessExecutor
from .serial import SerialExecutor

EXECUTORS: dict[str, type[Executor]] = {
    "auto": AutoExecutor,  # the default: fused groups where runs can share a step, in worker processes
    "processes": ProcessExecutor,  # parallel worker processes, one run at a time each
    "serial": SerialExecutor,
    "fused": FusedExecutor,  # fused groups (and the runs that share nothing), in this process
}
DEFAULT_EXECUTOR = "auto"


def make_executor(name: str, workers: int | None = None) -> Executor:
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")
    return EXECUTORS[name](workers=workers)
