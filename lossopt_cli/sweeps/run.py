"""Running a sweep: the sweep directory is created (or resumed), the runs not yet finished go to an
executor, and the results (leaderboard, plots, summary, report) are written from the saved runs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from .. import rundir, signals
from ..rundir import PLAN, RUNS
from ..schema import ConfigError
from .hparams import write_sweep_hparams
from .plan import Sweep, create_sweep_dir, finished_runs, load_plan, load_sweep, resumable_runs, write_plan
from .progress import Progress


@dataclass
class SweepOutcome:
    sweep_dir: Path
    results: dict  # run name -> JobResult, for the runs of this invocation
    interrupted: bool
    rows: list  # the leaderboard
    notes: dict

    @property
    def failed(self) -> list[str]:
        return [n for n, r in self.results.items() if r.status == "failed"]

    def lines(self) -> list[str]:
        from ..reporting.sweep_report import table_lines
        from .tune.study import tune_lines

        lines = tune_lines(self.sweep_dir) + (table_lines(self.rows, self.notes) if self.rows else [])
        for name in self.failed:
            lines.append(f"failed: {name}: {self.results[name].error}")
        from ..reporting.sweep_report import COMPARISON, LEADERBOARD

        written = [f for f in (LEADERBOARD, COMPARISON, rundir.REPORT) if (self.sweep_dir / f).is_file()]
        lines.append(f"sweep: {self.sweep_dir}" + (f" ({', '.join(written)})" if written else ""))
        if self.interrupted:
            lines.append(f"interrupted: finish it with --resume {self.sweep_dir}")
        return lines


def open_sweep(sweep_file: str | None, overrides: Mapping[str, Any] | None = None,
               resume_dir: str | None = None) -> Sweep:
    """The sweep to run: expanded from the file, or (``--resume``) as recorded in the sweep directory."""
    if resume_dir:
        if overrides:
            raise ConfigError("--set cannot change a sweep being resumed: its runs are recorded in "
                              f"{Path(resume_dir) / PLAN}. Start a new sweep instead.", key="--set")
        return load_plan(resume_dir)
    if not sweep_file:
        raise ConfigError("give a sweep file (e.g. configs/sweeps/optimizers.yaml) or --resume SWEEP_DIR.")
    return load_sweep(sweep_file, overrides)


def start(sweep: Sweep, executor, resume_dir: str | None = None, quiet: bool = False) -> SweepOutcome:
    """Create the sweep directory (or reuse the one resumed) and run what is missing, with progress on stderr.
    The executor's workers (kept between its ``run`` calls and for the sweep's plots) end before it returns."""
    executor.start()
    try:
        return _start(sweep, executor, resume_dir, quiet)
    finally:
        executor.close()


def _start(sweep: Sweep, executor, resume_dir: str | None, quiet: bool) -> SweepOutcome:
    sweep_dir = Path(resume_dir) if resume_dir else create_sweep_dir(sweep)
    if sweep.spec.get("mode") == "tune":  # first the studies; their best values make the seed runs
        interrupted = tune_phase(sweep, sweep_dir, executor, quiet)
        if interrupted is not None:
            return interrupted
    done = len(finished_runs(sweep_dir)) if resume_dir else 0
    if not quiet:
        print(f"sweep {sweep.name}: {len(sweep.runs)} runs, {len(sweep.runs) - done} to run, "
              f"{executor.name} executor with {executor.workers} worker(s) -> {sweep_dir}", file=sys.stderr)
        for note in sweep.notes if not resume_dir else []:
            print(f"note: {note}", file=sys.stderr)
    progress = None if quiet else Progress(len(sweep.runs), done, metric=sweep.spec.get("rank_by") or "val_loss")
    try:
        return run_sweep(sweep, sweep_dir, executor, progress, resume=bool(resume_dir))
    finally:
        if progress:
            progress.close()


def tune_phase(sweep: Sweep, sweep_dir: Path, executor, quiet: bool) -> SweepOutcome | None:
    """Tune every compared configuration (``sweeps.tune.study``); ``sweep.runs`` become the seed runs at the
    best values, recorded in ``plan.json``. Ctrl-C: an interrupted outcome (``--resume`` continues the studies)."""
    from .tune.study import STUDY_DB, echo_stderr, tune

    if not quiet:
        trials = sweep.spec["trials"]
        print(f"sweep {sweep.name}: tuning {len(sweep.runs)} configuration(s) x {trials} trials "
              f"({sweep.spec.get('prune', 'diagnosis')} pruning) -> {sweep_dir / STUDY_DB}", file=sys.stderr)
    try:
        with signals.deferred():
            sweep.runs = tune(sweep, sweep_dir, executor, echo=None if quiet else echo_stderr)
            signals.check()
    except KeyboardInterrupt:
        return SweepOutcome(sweep_dir, {}, True, [], {})
    write_plan(sweep_dir, sweep)
    return None


def run_sweep(sweep: Sweep, sweep_dir: Path, executor, progress: Callable | None = None,
              resume: bool = False) -> SweepOutcome:
    """Run every planned run not yet finished in ``sweep_dir``, then write the results."""
    from ..insight.lr_find import resolve_sweep
    from ..reporting import sweep_report
    from .executors.base import Job

    results: dict = {}

    def on_result(result):
        results[result.name] = result
        if progress:
            progress(result)

    interrupted = False
    try:
        with signals.deferred():  # in-process (serial) runs stop at the end of a step
            if resolve_sweep(sweep, sweep_dir, echo=(lambda line: print(line, file=sys.stderr)) if progress else None):
                write_plan(sweep_dir, sweep)  # optimizer.learning_rate: lr_find -> the rates found, kept for --resume
            done = finished_runs(sweep_dir) if resume else {}
            resumable = resumable_runs(sweep_dir) if resume else {}  # interrupted runs continue from their checkpoints
            jobs = [Job(r.name, r.config, str(sweep_dir / RUNS), _str(resumable.get(r.name)))
                    for r in sweep.runs if r.name not in done]
            if not executor.trains_in_this_process and not executor.calls_in_workers:
                sweep_report.warm_up()  # matplotlib, while the runs train elsewhere (a Ray cluster)
            executor.run(jobs, on_result)
            signals.check()
    except KeyboardInterrupt:
        interrupted = True
    with signals.deferred():  # Ctrl-C here: the results are still written whole
        rows, notes = sweep_report.write_sweep_results(sweep_dir, sweep, results, interrupted=interrupted,
                                                       call=executor.call)  # the plots in the workers, if kept
        write_sweep_hparams(sweep_dir, sweep)  # with training.tensorboard: the HParams dashboard
        _nest_tracked_runs(sweep, sweep_dir)
    if interrupted and len(finished_runs(sweep_dir)) == len(sweep.runs):
        interrupted = False  # every run had finished: nothing to resume
    return SweepOutcome(sweep_dir, results, interrupted, rows, notes)


def _nest_tracked_runs(sweep: Sweep, sweep_dir: Path) -> None:
    """tracking.mlflow: the sweep's parent run in MLflow, with the runs (logged live by whichever process or
    node trained them) nested under it."""
    tracked = next((run.config.tracking for run in sweep.runs if run.config.tracking.mlflow), None)
    if tracked:
        from ..tracking.mlflow_store import nest_sweep

        nest_sweep(sweep_dir, tracked.mlflow, tracked.experiment or sweep.name)


def redraw(sweep_dir: str | Path) -> SweepOutcome:
    """Rewrite a sweep's leaderboard, plots, summary.json and report.html from its saved runs (no training,
    no TensorFlow): what ``lossopt report SWEEP_DIR`` needs."""
    from ..reporting import sweep_report

    sweep_dir = Path(sweep_dir)
    sweep = load_plan(sweep_dir)
    rows, notes = sweep_report.write_sweep_results(sweep_dir, sweep, {})
    write_sweep_hparams(sweep_dir, sweep)
    return SweepOutcome(sweep_dir, {}, False, rows, notes)


def _str(path) -> str | None:
    return str(path) if path is not None else None
