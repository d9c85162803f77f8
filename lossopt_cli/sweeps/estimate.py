"""The dry run: a sweep's runs listed, and an estimate of its wall time for the executor that will run it.

The model adds what each run costs on an idle 2-core machine (set-up, tracing its compiled step, its
steps, its report) the way the executor spends it: one after another (serial), spread over worker
processes (processes), in fused groups whose members share each step (fused), or fused groups and
single runs spread over the workers (auto); plus starting TensorFlow and the sweep's own report.
On a machine shared with other work, every cost is scaled by the share of the CPU left to the
sweep (the 1-minute load average against the cores). No TensorFlow."""

from __future__ import annotations

import math
import os
from pathlib import Path

from .. import rundir
from ..rundir import RUNS
from ..schema import ConfigError
from .plan import PlannedRun, Sweep, inline_yaml, output_root
from .progress import _duration

# Costs on an idle 2-core machine, calibrated with benchmarks/ (see benchmarks/README.md, "--dry-run estimate");
# WORKER_START, SWEEP_REPORT and STACKED_MEMBER refitted on 2026-12-04 to two stacked sweeps (auto executor,
# 2 workers, load 0.6-0.8): configs/sweeps/optimizers_fused.yaml 7.9 s and optimizers.yaml 12.0 s.
WORKER_START_SECONDS = 4.0  # starting a process that imports TensorFlow (a worker, or this one)
RUN_SETUP_SECONDS = 0.3  # data, model, compile and the checked step of one run
TRACE_SECONDS = 0.8  # tracing and optimizing one run's compiled training and validation steps
STEP_SECONDS = 0.0004  # one training step of a small MLP trained alone (digits, batch 32, a whole epoch per call)
MEMBER_STEP_SECONDS = 0.0003  # the same step as one member of a fused group
STACKED_MEMBER_SECONDS = 0.15  # a stacked member's set-up and report (its group prepares, checks and traces once)
FINALIZE_SECONDS = 0.25  # test and per-class scores, model.keras, diagnosis, curves.png, report.html (run_overhead.py)
SWEEP_REPORT_SECONDS = 1.0  # leaderboard, comparison plots (drawn by the workers) and report of the sweep


def previous_wall_times(sweep: Sweep) -> dict[str, float]:
    """Run name -> seconds of training, from earlier sweeps of the same name under the same output root."""
    times: dict[str, float] = {}
    for path in sorted(Path(output_root(sweep)).glob(f"{sweep.name}-*/{RUNS}/*/{rundir.SUMMARY}")):
        try:
            summary = rundir.read_json(path)
        except (OSError, ValueError):
            continue
        wall = summary.get("wall_time_seconds")
        if summary.get("status") in rundir.FINISHED and isinstance(wall, (int, float)) and summary.get("name"):
            times[summary["name"]] = float(wall)
    return times


def load_factor(workers: int, load: float | None = None, cores: int | None = None) -> float:
    """How much slower than on an idle machine: the sweep's processes share the cores with the current load."""
    from .workers import cores as usable_cores

    cores = cores or usable_cores()
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return max(1.0, (load + min(workers, cores)) / cores)


def _steps(run: PlannedRun, sizes: dict) -> int:
    """Training steps of a run: epochs x batches per epoch (loads each dataset once to count it, no TensorFlow)."""
    from ..catalog.datasets import load_dataset

    data = run.config.data
    key = (data.dataset, repr(sorted(data.params.items())), data.target)
    if key not in sizes:
        try:
            sizes[key] = len(load_dataset(data.dataset, data.params, data.target, run.config.seed).x)
        except ConfigError:
            sizes[key] = 1000
    n_train = max(1, int(sizes[key] * (1 - data.validation_split - data.test_split)))
    batch = run.config.training.batch_size
    steps_per_epoch = 1 if batch == "full" else math.ceil(n_train / min(int(batch), n_train))
    return run.config.training.epochs * steps_per_epoch


def run_seconds(steps: int) -> float:
    return RUN_SETUP_SECONDS + TRACE_SECONDS + steps * STEP_SECONDS + FINALIZE_SECONDS


def group_seconds(steps: list[int], stacked: bool = False) -> float:
    """A fused group: each member's set-up, tracing and report, and every member's steps, sharing each step's call;
    ``stacked`` (training.stacked): the group is traced once, its members prepared together."""
    if stacked:
        return TRACE_SECONDS + sum(STACKED_MEMBER_SECONDS + n * MEMBER_STEP_SECONDS for n in steps)
    return sum(RUN_SETUP_SECONDS + TRACE_SECONDS + FINALIZE_SECONDS + n * MEMBER_STEP_SECONDS for n in steps)


def _stacked(group) -> bool:
    from ..training.stacked import config_reason

    return len(group) > 1 and all(config_reason(job.config) is None for job in group)


def _makespan(durations: list[float], workers: int) -> float:
    """Longest first, each to the least busy worker (as a pool of workers takes them)."""
    busy = [0.0] * max(1, workers)
    for d in sorted(durations, reverse=True):
        busy[busy.index(min(busy))] += d
    return max(busy)


# The Ray executor runs auto's units as tasks (on a local instance, with the same workers); its own start-up
# (a few seconds) is not counted.
RUNS_LIKE = {"ray": "auto"}


def estimate_seconds(runs: list[PlannedRun], workers: int, previous: dict[str, float] | None = None,
                     executor: str = "processes", load: float | None = None) -> float:
    """The wall time ``executor`` would take on ``runs`` with ``workers`` workers. A run trained alone that an
    earlier sweep of the same name finished counts that sweep's wall time instead of the model's."""
    from .executors.base import Job
    from .executors.fused import group_jobs

    previous = previous or {}
    sizes: dict = {}
    steps = {run.name: _steps(run, sizes) for run in runs}
    executor = RUNS_LIKE.get(executor, executor)

    def alone(run_name: str) -> float:
        if run_name in previous:
            return previous[run_name] + RUN_SETUP_SECONDS + FINALIZE_SECONDS
        return run_seconds(steps[run_name])

    if executor in ("fused", "auto"):
        jobs = [Job(run.name, run.config, "") for run in runs]
        groups, single = group_jobs(jobs, workers=workers, split_for_workers=executor == "auto")
        units = [group_seconds([steps[job.name] for job in group], _stacked(group)) for group in groups]
        units += [alone(job.name) for job in single]
    else:
        units = [alone(run.name) for run in runs]
    parallel = executor in ("processes", "auto")
    busy = _makespan(units, workers) if parallel else sum(units)
    processes = min(workers, len(units)) if parallel else 1
    return (WORKER_START_SECONDS + busy + SWEEP_REPORT_SECONDS) * load_factor(processes, load)


def dry_run_lines(sweep: Sweep, workers: int, executor: str = "processes") -> list[str]:
    if sweep.spec.get("mode") == "tune":
        from .tune.study import plan_lines

        return plan_lines(sweep, workers, executor, lambda runs, w, e: estimate_seconds(runs, w, {}, e))
    lines = [f"sweep {sweep.name}: {len(sweep.runs)} runs ({sweep.spec['mode']} over "
             f"{', '.join(sweep.spec['vary'])}{' x seeds' if sweep.spec.get('seeds') else ''})"]
    for run in sweep.runs:
        lines.append(f"  {run.name}: " + " ".join(f"{k}={inline_yaml(v)}" for k, v in run.values.items()))
    previous = previous_wall_times(sweep)
    like = RUNS_LIKE.get(executor, executor)
    if like in ("fused", "auto"):
        from .executors.base import Job
        from .executors.fused import group_jobs

        groups, single = group_jobs([Job(r.name, r.config, "") for r in sweep.runs], workers=workers,
                                     split_for_workers=like == "auto")
        lines.append(f"fused: {len(groups)} group(s) of {', '.join(str(len(g)) for g in groups) or '-'} runs; "
                     f"{len(single)} run(s) alone")
        lines.extend(_stacking_lines(groups, {r.name: r.config for r in sweep.runs}))
        previous = {name: wall for name, wall in previous.items() if name in {job.name for job in single}}
    factor = load_factor(workers if like in ("processes", "auto") else 1)
    seconds = estimate_seconds(sweep.runs, workers, previous, executor)
    known = sum(run.name in previous for run in sweep.runs)
    how = (f"{known} run(s) from the wall time of an earlier {sweep.name} sweep, the others " if known else "")
    lines.append(f"estimated time: about {_duration(seconds)} with the {executor} executor and {workers} worker(s) "
                 f"({how}epochs x steps per epoch x {STEP_SECONDS * 1000:g} ms per step alone, "
                 f"{MEMBER_STEP_SECONDS * 1000:g} ms fused; + {RUN_SETUP_SECONDS + TRACE_SECONDS + FINALIZE_SECONDS:g} s "
                 f"per run ({STACKED_MEMBER_SECONDS:g} s stacked, + {TRACE_SECONDS:g} s per stacked group); "
                 f"+ {WORKER_START_SECONDS:g} s to start TensorFlow; x{factor:.1f} for the machine's load)")
    return lines


def _stacking_lines(groups, configs) -> list[str]:
    """Per fused group: one stacked computation (training.stacked), or the per-member loop and why."""
    from ..training.stacked import config_reason

    lines = []
    for number, group in enumerate(groups, 1):
        reasons = sorted({r for r in (config_reason(configs[job.name]) for job in group) if r})
        lines.append(f"  group {number}: " + ("stacked (one batched computation for all members)" if not reasons
                                              else "per-member loop: " + "; ".join(reasons)))
    return lines
