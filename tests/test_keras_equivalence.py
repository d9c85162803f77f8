"""A lossopt run equals a plain Keras script with the same seed, split, model, optimizer and batch order.

lossopt draws each epoch's order itself (``batches.epoch_order(seed, epoch, n)``, so that a run
trained alone, fused with others or resumed sees the same batches); the plain script below feeds
``fit`` those permutations by hand (``shuffle=False``), where Keras' own ``shuffle=True`` would
draw a different order from TensorFlow's random state."""

from __future__ import annotations

import numpy as np

from lossopt_cli import config, rundir
from lossopt_cli.training.runner import run


def plain_keras_history(x_train, y_train, x_val, y_val, seed, epochs):
    import keras
    import tensorflow as tf

    from lossopt_cli.training.batches import epoch_order

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    inputs = keras.Input(shape=(x_train.shape[1],))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    steps = -(-len(x_train) // 64)
    batches = None  # epoch after epoch, the permutation lossopt draws for it, in batches of 64
    for epoch in range(epochs):
        order = epoch_order(seed, epoch, len(x_train))
        this_epoch = tf.data.Dataset.from_tensor_slices((x_train[order], y_train[order])).batch(64)
        batches = this_epoch if batches is None else batches.concatenate(this_epoch)
    history = model.fit(batches, epochs=epochs, steps_per_epoch=steps, validation_data=(x_val, y_val),
                        validation_batch_size=64, shuffle=False, verbose=0)
    return history.history


def test_lossopt_matches_plain_keras(tmp_path):
    from sklearn.datasets import load_digits

    seed, epochs = 3, 3
    cfg = config.validate({
        "seed": seed, "deterministic": True,
        "data": {"dataset": "digits", "validation_split": 0.25},
        "model": {"type": "mlp", "hidden_units": [32]},
        "loss": "categorical_crossentropy",
        "optimizer": {"name": "adam", "learning_rate": 0.002},
        "training": {"epochs": epochs, "batch_size": 64},
        "output": {"dir": str(tmp_path)},
    })
    ours = rundir.read_history(run(cfg, verbose=0).run_dir / "history.csv")

    # The same split (lossopt's seeded, stratified split_indices) and scaling, written out by hand.
    from lossopt_cli.training.data import split_indices

    digits = load_digits()
    x, y = digits.data.astype("float32"), digits.target
    keep, val = split_indices(y, 0.25, seed + 1, stratify=True)
    mean, std = x[keep].mean(axis=0), x[keep].std(axis=0)
    std = np.where(std > 0, std, 1.0)
    scale = lambda a: ((a - mean) / std).astype("float32")  # noqa: E731
    onehot = np.eye(10, dtype="float32")
    theirs = plain_keras_history(scale(x[keep]), onehot[y[keep]], scale(x[val]), onehot[y[val]], seed, epochs)

    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert np.allclose(ours[key], theirs[key], atol=1e-5, rtol=0), (key, ours[key], theirs[key])
