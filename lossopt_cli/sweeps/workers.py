"""A sweep's worker processes: how each starts (``init_worker``), and a pool started before the sweep is planned.

A worker spends about 3 s importing TensorFlow before it trains anything; the sweep's own process spends
0.3 s importing its command line, reading and checking the sweep file and cutting it into groups before it
asks for workers. ``start_early(argv)``, called by ``entry.main`` before the command line is even imported
(and by ``cli.main``), starts the pool a ``lossopt sweep`` with the ``auto`` or ``processes`` executor will most likely use (one
worker per core or ``--workers N``, cores / workers threads each), so both overlap.
``ProcessExecutor`` ``adopt``s it when it needs that shape; otherwise (a sweep of fewer groups than
workers) it is ended at once, without waiting for its imports (``discard``, also called when the command
ends without adopting it). Light: imports no lossopt module but ``signals`` and ``training``'s entry points,
in the worker. ``WORKER`` is a worker process's state in the sweep (``executors.base`` runs the jobs).
"""

from __future__ import annotations

import os
import signal

EARLY_EXECUTORS = ("auto", "processes")  # those that train in this module's pools; "auto" is the default
_EARLY: dict = {}  # the pool started early, while no executor has adopted it: pool, shape, stop


def cores() -> int:
    """The cores this process may use (its CPU affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Worker:
    """This process's part in a sweep: the sweep's stop event (set when the sweep is stopping, so a
    job not yet begun is ``not_started``) and whether a job is training now."""

    def __init__(self) -> None:
        self.stop = None  # a multiprocessing Event shared with the sweep, or None (in the sweep's own process)
        self.busy = False

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()


WORKER = Worker()  # one per process: init_worker sets it up in a worker process (``executors.base.WORKER``)


def init_worker(threads: int, stop, handle_sigint: bool = True) -> None:
    """Limit TensorFlow to ``threads`` threads before any op runs, and install the Ctrl-C handler
    (unless the sweep itself ignores Ctrl-C, as a background job does). A worker's entry point."""
    from .. import signals
    from ..training import import_tensorflow, quiet_tensorflow

    quiet_tensorflow()
    WORKER.stop = stop
    signals.install_worker(handle_sigint)  # Ctrl-C/SIGTERM stop the run in progress; the worker ends with its parent
    for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    tf = import_tensorflow()

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import atexit

    from ..training.quick_exit import leave

    atexit.register(leave)  # registered last, run first: the worker ends without TensorFlow's teardown


def new_pool(workers: int, threads: int, stop=None):
    """(a ``ProcessPoolExecutor`` of ``workers`` spawned processes, each limited to ``threads`` threads, the
    sweep's stop event it shares). Its processes start with the first submissions."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # TensorFlow does not fork safely
    stop = stop if stop is not None else context.Event()
    handle_sigint = signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                               initargs=(threads, stop, handle_sigint))
    return pool, stop


def early_shape(argv: list[str]) -> tuple[int, int] | None:
    """(workers, threads) of the pool ``lossopt ARGV`` will ask for, when ARGV is a new sweep that trains in worker
    processes; None for anything else (another command, --dry-run, --resume, --help, another executor, a global
    option such as --verbose before the command, an option it cannot read: the command line decides)."""
    if not argv or argv[0] != "sweep" or "--" in argv:
        return None
    rest = argv[1:]
    if any(a in ("-h", "--help", "--dry-run") or a.startswith("--resume") for a in rest):
        return None
    if (_value(rest, "--executor") or EARLY_EXECUTORS[0]) not in EARLY_EXECUTORS:
        return None
    workers = _value(rest, "--workers")
    try:
        workers = int(workers) if workers is not None else cores()
    except ValueError:
        return None
    if workers < 1:
        return None
    return workers, max(1, cores() // workers)


def _value(args: list[str], option: str) -> str | None:
    value = None
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(option + "="):
            value = arg.split("=", 1)[1]
    return value


def start_early(argv: list[str]) -> None:
    """Start the worker pool of ``lossopt ARGV`` now, if it is a sweep that will use one (``early_shape``).
    Never raises: the executor starts its own pool when this one is missing."""
    try:
        shape = early_shape(argv)
        if shape is None or _EARLY:  # not a sweep, or started already (``entry.main``, then ``cli.main``)
            return
        pool, stop = new_pool(*shape)
        for _ in range(shape[0]):  # each submission while no worker is idle starts one process
            pool.submit(int)
        _EARLY.update(pool=pool, shape=shape, stop=stop)
    except Exception:  # noqa: BLE001 - an optimization only
        discard()


def adopt(workers: int, threads: int):
    """(pool, stop event) started early with this shape, now the caller's to shut down; None when there is none.
    An early pool of another shape is ended."""
    if not _EARLY:
        return None
    if _EARLY["shape"] != (workers, threads):
        discard()
        return None
    pool, stop = _EARLY["pool"], _EARLY["stop"]
    _EARLY.clear()
    return pool, stop


def discard() -> None:
    """End the early pool no executor adopted, without waiting for its workers' TensorFlow imports: they are
    killed (SIGKILL: a worker ignores SIGTERM while idle, and these have nothing to save)."""
    pool = _EARLY.pop("pool", None)
    _EARLY.clear()
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        try:
            process.kill()
        except (OSError, AttributeError):
            pass
    pool.shutdown(wait=False, cancel_futures=True)
