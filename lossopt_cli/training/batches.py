"""The order in which a run sees its training samples: one permutation per epoch, a pure function
of the run's seed and the epoch, shared by every way of training.

``epoch_order(seed, epoch, n)`` is what makes a run reproducible whichever way it is trained:
alone or fused with other runs (``training.fused``: one compiled call per epoch), through
``model.fit`` when a callback needs it (fed ``training_dataset``, the same permutations), or resumed
from an epoch (the epochs before it need not be replayed). Epochs are counted from 0, as Keras' callbacks count them.
NumPy only: TensorFlow is imported by ``training_dataset`` alone.
"""

from __future__ import annotations

import math

import numpy as np


def epoch_order(seed: int, epoch: int, n: int, shuffle: bool = True) -> np.ndarray:
    """The sample indices of epoch ``epoch`` (0-based) of a run seeded ``seed``, as int64.
    Without ``shuffle``, every epoch is ``0..n-1`` in order."""
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n).astype(np.int64)


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches per epoch: the last one holds the remainder (as Keras' ``fit`` does)."""
    return max(1, math.ceil(n / max(1, batch_size)))


def training_dataset(x, y, sample_weight, *, seed: int, batch_size: int, shuffle: bool, epochs: int,
                     initial_epoch: int = 0):
    """A ``tf.data.Dataset`` of the batches of epochs ``initial_epoch..epochs-1`` in lossopt's order,
    for ``model.fit(dataset, steps_per_epoch=steps_per_epoch(n, batch_size), initial_epoch=...)``.

    The arrays are held once as tensors; each batch is gathered from them by index."""
    import tensorflow as tf

    n = len(x)
    arrays = tuple(tf.constant(a) for a in ((x, y) if sample_weight is None else (x, y, sample_weight)))

    def order(epoch):
        return epoch_order(seed, int(epoch), n, shuffle)

    steps = steps_per_epoch(n, batch_size)

    def batches(epoch):
        indices = tf.numpy_function(order, [epoch], tf.int64, stateful=False)
        indices.set_shape([n])

        def batch(step):
            chosen = indices[step * batch_size:(step + 1) * batch_size]
            return tuple(tf.gather(a, chosen) for a in arrays)

        return tf.data.Dataset.range(steps).map(batch)

    return tf.data.Dataset.range(initial_epoch, epochs).flat_map(batches).prefetch(2)
