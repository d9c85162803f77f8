"""The Ray executor: a sweep's runs as Ray tasks, on a local Ray instance started for the sweep or on a cluster.

Each unit of work (what the ``auto`` executor would run: a fused group of runs that share one compiled
step, or a single run) is one Ray task that
reserves ``num_cpus`` (and ``num_gpus`` when a config sets ``training.gpus``). A task trains into a
private temporary directory on its node and returns its run directories as one tar archive, which
the driver unpacks atomically into the sweep's ``runs/``; with ``output.shared: true`` (a filesystem
every node mounts at the same path) the task writes straight into ``runs/`` instead.

A run that fails is a result like any other (status ``failed``, as with the local executors). A
task whose worker process or node dies is retried once when that is safe (it wrote only into its
private directory), else recorded as a failed run; the sweep goes on. Ctrl-C cancels the tasks: a
queued run never starts, a running one saves what finished (status ``interrupted``) and is sent back.
Ray is an optional extra (``pip install 'lossopt[ray]'``), imported only when a ``RayExecutor`` is made.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import sys
import tarfile
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from ... import rundir
from ...schema import ConfigError
from ..workers import cores
from .base import Executor, Job, JobResult, run_job

INSTALL = "pip install 'lossopt[ray]'  (from a clone: pip install -e '.[ray]')"
RETRIES_WHEN_PRIVATE = 1  # a task that wrote only to its own temporary directory can start again from scratch
SECOND_CTRL_C_WAIT = 120  # seconds the driver waits for interrupted runs to send back what they saved


def require_ray():
    """Import Ray, or a ConfigError (exit 2) that names the install command."""
    try:
        import ray
    except ImportError:
        raise ConfigError(f"--executor ray needs Ray, which is not installed. Install it with: {INSTALL}",
                          key="--executor") from None
    return ray


# --- in the Ray worker --------------------------------------------------------------------------


def plan_units(jobs: list[Job], workers: int) -> list[list[Job]]:
    """The units of work, one Ray task each, for ``workers`` tasks at once: what the ``auto`` executor
    would run, its fused groups (largest first, at least one per worker where there are enough runs)
    and then the runs that share nothing, one each."""
    from .fused import group_jobs

    groups, alone = group_jobs(jobs, workers=workers, split_for_workers=True)
    return sorted(groups, key=len, reverse=True) + [[job] for job in alone]


def train_unit(jobs: list[Job]) -> list[JobResult]:
    """Train one unit in this process: a fused group in one compiled loop, or a single run."""
    if len(jobs) == 1:
        return [run_job(jobs[0])]
    from .fused import run_group

    return run_group(jobs)


def limit_threads(threads: int) -> None:
    """TensorFlow's thread pools sized to the CPUs the task reserved (before TensorFlow initialises;
    a Ray worker trains many runs, and keeps the sizes of its first)."""
    for var in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[var] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from ...training import import_tensorflow, quiet_tensorflow

    quiet_tensorflow()
    tf = import_tensorflow()
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already initialised in this worker
        pass


def task(jobs: list[Job], shared: bool, threads: int) -> list[tuple[JobResult, bytes | None]]:
    """The body of a Ray task: train the unit, and send each run directory back as a tar archive
    (``None`` when the run wrote into the shared ``runs/`` itself, or made no directory)."""
    limit_threads(threads)
    if shared:
        return [(result, None) for result in train_unit(jobs)]
    with tempfile.TemporaryDirectory(prefix="lossopt-ray-") as private:
        # config.yaml still records the sweep's runs/ as output.dir: where the run will live
        local = [replace(job, runs_root=private) for job in jobs]
        return [(result, pack(result.run_dir)) for result in train_unit(local)]


def pack(run_dir: str | None) -> bytes | None:
    """A run directory as a tar archive to send back; None when the run never got as far as its summary.json
    (cancelled while its directory was being created): nothing to keep, ``--resume`` trains it."""
    if not run_dir or not (Path(run_dir) / rundir.SUMMARY).is_file():
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        archive.add(run_dir, arcname=".")
    return buffer.getvalue()


# --- on the driver ------------------------------------------------------------------------------


def unpack(archive: bytes, runs_root: str | Path, name: str) -> Path:
    """Write a run directory sent back by a task into ``runs_root/<name>`` (``name-2``... where taken),
    atomically: unpacked beside ``runs/`` first, then renamed into place."""
    runs_root = Path(runs_root)
    staging = Path(tempfile.mkdtemp(prefix=".ray-incoming-", dir=runs_root.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r") as tar:
            tar.extractall(staging, filter="data")
        final = rundir.create_run_dir(runs_root, name, stamp=False)  # reserves the name
        os.replace(staging, final)  # an empty directory is replaced in one step
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summary_path = final / rundir.SUMMARY
    if summary_path.is_file():  # where the run lives now, not the node's temporary directory
        summary = rundir.read_json(summary_path)
        summary["run_dir"] = str(final)
        rundir.write_json(summary_path, summary)
    return final


def receive(result: JobResult, archive: bytes | None, runs_root: str) -> JobResult:
    if archive is None:
        return result
    try:
        final = unpack(archive, runs_root, result.name)
    except (OSError, tarfile.TarError) as exc:
        return replace(result, status="failed", run_dir=None, error=f"could not write the run sent back by Ray: {exc}")
    summary = {**result.summary, "run_dir": str(final)} if result.summary is not None else None
    return replace(result, run_dir=str(final), summary=summary)


def _gpus(job: Job) -> float:
    return float(job.config.training.gpus or 0)


def _shared(job: Job) -> bool:
    return job.config.output.shared


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Raise OSError when ``HOST:PORT`` (or ``ray://HOST:PORT``, or what ``auto`` finds) does not accept a
    connection."""
    if address == "auto":  # RAY_ADDRESS, else the cluster `ray start` last recorded on this machine
        try:
            from ray._private.services import canonicalize_bootstrap_address

            address = canonicalize_bootstrap_address(address) or address
        except Exception:  # a private helper of Ray: without it, Ray's own search decides
            return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if host and port.isdigit():
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:500]


class RayExecutor(Executor):
    """Each unit of work is a Ray task; results come back as each finishes.

    ``address``: an existing cluster (``auto``, ``ray://head:10001``, ``head:6379``); without it a
    local instance with this machine's cores is started for the sweep and stopped after it.
    ``workers``: how many runs train at once on a local instance (default: one per core); each
    task reserves cores / workers CPUs and sizes TensorFlow's threads to them. On a cluster each
    task reserves ``cpus_per_run`` CPUs (default 1) and Ray places them.
    """

    name = "ray"
    trains_in_this_process = False

    def __init__(self, workers: int | None = None, address: str | None = None, cpus_per_run: int | None = None,
                 ship_code: bool | None = None):
        require_ray()
        self.address = address
        self._workers = max(1, workers or cores())
        local_cpus = max(1, cores() // self._workers)
        self.cpus_per_run = cpus_per_run or (1 if address else local_cpus)
        self.ship_code = bool(address) if ship_code is None else ship_code  # see _runtime_env
        self._started_here = False

    @property
    def workers(self) -> int:
        return self._workers

    def start(self) -> None:
        """Connect to the cluster, or start the local instance (unless Ray is already initialised in this
        process, e.g. by a notebook or a test: then that instance is used and left running)."""
        ray = require_ray()
        if ray.is_initialized():
            return
        import logging

        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        quiet = {"include_dashboard": False, "logging_level": logging.ERROR, "log_to_driver": False}
        if not self.address:  # a fresh instance, never a cluster someone else started on this machine
            ray.init(address="local", num_cpus=self.cpus_per_run * self._workers, **quiet)
        else:
            try:
                _reachable(self.address)  # Ray itself retries an unreachable address for minutes
                ray.init(address=self.address, runtime_env=self._runtime_env(), **quiet)
            except (OSError, ray.exceptions.RayError) as exc:  # ConnectionError is an OSError
                cause = exc.__cause__ or exc
                raise ConfigError(
                    f"--address {self.address}: could not connect to a Ray cluster ({_short(cause)}). Give the "
                    f"address `ray start --head` printed (HEAD_IP:6379, or ray://HEAD_IP:10001 for Ray Client), "
                    f"or auto on a node of the cluster; leave --address out for a local Ray instance.",
                    key="--address") from None
        self._started_here = True

    def _runtime_env(self) -> dict | None:
        """On a cluster, the driver's own lossopt package goes to the workers (Ray uploads it once per
        sweep), so the nodes need only the dependencies and can never run another lossopt version."""
        if not self.ship_code:
            return None
        import lossopt_cli

        return {"py_modules": [str(Path(lossopt_cli.__file__).parent)]}

    def run(self, jobs: Iterable[Job], on_result: Callable[[JobResult], None]) -> None:
        jobs = list(jobs)
        try:
            if jobs:
                self.start()
                self._run(require_ray(), jobs, on_result)
        finally:
            if self._started_here:  # the instance (or connection) this executor made ends with the sweep
                require_ray().shutdown()
                self._started_here = False

    def _run(self, ray, jobs: list[Job], on_result: Callable[[JobResult], None]) -> None:
        remote = ray.remote(task)
        running: dict = {}  # object ref -> (unit, submitted at)
        for unit in plan_units(jobs, self._workers):
            shared = all(_shared(job) for job in unit)
            options = {"num_cpus": self.cpus_per_run, "num_gpus": max(_gpus(job) for job in unit),
                       "max_retries": 0 if shared else RETRIES_WHEN_PRIVATE, "retry_exceptions": False,
                       "name": f"lossopt:{unit[0].name}" + (f"+{len(unit) - 1}" if len(unit) > 1 else "")}
            ref = remote.options(**options).remote(unit, shared, self.cpus_per_run)
            running[ref] = (unit, time.time())

        def collect(ref) -> None:
            unit, submitted = running.pop(ref)
            try:
                pairs = ray.get(ref)
            except ray.exceptions.TaskCancelledError:  # cancelled before it started: not run, resumable
                return
            except ray.exceptions.RayError as exc:  # the worker or its node died (after the retries)
                for job in unit:
                    on_result(JobResult(job.name, "failed", None, None,
                                        f"the Ray task died ({_short(exc)})", time.time() - submitted))
                return
            for result, archive in pairs:
                result = receive(result, archive, unit[0].runs_root)
                if result.status != "not_started":
                    on_result(result)

        try:
            while running:
                done, _ = ray.wait(list(running), num_returns=1)
                for ref in done:
                    collect(ref)
        except KeyboardInterrupt:
            for ref in running:  # a queued task is dropped; a running one gets KeyboardInterrupt and saves
                ray.cancel(ref)
            try:
                deadline = time.time() + SECOND_CTRL_C_WAIT
                while running and time.time() < deadline:
                    done, _ = ray.wait(list(running), num_returns=1, timeout=max(0.1, deadline - time.time()))
                    for ref in done:
                        collect(ref)
            except KeyboardInterrupt:  # a second Ctrl-C: stop the workers now
                print("stopping the Ray tasks now", file=sys.stderr)
            finally:
                for ref in running:
                    ray.cancel(ref, force=True)
            raise
