"""``training.distribute``: one run's model replicated with a ``tf.distribute`` strategy.

``none`` trains on TensorFlow's default device. ``mirrored`` is ``MirroredStrategy`` over every
GPU of the machine (every logical CPU device when there is no GPU); ``multi_worker`` is
``MultiWorkerMirroredStrategy`` over the machines ``TF_CONFIG`` names, each running the same
``lossopt train``. ``training.batch_size`` is the global batch: Keras splits each batch across the
replicas. Only the chief writes the run directory; the other workers write theirs to a temporary
directory that is deleted when they exit (they must still save, as Keras' collective save needs them).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import tempfile

from ..schema import ConfigError


def make_strategy(config):
    """The strategy for ``config`` (None for ``none``). Call it before TensorFlow runs anything: a
    multi-worker strategy configures the collective ops when TensorFlow starts."""
    kind = config.training.get("distribute", "none")
    if kind == "none":
        return None
    if kind == "multi_worker" and not os.environ.get("TF_CONFIG"):
        raise ConfigError("training.distribute is multi_worker, but TF_CONFIG is not set. Set TF_CONFIG on each "
                          "worker (its cluster and its own task; see the README), or use mirrored for the devices "
                          "of one machine.", key="training.distribute")
    import tensorflow as tf

    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    try:
        return tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(f"training.distribute multi_worker could not start ({exc}). It must be the first thing "
                          f"TensorFlow does in its process: run it with `lossopt train` on each worker, not in a "
                          f"sweep.", key="training.distribute") from None


def scope(strategy):
    """Where the model, its optimizer and metrics are built: the strategy's scope, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def replicas(strategy) -> int:
    return strategy.num_replicas_in_sync if strategy is not None else 1


def is_chief(tf_config: str | None = None) -> bool:
    """True unless ``TF_CONFIG`` makes this process a worker other than the chief (the task of type
    ``chief``, or worker 0 when the cluster has no chief)."""
    raw = os.environ.get("TF_CONFIG") if tf_config is None else tf_config
    if not raw:
        return True
    spec = json.loads(raw)
    task = spec.get("task") or {}
    kind, index = task.get("type", "worker"), int(task.get("index", 0))
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in (spec.get("cluster") or {})


def scratch_run_dir() -> str:
    """A run directory for a worker that is not the chief: written like the chief's, deleted at exit."""
    path = tempfile.mkdtemp(prefix="lossopt-worker-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
