"""The tuning phase of a ``mode: tune`` sweep: one Optuna study per compared configuration, the same budget each.

Each study (TPE, seeded from the sweep's ``seed`` and the configuration's index, so reproducible) lives in
``<sweep>/optuna.db`` (Optuna's RDB storage: ``optuna.load_study`` and ``optuna-dashboard`` read it). The
study is asked from this process (ask-and-tell); its trials are ordinary jobs for the sweep's executor,
``workers`` at a time, each a normal run directory ``<sweep>/trials/<configuration>/<n>/``. With
``prune: diagnosis`` every trial carries a ``PruneCallback`` judged against the best finished trial's
curve. A finished trial (complete, pruned, failed) is never trained again: ``--resume`` asks only for the
trials missing, and a trial left running by an interrupted sweep is marked failed and replaced.
The best trial of each study gives the seed runs (``runs/``) that the leaderboard ranks.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from ... import config as config_module
from ... import rundir
from ...analysis.stats import lower_is_better
from ..plan import PlannedRun, Sweep, by_depth, plan_runs, run_name

STUDY_DB = "optuna.db"
TRIALS = "trials"
TUNE_FILE = "tune.json"  # per configuration: its best values, trial counts and pruned trials


def storage_url(sweep_dir: Path) -> str:
    return f"sqlite:///{(Path(sweep_dir) / STUDY_DB).resolve()}"


def compared(sweep: Sweep) -> list[dict]:
    """The compared configurations' values (``vary:``), as planned."""
    from ..plan import _check_values
    from ..tune_space import expand_tune

    return expand_tune(dict(sweep.spec), _check_values)


def tune(sweep: Sweep, sweep_dir: Path, executor, echo=None) -> list[PlannedRun]:
    """Run every study to its budget, then the seed runs at each configuration's best values."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec, base = sweep.spec, sweep.spec["base"]
    metric = spec.get("rank_by") or "val_loss"
    higher = not lower_is_better(metric)
    summary = {}
    for index, values in enumerate(compared(sweep)):
        group = run_name(values) or "base"
        study = optuna.create_study(study_name=group, storage=storage_url(sweep_dir), load_if_exists=True,
                                    direction="maximize" if higher else "minimize",
                                    sampler=optuna.samplers.TPESampler(seed=spec.get("seed", 0) * 1000 + index))
        study.set_user_attr("values", values)
        _fail_stale(study)
        root = sweep_dir / TRIALS / group
        root.mkdir(parents=True, exist_ok=True)
        while True:
            done = [t for t in study.trials if t.state.is_finished() and "status" in t.user_attrs]  # not stale
            missing = spec["trials"] - len(done)
            if missing <= 0:
                break
            reference = _reference(study, metric) if spec.get("prune", "diagnosis") == "diagnosis" else None
            asked = [study.ask() for _ in range(min(missing, max(1, executor.workers)))]
            jobs = []
            from ..executors.base import Job

            for trial in asked:
                params = {k: _suggest(trial, k, v) for k, v in spec["search"].items()}
                raw = config_module.apply_overrides(base, {"name": f"{group}-trial{trial.number}",
                                                           **by_depth({**values, **params})})
                prune = None if spec.get("prune") == "none" else {
                    "monitor": metric, "higher": higher, "reference": reference}
                jobs.append(Job(str(trial.number), config_module.validate(raw), str(root), prune=prune))
            by_number = {str(t.number): t for t in asked}
            executor.run(jobs, functools.partial(_tell_by_name, study, by_number, metric, higher, echo, group))
        summary[group] = _study_summary(study, values)
    rundir.write_json(sweep_dir / TUNE_FILE, {"metric": metric, "storage": STUDY_DB, "configurations": summary})
    return seed_runs(spec, summary)


def seed_runs(spec: dict, summary: dict) -> list[PlannedRun]:
    """Each configuration at its best values on every seed; with ``compare_fixed``, also at its own values."""
    seeds = spec.get("seeds")
    runs = []
    for group, s in summary.items():
        if s["best_params"] is None:
            continue
        tuned = {**s["values"], **s["best_params"]}
        for run in plan_runs(spec["base"], [{**tuned, "seed": seed} for seed in seeds] if seeds else [tuned]):
            run.compared = group
            runs.append(run)
    if spec.get("compare_fixed"):
        from .fixed import fixed_runs

        runs += fixed_runs(spec["base"], [s["values"] for s in summary.values()], spec["search"], seeds)
    return runs


def _tell_by_name(study, by_number: dict, metric: str, higher: bool, echo, group: str, result) -> None:
    _tell(study, by_number[result.name], result, metric, higher, echo, group)


def _suggest(trial, key: str, values):
    if isinstance(values, list):
        return trial.suggest_categorical(key, values)
    if values["integer"]:
        return trial.suggest_int(key, int(round(values["low"])), int(round(values["high"])), log=values["log"])
    return trial.suggest_float(key, values["low"], values["high"], log=values["log"])


def _fail_stale(study) -> None:
    """Trials left running by an interrupted sweep: failed (kept in the study, not counted in the budget)."""
    import optuna

    for trial in study.trials:
        if trial.state == optuna.trial.TrialState.RUNNING:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    study.trials  # noqa: B018 - refreshed


def _curve(run_dir, metric: str) -> list[float]:
    if not run_dir:
        return []
    try:
        history = rundir.read_history(Path(run_dir) / rundir.HISTORY)
    except (OSError, ValueError):
        return []
    return list(history.get(metric) or history.get(metric.removeprefix("val_")) or [])


def _reference(study, metric: str) -> list[float] | None:
    """The curve of the best complete trial so far (None before the first one)."""
    import optuna

    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        return None
    return _curve(study.best_trial.user_attrs.get("run_dir"), metric) or None


def _tell(study, trial, result, metric: str, higher: bool, echo, group: str) -> None:
    """Report the trial's curve to Optuna (the dashboard's intermediate values), then its state and value."""
    import math

    import optuna

    State = optuna.trial.TrialState
    if result.status in ("interrupted", "not_started"):
        return  # left running: --resume marks it failed and asks again
    curve = _curve(result.run_dir, metric)
    for step, value in enumerate(curve, start=1):
        if math.isfinite(value):
            trial.report(value, step)
    summary = result.summary or {}
    trial.set_user_attr("run_dir", result.run_dir)
    trial.set_user_attr("status", result.status)
    finite = [v for v in curve if math.isfinite(v)]
    if result.status == "pruned":
        trial.set_user_attr("prune_reason", summary.get("prune_reason"))
        trial.set_user_attr("pruned_at_epoch", summary.get("pruned_at_epoch"))
        study.tell(trial, state=State.PRUNED)
    elif result.status == "diverged":
        trial.set_user_attr("prune_reason", f"diverged at epoch {summary.get('diverged_at_epoch')}")
        study.tell(trial, state=State.PRUNED if finite else State.FAIL)
    elif result.status in rundir.SUCCEEDED and finite:
        study.tell(trial, (max if higher else min)(finite))
    else:
        study.tell(trial, state=State.FAIL)
    if echo:
        line = f"{group} trial {trial.number}: {result.status}"
        if finite and result.status in rundir.SUCCEEDED:
            line += f", best {metric} {(max if higher else min)(finite):.4g}"
        if result.status == "pruned":
            line += f" at epoch {summary.get('pruned_at_epoch')} ({summary.get('prune_reason')})"
        echo(line + f" [{', '.join(f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}' for k, v in trial.params.items())}]")


def _study_summary(study, values: dict) -> dict:
    import optuna

    State = optuna.trial.TrialState
    trials = study.trials
    complete = [t for t in trials if t.state == State.COMPLETE]
    best = study.best_trial if complete else None
    return {
        "values": values, "study": study.study_name,
        "best_params": dict(best.params) if best else None, "best_value": best.value if best else None,
        "best_trial": best.number if best else None,
        "trials": {s.name.lower(): sum(t.state == s for t in trials) for s in (State.COMPLETE, State.PRUNED, State.FAIL)},
        "epochs": sum(len(t.intermediate_values) for t in trials),
        "pruned": [{"trial": t.number, "epoch": t.user_attrs.get("pruned_at_epoch"),
                    "reason": t.user_attrs.get("prune_reason"), "params": t.params}
                   for t in trials if t.state == State.PRUNED],
    }


def echo_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def tune_lines(sweep_dir: Path) -> list[str]:
    """What the studies found, for the sweep's printed output: per configuration its tuned values and trials."""
    path = Path(sweep_dir) / TUNE_FILE
    if not path.is_file():
        return []
    tuned = rundir.read_json(path)
    lines = [f"tuned ({tuned['metric']}, best trial of each study in {STUDY_DB}):"]
    for group, s in tuned["configurations"].items():
        best = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (s["best_params"] or {}).items())
        counts = s["trials"]
        lines.append(f"  {group}: {best or 'no complete trial'} (trial {s['best_trial']}); {counts['complete']} complete, "
                     f"{counts['pruned']} pruned, {counts['fail']} failed; {s['epochs']} trial epochs")
        for p in s["pruned"]:
            lines.append(f"    pruned trial {p['trial']} at epoch {p['epoch']}: {p['reason']}")
    return lines


def plan_lines(sweep, workers: int, executor: str, step_seconds) -> list[str]:
    """``--dry-run`` of a tune sweep: the compared configurations, the search space, the budget and an estimate
    at most (pruned trials stop early). ``step_seconds(runs, workers, executor)``: ``estimate.estimate_seconds``."""
    from ..plan import inline_yaml
    from ..tune_space import budget
    from .fixed import dry_run_line

    spec = sweep.spec
    trials, final, fixed = budget(spec, len(sweep.runs))
    epochs = sweep.runs[0].config.training["epochs"] if sweep.runs else 0
    lines = [f"sweep {sweep.name}: tune {len(sweep.runs)} configuration(s) over {', '.join(spec['vary'])}, "
             f"{spec['trials']} trials each (Optuna TPE, seed {spec.get('seed', 0)}), "
             f"{spec.get('prune', 'diagnosis')} pruning"]
    for run in sweep.runs:
        lines.append(f"  {run.name}: " + " ".join(f"{k}={inline_yaml(v)}" for k, v in run.values.items()))
    lines.append("search, the same for each: " + ", ".join(f"{k}={inline_yaml(v)}" for k, v in spec["search"].items()))
    lines.append(f"budget: {trials} trials x {epochs} epochs = {trials * epochs} trial epochs at most, then "
                 f"{final} run(s) at each configuration's best values (seeds {spec.get('seeds') or 'none'})"
                 + (f" and {fixed} at its own values" if fixed else ""))
    lines += [line] if (line := dry_run_line(spec, sweep.runs)) else []
    rounds = spec["trials"] + len(spec.get("seeds") or [0]) * (2 if fixed else 1)
    seconds = step_seconds(sweep.runs, workers, executor) * rounds
    lines.append(f"estimated time: at most about {seconds / 60:.1f} min with the {executor} executor and {workers} "
                 f"worker(s), less with pruning; trials under trials/<configuration>/<n>/, studies in optuna.db")
    return lines
