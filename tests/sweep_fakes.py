"""Test helpers: run directories written from tiny synthetic histories, and a fake trainer for executors."""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from lossopt_cli import rundir
from lossopt_cli.rundir import create_run_dir
from lossopt_cli.sweeps.executors.base import JobResult


def write_run(run_dir: Path, name: str, val_loss: list[float], *, status: str = "completed", seed: int = 0,
              config: dict | None = None, val_accuracy: list[float] | None = None, verdict: str | None = None,
              wall: float = 1.0) -> Path:
    """A run directory as the runner leaves it: config.yaml, history.csv, summary.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    writer = rundir.HistoryWriter(run_dir / rundir.HISTORY)
    accuracy = val_accuracy or [max(0.0, 1 - v) if math.isfinite(v) else math.nan for v in val_loss]
    for epoch, (v, a) in enumerate(zip(val_loss, accuracy), 1):
        writer.append(epoch, {"loss": v * 0.9, "accuracy": a, "val_loss": v, "val_accuracy": a})
    finite = [(v, i) for i, v in enumerate(val_loss) if math.isfinite(v)]
    best_i = min(finite)[1] if finite else None
    config = {"name": name, "seed": seed, "loss": {"name": "categorical_crossentropy"},
              "optimizer": {"name": "adam", "learning_rate": 0.001}, **(config or {})}
    rundir.atomic_write(run_dir / rundir.CONFIG, yaml.safe_dump(config))
    summary = {"name": name, "status": status, "seed": seed, "epochs_run": len(val_loss),
               "best_epoch": best_i + 1 if best_i is not None else None,
               "best": {"val_loss": val_loss[best_i], "val_accuracy": accuracy[best_i]} if best_i is not None else {},
               "final": {"val_loss": val_loss[-1], "val_accuracy": accuracy[-1]}, "wall_time_seconds": wall}
    if verdict:
        summary["verdict"] = verdict
    rundir.write_json(run_dir / rundir.SUMMARY, summary)
    return run_dir


class FakeTrainer:
    """Stands in for ``executors.base.run_job``: writes a run directory whose curve depends on the config,
    records which jobs it ran, and fails (or is interrupted) where told."""

    def __init__(self, fail: tuple[str, ...] = (), interrupt: tuple[str, ...] = (), diverge: tuple[str, ...] = ()):
        self.ran: list[str] = []
        self.fail, self.interrupt, self.diverge = fail, interrupt, diverge

    def __call__(self, job) -> JobResult:
        self.ran.append(job.name)
        if job.name in self.fail:
            return JobResult(job.name, "failed", None, None, "ValueError: boom", 0.1)
        run_dir = create_run_dir(job.runs_root, job.name, stamp=False)
        config = job.config  # the RunConfig the sweep's plan validated (validated once)
        lr = config.optimizer.get("learning_rate", 0.01)
        level = 0.2 + abs(math.log10(lr) + 2) * 0.3 + 0.01 * config.seed
        curve = [level + 1.0 / epoch for epoch in range(1, 5)]
        status = "completed"
        if job.name in self.diverge:
            curve[-1], status = math.nan, "diverged"
        if job.name in self.interrupt:
            curve, status = curve[:2], "interrupted"
        write_run(run_dir, job.name, curve, status=status, seed=config.seed, config=config.to_dict())
        summary = rundir.read_json(run_dir / rundir.SUMMARY)
        return JobResult(job.name, status, str(run_dir), summary, None, 0.1)
