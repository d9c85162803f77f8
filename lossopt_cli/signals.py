"""Ctrl-C (SIGINT) and SIGTERM: stop cleanly at a safe point, lose nothing, exit 130 or 143.

``install()`` (run by every ``lossopt`` command) makes both signals behave like Ctrl-C. Outside
a ``deferred()`` block the signal raises ``KeyboardInterrupt`` at once (start-up, pre-flight:
nothing is written yet). Inside one (training, writing the report) it is only recorded:
training checks ``pending()`` at the end of every step (``StopOnSignal``) and stops there, so
the finished epochs, the checkpoint and the optimizer state stay consistent; the report is
finished so that every promised file is whole. A second signal inside a ``deferred()`` block
raises at once (the user insists). ``exit_code()`` is 130 for SIGINT and 143 (128 + 15) for
SIGTERM, as shells report them.

Sweep workers use ``install_worker()``: a signal interrupts the run in progress the same way
and is ignored while idle; a watchdog thread ends the worker when its parent process is gone
(killed, even with SIGKILL), after the run in progress has saved what finished.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

EXIT_SIGINT, EXIT_SIGTERM = 130, 143

_STATE = {"received": None, "count": 0, "depth": 0, "worker": False, "busy": False, "owner": False,
          "closing": False}


def _handler(signum, frame):
    if _STATE["closing"]:
        return  # the command has finished; the process is exiting with its exit code
    first = _STATE["received"] is None
    if first:
        _STATE["received"] = signum
    _STATE["count"] += 1
    if _STATE["worker"]:  # Ctrl-C on a terminal reaches the worker and its parent, which forwards it too
        if _STATE["busy"] and _STATE["depth"] == 0 and first:
            raise KeyboardInterrupt  # still preparing: no run directory yet
        return  # idle (the parent decides what happens next), or training: it stops at the end of the step
    if _STATE["depth"] > 0 and first:
        return  # recorded: training stops at the end of the step, the report is finished
    raise KeyboardInterrupt


def install() -> None:
    """SIGINT and SIGTERM both stop the command as Ctrl-C does (unless SIGINT is ignored, as in a
    background job started with ``nohup`` or ``&`` in a script)."""
    reset()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN or previous is _handler:
                continue
            signal.signal(signum, _handler)
            _PREVIOUS[signum] = previous
        except ValueError:  # not the main thread (e.g. called from a library's thread): leave Python's default
            return


def owns_process() -> None:
    """``lossopt`` runs as its own process (the entry point): its handlers stay to the end."""
    _STATE["owner"] = True


def uninstall() -> None:
    """Put back the handlers ``install`` replaced (a command run from Python leaves the process as it was);
    in lossopt's own process, keep them but ignore a signal from now on: the command has finished."""
    if _STATE["owner"]:
        _STATE["closing"] = True
        return
    for signum, previous in list(_PREVIOUS.items()):
        try:
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        except ValueError:
            return
        del _PREVIOUS[signum]


_PREVIOUS: dict = {}


def install_worker(handle_sigint: bool = True) -> None:
    """In a sweep's worker process: signals interrupt the run in progress; the worker ends with its parent."""
    _STATE["worker"] = True
    signal.signal(signal.SIGINT, _handler if handle_sigint else signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _handler)
    import multiprocessing

    parent = multiprocessing.parent_process()  # the process that spawned this one, even if it is gone already
    expected = parent.pid if parent is not None else os.getppid()
    sentinel = parent.sentinel if parent is not None else None
    threading.Thread(target=_watch_parent, args=(expected, sentinel), daemon=True,
                     name="lossopt-parent-watch").start()


def _watch_parent(parent: int, sentinel=None, every: float = 0.5, grace: float = 120.0) -> None:
    """When the parent is gone (its sentinel becomes ready, or this process is re-parented): stop the run in
    progress at the end of its step, let it save, then exit."""
    if sentinel is not None:
        from multiprocessing.connection import wait

        while os.getppid() == parent and not wait([sentinel], timeout=every):
            pass
    while os.getppid() == parent:
        time.sleep(every)
    _STATE["received"] = _STATE["received"] or signal.SIGTERM
    deadline = time.time() + grace
    while _STATE["busy"] and time.time() < deadline:
        time.sleep(0.1)
    os._exit(EXIT_SIGTERM)


@contextmanager
def deferred():
    """Inside: a (first) signal is recorded, not raised; the code checks ``pending()`` at its safe points."""
    _STATE["depth"] += 1
    try:
        yield
    finally:
        _STATE["depth"] -= 1


@contextmanager
def busy():
    """A worker is training: a signal interrupts this run (and is ignored again afterwards)."""
    _STATE["busy"] = True
    if _STATE["worker"]:  # each run of a worker starts afresh; the parent decides whether another starts
        _STATE["received"], _STATE["count"] = None, 0
    try:
        yield
    finally:
        _STATE["busy"] = False


def pending() -> bool:
    """A signal was received and not acted on yet."""
    return _STATE["received"] is not None


def received() -> int | None:
    return _STATE["received"]


def check() -> None:
    """At a safe point: raise ``KeyboardInterrupt`` when a signal is pending."""
    if _STATE["received"] is not None:
        raise KeyboardInterrupt


def exit_code() -> int:
    return EXIT_SIGTERM if _STATE["received"] == signal.SIGTERM else EXIT_SIGINT


def signal_name() -> str:
    return "SIGTERM" if _STATE["received"] == signal.SIGTERM else "Ctrl-C"


def reset() -> None:
    """Forget a handled signal (tests, and a new run in the same process)."""
    _STATE["received"], _STATE["count"] = None, 0
