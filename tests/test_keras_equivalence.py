"""A lossopt run equals a plain Keras script with the same seed, split, model, optimizer and batch order
(lossopt's ``epoch_order(seed, epoch, n)``, which makes a resumed run exact)."""

from __future__ import annotations

import numpy as np

from lossopt_cli import config, rundir
from lossopt_cli.training.runner import run


def plain_keras_history(x_train, y_train, x_val, y_val, seed, epochs):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    inputs = keras.Input(shape=(x_train.shape[1],))
    hidden = keras.layers.Dense(32, activation="relu")(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.002),
                  loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
    from lossopt_cli.training.batches import epoch_order

    history: dict = {}
    for epoch in range(epochs):  # each epoch in lossopt's order for (seed, epoch)
        order = epoch_order(seed, epoch, len(x_train))
        logs = model.fit(x_train[order], y_train[order], batch_size=64, epochs=epoch + 1, initial_epoch=epoch,
                         validation_data=(x_val, y_val), shuffle=False, verbose=0).history
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
    return history


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
