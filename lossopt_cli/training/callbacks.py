"""Keras callbacks of a run: write history.csv after every epoch and stop on divergence."""

from __future__ import annotations

import math

import keras

from .. import signals
from ..rundir import HistoryWriter


def current_learning_rate(optimizer) -> float | None:
    try:
        return float(f"{float(keras.ops.convert_to_numpy(optimizer.learning_rate)):.7g}")  # float32 noise off
    except Exception:  # an optimizer without a readable learning rate
        return None


class EpochRecorder(keras.callbacks.Callback):
    """Appends each finished epoch to ``history.csv`` (with the learning rate in force), calls
    ``on_epoch`` with the row, and stops training when the loss is no longer finite."""

    def __init__(self, writer: HistoryWriter, on_epoch=None):
        super().__init__()
        self.writer = writer
        self.on_epoch = on_epoch
        self.diverged_at: int | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._lr = current_learning_rate(self.model.optimizer)

    def on_epoch_end(self, epoch, logs=None):
        row = {k: float(v) for k, v in (logs or {}).items() if _is_number(v)}
        row.pop("learning_rate", None)
        if self._lr is not None:
            row["learning_rate"] = self._lr
        self.writer.append(epoch + 1, row)
        if not math.isfinite(row.get("loss", 0.0)):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
        if self.on_epoch:
            self.on_epoch(epoch + 1, row)


class StopOnSignal(keras.callbacks.Callback):
    """Ctrl-C or SIGTERM during training (see ``lossopt_cli.signals``): stop at the end of the current
    step, or right after an epoch is saved; the epoch in progress is not recorded."""

    def on_train_batch_end(self, batch, logs=None):
        signals.check()

    def on_epoch_end(self, epoch, logs=None):
        signals.check()


def _is_number(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False
