"""The per-epoch checkpoint that makes ``lossopt train --resume`` exact.

``checkpoint.npz`` in the run directory (``training.checkpoint: every_epoch``, the default;
``none`` writes nothing) holds, after every finished epoch: every model variable (weights,
and the dropout seed generators), every optimizer variable (its slots, its step counter, which
is the learning-rate schedule's position, and the learning rate ReduceLROnPlateau may have
cut), the state of EarlyStopping (best, wait, best weights) and ReduceLROnPlateau (best, wait,
cooldown), the epoch, and a hash of ``config.yaml``. It is written whole to a temporary name
and renamed, so a kill at any moment leaves the previous checkpoint or the new one, never half
of one; only the last is kept. NumPy writes and reads it (no pickle). A run's checkpoint is written
by its recorder's writer: in the background, after that epoch's ``history.csv`` (``rundir.QUEUED``),
so the disk's wait (``fsync``) overlaps the next epoch; the state itself is copied at the epoch's end.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import keras
import numpy as np

from .. import rundir

CHECKPOINT = "checkpoint.npz"
FORMAT = 1


def config_hash(run_dir: Path) -> str:
    return hashlib.sha256((Path(run_dir) / rundir.CONFIG).read_bytes()).hexdigest()


def _callback_state(callbacks) -> tuple[dict, dict]:
    """(JSON-able state, arrays) of the callbacks that carry state across epochs."""
    state, arrays = {}, {}
    for cb in callbacks:
        if isinstance(cb, keras.callbacks.EarlyStopping):
            state["early_stopping"] = {"wait": int(cb.wait), "best": _num(cb.best), "best_epoch": int(cb.best_epoch),
                                       "stopped_epoch": int(cb.stopped_epoch),
                                       "has_best_weights": cb.best_weights is not None}
            for i, w in enumerate(cb.best_weights or []):
                arrays[f"es_best_{i}"] = np.array(w)
        elif isinstance(cb, keras.callbacks.ReduceLROnPlateau):
            state["reduce_lr_on_plateau"] = {"wait": int(cb.wait), "best": _num(cb.best),
                                             "cooldown_counter": int(cb.cooldown_counter)}
    return state, arrays


def _num(value):
    return None if value is None else float(value)


def save(run_dir: Path, model, epoch: int, callbacks, write=rundir.atomic_write) -> Path:
    """Write ``checkpoint.npz`` for the state after ``epoch`` (1-based) finished. The state is copied here
    (under a millisecond); ``write`` (``atomic_write``, or the run's ``rundir.QUEUED``, after its ``history.csv``)
    encodes it and puts it on disk."""
    state, arrays = _callback_state(callbacks)
    for i, v in enumerate(model.variables):
        arrays[f"model_{i}"] = np.array(v.numpy())  # a copy: training goes on while it waits to be written
    for i, v in enumerate(model.optimizer.variables):
        arrays[f"optimizer_{i}"] = np.array(v.numpy())
    meta = {"format": FORMAT, "epoch": int(epoch), "model_variables": len(model.variables),
            "optimizer_variables": len(model.optimizer.variables), "callbacks": state}

    def encode() -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.array(json.dumps({**meta, "config_sha256": config_hash(run_dir)})), **arrays)
        return buffer.getvalue()

    path = Path(run_dir) / CHECKPOINT
    write(path, encode)
    return path


def read(run_dir: Path) -> tuple[dict, dict] | None:
    """(meta, arrays) of the run's checkpoint, or None when it has none."""
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays.pop("meta")))
    return meta, arrays


def restore(model, meta: dict, arrays: dict) -> None:
    """Put the checkpoint's model and optimizer variables into a freshly built, compiled ``model``."""
    model.optimizer.build(model.trainable_variables)
    if meta["model_variables"] != len(model.variables) or meta["optimizer_variables"] != len(model.optimizer.variables):
        raise ValueError(f"the checkpoint holds {meta['model_variables']} model and {meta['optimizer_variables']} "
                         f"optimizer variables; the model built from config.yaml has {len(model.variables)} and "
                         f"{len(model.optimizer.variables)}")
    for i, v in enumerate(model.variables):
        v.assign(arrays[f"model_{i}"])
    for i, v in enumerate(model.optimizer.variables):
        v.assign(arrays[f"optimizer_{i}"])


class CheckpointCallback(keras.callbacks.Callback):
    """Writes the checkpoint at the end of every epoch (after the recorder and the other callbacks
    have seen it), and puts the saved callback state back when a resumed ``fit`` begins."""

    def __init__(self, run_dir: Path, callbacks: list, resume_state: dict | None = None, arrays: dict | None = None,
                 write=rundir.atomic_write):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.write = write  # the run recorder's: the checkpoint goes to disk after the epoch's history.csv
        self.others = callbacks  # the run's callback list (this one included): whose state to save
        self.resume_state = resume_state
        self.arrays = arrays or {}

    def on_train_begin(self, logs=None):  # after EarlyStopping / ReduceLROnPlateau reset themselves
        state = self.resume_state or {}
        for cb in self.others:
            if isinstance(cb, keras.callbacks.EarlyStopping) and "early_stopping" in state:
                s = state["early_stopping"]
                cb.wait, cb.best, cb.best_epoch, cb.stopped_epoch = s["wait"], s["best"], s["best_epoch"], s["stopped_epoch"]
                if s["has_best_weights"]:
                    cb.best_weights = [self.arrays[f"es_best_{i}"] for i in range(sum(k.startswith("es_best_")
                                                                                      for k in self.arrays))]
            elif isinstance(cb, keras.callbacks.ReduceLROnPlateau) and "reduce_lr_on_plateau" in state:
                s = state["reduce_lr_on_plateau"]
                cb.wait, cb.best, cb.cooldown_counter = s["wait"], s["best"], s["cooldown_counter"]

    def on_epoch_end(self, epoch, logs=None):
        save(self.run_dir, self.model, epoch + 1, self.others, self.write)
