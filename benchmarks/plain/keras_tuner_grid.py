"""Keras Tuner's grid search over the same sweep: 4 optimizers, each trial executed 3 times (seeds).

    python benchmarks/plain/keras_tuner_grid.py --epochs 20 --directory /tmp/kt

The same data, network and training as ``keras_script.py``; ``GridSearch`` over
``(optimizer, learning rate)`` = (sgd, 0.1), (momentum, 0.05), (rmsprop, 1e-3), (adam, 1e-3) with
``executions_per_trial=3``: 12 trainings in one process.
"""

import argparse

import keras
import keras_tuner
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

GRID = {"sgd": 0.1, "momentum": 0.05, "rmsprop": 1e-3, "adam": 1e-3}

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--directory", required=True)
args = parser.parse_args()

keras.utils.set_random_seed(0)
x, y = load_digits(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
scaler = StandardScaler().fit(x_train)
x_train, x_val = scaler.transform(x_train).astype("float32"), scaler.transform(x_val).astype("float32")
y_train, y_val = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_val, 10)


def build(hp):
    name = hp.Choice("optimizer", list(GRID))
    lr = GRID[name]
    optimizer = {"sgd": keras.optimizers.SGD(lr), "momentum": keras.optimizers.SGD(lr, momentum=0.9),
                 "rmsprop": keras.optimizers.RMSprop(lr), "adam": keras.optimizers.Adam(lr)}[name]
    model = keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


tuner = keras_tuner.GridSearch(build, objective="val_loss", executions_per_trial=3, directory=args.directory,
                               project_name="optimizers", overwrite=True)
tuner.search(x_train, y_train, batch_size=32, epochs=args.epochs, validation_data=(x_val, y_val), verbose=0)
best = tuner.get_best_hyperparameters(1)[0]
print("best", best.values)
