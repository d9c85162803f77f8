"""The plain Keras script a lossopt run replaces: the MNIST tutorial's network on scikit-learn's digits.

    python benchmarks/plain/keras_script.py --optimizer adam --learning-rate 0.001 --seed 0 --epochs 20
    python benchmarks/plain/keras_script.py --epochs 10 --plot curves.png --save model.keras

The same job as ``configs/quickstart.yaml``: 20% held out (stratified), standardized features,
``Dense(128, relu)`` then softmax, categorical cross-entropy, batch 32, ``fit`` with validation,
one line per epoch (``verbose=2``; Keras' default progress bar would only cost this script more).
``--plot`` draws the loss and accuracy curves with matplotlib, ``--save`` calls ``model.save``:
what the seed's MNIST example does after ``fit``.
"""

import argparse

import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

OPTIMIZERS = {
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr),
    "momentum": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
}

parser = argparse.ArgumentParser()
parser.add_argument("--optimizer", default="adam", choices=sorted(OPTIMIZERS))
parser.add_argument("--learning-rate", type=float, default=0.001)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--plot")
parser.add_argument("--save")
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)
x, y = load_digits(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=args.seed)
scaler = StandardScaler().fit(x_train)
x_train, x_val = scaler.transform(x_train).astype("float32"), scaler.transform(x_val).astype("float32")
y_train, y_val = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_val, 10)

model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(128, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer=OPTIMIZERS[args.optimizer](args.learning_rate), loss="categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, validation_data=(x_val, y_val), verbose=2)

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in ((left, "loss"), (right, "accuracy")):
        ax.plot(history.history[key], label="train")
        ax.plot(history.history[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    fig.savefig(args.plot)
if args.save:
    model.save(args.save)
print("final val_loss", np.round(history.history["val_loss"][-1], 4))
