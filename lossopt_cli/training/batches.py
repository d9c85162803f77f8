"""lossopt owns the batch order: each epoch's order of the training samples is a function of
(seed, epoch), so a resumed run sees exactly the batches an uninterrupted one would have seen.

``epoch_order(seed, epoch, n)`` is that order (a permutation with ``training.shuffle``, the
identity without); ``epoch_dataset`` feeds ``model.fit`` the batches of epochs
``first_epoch..epochs-1`` in those orders, one ``tf.data`` stream that ``fit`` consumes
``steps_per_epoch`` batches at a time (Keras does not reset it between epochs).
"""

from __future__ import annotations

import math

import numpy as np


def epoch_order(seed: int, epoch: int, n: int, shuffle: bool = True) -> np.ndarray:
    """The order of the ``n`` training samples in ``epoch`` (0-based) of a run seeded ``seed``."""
    if not shuffle:
        return np.arange(n, dtype="int64")
    return np.random.default_rng([int(seed), int(epoch), 0x1055]).permutation(n).astype("int64")


def steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def epoch_dataset(x, y, sample_weight, batch_size: int, seed: int, shuffle: bool, first_epoch: int, epochs: int):
    """A ``tf.data.Dataset`` of the batches of epochs ``first_epoch`` to ``epochs - 1``, in ``epoch_order``."""
    import tensorflow as tf

    n = len(x)
    x_t, y_t = tf.constant(x), tf.constant(y)
    w_t = tf.constant(sample_weight) if sample_weight is not None else None

    def order(epoch):
        return epoch_order(seed, int(epoch), n, shuffle)

    def batches(epoch):
        indices = tf.numpy_function(order, [epoch], tf.int64, stateful=False)
        indices.set_shape([n])
        return tf.data.Dataset.from_tensor_slices(indices).batch(batch_size)

    def gather(indices):
        if w_t is None:
            return tf.gather(x_t, indices), tf.gather(y_t, indices)
        return tf.gather(x_t, indices), tf.gather(y_t, indices), tf.gather(w_t, indices)

    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(batches).map(gather)
    return dataset.prefetch(2)
