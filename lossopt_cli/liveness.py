"""Is a run still running? ``summary.json`` says ``running`` while a run trains; a process killed
with SIGKILL (or a machine that lost power) never writes its final status. The run records
its owner (``pid``, ``host``, the process's start time); a reader on the same host shows a
``running`` run whose process is gone as ``interrupted``. On another host lossopt cannot tell,
and says ``running`` as recorded.
"""

from __future__ import annotations

import os
import socket


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), which tells a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner() -> dict:
    """What a run records about the process writing it."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "process_start": _start_time(pid)}


def process_alive(summary: dict) -> bool | None:
    """True/False for a run of this host; None when it cannot be told (another host, or no pid recorded)."""
    pid, host = summary.get("pid"), summary.get("host")
    if not isinstance(pid, int) or host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    recorded = summary.get("process_start")
    return recorded is None or _start_time(pid) in (None, recorded)


def effective_status(summary: dict) -> str:
    """The recorded status, except that ``running`` with its process gone is ``interrupted``."""
    status = summary.get("status", "unknown")
    if status == "running" and process_alive(summary) is False:
        return "interrupted"
    return status
