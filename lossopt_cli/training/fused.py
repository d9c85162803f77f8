"""Fused training: K compiled Keras models trained together, one compiled call per epoch for all K.

The runs of a sweep that share the dataset, the architecture, the batch size and the number of
epochs (and differ in optimizer, learning rate or schedule, loss, metrics or seed) do the same
small steps; alone, each pays TensorFlow's fixed cost per step (a Python call, a graph launch, the
callbacks). ``fit_fused`` pays it once for all of them: one ``tf.function`` runs a whole epoch,
each step calling every member's own Keras ``train_step`` (its own loss, optimizer and metrics:
the arithmetic of ``model.fit``), and one more runs the validation of every member.

A member's history equals the same run trained alone with ``model.fit``: the same data, the same
initial weights (the caller builds each model after seeding it), and the same batches, because both
paths read the order from ``batches.epoch_order(seed, epoch, n)``. Each member's callbacks are
Keras' own objects (``EarlyStopping``, ``ReduceLROnPlateau``, the run's recorder), driven as ``fit``
drives them; a member whose callbacks set ``model.stop_training`` (early stopping, a loss that is
no longer finite) leaves the group and the others go on. Ctrl-C propagates after the last
finished epoch: every member keeps the epochs it recorded.

``fit_in_order`` trains a single run the same way, as a group of one (``runner.execute`` uses it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .batches import epoch_order, steps_per_epoch


@dataclass
class FusedMember:
    """One run of a fused group: its compiled model, its data, its seed (the batch order) and callbacks.

    ``x_val``/``y_val`` may be None (no validation). The model must be compiled and built (its
    optimizer's variables created), as ``runner.prepare_run`` leaves it."""

    model: object
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    seed: int = 0
    shuffle: bool = True
    callbacks: list = field(default_factory=list)
    stopped_epoch: int | None = None  # the 0-based epoch after which the member left the group


def fusable_shapes(members: list[FusedMember]) -> str | None:
    """Why these members cannot be trained together (None when they can): they need the same
    numbers of training and validation samples, so that every member has the same steps."""
    sizes = {(len(m.x_train), None if m.x_val is None else len(m.x_val)) for m in members}
    if len(sizes) > 1:
        return f"the members' (training, validation) sizes differ: {sorted(sizes, key=str)}"
    return None


class _Tensors:
    """Each distinct array held once as a tensor (runs with the same seed share their split)."""

    def __init__(self):
        self.by_key: dict = {}

    def get(self, array):
        import tensorflow as tf

        if array is None:
            return None
        array = np.ascontiguousarray(array)
        key = (array.shape, str(array.dtype), hashlib.blake2b(array.data, digest_size=16).digest())
        if key not in self.by_key:
            self.by_key[key] = tf.constant(array)
        return self.by_key[key]


def fit_fused(members: list[FusedMember], *, batch_size: int, epochs: int, initial_epoch: int = 0,
              on_epoch_end=None, verbose: int = 0) -> None:
    """Train every member for ``epochs`` epochs (from ``initial_epoch``) or until its callbacks stop it.

    ``on_epoch_end(epoch, still_training)`` is called after each epoch (0-based) with the members
    still in the group. Raises what training raises (``KeyboardInterrupt`` included) after calling
    no further callbacks: the members' recorders hold every finished epoch."""
    import keras
    import tensorflow as tf
    from keras.src.utils.python_utils import pythonify_logs  # the same conversion as fit's

    problem = fusable_shapes(members)
    if problem:
        raise ValueError(f"cannot fuse these runs: {problem}")
    tensors = _Tensors()
    n_train = len(members[0].x_train)
    n_val = None if members[0].x_val is None else len(members[0].x_val)
    steps = steps_per_epoch(n_train, batch_size)
    val_steps = steps_per_epoch(n_val, batch_size) if n_val else 0
    train_data = [tuple(tensors.get(a) for a in (m.x_train, m.y_train, m.sample_weight) if a is not None)
                  for m in members]
    val_data = [None if m.x_val is None else (tensors.get(m.x_val), tensors.get(m.y_val)) for m in members]
    # Each member's callbacks driven as fit drives them: through Keras' CallbackList
    callbacks = [keras.callbacks.CallbackList(m.callbacks, model=m.model, epochs=epochs, steps=steps, verbose=verbose)
                 for m in members]
    for m, cbs in zip(members, callbacks):
        m.model.stop_training = False
        cbs.on_train_begin()
    functions: dict = {}
    from .stacked import stack_reason
    from .stacked_group import StackedGroup

    stacked = StackedGroup(members, batch_size) if stack_reason(members, initial_epoch) is None else None

    def compiled(active: tuple[int, ...]):
        if active not in functions:
            functions[active] = (_train_epoch_function([members[i].model for i in active],
                                                       [train_data[i] for i in active], batch_size, steps),
                                 _validation_function([members[i].model for i in active],
                                                      [val_data[i] for i in active], batch_size, val_steps)
                                 if n_val else None)
        return functions[active]

    active = list(range(len(members)))
    for epoch in range(initial_epoch, epochs):
        if not active:
            break
        if stacked is not None:  # one batched computation; the logs come from its stacked sums
            for i in active:
                callbacks[i].on_epoch_begin(epoch)
            logs = stacked.train_epoch(epoch)
            for i, val in stacked.validate().items():
                logs[i].update(val)
            stacked.copy_back(active)
        else:
            train_epoch, validate = compiled(tuple(active))
            orders = tuple(tf.constant(epoch_order(members[i].seed, epoch, n_train, members[i].shuffle)) for i in active)
            for i in active:
                members[i].model.reset_metrics()
                callbacks[i].on_epoch_begin(epoch)
            train_epoch(orders)
            logs = {i: dict(members[i].model.get_metrics_result()) for i in active}
            if validate is not None:
                for i in active:
                    members[i].model.reset_metrics()
                validate()
                for i in active:
                    val = pythonify_logs(members[i].model.get_metrics_result())
                    logs[i].update({f"val_{k}": v for k, v in val.items()})
        for i in active:
            member = members[i]
            callbacks[i].on_epoch_end(epoch, logs[i])
            if member.model.stop_training:
                member.stopped_epoch = epoch
        leaving = [i for i in active if members[i].model.stop_training]
        active = [i for i in active if not members[i].model.stop_training]
        if on_epoch_end is not None:
            on_epoch_end(epoch, [members[i] for i in active])
        for i in leaving:
            _end(members[i], callbacks[i], logs[i])
    for i in active:
        _end(members[i], callbacks[i], None)


def _end(member: FusedMember, callbacks, logs) -> None:
    """What ``fit`` does after its last epoch: the optimizer's final values (EMA), ``on_train_end``."""
    model = member.model
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and hasattr(optimizer, "finalize_variable_values"):
        optimizer.finalize_variable_values(model.trainable_weights)
    callbacks.on_train_end(logs)


def _train_epoch_function(models, data, batch_size: int, steps: int):
    """One ``tf.function``: a whole epoch, each step one ``train_step`` per model on its own batch."""
    import tensorflow as tf

    def train_epoch(orders):
        def body(step):
            start = step * batch_size
            for model, arrays, order in zip(models, data, orders):
                chosen = order[start:start + batch_size]
                batch = tuple(tf.gather(a, chosen) for a in arrays)
                model.train_step(batch)
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, body, (tf.constant(0),))

    return tf.function(train_epoch, autograph=False)


def _validation_function(models, data, batch_size: int, steps: int):
    """One ``tf.function``: every model's ``test_step`` over its validation set, in order, as ``evaluate`` does."""
    import tensorflow as tf

    def validate():
        def body(step):
            start = step * batch_size
            for model, (x, y) in zip(models, data):
                model.test_step((x[start:start + batch_size], y[start:start + batch_size]))
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, body, (tf.constant(0),))

    return tf.function(validate, autograph=False)


# --- one run: a group of one ------------------------------------------------------------------

BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
               "on_batch_begin", "on_batch_end")


def needs_batch_hooks(callbacks) -> bool:
    """True when a callback acts on every batch (TensorBoard's per-batch logs, say): only ``fit`` calls those."""
    import keras

    def overrides(cb, hook) -> bool:
        method = getattr(cb, hook)  # a subclass's method, or a function set on the object (LambdaCallback)
        return getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook)

    return any(overrides(cb, hook) for cb in callbacks for hook in BATCH_HOOKS)


def _replicated(model) -> bool:
    strategy = getattr(model, "distribute_strategy", None)
    return strategy is not None and strategy.num_replicas_in_sync > 1


def fit_in_order(model, data, *, batch_size: int, epochs: int, seed: int, shuffle: bool, callbacks, verbose,
                 initial_epoch: int = 0):
    """Train one run on ``data`` (a ``training.data.Prepared``) in lossopt's batch order (``batches.epoch_order``),
    validation batched as training is, driving ``callbacks`` as ``model.fit`` does.

    When every callback acts per epoch (the recorder, early stopping, reduce-on-plateau) the run is
    trained by ``fused.fit_fused`` as a group of one: one compiled call per epoch instead of one per
    batch, and no ``tf.data`` pipeline to build (TensorFlow's fixed costs that ``fit`` pays for a
    small model, several seconds for the quickstart); the arithmetic is ``fit``'s (each step is the
    model's own ``train_step``). A callback with batch hooks, or a model built in a ``tf.distribute``
    strategy's scope (``training.distribute``: ``fit`` splits each batch across the replicas), gets
    ``model.fit`` itself, on a dataset of the same batches. ``verbose`` as ``fit``'s: 0 silent, 1 a
    progress bar, 2 one line per epoch."""
    callbacks = list(callbacks)
    if not needs_batch_hooks(callbacks) and not _replicated(model):
        import keras

        if verbose:
            callbacks.append(keras.callbacks.ProgbarLogger())
        member = FusedMember(model, data.x_train, data.y_train, data.x_val, data.y_val, data.sample_weight, seed=seed,
                             shuffle=shuffle, callbacks=callbacks)
        fit_fused([member], batch_size=batch_size, epochs=epochs, initial_epoch=initial_epoch,
                  verbose=1 if verbose == "auto" else verbose)
        return None
    import tensorflow as tf

    from .batches import steps_per_epoch as batches_per_epoch
    from .batches import training_dataset

    n = len(data.x_train)
    dataset = training_dataset(data.x_train, data.y_train, data.sample_weight, seed=seed, batch_size=batch_size,
                               shuffle=shuffle, epochs=epochs, initial_epoch=initial_epoch)
    validation = None if data.x_val is None else (tf.constant(data.x_val), tf.constant(data.y_val))
    return model.fit(dataset, epochs=epochs, initial_epoch=initial_epoch, steps_per_epoch=batches_per_epoch(n, batch_size),
                     validation_data=validation, validation_batch_size=batch_size, shuffle=False, callbacks=callbacks,
                     verbose=verbose)
