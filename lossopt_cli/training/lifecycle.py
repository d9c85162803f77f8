"""A run's life, written once: its run directory opened, its ending worked out after training, the run finished.

Three drivers train runs and all go through here: ``runner.execute`` (one run, or one resumed),
``fused_runs.train_group`` (each member of a fused group) and ``keras.LossoptCallback`` (a user's
own ``model.fit``). The steps, in order:

1. ``open_run`` (a config-driven run: a new run directory, or one reopened from its checkpoint) or
   ``open_user_run`` (a user's ``model.fit``): ``config.yaml`` and a ``summary.json`` of status
   ``running``, with the same fields whoever trains it.
2. Training, recorded every epoch by ``callbacks.RecorderCallback`` (not here).
3. ``end_training``: the status from how training ended (``ending``: diverged, early_stopped,
   completed; or interrupted, failed), test and per-class scores, the model, the final ``summary.json``.
4. ``close``: the diagnosis and report (``RunRecorder.finalize``) and the ``RunResult``.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from .. import __version__, liveness, rundir
from .recorder import RunRecorder, RunResult

USER_SCRIPT = "user_script"  # summary.json's and config.yaml's recorded_from for a user's own model.fit


def library_versions() -> dict:
    import keras
    import numpy
    import tensorflow as tf

    return {"lossopt": __version__, "python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


def run_info(prepared) -> dict:
    """What ``summary.json`` says about a run besides its progress: the data, the batch size, versions, notes."""
    config, data = prepared.config, prepared.data
    return {"data": {"dataset": config.data.dataset, "task": data.task, "n_classes": data.n_classes,
                     "input_shape": list(data.input_shape), **data.sizes(),
                     "majority_class_rate": data.majority_class_rate(), "constant_model": data.constant_model,
                     "class_names": data.class_names, "class_counts": data.class_counts,
                     "reference_fit": _reference_fit(prepared)},
            "batch_size": prepared.batch_size, "replicas": prepared.replicas, "versions": library_versions(),
            "notes": prepared.notes}


def _reference_fit(prepared) -> dict:
    """What simple models (neighbours, boosted trees) reach on the run's split (``training.reference_fit``): the diagnosis' evidence
    that a bigger model would help, or that the data are at their ceiling."""
    from .reference_fit import reference_fit

    data = prepared.data
    return reference_fit(data.x_train, data.y_train, data.x_val, data.y_val, data.encoding,
                         prepared.config.loss_spec().name, seed=prepared.config.seed)


# --- 1. opening ---------------------------------------------------------------------------------


def open_run(prepared, *, run_dir: Path | None = None, on_epoch=None, resume: bool = False,
             info: dict | None = None) -> tuple[RunRecorder, tuple | None]:
    """The recorder of a prepared run and the checkpoint it continues from (None for a new run).
    New: a new run directory (or the empty ``run_dir`` given); ``info`` adds to ``summary.json``.
    ``resume``: the run in ``run_dir`` reopened at its checkpoint, the model's state restored. The per-epoch
    files (``history.csv``, ``summary.json``, ``checkpoint.npz``) are written in the background, in order
    (``rundir.QUEUED``); ``RunRecorder.finish`` waits for them."""
    if resume:
        from . import checkpoint

        saved = checkpoint.read(run_dir)
        if saved is not None:
            checkpoint.restore(prepared.model, *saved)
        recorder = RunRecorder.reopen(run_dir, monitor=prepared.monitor, on_epoch=on_epoch,
                                      keep_epochs=saved[0]["epoch"] if saved else 0, write=rundir.QUEUED)
        recorder.write_summary()  # status running again, with this process as its owner
        return recorder, saved
    recorder = RunRecorder.create(prepared.config, monitor=prepared.monitor, info={**run_info(prepared), **(info or {})},
                                  run_dir=run_dir, on_epoch=on_epoch, write=rundir.QUEUED)
    return recorder, None


def open_user_run(run_dir: Path, config_text: str, *, name: str, epochs: int | None, script: str | None,
                  data: dict, monitor: str) -> RunRecorder:
    """A run trained by a user's own ``model.fit`` (``LossoptCallback``): the same ``summary.json`` fields as a
    config-driven run (owner pid and host included), ``recorded_from: user_script``, no seed."""
    rundir.atomic_write(run_dir / rundir.CONFIG, config_text)
    base = {"name": name, "run_dir": str(run_dir), "seed": None, "status": "running", "epochs_requested": epochs,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "recorded_from": USER_SCRIPT, "script": script,
            "data": data, "versions": library_versions(), "notes": [], **liveness.owner()}
    recorder = RunRecorder(run_dir, base, monitor)
    recorder.write_summary()
    return recorder


# --- 3. the end of training ---------------------------------------------------------------------


def ending(recorder: RunRecorder, callbacks: Iterable = (), model=None) -> tuple[str, dict]:
    """After training returned: the run's status and the summary fields that explain it. Early stopping is read
    from a ``keras.callbacks.EarlyStopping`` among ``callbacks`` or, for a user's ``fit`` whose callbacks lossopt
    does not hold, from ``model.stop_training``."""
    import keras

    if recorder.diverged_at is not None:
        return "diverged", {"diverged_at_epoch": recorder.diverged_at}
    from .callbacks import PruneCallback

    pruned = next((c for c in callbacks if isinstance(c, PruneCallback) and c.pruned_at is not None), None)
    if pruned is not None:  # a tune sweep's trial stopped by its diagnosis
        return "pruned", {"pruned_at_epoch": pruned.pruned_at, "prune_reason": pruned.reason}
    early = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)), None)
    if early is not None and early.stopped_epoch > 0:
        return "early_stopped", {"stopped_epoch": early.stopped_epoch + 1}
    if model is not None and getattr(model, "stop_training", False):  # EarlyStopping (or another callback) stopped fit
        rows = recorder.history_writer.rows
        return "early_stopped", {"stopped_epoch": rows[-1]["epoch"] if rows else 0}
    return "completed", {}


def end_training(prepared, recorder: RunRecorder, callbacks: list, *, interrupted: bool = False,
                 failure: BaseException | None = None, left_early: bool = False) -> None:
    """However training ended, the run's final status in ``summary.json``. ``failure``: training raised it;
    ``interrupted``: Ctrl-C/SIGTERM stopped it; ``left_early``: this run had already stopped on its own
    (a fused member stopped early or diverged), so its ending is its own. A failure here fails the run,
    never loses it."""
    try:
        if failure is not None and not left_early:
            recorder.fail(failure)
        elif interrupted and not left_early:
            recorder.finish("interrupted")
        else:
            _finish_trained(prepared, recorder, callbacks)
    except KeyboardInterrupt:
        recorder.finish("interrupted")
    except Exception as exc:  # noqa: BLE001
        recorder.fail(exc)


def _finish_trained(prepared, recorder: RunRecorder, callbacks: list) -> None:
    """After training (alone or fused): the status from the callbacks, test and per-class scores, the model."""
    status, extra = ending(recorder, callbacks)
    if status != "diverged":
        from .predictions import Predictions

        predictions = Predictions(prepared)  # each split through the model once, for both scores
        if prepared.data.x_test is not None:
            extra["test"] = predictions.test_scores()
        extra["per_class"] = _per_class(predictions)
    if prepared.config.output.save_model:
        recorder.save_model(prepared.model)
    data = recorder.base.get("data")
    if isinstance(data, dict) and data.get("reference_fit"):  # the trees fitted in the background while it trained
        from .reference_fit import settle

        data["reference_fit"] = settle(data["reference_fit"])
    recorder.finish(status, **extra)


def _per_class(predictions) -> dict | None:
    """Per-class precision, recall and confusion (``training.per_class``); a failure only warns."""
    try:
        return predictions.per_class()
    except Exception as exc:  # noqa: BLE001 - extra detail must never lose the run
        print(f"warning: could not compute per-class scores: {exc}", file=sys.stderr)
        return None


# --- 4. closing ---------------------------------------------------------------------------------


def close(recorder: RunRecorder, notes: list[str] | None = None, *, status: str | None = None,
          failure: BaseException | None = None, **extra: Any) -> RunResult:
    """The run's diagnosis and report, and its result. A run still ``running`` is finished first: as
    ``failed`` with ``failure``, else with ``status`` (and the fields in ``extra`` that explain it)."""
    if recorder.status == "running":
        if failure is not None:
            recorder.fail(failure)
        elif status is not None:
            recorder.finish(status, **extra)
    recorder.finalize()
    return recorder.result(notes)
