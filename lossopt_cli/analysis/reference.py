"""What is achievable on a dataset: the best validation loss among the runs that share it (a sweep).

A run whose loss levelled off far above what another run reached on the same data, split and loss
under-fits, however much its own loss fell from its first epoch. ``apply_references`` re-diagnoses
a sweep's runs with that reference (``diagnose_history(reference=...)``) and rewrites
``diagnosis.json`` (and the verdict in ``summary.json``) of those whose findings change.
"""

from __future__ import annotations

import json
import math

from ..rundir import USABLE
from .runs import RunRecord


def data_key(record: RunRecord) -> str | None:
    """Runs with the same data section, seed (the split) and loss share a reference."""
    config = record.config or {}
    if not config.get("data"):
        return None
    return json.dumps({"data": config["data"], "loss": config.get("loss"), "seed": config.get("seed")}, sort_keys=True,
                      default=str)


def references(records: list[RunRecord]) -> dict[str, dict]:
    """{run name: {"val_loss": best of the other runs on the same data, "run": its name}} for the runs
    that share their data with at least one other run."""
    best: dict[str, tuple[float, str]] = {}
    members: dict[str, list[RunRecord]] = {}
    for record in records:
        key = data_key(record)
        if key is None or record.status not in USABLE or record.verdict in ("diverged", "unstable"):
            continue
        if not record.history:  # interrupted before its first epoch: no curve to judge or to judge by
            continue
        members.setdefault(key, []).append(record)
        values = [v for v in record.history.get("val_loss", []) if isinstance(v, float) and math.isfinite(v)]
        if values and (key not in best or min(values) < best[key][0]):
            best[key] = (min(values), record.name)
    out = {}
    for key, runs in members.items():
        if len(runs) > 1 and key in best:
            for record in runs:
                if record.name != best[key][1]:
                    out[record.name] = {"val_loss": best[key][0], "run": best[key][1]}
    return out


def apply_references(records: list[RunRecord]) -> list[RunRecord]:
    """Re-diagnose each run with its reference; return the runs whose verdict or findings changed."""
    from .diagnose import diagnose_path, write_diagnosis

    changed = []
    refs = references(records)
    for record in records:
        ref = refs.get(record.name) if record.path.is_dir() else None
        if not ref:
            continue
        before = (record.summary.get("verdict"), record.summary.get("findings"))
        result = diagnose_path(record.path, reference=ref)
        codes = [f["code"] for f in result["findings"]]
        if (result["verdict"], codes) != before:  # a run's files are rewritten only when its diagnosis changes
            write_diagnosis(record.path, reference=ref)
            record.summary["verdict"], record.summary["findings"] = result["verdict"], codes
            changed.append(record)
    return changed
