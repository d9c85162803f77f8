"""One run: data -> split -> model -> compile -> fit -> evaluate, written to a run directory.

``prepare_run`` does everything that can fail because of the config (loading the data,
encoding labels, building the model) before anything is written; ``execute`` creates the
run directory and trains, keeping ``history.csv`` and ``summary.json`` current after every
epoch so that a crash or Ctrl-C loses nothing that finished.
"""

from __future__ import annotations

import math
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__, liveness, rundir
from ..config import RunConfig, dump
from .data import Prepared


@dataclass
class RunResult:
    run_dir: Path
    status: str
    summary: dict
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "early_stopped")


@dataclass
class PreparedRun:
    config: RunConfig
    data: Prepared
    model: object
    batch_size: int
    monitor: str
    notes: list[str]


def seed_everything(seed: int, deterministic: bool) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def prepare_run(config: RunConfig) -> PreparedRun:
    """Pre-flight, load data, build + compile the model, one checked step. Raises ConfigError; writes nothing."""
    from . import import_tensorflow, preflight

    checked = preflight.check_data(config)  # data-level errors come before TensorFlow's import
    import_tensorflow()
    data, batch_size, notes = checked.data, checked.batch_size, list(checked.notes)
    context = {"task": data.task, "encoding": data.encoding, "n_classes": data.n_classes,
               "from_logits": bool(config.loss.get("from_logits"))}
    seed_everything(config.seed, config.deterministic)
    model = config.model_spec().build(input_shape=data.input_shape, output_units=data.output_units,
                                      default_activation=data.output_activation)
    model.compile(optimizer=config.optimizer_spec().build(), loss=config.loss_spec().build(),
                  metrics=[m.build(**context) for m in config.metric_specs(data.task)])
    preflight.check_training_step(model, config, data, batch_size)
    monitor = "val_loss" if data.x_val is not None else "loss"
    return PreparedRun(config, data, model, batch_size, monitor, notes)


def library_versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {"lossopt": __version__, "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


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


def execute(prepared: PreparedRun, verbose="auto", on_epoch=None, run_dir: Path | None = None) -> RunResult:
    """Train a prepared run into a new run directory (or the empty ``run_dir`` given)."""
    import keras

    from .callbacks import EpochRecorder, StopOnSignal

    config, data = prepared.config, prepared.data
    run_dir = run_dir or rundir.create_run_dir(config.output["dir"], config.name)
    rundir.atomic_write(run_dir / rundir.CONFIG, dump(config))
    writer = rundir.HistoryWriter(run_dir / rundir.HISTORY)
    started = time.time()
    base = {
        "name": config.name, "run_dir": str(run_dir), "seed": config.seed, "status": "running",
        "epochs_requested": config.training["epochs"], "started_at": _iso(started),
        "data": {"dataset": config.data["dataset"], "task": data.task, "n_classes": data.n_classes,
                 "input_shape": list(data.input_shape), **data.sizes(),
                 "majority_class_rate": data.majority_class_rate()},
        "batch_size": prepared.batch_size, "versions": library_versions(), "notes": prepared.notes,
        **liveness.owner(),  # pid and host: `list` tells a live run from one whose process is gone
    }

    def write_summary(status: str, extra: dict | None = None) -> dict:
        history = {c: [r.get(c, math.nan) for r in writer.rows] for c in writer.columns}
        summary = {**base, "status": status, **summarize(history, prepared.monitor),
                   "wall_time_seconds": round(time.time() - started, 3), **(extra or {})}
        rundir.write_json(run_dir / rundir.SUMMARY, summary)
        return summary

    def epoch_done(epoch, row):
        write_summary("running")
        if on_epoch:
            on_epoch(epoch, row)

    write_summary("running")
    recorder = EpochRecorder(writer, epoch_done)
    callbacks = [recorder]
    es_cfg = config.training["early_stopping"]
    early = None
    if es_cfg:
        early = keras.callbacks.EarlyStopping(**es_cfg, verbose=0)
        callbacks.append(early)
    if config.training["reduce_lr_on_plateau"]:  # after the recorder: a cut shows from the next epoch on
        callbacks.append(keras.callbacks.ReduceLROnPlateau(**config.training["reduce_lr_on_plateau"], verbose=0))
    callbacks.append(StopOnSignal())  # last: an epoch is recorded before a signal stops the run

    status, extra = "completed", {}
    try:
        prepared.model.fit(
            data.x_train, data.y_train, batch_size=prepared.batch_size, epochs=config.training["epochs"],
            validation_data=(data.x_val, data.y_val) if data.x_val is not None else None,
            sample_weight=data.sample_weight, shuffle=config.training["shuffle"], callbacks=callbacks,
            verbose=verbose,
        )
        if recorder.diverged_at is not None:
            status, extra = "diverged", {"diverged_at_epoch": recorder.diverged_at}
        elif early is not None and early.stopped_epoch > 0:
            status, extra = "early_stopped", {"stopped_epoch": early.stopped_epoch + 1}
        if data.x_test is not None and status != "diverged":
            scores = prepared.model.evaluate(data.x_test, data.y_test, batch_size=max(prepared.batch_size, 256),
                                             verbose=0, return_dict=True)
            extra["test"] = {k: float(v) for k, v in scores.items()}
        if config.output["save_model"]:
            save_model(prepared.model, run_dir / rundir.MODEL)
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as exc:  # a crash keeps the finished epochs and says why
        status = "failed"
        extra = {"error": f"{type(exc).__name__}: {exc}"[:2000],
                 "traceback": traceback.format_exc(limit=8)[-4000:]}
    summary = write_summary(status, {**extra, "finished_at": _iso(time.time())})
    finalize(run_dir, summary)
    return RunResult(run_dir, status, rundir.read_json(run_dir / rundir.SUMMARY), prepared.notes)


def finalize(run_dir: Path, summary: dict) -> None:
    """Everything drawn from the saved files, whatever the status: ``diagnosis.json`` (with the
    thresholds of the run's ``config.yaml``) and the verdict in ``summary.json``, ``curves.png``
    and ``report.html``. A failing step only warns: it must never lose the run."""
    try:
        from ..reporting.html import report_run

        report_run(run_dir, on_error=lambda what, exc: print(f"warning: could not write {what}: {exc}",
                                                              file=sys.stderr))
    except Exception as exc:  # an import error must not lose the run either
        print(f"warning: could not diagnose or report the run: {exc}", file=sys.stderr)


def save_model(model, path: Path) -> None:
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    tmp.replace(path)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))


def run(config: RunConfig, verbose="auto", on_epoch=None) -> RunResult:
    return execute(prepare_run(config), verbose=verbose, on_epoch=on_epoch)
