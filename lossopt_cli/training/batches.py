"""The order in which a run sees its training samples: one permutation per epoch, a pure function
of the run's seed and the epoch, shared by every way of training.

``epoch_order(seed, epoch, n)`` is what makes a run reproducible whichever way it is trained:
alone through ``model.fit`` (fed ``training_dataset``, which reads the same permutations), fused
with other runs in one compiled step (``training.fused``), or resumed from an epoch (the epochs
before it need not be replayed). Epochs are counted from 0, as Keras' callbacks count them.
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


# A step of fewer multiply-adds than this is dominated by TensorFlow's fixed cost per call: ``fit``
# then runs a whole epoch per call (``steps_per_execution``), as ``fit_fused`` does.
SMALL_STEP_FLOPS = 50_000_000


def steps_per_execution(model, batch_size: int, steps: int) -> int:
    """``steps`` (a whole epoch per call) for a model whose training step is small, else 1.

    The arithmetic is the same either way; only the number of Python round trips changes (and a
    progress bar on a terminal then moves once per epoch, which for such a model is a blink)."""
    try:
        flops = 6 * int(model.count_params()) * int(batch_size)  # forward + backward, per batch
    except Exception:  # a model whose size cannot be read: keep Keras' default
        return 1
    return steps if flops < SMALL_STEP_FLOPS else 1


def fit_in_order(model, data, *, batch_size: int, epochs: int, seed: int, shuffle: bool, callbacks, verbose,
                 initial_epoch: int = 0):
    """``model.fit`` on ``data`` (a ``training.data.Prepared``) with lossopt's batch order (``epoch_order``),
    validation batched as training is, and ``steps_per_execution`` chosen for the model's size.
    Returns Keras' ``History``."""
    import tensorflow as tf

    n = len(data.x_train)
    steps = steps_per_epoch(n, batch_size)
    execution = steps_per_execution(model, batch_size, steps)
    if model.steps_per_execution != execution:
        model.steps_per_execution = execution
        model.make_train_function(force=True)
        model.make_test_function(force=True)
    dataset = training_dataset(data.x_train, data.y_train, data.sample_weight, seed=seed, batch_size=batch_size,
                               shuffle=shuffle, epochs=epochs, initial_epoch=initial_epoch)
    validation = None if data.x_val is None else (tf.constant(data.x_val), tf.constant(data.y_val))
    return model.fit(dataset, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps,
                     validation_data=validation, validation_batch_size=batch_size, shuffle=False, callbacks=callbacks,
                     verbose=verbose)
