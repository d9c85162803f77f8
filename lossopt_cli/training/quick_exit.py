"""Ending a process that imported TensorFlow without the interpreter's teardown.

Once a command's work is done and its files are on disk, a normal exit still tears TensorFlow down:
its C++ objects, thread pools and modules, 1.5 s on a 2-core machine, paid by every ``lossopt train``
and by every sweep worker before the sweep can end. ``leave(code)`` skips it: it waits for the
queued per-epoch writes (``rundir.QUEUED``), flushes the standard streams and the logging handlers,
and ends the process with ``os._exit``. It does nothing (the normal exit follows) when TensorFlow was
never imported, or when something whose clean-up must run is in the process: child processes, a Ray
connection or MLflow (whose exit handlers end runs and flush queued logging).
"""

from __future__ import annotations

import os
import sys

NEEDS_TEARDOWN = ("ray", "mlflow")  # modules whose exit handlers must run


def safe_to_skip_teardown() -> bool:
    """TensorFlow is loaded (the teardown is worth skipping) and nothing in the process needs its own."""
    if "tensorflow" not in sys.modules or any(name in sys.modules for name in NEEDS_TEARDOWN):
        return False
    import multiprocessing

    return not multiprocessing.active_children()


def exit_status(code) -> int:
    """The status ``sys.exit(code)`` would give: None is 0, an int itself, anything else is printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def leave(code=0) -> None:
    """End the process now with ``sys.exit(code)``'s status, without the teardown, when that is safe;
    otherwise return (the caller exits normally)."""
    if not safe_to_skip_teardown():
        return
    import logging

    from .. import rundir

    status = exit_status(code)
    try:
        rundir.QUEUED.flush()
    except Exception as exc:  # noqa: BLE001 - say it, as the normal exit would have
        print(f"warning: could not write a run's files: {exc}", file=sys.stderr)
        status = status or 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
