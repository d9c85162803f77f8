"""Plain-text summaries printed by the command line."""

from __future__ import annotations

import math
from pathlib import Path

from .. import rundir


def fmt(value) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def run_summary_lines(summary: dict, run_dir) -> list[str]:
    run_dir = Path(run_dir)
    lines = [f"run: {run_dir}", f"status: {summary.get('status')} after {summary.get('epochs_run', 0)} of "
             f"{summary.get('epochs_requested', '?')} epochs ({fmt(summary.get('wall_time_seconds'))} s)"]
    best, final = summary.get("best") or {}, summary.get("final") or {}
    shown = [k for k in final if k.startswith("val_")] or [k for k in final if k != "learning_rate"]
    if summary.get("best_epoch") is not None:
        lines.append(f"best epoch {summary['best_epoch']} (by {summary.get('monitor')}): "
                     + ", ".join(f"{k} {fmt(best.get(k))}" for k in shown))
    if final:
        lines.append("final: " + ", ".join(f"{k} {fmt(final.get(k))}" for k in shown))
    if summary.get("test"):
        lines.append("test: " + ", ".join(f"{k} {fmt(v)}" for k, v in summary["test"].items()))
    if summary.get("error"):
        lines.append(f"error: {summary['error']}")
    if (run_dir / rundir.CURVES).exists():
        lines.append(f"curves: {run_dir / rundir.CURVES}")
    return lines


def finding_lines(result: dict, limit: int | None = None) -> list[str]:
    """The verdict and the findings, one line each (with the suggestion indented)."""
    lines = [f"verdict: {result['verdict']}"] + ([f"note: {result['epoch_note']}"] if result.get("epoch_note") else [])
    for f in result["findings"][:limit]:
        where = f" (epoch {f['epoch']})" if f.get("epoch") is not None else ""
        lines.append(f"  {f['severity']:<7} {f['code']}{where}: {f['message']}")
        if limit is None and f.get("suggestion"):
            lines.append(f"          -> {f['suggestion']}")
    return lines


def verdict_lines(run_dir: str | Path, top: int = 3) -> list[str]:
    """The verdict and the ``top`` findings of a run's ``diagnosis.json`` (nothing when absent)."""
    path = Path(run_dir) / rundir.DIAGNOSIS
    if not path.exists():
        return []
    lines = finding_lines(rundir.read_json(path), limit=top)
    if (Path(run_dir) / rundir.REPORT).exists():
        lines.append(f"report: {Path(run_dir) / rundir.REPORT}")
    return lines


def sweep_diagnosis_lines(result: dict) -> list[str]:
    """``lossopt diagnose SWEEP_DIR``: one line per run (status, verdict, the first warning), then the tally."""
    runs = result["runs"]
    width = max([len(r["name"]) for r in runs] + [3])
    lines = [f"sweep: {result['sweep']} ({len(runs)} runs)"]
    for r in runs:
        first = next((f for f in r.get("top_findings", [])), None)
        detail = f"  {first['code']}: {first['message']}" if first else ""
        lines.append(f"  {r['name']:<{width}}  {r['status']:<13} {r['verdict'] or '-':<13}{detail}")
    tally = ", ".join(f"{verdict} {count}" for verdict, count in result["verdicts"].items())
    lines.append(f"verdicts: {tally}")
    return lines
