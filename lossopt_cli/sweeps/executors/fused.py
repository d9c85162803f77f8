"""The fused executor: a sweep's runs that can share a compiled step are trained together, in this process.

Runs share a group when they have the same data, network, batch size and epochs
(``training.fused_runs.fusion_key``); they may differ in optimizer, learning rate or schedule,
loss, metrics, seed, early stopping and reduce-on-plateau. A group is at most ``max_group_size``
runs and as many as fit in memory (``group_size_limit``); a run that shares nothing (or
full-batch gradient descent, one step per epoch) is trained alone, as the serial executor does.
``run_group(jobs)`` trains one group and is what a worker process (``auto``) or a Ray task calls.
"""

from __future__ import annotations

import math
import os
import time
from typing import Callable

from . import base
from .base import Executor, Job, JobResult

MAX_GROUP_SIZE = 32
# Memory per member besides its data: weights, optimizer slots and the member's share of the traced
# graph, for the small networks fusing is for (measured: benchmarks/peak_memory.py).
MEMBER_OVERHEAD_BYTES = 24 * 2**20
MEMORY_SHARE = 0.5  # of the memory available when the sweep starts, split over the workers


def available_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def group_size_limit(member_bytes: int, workers: int = 1, available: int | None = None) -> int:
    """How many members of ``member_bytes`` each fit in one worker's share of the memory (at least 1)."""
    available = available_memory_bytes() if available is None else available
    if not available:
        return MAX_GROUP_SIZE
    return max(1, min(MAX_GROUP_SIZE, int(available * MEMORY_SHARE / max(1, workers) // max(1, member_bytes))))


def member_bytes(config) -> int:
    """A rough upper bound of one member's memory: its data (float32) plus ``MEMBER_OVERHEAD_BYTES``.
    Counts the dataset's samples and features without TensorFlow; unknown sizes count as overhead only."""
    from ...catalog.datasets import load_dataset
    from ...schema import ConfigError

    data = config.data
    try:
        ds = load_dataset(data.dataset, data.params, data.target, config.seed)
        size = int(ds.x.size) * 4 * 2  # the split's arrays, and their scaled copies while preparing
    except (ConfigError, OSError, ValueError, MemoryError):
        size = 0
    return size + MEMBER_OVERHEAD_BYTES


def plan_groups(jobs: list[Job], *, workers: int = 1, split_for_workers: bool = False,
                max_size: int | None = None) -> tuple[list[list[Job]], list[Job]]:
    """(fused groups of two runs or more, runs to train alone). Runs with the same ``fusion_key`` are cut
    into groups of at most ``max_size`` (default: ``MAX_GROUP_SIZE`` bounded by memory); with
    ``split_for_workers``, into at least ``workers`` groups where there are enough runs, so that every
    worker has a group. Runs that will be stacked (``training.stacked.config_reason``) are ordered by their
    optimizer section (``stack_key``: the learning rate apart), then seed: the runs of one optimizer configuration
    share a stack (one batched update), so a group of 2 optimizers x 3 seeds trains 2 stacks where one of 6 seeds x
    4 optimizers would train 4 (measured: 1-1.6 s less per group of 6, benchmarks/README.md); whole stacks are
    dealt to the groups by their update's cost (``_balanced_stacks``), which train in parallel. Other runs are
    ordered by seed: the per-member loop holds a split shared by runs of the same seed once."""
    from ...training.fused_runs import fusion_key
    from ...training.stacked import config_reason, stack_key

    by_key: dict = {}
    alone: list[Job] = []
    sizes: dict = {}
    for job in jobs:
        config = job.config  # read only: each run copies it when it is prepared
        key = fusion_key(config) if job.prune is None else None  # a tune trial: its own PruneCallback, alone
        if key is None:
            alone.append(job)
            continue
        stack = stack_key(config) if config_reason(config) is None else ""
        by_key.setdefault(key, []).append(((stack, config.seed), job))
        if key not in sizes and max_size is None:
            sizes[key] = group_size_limit(member_bytes(config), workers)
    groups: list[list[Job]] = []
    for key, members in by_key.items():
        members.sort(key=lambda m: m[0])
        limit = max_size or sizes[key]
        count = math.ceil(len(members) / limit)
        if split_for_workers:
            count = max(count, min(workers, len(members) // 2))
        for chunk in _balanced_stacks(members, count) or _chunks([job for _, job in members], count):
            (groups.append(chunk) if len(chunk) > 1 else alone.extend(chunk))
    return groups, alone


# Optimizer state per weight (slots), the proxy of a stacked update's cost: groups trained in parallel are
# balanced by it. 20 epochs of the quickstart, 3 seeds per optimizer, medians of 5: adam + rmsprop 1.38 s against
# momentum + sgd 1.14 s (the sweep waits for the slower); adam + sgd 1.29 s, rmsprop + momentum 1.17 s
# (benchmarks/README.md).
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adagrad": 1, "lion": 1, "adam": 2,
                   "adamw": 2, "adamax": 2, "nadam": 2, "adadelta": 2, "ftrl": 2}
STEP_COST = 2.0  # a member's forward and backward pass, in slots' updates (fitted to the groups above)


def update_cost(config) -> float:
    """A stacked member's relative cost per step: its forward and backward pass plus its optimizer's update."""
    optimizer = config.optimizer
    slots = OPTIMIZER_SLOTS.get(optimizer.name, 1)
    slots += bool(optimizer.params.get("momentum")) if optimizer.name == "sgd" else 0  # sgd with momentum
    return STEP_COST + slots


def _balanced_stacks(members: list[tuple[tuple, Job]], count: int) -> list[list[Job]] | None:
    """``members`` ((stack, seed), job), sorted, cut into ``count`` groups of whole stacks (runs of one optimizer
    configuration) with the same number of stacks each, the costliest stack first into the cheapest group: the
    groups train in parallel and the sweep waits for the slowest. None (contiguous chunks instead) unless every
    run is stacked and the stacks are of one size and divide evenly into ``count`` groups."""
    stacks: dict[str, list[Job]] = {}
    for (stack, _), job in members:
        stacks.setdefault(stack, []).append(job)
    if count < 2 or "" in stacks or len({len(jobs) for jobs in stacks.values()}) != 1 or len(stacks) % count:
        return None
    per_group = len(stacks) // count
    chunks: list[list[Job]] = [[] for _ in range(count)]
    costs, taken = [0.0] * count, [0] * count
    for stack in sorted(stacks, key=lambda k: -update_cost(stacks[k][0].config)):  # stable: ties keep their order
        i = min((i for i in range(count) if taken[i] < per_group), key=lambda i: costs[i])
        chunks[i] += stacks[stack]
        costs[i] += update_cost(stacks[stack][0].config) * len(stacks[stack])
        taken[i] += 1
    order = {id(job): n for n, (_, job) in enumerate(members)}  # each group in the sorted order: stacks contiguous
    return [sorted(chunk, key=lambda job: order[id(job)]) for chunk in chunks]


def group_jobs(jobs: list[Job], *, workers: int = 1, split_for_workers: bool = False) -> tuple[list[list[Job]], list[Job]]:
    """The grouping rule of every fusing executor (fused, auto, Ray) and of the estimate: (fused groups,
    runs to train alone). A run resumed from its checkpoint continues alone, in its own directory; the
    rest go to ``plan_groups``."""
    jobs = list(jobs)
    groups, alone = plan_groups([job for job in jobs if not job.resume_dir], workers=workers,
                                split_for_workers=split_for_workers)
    return groups, alone + [job for job in jobs if job.resume_dir]


def _chunks(items: list, count: int) -> list[list]:
    """``items`` cut into ``count`` contiguous chunks whose sizes differ by at most one."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    out, start = [], 0
    for i in range(count):
        end = start + size + (i < extra)
        out.append(items[start:end])
        start = end
    return out


def run_group(jobs: list[Job]) -> list[JobResult]:
    """Train a fused group of jobs into their sweep's run directories; one ``JobResult`` per job, never raises.
    A worker's entry point (like ``base.run_job``), and a Ray task's."""
    from ... import rundir

    started = time.time()
    if base.WORKER.stopping():
        return [JobResult(job.name, "not_started", None, None, None, 0.0) for job in jobs]
    base.WORKER.busy = True
    run_dirs = []
    try:
        from ... import signals
        from ...training.fused_runs import train_group

        with signals.busy(), signals.deferred():  # a signal stops the group after its epoch; each member saves
            run_dirs = [rundir.create_run_dir(job.runs_root, job.name, stamp=False) for job in jobs]
            group = train_group([job.config for job in jobs], run_dirs)
    except BaseException as exc:  # noqa: BLE001 - the sweep goes on; every member says why it stopped
        error = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"[:2000]
        return [_saved_result(job, run_dirs[i] if i < len(run_dirs) else None, error, started)
                for i, job in enumerate(jobs)]
    finally:
        base.WORKER.busy = False
    wall = time.time() - started
    by_dir = {str(r.run_dir): r for r in group.results}
    results = []
    for i, job in enumerate(jobs):
        result = by_dir.get(str(run_dirs[i]))
        if result is None:  # its config failed before training: nothing of it was written
            _remove_empty(run_dirs[i])
            results.append(JobResult(job.name, "failed", None, None, group.errors.get(i, "not trained"), wall))
        else:
            results.append(JobResult(job.name, result.status, str(result.run_dir), result.summary,
                                     result.summary.get("error"), wall))
    return results


def _saved_result(job: Job, run_dir, error: str, started: float) -> JobResult:
    summary = base._saved_summary(run_dir)
    status = summary.get("status") or ("interrupted" if error == "interrupted" else "failed")
    return JobResult(job.name, status, base._str(run_dir), summary or None, summary.get("error") or error,
                     time.time() - started)


def _remove_empty(path) -> None:
    try:
        path.rmdir()  # only if empty: a run directory is never half-written, nor left empty
    except OSError:
        pass


class FusedExecutor(Executor):
    """Fusable runs trained together, group after group, in this process; the others one after another."""

    name = "fused"

    def __init__(self, workers: int | None = None, run_one: Callable[[Job], JobResult] | None = None):
        self.run_one = run_one

    def run(self, jobs, on_result):
        groups, alone = group_jobs(jobs)
        for group in groups:
            results = run_group(group)
            for result in results:
                on_result(result)
            if any(result.status == "interrupted" for result in results):
                raise KeyboardInterrupt
        for job in alone:
            result = (self.run_one or base.run_job)(job)
            on_result(result)
            if result.status == "interrupted":
                raise KeyboardInterrupt
