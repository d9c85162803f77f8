"""Finding and reading saved runs: run directories, sweep directories and Keras CSVLogger files.

``collect`` turns the paths a user gives (``lossopt compare``, ``lossopt list``, a sweep's own
results) into ``RunRecord``s read only through ``rundir``; runs that repeat one configuration
over seeds share a ``group``. Pure Python: no TensorFlow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import rundir
from ..rundir import PLAN, RUNS, SWEEP_FILE, read_json_or_empty  # noqa: F401 - the contract's names, used from here


@dataclass
class RunRecord:
    name: str
    path: Path
    status: str
    history: dict
    summary: dict = field(default_factory=dict)
    config: dict | None = None
    group: str = ""

    @property
    def verdict(self) -> str | None:
        return self.summary.get("verdict")

    @property
    def seed(self) -> Any:
        return self.summary.get("seed", (self.config or {}).get("seed"))

    def optimizer(self) -> tuple[str | None, float | None]:
        """(optimizer name, initial learning rate) from the run's config.yaml, where known."""
        opt = (self.config or {}).get("optimizer")
        if isinstance(opt, str):
            return opt, None
        if isinstance(opt, dict):
            lr = opt.get("learning_rate")
            return opt.get("name"), float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else None
        return None, None


def is_sweep_dir(path: Path) -> bool:
    return (path / PLAN).is_file() or ((path / SWEEP_FILE).is_file() and (path / RUNS).is_dir())


def is_run_dir(path: Path) -> bool:
    return (path / rundir.HISTORY).is_file() or (path / rundir.SUMMARY).is_file()


def load_run(path: str | Path, group: str | None = None) -> RunRecord:
    """A run directory, or a bare history CSV (Keras CSVLogger), as a ``RunRecord``."""
    path = Path(path)
    if path.is_file():
        return RunRecord(path.stem, path, "unknown", rundir.read_history(path), group=group or path.stem)
    history_path = path / rundir.HISTORY
    history = rundir.read_history(history_path) if history_path.is_file() else {}
    summary = read_json_or_empty(path / rundir.SUMMARY)
    config = rundir.read_config(path)
    name = summary.get("name") or (config or {}).get("name") or path.name
    from ..liveness import effective_status

    return RunRecord(name, path, effective_status(summary), history, summary, config,
                     group or _default_group(name))


def _default_group(name: str) -> str:
    return re.sub(r"-seed\d+$", "", name) or name


def sweep_runs(sweep_dir: Path) -> list[RunRecord]:
    """The runs of a sweep, one per planned run (its finished attempt, else its latest), in plan order."""
    plan = read_json_or_empty(sweep_dir / PLAN)
    attempts: dict[str, list[RunRecord]] = {}
    for run_path in sorted((sweep_dir / RUNS).iterdir()) if (sweep_dir / RUNS).is_dir() else []:
        if run_path.is_dir() and is_run_dir(run_path):
            record = load_run(run_path)
            attempts.setdefault(record.name, []).append(record)
    entries = plan.get("runs") or [{"name": n} for n in attempts]
    records = []
    for entry in entries:
        tries = attempts.get(entry["name"])
        if not tries:
            continue
        done = [r for r in tries if r.status in rundir.FINISHED]
        record = done[0] if done else tries[-1]
        record.group = entry.get("group") or _default_group(record.name)
        records.append(record)
    return records


def collect(targets) -> list[RunRecord]:
    """Run directories, sweep directories and CSV files -> runs; a directory of runs is searched one level down.

    A sweep's runs keep the sweep's groups (prefixed with the sweep's directory name when
    several sweeps are given); other runs are grouped when their configs differ only in
    name, seed and output directory.
    """
    targets = [Path(t) for t in targets]
    sweeps = [t for t in targets if is_sweep_dir(t)]
    records: list[RunRecord] = []
    loose: list[RunRecord] = []
    for path in targets:
        if is_sweep_dir(path):
            for record in sweep_runs(path):
                if len(sweeps) > 1:
                    record.group = f"{path.name}:{record.group}"
                records.append(record)
        elif path.is_file() or is_run_dir(path):
            loose.append(load_run(path))
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_dir() and is_sweep_dir(child):
                    records.extend(sweep_runs(child))
                elif child.is_dir() and is_run_dir(child):
                    loose.append(load_run(child))
    group_by_config(loose)
    return records + loose


def group_by_config(records: list[RunRecord]) -> None:
    """Give runs that differ only in name, seed and output one group, labelled by the name without ``-seedN``."""
    import json

    keys: dict[str, str] = {}
    labels: dict[str, list[str]] = {}
    for record in records:
        config = {k: v for k, v in (record.config or {"path": str(record.path)}).items()
                  if k not in ("name", "seed", "output")}
        key = json.dumps(config, sort_keys=True, default=str)
        if key not in keys:
            label = _default_group(record.name)
            labels.setdefault(label, []).append(key)
            n = len(labels[label])
            keys[key] = label if n == 1 else f"{label}-{n}"
        record.group = keys[key]
