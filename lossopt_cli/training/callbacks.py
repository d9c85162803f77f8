"""The Keras callbacks of a run, built in one place from its config.

``build_callbacks(config, recorder)`` is the list ``model.fit`` gets: ``RecorderCallback`` (feeds
the run recorder each epoch, with the learning rate in force, and stops on divergence), then
Keras' ``EarlyStopping``, ``ReduceLROnPlateau`` and ``TensorBoard`` where the config turns them on. A user's own
``model.fit`` can take the same list; ``lifecycle.ending`` reads the run's ending from it after ``fit``.
"""

from __future__ import annotations

import contextlib

import keras

from .. import rundir, signals
from ..config import RunConfig
from .recorder import RunRecorder


def current_learning_rate(optimizer) -> float | None:
    try:
        return float(f"{float(keras.ops.convert_to_numpy(optimizer.learning_rate)):.7g}")  # float32 noise off
    except Exception:  # an optimizer without a readable learning rate
        return None


class RecorderCallback(keras.callbacks.Callback):
    """Hands each finished epoch's logs (and the learning rate in force during it) to a ``RunRecorder``,
    and stops training when the loss is no longer finite."""

    def __init__(self, recorder: RunRecorder):
        super().__init__()
        self.recorder = recorder
        self._lr: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._lr = current_learning_rate(self.model.optimizer)

    def on_epoch_end(self, epoch, logs=None):
        row = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        row.pop("learning_rate", None)
        if self._lr is not None:
            row["learning_rate"] = self._lr
        self.recorder.record_epoch(epoch + 1, row)
        if self.recorder.diverged_at is not None:
            self.model.stop_training = True

    @property
    def diverged_at(self) -> int | None:
        return self.recorder.diverged_at


class MlflowCallback(keras.callbacks.Callback):
    """``tracking.mlflow``: the run's params at its start and every epoch's logs as MLflow metrics (the epoch as
    step); the verdict and the files follow when the run is finalized. A failing store warns once and is
    then left alone: tracking never stops training."""

    def __init__(self, config: RunConfig, run_dir):
        super().__init__()
        self.config, self.run_dir, self.run_id, self.client = config, run_dir, None, None

    def on_train_begin(self, logs=None):
        from ..tracking import mlflow_store as store

        def start():
            self.client = store.client(self.config.tracking.mlflow)
            recorded = self.config.to_dict()  # as config.yaml holds it, which `lossopt export mlflow` reads too
            experiment = store.experiment_id(self.client, store.experiment_of(recorded))
            return store.start_run(self.client, experiment, self.run_dir, recorded)

        self.run_id = store.safely("start the run", start)

    def on_epoch_end(self, epoch, logs=None):
        if self.run_id is None:
            return
        import math
        import time

        from mlflow.entities import Metric

        from ..tracking.mlflow_store import safely

        stamp = int(time.time() * 1000)
        metrics = [Metric(k, float(v), stamp, epoch + 1) for k, v in (logs or {}).items()
                   if isinstance(v, (int, float)) and math.isfinite(float(v))]
        safely("log an epoch", self.client.log_batch, self.run_id, metrics=metrics)


def build_callbacks(config: RunConfig, recorder: RunRecorder, resume: tuple[dict, dict] | None = None) -> list[keras.callbacks.Callback]:
    """The callbacks of a run, in the order they must run at each epoch's end. ``resume``: the
    checkpoint (meta, arrays) whose callback state a resumed run starts from."""
    callbacks: list[keras.callbacks.Callback] = [RecorderCallback(recorder)]
    if _PRUNING["spec"] is not None:  # a tune sweep's trial (see ``pruning``): after the recorder, before the rest
        callbacks.append(PruneCallback(**_PRUNING["spec"], epochs=config.training.epochs))
    training = config.training
    if training.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(**training.early_stopping, verbose=0))
    if training.reduce_lr_on_plateau:  # after the recorder: a cut shows from the next epoch on
        callbacks.append(keras.callbacks.ReduceLROnPlateau(**training.reduce_lr_on_plateau, verbose=0))
    if training.tensorboard:  # <run>/tensorboard/{train,validation}: tensorboard --logdir <run>
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(recorder.run_dir / rundir.TENSORBOARD),
                                                     **training.tensorboard))
    if config.tracking.mlflow:  # tracking.mlflow: every epoch as it ends
        callbacks.append(MlflowCallback(config, recorder.run_dir))
    if training.checkpoint == "every_epoch" or resume is not None:
        from .checkpoint import CheckpointCallback

        meta, arrays = resume or ({}, {})
        callbacks.append(CheckpointCallback(recorder.run_dir, callbacks, meta.get("callbacks"), arrays,
                                            write=recorder.write))
    from .fused import needs_batch_hooks

    # last: an epoch is recorded (and checkpointed) before a signal stops the run. Trained by model.fit
    # (a callback acts per batch) it stops at the end of the current step; fused (one compiled call per
    # epoch) at the end of the epoch.
    callbacks.append(StopOnSignalPerStep() if needs_batch_hooks(callbacks) else StopOnSignal())
    return callbacks


_PRUNING: dict = {"spec": None}


@contextlib.contextmanager
def pruning(spec: dict | None):
    """Runs built inside get a ``PruneCallback(**spec)``: a tune sweep's trial (``spec``: ``monitor``,
    ``higher``, ``reference``, ``rules``; see ``analysis.pruning``). ``None``: no pruning."""
    previous, _PRUNING["spec"] = _PRUNING["spec"], spec
    try:
        yield
    finally:
        _PRUNING["spec"] = previous


class PruneCallback(keras.callbacks.Callback):
    """Stops a hopeless trial after an epoch (``model.stop_training``): its curve so far is judged by
    ``analysis.pruning.prune_reason`` against the best finished trial's curve (``reference``)."""

    def __init__(self, monitor: str = "val_loss", higher: bool = False, reference: list | None = None,
                 rules: dict | None = None, epochs: int = 1):
        super().__init__()
        self.monitor, self.sign, self.epochs = monitor, (-1.0 if higher else 1.0), epochs
        self.reference = [self.sign * float(v) for v in reference] if reference else None
        self.rules, self.curve = rules, []
        self.pruned_at: int | None = None
        self.reason: str | None = None

    def on_epoch_end(self, epoch, logs=None):
        from ..analysis.pruning import prune_reason

        logs = logs or {}
        value = logs.get(self.monitor, logs.get(self.monitor.removeprefix("val_")))
        if value is None or not _is_number(value):
            return
        self.curve.append(self.sign * float(value))
        reason = prune_reason(self.curve, self.epochs, self.reference, self.rules)
        if reason is not None and not reason.startswith("diverged"):  # divergence: the recorder's own status
            self.pruned_at, self.reason = epoch + 1, reason
            self.model.stop_training = True


class StopOnSignal(keras.callbacks.Callback):
    """Ctrl-C or SIGTERM during training (see ``lossopt_cli.signals``): stop right after an epoch is
    recorded and checkpointed. Per epoch only, so a run can still be trained fused."""

    def on_epoch_end(self, epoch, logs=None):
        signals.check()


class StopOnSignalPerStep(StopOnSignal):
    """The same, also at the end of every step, for runs that ``model.fit`` trains anyway: the epoch in
    progress is not recorded."""

    def on_train_batch_end(self, batch, logs=None):
        signals.check()


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False
