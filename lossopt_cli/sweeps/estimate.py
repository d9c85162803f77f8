"""The dry run: a sweep's runs listed, and a rough estimate of its wall time. No TensorFlow."""

from __future__ import annotations

import math
from pathlib import Path

from .. import rundir
from ..rundir import RUNS
from ..schema import ConfigError
from .plan import PlannedRun, Sweep, inline_yaml, output_root
from .progress import _duration


# Calibrated with benchmarks/sweep_time.py on configs/sweeps/optimizers.yaml (2 shared cores): see benchmarks/README.md.
STEP_SECONDS = 0.01  # one training step of a small MLP (digits, batch 32)
RUN_OVERHEAD_SECONDS = 2.0  # loading data, building and compiling the model, writing the run directory
WORKER_START_SECONDS = 8.0  # importing TensorFlow in each worker


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


def estimate_seconds(runs: list[PlannedRun], workers: int, previous: dict[str, float] | None = None) -> float:
    """A rough wall-time estimate: a run's earlier wall time where an earlier sweep ran it, else steps (epochs x
    training samples / batch) x a per-step cost; plus a per-run overhead, spread over the workers.
    Loads each dataset once to count its samples (no TensorFlow)."""
    from ..catalog.datasets import load_dataset

    previous = previous or {}
    sizes: dict = {}
    total = 0.0
    for run in runs:
        if run.name in previous:
            total += previous[run.name] + RUN_OVERHEAD_SECONDS
            continue
        data = run.config.data
        key = (data["dataset"], repr(sorted(data["params"].items())), data["target"])
        if key not in sizes:
            try:
                sizes[key] = len(load_dataset(data["dataset"], data["params"], data["target"], run.config.seed).x)
            except ConfigError:
                sizes[key] = 1000
        n_train = max(1, int(sizes[key] * (1 - data["validation_split"] - data["test_split"])))
        batch = run.config.training["batch_size"]
        steps_per_epoch = 1 if batch == "full" else math.ceil(n_train / min(int(batch), n_train))
        total += run.config.training["epochs"] * steps_per_epoch * STEP_SECONDS + RUN_OVERHEAD_SECONDS
    return WORKER_START_SECONDS + total / max(1, workers)


def dry_run_lines(sweep: Sweep, workers: int) -> list[str]:
    lines = [f"sweep {sweep.name}: {len(sweep.runs)} runs ({sweep.spec['mode']} over "
             f"{', '.join(sweep.spec['vary'])}{' x seeds' if sweep.spec.get('seeds') else ''})"]
    for run in sweep.runs:
        lines.append(f"  {run.name}: " + " ".join(f"{k}={inline_yaml(v)}" for k, v in run.values.items()))
    previous = previous_wall_times(sweep)
    seconds = estimate_seconds(sweep.runs, workers, previous)
    known = sum(run.name in previous for run in sweep.runs)
    how = (f"{known} run(s) from the wall time of an earlier {sweep.name} sweep, the others " if known else "")
    lines.append(f"estimated time: about {_duration(seconds)} with {workers} worker(s) ({how}epochs x steps per epoch "
                 f"x {STEP_SECONDS * 1000:g} ms per step; + {RUN_OVERHEAD_SECONDS:g} s per run, over the workers, "
                 f"+ {WORKER_START_SECONDS:g} s to start TensorFlow)")
    return lines
