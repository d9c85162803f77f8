"""The commands layer: the plain function behind each ``lossopt`` command, also the Python API.

``cli.py`` parses options, calls one of these and prints what it returns; ``lossopt_cli.api``
re-exports them for Python callers. Every function takes values (``overrides`` is a mapping
``{dotted key: value}``; the command line reads ``--set`` as YAML before calling), raises
``ConfigError`` for bad input before anything is written, imports TensorFlow only when it
trains, and prints nothing but progress where asked.

In order: ``train``, ``validate``, ``sweep`` and ``dry_run``, then the commands on saved runs
(``diagnose``, ``report``, ``compare``, ``list_runs``) and ``catalog``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping

from . import rundir
from .analysis.runs import RunRecord, collect, is_run_dir, is_sweep_dir, load_run, read_json_or_empty, sweep_runs
from .analysis.verdict import CODES
from .rundir import PLAN
from .schema import ConfigError, suggest
from .sweeps.executors import DEFAULT_EXECUTOR, EXECUTORS

EXECUTOR_NAMES = tuple(EXECUTORS)  # the --executor choices
CATALOG_KINDS = ("datasets", "models", "losses", "optimizers", "metrics", "schedules")


# --- lossopt train ---------------------------------------------------------------------------


def train(config: str | Path | None, overrides: Mapping[str, Any] | None = None, *, verbose: Any = 0,
          on_note: Callable[[str], None] | None = None, resume: str | Path | None = None):
    """Train the model ``config`` describes (with ``overrides``, ``{dotted key: value}``) into a new run
    directory under its ``output.dir``. Returns the ``RunResult`` (``run_dir``, ``status``, ``summary``,
    ``notes``). ``verbose`` is Keras' (0 silent, 1 progress bar, 2 one line per epoch); ``on_note`` gets
    each pre-flight note before training starts. Raises ``ConfigError`` before anything is written.
    ``resume``: continue that interrupted run directory from its checkpoint instead (``config``, when
    given, must be the run's own)."""
    from . import config as config_module

    if resume is not None:
        from .training.resume import resume_run

        return resume_run(resume, _str(config), overrides, verbose=verbose, on_note=on_note)
    if config is None:
        raise ConfigError("give a config file (e.g. configs/quickstart.yaml), or --resume RUN_DIR.")

    cfg = config_module.load(config, overrides)
    from .insight.lr_find import resolve as resolve_lr_find
    from .training.runner import execute, prepare_run

    try:  # optimizer.learning_rate: lr_find -> the range test's recommended rate, recorded in config.yaml
        cfg, _ = resolve_lr_find(cfg, cfg.output.dir, echo=on_note)
        prepared = prepare_run(cfg)
    except ConfigError as err:  # found by the pre-flight: still the config file's fault
        raise err.in_file(str(config)) from None
    for note in prepared.notes:
        if on_note:
            on_note(note)
    return execute(prepared, verbose=verbose)


def train_lines(result) -> list[str]:
    """What ``lossopt train`` prints after training: the summary, then the verdict and its top findings."""
    from .reporting.text import run_summary_lines, verdict_lines

    lines = run_summary_lines(result.summary, result.run_dir) + verdict_lines(result.run_dir, top=3)
    if result.status == "interrupted":
        lines.append(f"interrupted: continue it with  lossopt train --resume {result.run_dir}")
    return lines


# --- lossopt validate ------------------------------------------------------------------------


def validate(path: str | Path, overrides: Mapping[str, Any] | None = None) -> tuple[str, list[str]]:
    """``lossopt validate`` on one file, without TensorFlow: a config gets the schema and data checks;
    a sweep file (it has ``vary:``) is expanded and every run it makes is validated.
    Returns a one-line summary and the notes; raises ConfigError."""
    from . import config as config_module
    from .sweeps.plan import load_sweep
    from .training.preflight import check_data

    raw = config_module.read_yaml(path)
    if isinstance(raw, dict) and ("vary" in raw or "base" in raw):
        sweep = load_sweep(path, overrides)
        return f"sweep {sweep.name}: {len(sweep.runs)} valid runs", []
    cfg = config_module.load(path, overrides)
    checked = check_data(cfg, offline=True)
    summary = f"{cfg.name}: {cfg.data.dataset}, {cfg.model.type}, {cfg.loss.name}, {cfg.optimizer.name}"
    if checked.inference:  # a CSV file: what was inferred from it, under the ok line
        from .catalog.tables import inference_lines

        summary += "\n" + "\n".join(f"  {line}" for line in inference_lines(checked.inference))
    return summary, checked.notes


# --- lossopt sweep ---------------------------------------------------------------------------


def sweep(sweep_file: str | Path | None = None, overrides: Mapping[str, Any] | None = None, *,
          executor: str = DEFAULT_EXECUTOR, workers: int | None = None, resume: str | Path | None = None,
          quiet: bool = False, address: str | None = None, yes: bool = False):
    """Run every configuration of ``sweep_file`` (``overrides`` applied to its base) with ``executor``, or
    with ``resume`` the runs still missing in that sweep directory. Progress goes to stderr unless
    ``quiet``; ``address`` is the Ray cluster of ``executor="ray"`` (default: a local Ray instance).
    Returns the ``SweepOutcome`` (``sweep_dir``, ``results``, ``rows`` (the leaderboard), ``interrupted``,
    ``failed``, ``lines()``). Raises ``ConfigError`` before any run starts; a sweep of more than
    ``guards.MAX_RUNS`` runs needs ``yes`` (or a confirmation on a terminal)."""
    from .sweeps import run

    runner = _executor(executor, workers, address)
    plan = run.open_sweep(_str(sweep_file), overrides, _str(resume))
    if not resume:
        _confirm_size(plan, runner.workers, yes)
    return run.start(plan, runner, _str(resume), quiet)


def _confirm_size(plan, workers: int, yes: bool) -> None:
    """More than ``guards.MAX_RUNS`` runs: ``yes``, or a confirmation on a terminal, with the dry run's estimate."""
    from .guards import MAX_RUNS, confirm_sweep_size

    if len(plan.runs) <= MAX_RUNS or yes:
        return
    from .sweeps.estimate import estimate_seconds
    from .sweeps.progress import _duration

    estimate = f"--dry-run estimates about {_duration(estimate_seconds(plan.runs, workers))} with {workers} worker(s)"
    try:
        confirm_sweep_size(len(plan.runs), yes, estimate)
    except ConfigError as err:
        raise err.in_file(plan.source) from None


def dry_run(sweep_file: str | Path | None = None, overrides: Mapping[str, Any] | None = None, *,
            executor: str = DEFAULT_EXECUTOR, workers: int | None = None, resume: str | Path | None = None,
            address: str | None = None) -> list[str]:
    """The runs a sweep would train and an estimate of its wall time; trains nothing, no TensorFlow."""
    from .sweeps import run
    from .sweeps.estimate import dry_run_lines

    runner = _executor(executor, workers, address)
    plan = run.open_sweep(_str(sweep_file), overrides, _str(resume))
    return dry_run_lines(plan, runner.workers, executor) + [f"note: {note}" for note in plan.notes]


def _executor(name: str, workers: int | None, address: str | None):
    from .sweeps.executors import make_executor

    if address and name != "ray":
        raise ConfigError(f"--address is for --executor ray (got --executor {name}).", key="--address")
    return make_executor(name, workers, address=address)


def _str(path) -> str | None:
    return str(path) if path is not None else None


# --- saved runs: lossopt diagnose, report, compare, list -----------------------------------------


def diagnose(target: str | Path, fail_on: str | None = None) -> tuple[dict, list[str]]:
    """The diagnosis of a run directory or a Keras CSVLogger file, and the codes of ``fail_on``
    (``overfitting,diverged``) it found. An unknown code is a ``ConfigError``, raised first."""
    from .analysis.diagnose import diagnose_path

    gate = parse_codes(fail_on)
    from .analysis.runs import is_sweep_dir

    if Path(target).is_dir() and is_sweep_dir(Path(target)):
        result = diagnose_sweep(target)
        found = {code for run in result["runs"] for code in run["findings"]}
        return result, sorted(found & set(gate))
    result = diagnose_path(target)
    return result, sorted({f["code"] for f in result["findings"]} & set(gate))


def parse_codes(text: str | None) -> list[str]:
    """``overfitting,diverged`` -> codes; an unknown one raises ConfigError listing the valid codes."""
    codes = [c.strip() for c in (text or "").split(",") if c.strip()]
    for c in codes:
        if c not in CODES:
            raise ConfigError(f"Unknown diagnosis code '{c}' in --fail-on.{suggest(c, CODES)} "
                              f"Valid codes: {', '.join(CODES)}.", key="--fail-on")
    return codes


def diagnose_sweep(sweep_dir: str | Path) -> dict:
    """Every run of a sweep diagnosed from its saved files (as the sweep judged it: each against the best run
    on the same data); a run with no finished epoch is listed as such."""
    from .analysis.diagnose import diagnose_path
    from .analysis.reference import references
    from .analysis.runs import sweep_runs

    records = sweep_runs(Path(sweep_dir))
    refs = references(records)
    runs, verdicts = [], {}
    for record in records:
        entry = {"name": record.name, "run_dir": str(record.path), "status": record.status, "verdict": None,
                 "findings": [], "top_findings": []}
        if record.history and record.path.is_dir():
            result = diagnose_path(record.path, reference=refs.get(record.name))
            warnings = [f for f in result["findings"] if f["severity"] != "info"]
            entry.update(verdict=result["verdict"], findings=[f["code"] for f in result["findings"]],
                         top_findings=[{"code": f["code"], "message": f["message"]} for f in warnings[:1]])
        else:
            entry["verdict"] = "no epoch finished"
        verdicts[entry["verdict"]] = verdicts.get(entry["verdict"], 0) + 1
        runs.append(entry)
    return {"sweep": str(sweep_dir), "runs": runs, "verdicts": verdicts}


def report(target: str | Path, output: str | Path | None = None) -> list[str]:
    """Redraw curves.png, rewrite diagnosis.json and report.html of a run, or of each run of a sweep and
    then the sweep's own results; for a Keras CSVLogger file, the same beside it or in ``output``.
    Returns the lines to print."""
    from .reporting.html import report_run

    if Path(target).is_file():
        from .reporting.history_file import report_history_file

        return report_history_file(target, output)
    if output:
        raise ConfigError("--output applies to a CSVLogger file; a run's report is written into its directory.")
    lines = []
    for run_dir in run_dirs_to_report(target):
        diagnosis = report_run(run_dir)
        lines.append(f"{run_dir / rundir.REPORT}: verdict {diagnosis.get('verdict')}")
    if (Path(target) / PLAN).is_file():  # a sweep made by lossopt sweep: its own results too
        from .sweeps.run import redraw

        lines += redraw(target).lines()
    return lines


def run_dirs_to_report(target: str | Path) -> list[Path]:
    """A run directory -> [it]; a sweep directory (``sweep.yaml`` and ``runs/``) -> each run in it."""
    target = Path(target)
    if is_sweep_dir(target) and (target / rundir.RUNS).is_dir():
        runs = sorted(p for p in (target / rundir.RUNS).iterdir() if (p / rundir.HISTORY).exists())
        if runs:
            return runs
    if (target / rundir.HISTORY).exists():
        return [target]
    raise ConfigError(f"{target} is not a run directory (no {rundir.HISTORY}) nor a sweep directory "
                      f"(sweep.yaml and runs/).", key=str(target))


def compare(targets, output: str | Path | None = None) -> tuple[list[str], Path | None]:
    """Overlay the runs found under ``targets`` (mean ± std over seeds) and return the printed table and
    the plot's path (``output``, or ``default_comparison_path``: saved runs are never written into)."""
    from .analysis import leaderboard
    from .reporting import sweep_plots, sweep_report
    from .reporting.sweep_report import table_lines

    records = [r for r in collect(targets) if r.history.get("epoch")]
    if not records:
        raise ConfigError(f"no runs with a history.csv in {', '.join(str(t) for t in targets)}: give run directories, "
                          f"sweep directories, directories holding them, or Keras CSVLogger files.")
    plan = {}
    if len(targets) == 1 and is_sweep_dir(Path(targets[0])):  # a sweep keeps its own ranking metric and target
        plan = read_json_or_empty(Path(targets[0]) / PLAN)
    rows, notes = leaderboard.leaderboard(records, plan.get("target"), plan.get("rank_by"))
    path = Path(output) if output else default_comparison_path(targets)
    sweep_plots.plot_comparison(records, path, [r["config"] for r in rows], rank_by=notes["rank_by"])
    return table_lines(rows, notes) + sweep_report.single_run_lines(records) + [f"plot: {path}"], path


def default_comparison_path(targets, now: float | None = None) -> Path:
    """Beside a single sweep directory, ``<sweep>-comparison.png``; otherwise a new
    ``outputs/comparison-<YYYYmmdd-HHMMSS>.png`` (``-2``... where taken). Never the current directory."""
    if len(targets) == 1 and is_sweep_dir(Path(targets[0])):
        sweep_dir = Path(targets[0]).resolve()
        return sweep_dir.parent / f"{sweep_dir.name}-comparison.png"
    root = Path("outputs")
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    for n in range(1, 10_000):
        path = root / (f"comparison-{stamp}.png" if n == 1 else f"comparison-{stamp}-{n}.png")
        if not path.exists():
            return path
    raise RuntimeError(f"could not find a free file name for the comparison plot under {root}")


def list_runs(directory: str | Path = "outputs") -> list[str]:
    """One line per run or sweep under ``directory``: name, status, verdict, best validation metric."""
    from .reporting.text import fmt

    root = Path(directory)
    if not root.is_dir():
        return [f"{root}: no such directory."]
    lines = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        if is_sweep_dir(path):
            summary = read_json_or_empty(path / rundir.SUMMARY)
            total = len(read_json_or_empty(path / PLAN).get("runs", [])) or summary.get("runs_total", "?")
            runs = sweep_runs(path)
            counts = {}
            for r in runs:
                counts[r.status] = counts.get(r.status, 0) + 1
            best = (summary.get("leaderboard") or [{}])[0]
            rank_by = summary.get("rank_by") or "val_loss"
            lines.append(f"sweep  {path.name}  {summary.get('status', 'unfinished')}  {len(runs)}/{total} runs "
                         f"({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})  "
                         + (f"best {best['config']} final {rank_by} "
                            f"{fmt(best.get('final_' + rank_by + '_mean', best.get('best_' + rank_by + '_mean')))}"
                            if best.get("config") else "no leaderboard yet (--resume it)"))
        elif is_run_dir(path):
            record = load_run(path)
            metric, value = _best_val_metric(record)
            lines.append(f"run    {path.name}  {record.status}  {record.verdict or '-'}  {metric} {fmt(value)}")
    return lines or [f"no runs or sweeps in {root}."]


def _best_val_metric(record: RunRecord) -> tuple[str, float | None]:
    best = record.summary.get("best") or {}
    keys = [k for k in best if k.startswith("val_") and k != "val_loss"] or [k for k in best if k.startswith("val_")]
    if keys:
        return f"best {keys[0]}", best[keys[0]]
    return "best val_loss", None


# --- lossopt lr-find, lossopt trajectories ------------------------------------------------------


def lr_find(config: str | Path, overrides: Mapping[str, Any] | None = None, *, start: float = 1e-7,
            end: float = 10.0, steps: int = 100, diverge: float = 4.0):
    """The learning-rate range test on ``config`` (see ``lossopt_cli.insight.lr_find``): returns the outcome
    (``test.learning_rate``, ``test.suggestions``, ``directory``, ``lines()``). The weights are restored;
    ``outputs/<name>-lrfind-<time>/`` gets ``lr_find.json`` and ``lr_find.png``."""
    from .insight.lr_find import run_lr_find

    return run_lr_find(config, overrides, start=start, end=end, steps=steps, diverge=diverge)


def trajectories(function: str = "rosenbrock", optimizers="sgd,momentum,nesterov,rmsprop,adam", steps: int = 200,
                 rates=(), start: str | None = None, condition: float | None = None, animate: str | None = None,
                 output_dir: str | Path = "outputs"):
    """Keras optimizers stepping on a 2-D test function (see ``lossopt_cli.insight.trajectories``): returns the
    outcome (``trajectories``, ``directory``, ``lines()``); ``rates`` are ``NAME=RATE`` strings."""
    from .insight.trajectories import run_trajectories

    return run_trajectories(function, optimizers, steps, rates, start, condition, animate, str(output_dir))


# --- lossopt catalog -------------------------------------------------------------------------


def catalog(kind: str | None = None) -> list[str]:
    """The entries of one kind (name, description, parameters), or a summary of the kinds."""
    from .catalog.listing import catalog_lines

    return catalog_lines(kind)


# --- lossopt export mlflow --------------------------------------------------------------------


def export_mlflow(paths, uri: str | None = None, experiment: str | None = None) -> list[str]:
    """Send run and sweep directories to MLflow (``lossopt export mlflow``); see ``tracking.mlflow_store``."""
    from .tracking.mlflow_store import export

    return export(paths, uri, experiment)


# --- lossopt schema --------------------------------------------------------------------------


def config_schema() -> dict:
    """The JSON Schema of a run config (``lossopt schema``), built by ``json_schema`` from the config's tables."""
    from .config import SECTIONS, TOP_LEVEL
    from .json_schema import config_schema as build

    return build(SECTIONS, TOP_LEVEL)


def sweep_schema() -> dict:
    """The JSON Schema of a sweep file (``lossopt schema --sweep``), built by ``json_schema`` from the sweep's table."""
    from .json_schema import sweep_schema as build
    from .sweeps.plan import SWEEP_TABLE

    return build(SWEEP_TABLE)


def render_schema(sweep: bool = False) -> str:
    """The schema as the text ``lossopt schema`` prints and ``docs/schema/`` holds."""
    import json

    return json.dumps(sweep_schema() if sweep else config_schema(), indent=2, ensure_ascii=False) + "\n"
