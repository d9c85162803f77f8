"""``training.distribute``: one run's model replicated with a ``tf.distribute`` strategy.

``none`` trains on TensorFlow's default device; ``mirrored`` is ``MirroredStrategy`` over every
GPU of the machine (every logical CPU device when there is no GPU). ``training.batch_size`` is the
global batch: Keras splits each batch across the replicas. (``multi_worker`` is refused by the
config: Keras 3's ``model.fit`` does not run under ``MultiWorkerMirroredStrategy``.)
"""

from __future__ import annotations

import contextlib


def make_strategy(config):
    """The strategy for ``config``, or None for ``none``."""
    if config.training.distribute != "mirrored":
        return None
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in devices])


def scope(strategy):
    """Where the model, its optimizer and metrics are built: the strategy's scope, or nothing."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def replicas(strategy) -> int:
    return strategy.num_replicas_in_sync if strategy is not None else 1
