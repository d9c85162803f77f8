"""MLflow as a second home for lossopt's runs: each run directory becomes an MLflow run (the flattened
config as params, every history column per epoch as metrics with the epoch as step, the verdict and the
finding codes as tags, the run's files as artifacts) and a sweep becomes a parent run with its runs
nested under it.

Every MLflow run carries the tag ``lossopt.run_dir`` (the run directory's absolute path), which is how a
run logged live is found again at its end, how a sweep finds its children whatever process or Ray node
trained them, and why a second export adds nothing. Tracking never stops training: the first failure
(an unreachable store) prints one warning and the rest of the run is not tracked; ``lossopt export
mlflow`` can send it later. Only the MLflow client is used (explicit run ids, no active-run stack), so
the runs of a fused group can be logged side by side in one process.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

from .. import rundir
from ..schema import ConfigError

RUN_TAG = "lossopt.run_dir"
SWEEP_TAG = "lossopt.sweep_dir"
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own nesting tag
ARTIFACTS = (rundir.CURVES, rundir.REPORT, rundir.DIAGNOSIS, rundir.SUMMARY, rundir.CONFIG, rundir.HISTORY)
SWEEP_ARTIFACTS = ("leaderboard.csv", "comparison.png", "lr_sensitivity.png", "final_metric_boxplot.png",
                   rundir.REPORT, rundir.SUMMARY)
INSTALL = "pip install 'lossopt[mlflow]'"
_warned: set[str] = set()


def client(uri: str | None):
    """An ``MlflowClient`` for ``uri`` (None or True: MLFLOW_TRACKING_URI, else MLflow's default)."""
    try:
        import mlflow  # noqa: F401
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ConfigError(f"MLflow tracking needs the mlflow package: {INSTALL} (from a clone: pip install -e "
                          f"'.[mlflow]').", key="tracking.mlflow") from None
    if uri is True or uri is None:
        uri = os.environ.get("MLFLOW_TRACKING_URI") or None
    return MlflowClient(tracking_uri=uri)


def experiment_id(mlflow_client, name: str) -> str:
    found = mlflow_client.get_experiment_by_name(name)
    return found.experiment_id if found else mlflow_client.create_experiment(name)


def find_run(mlflow_client, experiment: str, tag: str, value: str):
    escaped = value.replace("'", "\\'")
    runs = mlflow_client.search_runs([experiment], filter_string=f"tags.`{tag}` = '{escaped}'", max_results=1)
    return runs[0] if runs else None


def flatten(config: dict, prefix: str = "") -> dict[str, str]:
    """``{"optimizer.learning_rate": "0.001", ...}``: a config as MLflow params (values as text, cut at 6000)."""
    out: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name[:250]] = str(value)[:6000]
    return out


def history_metrics(history: dict[str, list[float]]):
    """MLflow ``Metric`` objects: every column per epoch (the epoch as step); NaN and infinities skipped."""
    from mlflow.entities import Metric

    epochs = history.get("epoch", [])
    out = []
    for key, values in history.items():
        if key == "epoch":
            continue
        for epoch, value in zip(epochs, values):
            if isinstance(value, (int, float)) and math.isfinite(value):
                out.append(Metric(key, float(value), 0, int(epoch)))
    return out


def safely(what: str, fn, *args, **kwargs):
    """Call ``fn``; on any failure warn once per kind of failure and return None: tracking never stops a run."""
    try:
        return fn(*args, **kwargs)
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - a tracking store may fail in any way
        if what not in _warned:
            _warned.add(what)
            print(f"warning: MLflow tracking: could not {what} ({type(exc).__name__}: {str(exc)[:200]}); training "
                  f"goes on, and `lossopt export mlflow RUN_DIR` can send the run later.", file=sys.stderr)
        return None


# --- one run ---------------------------------------------------------------------------------------


def start_run(mlflow_client, experiment: str, run_dir: Path, config: dict):
    """A new MLflow run for a run directory (params and tags), or the one already logged for it."""
    key = str(Path(run_dir).resolve())
    existing = find_run(mlflow_client, experiment, RUN_TAG, key)
    if existing is not None:
        return existing.info.run_id
    run = mlflow_client.create_run(experiment, run_name=Path(run_dir).name,
                                   tags={RUN_TAG: key, "lossopt.name": str(config.get("name"))})
    params = flatten({k: v for k, v in config.items() if k not in ("output",)})
    from mlflow.entities import Param

    items = [Param(k, v) for k, v in params.items()]
    for i in range(0, len(items), 100):  # MLflow takes at most 100 params per batch
        mlflow_client.log_batch(run.info.run_id, params=items[i:i + 100])
    return run.info.run_id


def finish_run(mlflow_client, run_id: str, run_dir: Path, metrics: bool = False) -> None:
    """The verdict and finding codes as tags, the run's files (and model) as artifacts, the status; with
    ``metrics``, the whole history too (an export: nothing was logged live)."""
    run_dir = Path(run_dir)
    summary = rundir.read_json_or_empty(run_dir / rundir.SUMMARY)
    if metrics and (run_dir / rundir.HISTORY).is_file():
        logged = history_metrics(rundir.read_history(run_dir / rundir.HISTORY))
        for i in range(0, len(logged), 1000):
            mlflow_client.log_batch(run_id, metrics=logged[i:i + 1000])
    tags = {"lossopt.status": str(summary.get("status")), "lossopt.verdict": str(summary.get("verdict")),
            "lossopt.findings": ",".join(summary.get("findings") or [])}
    for key, value in tags.items():
        mlflow_client.set_tag(run_id, key, value)
    for name in ARTIFACTS:
        if (run_dir / name).is_file():
            mlflow_client.log_artifact(run_id, str(run_dir / name))
    if (run_dir / rundir.MODEL).is_file():
        mlflow_client.log_artifact(run_id, str(run_dir / rundir.MODEL), artifact_path="model")
    status = "FINISHED" if summary.get("status") in ("completed", "early_stopped") else (
        "KILLED" if summary.get("status") == "interrupted" else "FAILED")
    mlflow_client.set_terminated(run_id, status=status)


def experiment_of(config: dict) -> str:
    tracking = config.get("tracking") or {}
    return str(tracking.get("experiment") or config.get("name") or "lossopt")


def finish_live_run(run_dir: Path) -> None:
    """At the end of a run that tracked itself live (``tracking.mlflow``): tags, artifacts, status."""
    config = rundir.read_config(run_dir) or {}
    uri = (config.get("tracking") or {}).get("mlflow")
    if not uri:
        return

    def finish():
        mlflow_client = client(uri)
        experiment = experiment_id(mlflow_client, experiment_of(config))
        run_id = start_run(mlflow_client, experiment, run_dir, config)
        finish_run(mlflow_client, run_id, run_dir)

    safely("finish the run", finish)


# --- after the fact: lossopt export mlflow ------------------------------------------------------------


def export(paths, uri: str | None = None, experiment: str | None = None) -> list[str]:
    """Send run and sweep directories to MLflow (sweeps as a parent with nested runs); what was already sent
    (a run with the same ``lossopt.run_dir`` tag) is not sent again. Returns the lines to print."""
    from ..analysis.runs import is_run_dir, is_sweep_dir, sweep_runs

    mlflow_client = client(uri)
    lines = []
    for path in map(Path, paths):
        if is_sweep_dir(path):
            name = experiment or rundir.read_json_or_empty(path / rundir.SUMMARY).get("name") or path.name
            exp = experiment_id(mlflow_client, name)
            parent, new_parent = _sweep_parent(mlflow_client, exp, path)
            sent = 0
            for record in sweep_runs(path):
                if record.path.is_dir() and is_run_dir(record.path):
                    sent += _export_run(mlflow_client, exp, record.path, parent)
            lines.append(f"{path}: sweep -> experiment {name!r}, parent run {parent}"
                         f" ({'new' if new_parent else 'already there'}), {sent} run(s) sent")
        elif path.is_dir() and is_run_dir(path):
            config = rundir.read_config(path) or {}
            name = experiment or experiment_of(config)
            exp = experiment_id(mlflow_client, name)
            sent = _export_run(mlflow_client, exp, path, None)
            lines.append(f"{path}: run -> experiment {name!r}" + ("" if sent else " (already there: nothing sent)"))
        else:
            raise ConfigError(f"{path} is neither a run directory nor a sweep directory.", key=str(path))
    return lines


def _sweep_parent(mlflow_client, experiment: str, sweep_dir: Path) -> tuple[str, bool]:
    key = str(sweep_dir.resolve())
    found = find_run(mlflow_client, experiment, SWEEP_TAG, key)
    if found is not None:
        return found.info.run_id, False
    run = mlflow_client.create_run(experiment, run_name=sweep_dir.name, tags={SWEEP_TAG: key, "lossopt.kind": "sweep"})
    for name in SWEEP_ARTIFACTS:
        if (sweep_dir / name).is_file():
            mlflow_client.log_artifact(run.info.run_id, str(sweep_dir / name))
    mlflow_client.set_terminated(run.info.run_id, status="FINISHED")
    return run.info.run_id, True


def _export_run(mlflow_client, experiment: str, run_dir: Path, parent: str | None) -> int:
    """1 when the run was sent, 0 when it was already there (it is then only nested under ``parent``)."""
    existing = find_run(mlflow_client, experiment, RUN_TAG, str(run_dir.resolve()))
    if existing is not None:
        if parent and existing.data.tags.get(PARENT_TAG) != parent:
            mlflow_client.set_tag(existing.info.run_id, PARENT_TAG, parent)
        return 0
    config = rundir.read_config(run_dir) or {}
    run_id = start_run(mlflow_client, experiment, run_dir, config)
    if parent:
        mlflow_client.set_tag(run_id, PARENT_TAG, parent)
    finish_run(mlflow_client, run_id, run_dir, metrics=True)
    return 1


def nest_sweep(sweep_dir: Path, uri: Any, experiment: str) -> None:
    """At the end of a tracked sweep: its parent run (leaderboard and plots as artifacts), with every run the
    sweep logged live nested under it."""
    def nest():
        mlflow_client = client(uri)
        exp = experiment_id(mlflow_client, experiment)
        parent, _ = _sweep_parent(mlflow_client, exp, sweep_dir)
        from ..analysis.runs import sweep_runs

        for record in sweep_runs(sweep_dir):
            if record.path.is_dir():
                found = find_run(mlflow_client, exp, RUN_TAG, str(record.path.resolve()))
                if found is not None:
                    mlflow_client.set_tag(found.info.run_id, PARENT_TAG, parent)

    safely("nest the sweep's runs", nest)
