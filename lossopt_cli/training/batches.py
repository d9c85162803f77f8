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


BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
               "on_batch_begin", "on_batch_end")


def needs_batch_hooks(callbacks) -> bool:
    """True when a callback acts on every batch (TensorBoard's per-batch logs, say): only ``fit`` calls those."""
    import keras

    def overrides(cb, hook) -> bool:
        method = getattr(cb, hook)  # a subclass's method, or a function set on the object (LambdaCallback)
        return getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook)

    return any(overrides(cb, hook) for cb in callbacks for hook in BATCH_HOOKS)


def fit_in_order(model, data, *, batch_size: int, epochs: int, seed: int, shuffle: bool, callbacks, verbose,
                 initial_epoch: int = 0):
    """Train one run on ``data`` (a ``training.data.Prepared``) in lossopt's batch order (``epoch_order``),
    validation batched as training is, driving ``callbacks`` as ``model.fit`` does.

    When every callback acts per epoch (the recorder, early stopping, reduce-on-plateau) the run is
    trained by ``fused.fit_fused`` as a group of one: one compiled call per epoch instead of one per
    batch, and no ``tf.data`` pipeline to build (TensorFlow's fixed costs that ``fit`` pays for a
    small model, several seconds for the quickstart); the arithmetic is ``fit``'s (each step is the
    model's own ``train_step``). A callback with batch hooks gets ``model.fit`` itself, on a dataset of
    the same batches. ``verbose`` as ``fit``'s: 0 silent, 1 a progress bar, 2 one line per epoch."""
    callbacks = list(callbacks)
    if not needs_batch_hooks(callbacks):
        import keras

        from .fused import FusedMember, fit_fused

        if verbose:
            callbacks.append(keras.callbacks.ProgbarLogger())
        member = FusedMember(model, data.x_train, data.y_train, data.x_val, data.y_val, data.sample_weight, seed=seed,
                             shuffle=shuffle, callbacks=callbacks)
        fit_fused([member], batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                  verbose=1 if verbose == "auto" else verbose)
        return None
    import tensorflow as tf

    n = len(data.x_train)
    dataset = training_dataset(data.x_train, data.y_train, data.sample_weight, seed=seed, batch_size=batch_size,
                               shuffle=shuffle, epochs=epochs, initial_epoch=initial_epoch)
    validation = None if data.x_val is None else (tf.constant(data.x_val), tf.constant(data.y_val))
    return model.fit(dataset, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch(n, batch_size),
                     validation_data=validation, validation_batch_size=batch_size, shuffle=False, callbacks=callbacks,
                     verbose=verbose)
