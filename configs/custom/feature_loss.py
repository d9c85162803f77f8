"""A custom loss for lossopt: a perceptual-style feature loss.

A perceptual loss compares a prediction with its target in the feature space of a fixed
network instead of (only) value by value. Here the fixed network is a random projection
followed by tanh, frozen by a seed; the loss is MSE on the outputs plus ``weight`` times MSE
on their features. ``feature_loss(**args)`` is a factory: lossopt calls it with the config's
``args`` and uses the function it returns.
"""

import numpy as np
from keras import ops


def feature_loss(weight=1.0, n_features=32, seed=0):
    cache = {}

    def features(y):
        width = int(y.shape[-1])
        if width not in cache:  # the frozen "network": one random layer, the same for y_true and y_pred
            rng = np.random.default_rng(seed)
            cache[width] = rng.normal(0.0, 1.0 / np.sqrt(width), (width, n_features)).astype("float32")
        return ops.tanh(ops.matmul(y, ops.convert_to_tensor(cache[width])))

    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        pixel = ops.mean(ops.square(y_true - y_pred), axis=-1)
        perceptual = ops.mean(ops.square(features(y_true) - features(y_pred)), axis=-1)
        return pixel + weight * perceptual

    return loss
