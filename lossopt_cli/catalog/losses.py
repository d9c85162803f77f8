"""Losses: Keras' losses by snake_case name and the usual aliases, with their parameters.

Each entry says how labels must be encoded for it (``label_mode``): ``categorical`` (one-hot),
``sparse`` (integer class ids), ``binary`` (0/1), or ``regression`` (values as they are;
class labels are one-hot encoded so MSE-on-classes works as the textbooks show it).
"""

from __future__ import annotations

from ..schema import Bool, Choice, Float, Param
from .registry import Registry

LOSSES = Registry("loss")

FROM_LOGITS = Param(False, Bool(), "the model outputs logits (no softmax/sigmoid on the output layer)")
LABEL_SMOOTHING = Param(0.0, Float(0, 1), "label smoothing factor in [0, 1]")
REDUCTION = Param("sum_over_batch_size", Choice(("sum_over_batch_size", "sum", "mean", "none")), "Keras reduction")


def _keras_loss(class_name: str):
    def build(**params):
        import keras

        return getattr(keras.losses, class_name)(**params)

    return build


def _register(name, class_name, text, label_mode, aliases=(), params=None):
    LOSSES.register(name, text, params={**(params or {}), "reduction": REDUCTION}, aliases=aliases,
                    tags={label_mode})(_keras_loss(class_name))


_register("mean_squared_error", "MeanSquaredError", "mean of squared errors; the default regression loss",
          "regression", aliases=("mse", "MSE"))
_register("mean_absolute_error", "MeanAbsoluteError", "mean of absolute errors; robust to outliers",
          "regression", aliases=("mae", "MAE"))
_register("binary_crossentropy", "BinaryCrossentropy", "log loss for two classes (0/1 labels, sigmoid output)",
          "binary", aliases=("bce",), params={"from_logits": FROM_LOGITS, "label_smoothing": LABEL_SMOOTHING})
_register("categorical_crossentropy", "CategoricalCrossentropy",
          "log loss for several classes (one-hot labels, softmax output)", "categorical", aliases=("cce",),
          params={"from_logits": FROM_LOGITS, "label_smoothing": LABEL_SMOOTHING})
_register("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
          "categorical cross-entropy on integer class labels", "sparse", aliases=("scce",),
          params={"from_logits": FROM_LOGITS})


def label_mode(spec) -> str:
    for mode in ("categorical", "sparse", "binary", "regression"):
        if mode in spec.entry.tags:
            return mode
    return "regression"
