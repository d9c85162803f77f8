"""A sweep in TensorBoard's HParams dashboard: the varied values and final metrics of each run.

When the sweep's runs have ``training.tensorboard`` on, the sweep's driver writes, from each
saved run's plan entry and ``summary.json`` (so whichever executor trained it):

- ``<sweep>/tensorboard/``: the experiment: the varied keys (with the values they take) and the
  metrics;
- ``<run>/tensorboard/`` (beside Keras' ``train/`` and ``validation/`` logs): the run's session,
  its varied values, its status, and its final metrics (``final/val_loss``, ...), the best value
  of the ranking metric (``best/val_loss``), ``epochs_run`` and any ``test/`` scores.

``tensorboard --logdir outputs/<sweep>`` then shows the sweep in the HParams dashboard. Each file is
one ``events.out.tfevents.*.lossopt-hparams`` written whole, and written again (the old one
replaced) when the sweep's results are: a resumed sweep or ``lossopt report <sweep>`` leaves one
per directory. Only the tensorboard package's protocol buffers and record writer are used:
no TensorFlow.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

from .. import rundir

SUFFIX = ".lossopt-hparams"  # the files this module owns (and replaces)
STATUS = {"completed": "STATUS_SUCCESS", "early_stopped": "STATUS_SUCCESS", "diverged": "STATUS_FAILURE", "pruned": "STATUS_FAILURE",
          "failed": "STATUS_FAILURE", "interrupted": "STATUS_UNKNOWN", "running": "STATUS_RUNNING"}


def wanted(sweep) -> bool:
    """Whether the sweep's runs log to TensorBoard (then the sweep writes the HParams summaries)."""
    return any(run.config.training.tensorboard for run in sweep.runs)


def write_sweep_hparams(sweep_dir: str | Path, sweep) -> list[Path]:
    """Write the experiment and one session per saved run; returns the files written.
    A failure only warns: the sweep's own results are never lost for it."""
    if not wanted(sweep):
        return []
    try:
        return _write(Path(sweep_dir), sweep)
    except Exception as exc:  # noqa: BLE001 - the HParams dashboard is an extra
        print(f"warning: could not write the HParams summaries of {sweep_dir}: {exc}", file=sys.stderr)
        return []


def _write(sweep_dir: Path, sweep) -> list[Path]:
    from tensorboard.plugins.hparams import summary_v2 as hp

    from ..analysis.runs import sweep_runs

    values = {run.name: {k: hparam_value(v) for k, v in run.values.items()} for run in sweep.runs}
    rank_by = sweep.spec.get("rank_by") or "val_loss"
    sessions = []
    for record in sweep_runs(sweep_dir):
        if record.path == sweep_dir or record.name not in values:
            continue
        sessions.append((record, session_metrics(record.summary, rank_by)))
    keys = list(dict.fromkeys(k for run_values in values.values() for k in run_values))
    metric_tags = list(dict.fromkeys(tag for _, metrics in sessions for tag in metrics))
    hparams = [hp.HParam(key, domain(values[r][key] for r in values if key in values[r])) for key in keys]
    experiment = hp.hparams_config_pb(hparams=hparams, metrics=[hp.Metric(tag) for tag in metric_tags],
                                      time_created_secs=time.time())
    written = [write_events(sweep_dir / rundir.TENSORBOARD, [(0, experiment)])]
    for record, metrics in sessions:
        started = _timestamp(record.summary.get("started_at"))
        summaries = [(0, hp.hparams_pb(values[record.name], trial_id=record.name, start_time_secs=started))]
        step = int(record.summary.get("epochs_run") or 0)
        summaries += [(step, _scalar(tag, value)) for tag, value in metrics.items()]
        summaries.append((step, session_end(record.status)))
        written.append(write_events(record.path / rundir.TENSORBOARD, summaries))
    return written


def session_metrics(summary: dict, rank_by: str) -> dict[str, float]:
    """The numbers of a run the dashboard shows: final metrics, the best ``rank_by``, epochs, test scores."""
    metrics: dict[str, float] = {}
    for key, value in (summary.get("final") or {}).items():
        if key != "learning_rate" and _number(value) is not None:
            metrics[f"final/{key}"] = _number(value)
    best = (summary.get("best") or {}).get(rank_by)
    if _number(best) is not None:
        metrics[f"best/{rank_by}"] = _number(best)
    if _number(summary.get("epochs_run")) is not None:
        metrics["epochs_run"] = _number(summary["epochs_run"])
    for key, value in (summary.get("test") or {}).items():
        if _number(value) is not None:
            metrics[f"test/{key}"] = _number(value)
    return metrics


def hparam_value(value: Any) -> bool | float | str:
    """An HParams value is a bool, a number or a string: anything else is written as inline YAML."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    from .plan import inline_yaml

    return inline_yaml(value)


def domain(values):
    """The values a varied key takes: a discrete set, or an interval for many numbers (random sweeps)."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    distinct = sorted(set(values), key=lambda v: (str(type(v)), v))
    types = {type(v) for v in distinct}
    if len(types) != 1:
        return None
    if types == {float} and len(distinct) > 10:
        return hp.RealInterval(min(distinct), max(distinct))
    return hp.Discrete(distinct)


def session_end(status: str):
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    info = plugin_data_pb2.SessionEndInfo(status=api_pb2.Status.Value(STATUS.get(status, "STATUS_UNKNOWN")),
                                          end_time_secs=time.time())
    content = plugin_data_pb2.HParamsPluginData(session_end_info=info, version=metadata.PLUGIN_DATA_VERSION)
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(
        tag=metadata.SESSION_END_INFO_TAG, metadata=metadata.create_summary_metadata(content))])


def _scalar(tag: str, value: float):
    from tensorboard.plugins.scalar import summary_v2 as scalar

    return scalar.scalar_pb(tag, value)


def write_events(directory: Path, summaries: list[tuple[int, Any]]) -> Path:
    """One event file of ``(step, Summary)`` pairs, written whole; this module's earlier file there goes."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    directory.mkdir(parents=True, exist_ok=True)
    now = time.time()
    buffer = io.BytesIO()
    writer = RecordWriter(buffer)
    writer.write(event_pb2.Event(wall_time=now, step=0, file_version="brain.Event:2").SerializeToString())
    for step, summary in summaries:
        writer.write(event_pb2.Event(wall_time=now, step=step, summary=summary).SerializeToString())
    old = list(directory.glob(f"events.out.tfevents.*{SUFFIX}"))
    path = directory / f"events.out.tfevents.{now:.6f}{SUFFIX}"
    rundir.atomic_write(path, buffer.getvalue())
    for stale in old:
        if stale != path:
            stale.unlink(missing_ok=True)
    return path


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)  # "nan" as summary.json writes it stays NaN
    except (TypeError, ValueError):
        return None


def _timestamp(text: str | None) -> float | None:
    from datetime import datetime

    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp() if text else None
    except (TypeError, ValueError):
        return None

