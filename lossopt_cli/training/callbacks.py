"""The Keras callbacks of a run, built in one place from its config.

``build_callbacks(config, recorder)`` is the list ``model.fit`` gets: ``RecorderCallback`` (feeds
the run recorder each epoch, with the learning rate in force, and stops on divergence), then
Keras' ``EarlyStopping``, ``ReduceLROnPlateau`` and ``TensorBoard`` where the config turns them on. A user's own
``model.fit`` can take the same list; ``lifecycle.ending`` reads the run's ending from it after ``fit``.
"""

from __future__ import annotations

import keras

from .. import rundir, signals
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


def build_callbacks(config, recorder: RunRecorder, resume: tuple[dict, dict] | None = None) -> list[keras.callbacks.Callback]:
    """The callbacks of a run, in the order they must run at each epoch's end. ``resume``: the
    checkpoint (meta, arrays) whose callback state a resumed run starts from."""
    callbacks: list[keras.callbacks.Callback] = [RecorderCallback(recorder)]
    training = config.training
    if training["early_stopping"]:
        callbacks.append(keras.callbacks.EarlyStopping(**training["early_stopping"], verbose=0))
    if training["reduce_lr_on_plateau"]:  # after the recorder: a cut shows from the next epoch on
        callbacks.append(keras.callbacks.ReduceLROnPlateau(**training["reduce_lr_on_plateau"], verbose=0))
    if training.get("tensorboard"):  # <run>/tensorboard/{train,validation}: tensorboard --logdir <run>
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(recorder.run_dir / rundir.TENSORBOARD),
                                                     **training["tensorboard"]))
    if training.get("checkpoint", "every_epoch") == "every_epoch" or resume is not None:
        from .checkpoint import CheckpointCallback

        meta, arrays = resume or ({}, {})
        callbacks.append(CheckpointCallback(recorder.run_dir, callbacks, meta.get("callbacks"), arrays))
    from .fused import needs_batch_hooks

    # last: an epoch is recorded (and checkpointed) before a signal stops the run. Trained by model.fit
    # (a callback acts per batch) it stops at the end of the current step; fused (one compiled call per
    # epoch) at the end of the epoch.
    callbacks.append(StopOnSignalPerStep() if needs_batch_hooks(callbacks) else StopOnSignal())
    return callbacks


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
