"""The run recorder: one object owns one run directory, from its creation to its report.

``RunRecorder.create`` makes a new directory (never reuses one) and writes the resolved
``config.yaml`` and a first ``summary.json``; ``RunRecorder.reopen`` takes an existing one back
(its ``history.csv`` rows and ``summary.json``) to continue it. Then ``record_epoch`` once per
finished epoch (``history.csv`` rewritten atomically, ``summary.json`` kept current),
``save_model``, ``finish(status)`` and ``finalize()`` (diagnosis, curves, report).

Nothing here needs Keras: ``callbacks.RecorderCallback`` feeds a recorder from ``model.fit``,
and a custom loop that trains several models at once feeds one recorder per model.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from .. import liveness, rundir
from ..config import RunConfig, dump


@dataclass
class RunResult:
    run_dir: Path
    status: str
    summary: dict
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in rundir.SUCCEEDED


class RunRecorder:
    """Owns one run directory. ``info`` is what ``summary.json`` says about the run besides its
    progress (data sizes, batch size, versions, notes); ``monitor`` picks the best epoch;
    ``on_epoch(epoch, row)`` is called after each recorded epoch (progress lines, a sweep)."""

    def __init__(self, run_dir: Path, base: dict, monitor: str, rows: list[dict] = (),
                 on_epoch: Callable[[int, dict], None] | None = None, previous_wall_time: float = 0.0,
                 write: Callable[[Path, str | bytes], None] = rundir.atomic_write):
        self.run_dir = Path(run_dir)
        self.base = base
        self.monitor = monitor
        self.on_epoch = on_epoch
        self.write = write  # the per-epoch files' writer: atomic_write, or rundir.QUEUED (in the background)
        self.history_writer = rundir.HistoryWriter(self.run_dir / rundir.HISTORY, rows, write)
        self.started = time.time()
        self.previous_wall_time = previous_wall_time  # of the earlier sessions of a reopened run
        self.extra: dict = {}
        self.status = "running"
        self.diverged_at: int | None = None

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, config: RunConfig, *, monitor: str = "val_loss", info: Mapping[str, Any] | None = None,
               run_dir: str | Path | None = None, on_epoch=None, write=rundir.atomic_write) -> RunRecorder:
        """A new run directory under ``config.output.dir`` (or the new, empty ``run_dir`` given, as a sweep
        makes them), with ``config.yaml`` and a ``summary.json`` of status ``running``. ``write``: how the
        per-epoch files are written (``rundir.QUEUED``: in the background, in order)."""
        run_dir = Path(run_dir) if run_dir is not None else rundir.create_run_dir(config.output.dir, config.name)
        if any(run_dir.iterdir()):
            raise FileExistsError(f"{run_dir} is not empty: a run directory is never reused")
        rundir.atomic_write(run_dir / rundir.CONFIG, dump(config))
        base = {"name": config.name, "run_dir": str(run_dir), "seed": config.seed, "status": "running",
                "epochs_requested": config.training.epochs, "started_at": _iso(time.time()), **(info or {}),
                **liveness.owner()}  # pid and host: `list` tells a live run from one whose process is gone
        recorder = cls(run_dir, base, monitor, on_epoch=on_epoch, write=write)
        recorder.write_summary()
        return recorder

    @classmethod
    def reopen(cls, run_dir: str | Path, *, monitor: str | None = None, on_epoch=None,
               keep_epochs: int | None = None, write=rundir.atomic_write) -> RunRecorder:
        """An existing run directory, to continue it: its epochs so far and its summary are read back;
        the next ``record_epoch`` appends after them. ``config.yaml`` is left as it is. ``keep_epochs``:
        continue after that many epochs (those of the checkpoint), dropping any recorded after it."""
        run_dir = Path(run_dir)
        history = run_dir / rundir.HISTORY
        rows = rundir.read_history_rows(history) if history.is_file() else []
        if keep_epochs is not None:
            rows = rows[:keep_epochs]
        summary = rundir.read_summary(run_dir)
        if not summary and not rows:
            raise FileNotFoundError(f"{run_dir} is not a run directory (no {rundir.SUMMARY}, no {rundir.HISTORY})")
        progress = {"status", "epochs_run", "monitor", "best_epoch", "best", "final", "wall_time_seconds",
                    "finished_at", "diverged_at_epoch", "stopped_epoch", "test", "error", "traceback", "verdict"}
        base = {k: v for k, v in summary.items() if k not in progress}
        base.setdefault("name", run_dir.name)
        base["run_dir"] = str(run_dir)
        base.update(liveness.owner())  # this process writes it now
        recorder = cls(run_dir, base, monitor or summary.get("monitor") or "val_loss", rows, on_epoch,
                       previous_wall_time=float(summary.get("wall_time_seconds") or 0.0), write=write)
        return recorder

    # --- during training ------------------------------------------------------------------

    @property
    def epochs_recorded(self) -> int:
        """Epochs in ``history.csv``: a reopened run continues at this epoch (Keras' ``initial_epoch``)."""
        return len(self.history_writer.rows)

    @property
    def history(self) -> dict[str, list[float]]:
        writer = self.history_writer
        return {c: [r.get(c, math.nan) for r in writer.rows] for c in writer.columns}

    def record_epoch(self, epoch: int, logs: Mapping[str, float]) -> dict:
        """Append a finished epoch (1-based) to ``history.csv`` and bring ``summary.json`` up to date.
        A loss that is no longer finite sets ``diverged_at``: the caller stops training."""
        row = {k: float(v) for k, v in logs.items()}
        self.history_writer.append(epoch, row)
        if not math.isfinite(row.get("loss", 0.0)) and self.diverged_at is None:
            self.diverged_at = int(epoch)
        self.write_summary()
        if self.on_epoch:
            self.on_epoch(int(epoch), row)
        return row

    def update(self, **fields: Any) -> None:
        """Add fields to ``summary.json`` (e.g. ``test`` scores) and write it."""
        self.extra.update(fields)
        self.write_summary()

    def write_summary(self) -> dict:
        summary = {**self.base, "status": self.status, **summarize(self.history, self.monitor),
                   "wall_time_seconds": round(self.previous_wall_time + time.time() - self.started, 3), **self.extra}
        rundir.write_json(self.run_dir / rundir.SUMMARY, summary, self.write)
        return summary

    def finalize_writes(self) -> None:
        """``flush``, warning instead of raising: the report is drawn from what is on disk and must never lose the run."""
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001
            print(f"warning: could not write the run's files: {exc}", file=sys.stderr)

    def flush(self) -> None:
        """Wait until the files written in the background are on disk (raises this run's write error)."""
        flush = getattr(self.write, "flush", None)
        if flush is not None:
            flush(self.run_dir)

    def save_model(self, model) -> Path:
        """``model.keras``, written whole or not at all."""
        return rundir.atomic_save(self.run_dir / rundir.MODEL, model.save)

    # --- the end --------------------------------------------------------------------------

    def finish(self, status: str, **extra: Any) -> dict:
        """Record the final status (``rundir.STATUSES``) with any fields that explain it."""
        if status not in rundir.STATUSES:
            raise ValueError(f"unknown run status {status!r}; valid: {', '.join(rundir.STATUSES)}")
        self.status = status
        self.extra.update(extra, finished_at=_iso(time.time()))
        summary = self.write_summary()
        self.flush()  # from here on the run's files are read back (the diagnosis, the report, a resume)
        return summary

    def fail(self, exc: BaseException) -> dict:
        """Finish as ``failed`` with the error and a short traceback: the finished epochs stay."""
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8))
        return self.finish("failed", error=f"{type(exc).__name__}: {exc}"[:2000], traceback=trace[-4000:])

    def finalize(self) -> None:
        """``diagnosis.json``, ``curves.png`` and ``report.html`` from the saved files; only warns on failure.
        A run stopped before its first epoch ended has nothing to draw: its summary says so."""
        self.finalize_writes()
        if self.epochs_recorded:
            finalize(self.run_dir)

    def result(self, notes: list[str] | None = None) -> RunResult:
        self.finalize_writes()
        return RunResult(self.run_dir, self.status, rundir.read_summary(self.run_dir), list(notes or []))


def summarize(history: dict[str, list[float]], monitor: str) -> dict:
    """best epoch (by ``monitor``, lowest for losses, highest otherwise), best and final metrics."""
    epochs = history.get("epoch", [])
    if not epochs:
        return {"epochs_run": 0, "best_epoch": None, "best": {}, "final": {}, "monitor": monitor}
    key = monitor if monitor in history else "loss"
    values = history.get(key, [])
    finite = [(v, i) for i, v in enumerate(values) if isinstance(v, float) and math.isfinite(v)]
    best_i = None
    if finite:
        from ..analysis.stats import lower_is_better

        best_i = (min if lower_is_better(key) else max)(finite)[1]
    metrics = [k for k in history if k != "epoch"]
    return {
        "epochs_run": len(epochs),
        "monitor": key,
        "best_epoch": epochs[best_i] if best_i is not None else None,
        "best": {k: history[k][best_i] for k in metrics} if best_i is not None else {},
        "final": {k: history[k][-1] for k in metrics},
    }


def finalize(run_dir: Path, summary: dict | None = None) -> None:
    """Everything drawn from the saved files, whatever the status: ``diagnosis.json`` (with the
    thresholds of the run's ``config.yaml``) and the verdict in ``summary.json``, ``curves.png``
    and ``report.html``. A failing step only warns: it must never lose the run."""
    try:
        from ..reporting.html import report_run

        report_run(run_dir, on_error=lambda what, exc: print(f"warning: could not write {what}: {exc}",
                                                              file=sys.stderr))
    except Exception as exc:  # an import error must not lose the run either
        print(f"warning: could not diagnose or report the run: {exc}", file=sys.stderr)
    from ..tracking.mlflow_store import finish_live_run

    finish_live_run(run_dir)  # tracking.mlflow: the verdict, the files and the status (never raises)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))
