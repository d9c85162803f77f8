"""Make the labelled benchmark of the diagnosis: real Keras runs with injected faults.

Each run is a plain Keras script (no lossopt code) that trains a small model on data shipped
with scikit-learn and logs its history with ``keras.callbacks.CSVLogger`` into
``runs/<name>.csv``. The fault is injected by construction (an over-sized model on a few noisy
samples, a huge or tiny learning rate, a model too small for the data, ...) and written with
the label into ``labels.csv``; ``confirm`` notes, from the curve itself, the numbers that back
the label (they are computed here independently of lossopt's detector).

    nice -n 19 python benchmarks/diagnosis/make_runs.py             # runs/ and labels.csv (~15 min, 1 core)
    nice -n 19 python benchmarks/diagnosis/make_runs.py --holdout   # runs-holdout/, other seeds, no relabelling

Only needed to regenerate the data: the CSV files are committed, and ``evaluate.py`` reads them.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent


def load(name: str, seed: int):
    """(x, y, task, n_classes) with standardized features (and targets for regression)."""
    from sklearn import datasets

    if name == "moons":
        x, y = datasets.make_moons(n_samples=400, noise=0.3, random_state=seed)
    elif name == "regression":
        x, y = datasets.make_regression(n_samples=400, n_features=10, noise=20.0, random_state=seed)
    elif name == "noisy_regression":
        x, y = datasets.make_regression(n_samples=400, n_features=10, noise=150.0, random_state=seed)
    elif name == "friedman":
        x, y = datasets.make_friedman1(n_samples=400, noise=1.0, random_state=seed)
    else:
        x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    x = x.astype("float32")
    task = "regression" if name in ("regression", "noisy_regression", "friedman", "diabetes") else "classification"
    if task == "regression":
        y = ((y - y.mean()) / y.std()).astype("float32")
        return x, y, task, 0
    return x, y.astype("int64"), task, int(y.max()) + 1


def split(x, y, task, seed, n_train=None, val_fraction=0.25, label_noise=0.0, n_classes=0):
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(x))
    n_val = int(round(val_fraction * len(x)))
    val, train = idx[:n_val], idx[n_val:]
    if n_train:
        train = train[:n_train]
    xt, yt, xv, yv = x[train], y[train].copy(), x[val], y[val]
    mean, std = xt.mean(0), xt.std(0)
    std[std < 1e-3] = 1.0  # constant columns (blank pixels) stay constant
    xt, xv = (xt - mean) / std, (xv - mean) / std
    if label_noise and task == "classification":
        flip = rng.random(len(yt)) < label_noise
        yt[flip] = rng.integers(0, n_classes, int(flip.sum()))
    return xt, yt, xv, yv


def build(keras, n_in, task, n_classes, hidden, l2=0.0, dropout=0.0):
    reg = keras.regularizers.l2(l2) if l2 else None
    layers = [keras.Input((n_in,))]
    for units in hidden:
        layers.append(keras.layers.Dense(units, activation="relu", kernel_regularizer=reg))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    if task == "regression":
        layers.append(keras.layers.Dense(1, kernel_regularizer=reg))
    else:
        layers.append(keras.layers.Dense(n_classes, activation="softmax", kernel_regularizer=reg))
    return keras.Sequential(layers)


# name, label, dataset, recipe. Recipes: hidden sizes, optimizer, learning rate, epochs, batch,
# n_train (None = all), label noise, l2, dropout, early-stopping patience.
def recipes():
    out = []

    def add(label, data, how, seed=0, **kw):
        out.append({"name": f"{label}-{data}-{len([r for r in out if r['label'] == label]) + 1:02d}",
                    "label": label, "data": data, "how": how, "seed": seed, **kw})

    # over-fitting: an over-sized network on a small (sometimes noisily labelled) training set
    for data, n, noise, hidden, epochs in [
        ("digits", 150, 0.0, [256, 256], 60), ("digits", 100, 0.2, [512], 60), ("digits", 300, 0.2, [256, 256], 50),
        ("breast_cancer", 80, 0.15, [256, 256], 60), ("breast_cancer", 120, 0.0, [512, 512], 60),
        ("wine", 50, 0.2, [256, 256], 60), ("iris", 40, 0.2, [256, 256], 80),
        ("moons", 60, 0.0, [256, 256], 100), ("moons", 100, 0.1, [512, 512], 80),
        ("diabetes", 80, 0.0, [256, 256], 80), ("noisy_regression", 60, 0.0, [512, 512], 80),
        ("friedman", 80, 0.0, [256, 256], 100),
    ]:
        how = f"MLP {hidden} adam 1e-3 on {n} training samples" + (f", {int(noise * 100)}% labels flipped" if noise else "")
        add("overfitting", data, how, optimizer="adam", lr=1e-3, hidden=hidden, epochs=epochs, batch=16,
            n_train=n, label_noise=noise)

    # healthy: a right-sized, regularized model on all the data, stopped early (patience 3, restore best)
    for data, hidden, l2, dropout, epochs, seed in [
        ("digits", [64], 1e-4, 0.2, 40, 0), ("digits", [128], 0.0, 0.3, 40, 1), ("breast_cancer", [32], 1e-3, 0.0, 60, 0),
        ("breast_cancer", [16], 0.0, 0.2, 60, 1), ("wine", [16], 1e-3, 0.0, 80, 0), ("iris", [16], 1e-3, 0.0, 150, 0),
        ("moons", [32, 32], 1e-4, 0.0, 80, 0), ("moons", [64], 0.0, 0.1, 80, 1), ("diabetes", [16], 1e-3, 0.0, 100, 0),
        ("regression", [32], 1e-4, 0.0, 80, 0), ("friedman", [64, 32], 1e-4, 0.0, 150, 0), ("digits", [32], 1e-3, 0.0, 40, 2),
    ]:
        how = f"MLP {hidden} l2 {l2} dropout {dropout} adam 1e-3, EarlyStopping(patience=3, restore_best_weights=True)"
        add("healthy", data, how, seed=seed, optimizer="adam", lr=1e-3, hidden=hidden, epochs=epochs, batch=32,
            l2=l2, dropout=dropout, patience=3)

    # healthy without early stopping: a small regularized model trained for a fixed, modest number of epochs
    for data, hidden, l2, dropout, epochs in [("digits", [64], 1e-3, 0.3, 20), ("breast_cancer", [16], 1e-3, 0.2, 30),
                                              ("wine", [16], 1e-2, 0.0, 40), ("moons", [32, 32], 1e-3, 0.0, 40)]:
        how = f"MLP {hidden} l2 {l2} dropout {dropout} adam 1e-3, {epochs} epochs, no early stopping"
        add("healthy", data, how, optimizer="adam", lr=1e-3, hidden=hidden, epochs=epochs, batch=32, l2=l2,
            dropout=dropout)

    # diverged: learning rates far too large
    for data, opt, lr, hidden in [
        ("regression", "sgd", 2.0, [64]), ("diabetes", "sgd", 1.0, [64, 64]), ("friedman", "sgd", 0.5, [64, 64]),
        ("digits", "sgd", 20.0, [128]), ("breast_cancer", "adam", 50.0, [64]), ("moons", "sgd", 100.0, [64, 64]),
        ("wine", "rmsprop", 30.0, [64]), ("regression", "adam", 20.0, [128, 128]),
        ("iris", "sgd", 50.0, [64]), ("breast_cancer", "sgd", 30.0, [64, 64]), ("digits", "rmsprop", 100.0, [64, 64]),
    ]:
        add("diverged", data, f"MLP {hidden} {opt} learning rate {lr}", optimizer=opt, lr=lr, hidden=hidden,
            epochs=30, batch=16)

    # stalled: learning rates far too small
    for data, opt, lr in [("digits", "sgd", 1e-6), ("breast_cancer", "sgd", 1e-6), ("moons", "adam", 1e-7),
                          ("regression", "sgd", 1e-7), ("wine", "rmsprop", 1e-7), ("diabetes", "adam", 1e-7)]:
        add("stalled", data, f"MLP [64] {opt} learning rate {lr}", optimizer=opt, lr=lr, hidden=[64], epochs=25, batch=32)

    # oscillation: learning rates large enough to bounce but not to diverge
    for data, opt, lr, batch in [("digits", "sgd", 0.5, 16), ("breast_cancer", "adam", 0.1, 8), ("moons", "sgd", 1.5, 4),
                                 ("wine", "adam", 0.2, 4), ("iris", "sgd", 1.0, 4), ("digits", "adam", 0.03, 8)]:
        add("oscillation", data, f"MLP [64] {opt} learning rate {lr} batch {batch}", optimizer=opt, lr=lr,
            hidden=[64], epochs=30, batch=batch)

    for data, opt, lr, batch in [("breast_cancer", "sgd", 1.0, 4), ("wine", "sgd", 0.8, 4), ("digits", "adam", 0.05, 16),
                                 ("moons", "adam", 0.1, 4), ("iris", "adam", 0.3, 4), ("diabetes", "sgd", 0.2, 4)]:
        add("oscillation", data, f"MLP [64] {opt} learning rate {lr} batch {batch}", optimizer=opt, lr=lr,
            hidden=[64], epochs=30, batch=batch)

    # under-fitting: a model too small or too regularized for the data
    for data, hidden, l2 in [("digits", [2], 0.0), ("digits", [32], 0.3), ("moons", [], 0.0), ("friedman", [], 0.0),
                             ("wine", [1], 0.0), ("breast_cancer", [8], 1.0), ("iris", [1], 0.0), ("moons", [16], 0.5)]:
        how = f"MLP {hidden or 'linear'} l2 {l2} adam 1e-2"
        add("underfitting", data, how, optimizer="adam", lr=1e-2, hidden=hidden, epochs=40, batch=32, l2=l2)
    return out


# Runs whose curve did not show the injected fault, relabelled after looking at curves.png (the
# label follows the curve, never the detector). Name -> (label, what the curve shows).
RELABELLED = {
    "diverged-friedman-03": ("oscillation", "loss jumps between 0.9 and 2.0 for 10 epochs, then sits near 1.0 "
                                            "(the mean); it never blows up (max 2.0, first 1.76)"),
    "diverged-wine-07": ("exploding", "loss 2.3e5 at epoch 1, back near 0 by epoch 7 with accuracy 1.0: exploded, "
                                      "then recovered"),
    "oscillation-digits-01": ("overfitting", "training loss falls smoothly to 6e-4; val_loss lowest at epoch 8, "
                                             "then flat above it: memorization, no oscillation"),
    "oscillation-iris-05": ("overfitting", "one early validation spike, then smooth; val_loss lowest at epoch 21 "
                                           "and 34% higher at the end while the training loss keeps falling"),
    "oscillation-breast_cancer-07": ("diverged", "loss climbs to 1e35 and becomes NaN at epoch 12"),
    "oscillation-diabetes-12": ("diverged", "loss NaN at the first epoch"),
    "oscillation-wine-08": ("overfitting", "training loss falls smoothly to 2e-4; val_loss lowest at epoch 2, then "
                                           "5x higher"),
}


def train(recipe, path: Path) -> Path:
    import keras

    keras.utils.set_random_seed(recipe["seed"])
    x, y, task, n_classes = load(recipe["data"], recipe["seed"])
    xt, yt, xv, yv = split(x, y, task, recipe["seed"], recipe.get("n_train"), label_noise=recipe.get("label_noise", 0.0),
                           n_classes=n_classes)
    model = build(keras, x.shape[1], task, n_classes, recipe["hidden"], recipe.get("l2", 0.0), recipe.get("dropout", 0.0))
    optimizer = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
                 "rmsprop": keras.optimizers.RMSprop}[recipe["optimizer"]](learning_rate=recipe["lr"])
    if task == "regression":
        model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    else:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [keras.callbacks.CSVLogger(str(path))]
    if recipe.get("patience"):
        callbacks.append(keras.callbacks.EarlyStopping(patience=recipe["patience"], restore_best_weights=True))
    if recipe["label"] == "diverged" and recipe["optimizer"] == "sgd":
        callbacks.append(keras.callbacks.TerminateOnNaN())  # half of them stop on NaN, the others keep going
    model.fit(xt, yt, validation_data=(xv, yv), epochs=recipe["epochs"], batch_size=recipe["batch"], verbose=0,
              shuffle=True, callbacks=callbacks)
    return path


def confirm(path: Path) -> str:
    """Numbers read off the curve that back the label (independent of lossopt's detector)."""
    rows = list(csv.DictReader(open(path)))
    loss = [float(r["loss"]) for r in rows]
    val = [float(r["val_loss"]) for r in rows]
    finite = [v for v in val if math.isfinite(v)]
    parts = [f"{len(rows)} epochs", f"loss {loss[0]:.3g}->{loss[-1]:.3g}"]
    if finite:
        best = min(range(len(val)), key=lambda i: val[i] if math.isfinite(val[i]) else math.inf)
        parts.append(f"val_loss min {val[best]:.3g} at epoch {best + 1}, last {val[-1]:.3g}")
    if not all(math.isfinite(v) for v in loss):
        parts.append("non-finite loss")
    return "; ".join(parts)


def main(argv: list[str]) -> int:
    holdout = "--holdout" in argv
    runs_dir = HERE / ("runs-holdout" if holdout else "runs")
    runs_dir.mkdir(parents=True, exist_ok=True)
    only = {a for a in argv if not a.startswith("--")}
    rows = []
    started = time.time()
    for recipe in recipes():
        if holdout:  # the same recipes with other seeds (split, initial weights, label noise, data)
            recipe = {**recipe, "seed": recipe["seed"] + 100}
        path = runs_dir / f"{recipe['name']}.csv"
        if (not only or recipe["name"] in only) and not (path.exists() and not only):
            t = time.time()
            train(recipe, path)
            print(f"{recipe['name']}: {time.time() - t:.1f} s", flush=True)
        if not path.exists():
            continue
        label, how = recipe["label"], recipe["how"]
        if recipe["name"] in RELABELLED and not holdout:  # held-out labels are by construction only
            label, seen = RELABELLED[recipe["name"]]
            how = f"{how} (made as {recipe['label']}; relabelled on its curve: {seen})"
        rows.append({"file": f"{runs_dir.name}/{path.name}", "label": label, "how": how, "confirmed_by": confirm(path)})
    with open(HERE / ("labels-holdout.csv" if holdout else "labels.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["file", "label", "how", "confirmed_by"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} runs, {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
