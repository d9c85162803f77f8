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
