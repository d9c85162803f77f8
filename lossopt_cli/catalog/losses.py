"""Losses: every Keras loss by snake_case name and the usual aliases, with their parameters,
plus custom losses given as ``module:function`` or ``path/to/file.py:function``.

Each entry says how labels must be encoded for it (its ``label_mode`` tag): ``categorical``
(one-hot), ``sparse`` (integer class ids), ``binary`` (0/1), ``signed`` (-1/+1, the hinge
family, with a linear output), ``categorical_hinge`` (one-hot with a linear output), or
``regression`` (values as they are; class labels are one-hot encoded so MSE-on-classes works
as the textbooks show it).
"""

from __future__ import annotations

from ..schema import Bool, Choice, Float, Mapping_, Param
from .registry import Registry, custom_function, keras_class

LOSSES = Registry("loss")

LABEL_MODES = ("categorical", "sparse", "binary", "signed", "categorical_hinge", "regression")

FROM_LOGITS = Param(False, Bool(), "the model outputs logits (no softmax/sigmoid on the output layer)")
LABEL_SMOOTHING = Param(0.0, Float(0, 1), "label smoothing factor in [0, 1]")
REDUCTION = Param("sum_over_batch_size", Choice(("sum_over_batch_size", "sum", "mean", "none")), "Keras reduction")
ALPHA = Param(0.25, Float(0, 1), "weight of the positive class (focal loss)")
GAMMA = Param(2.0, Float(0), "focusing parameter: down-weights easy examples (0 = plain cross-entropy)")
CROSS_ENTROPY = {"from_logits": FROM_LOGITS, "label_smoothing": LABEL_SMOOTHING}


def _register(name, class_name, text, label_mode, aliases=(), params=None, tags=()):
    LOSSES.register(name, text, params={**(params or {}), "reduction": REDUCTION}, aliases=aliases,
                    tags={label_mode, *tags})(keras_class("losses", class_name))


_register("mean_squared_error", "MeanSquaredError", "mean of squared errors; the default regression loss",
          "regression", aliases=("mse", "MSE"))
_register("mean_absolute_error", "MeanAbsoluteError", "mean of absolute errors; robust to outliers",
          "regression", aliases=("mae", "MAE"))
_register("mean_absolute_percentage_error", "MeanAbsolutePercentageError",
          "mean of |error| / |target| in percent; targets must be far from 0", "regression", aliases=("mape", "MAPE"))
_register("mean_squared_logarithmic_error", "MeanSquaredLogarithmicError",
          "squared error of log(1 + value); for positive targets spanning orders of magnitude", "regression",
          aliases=("msle", "MSLE"))
_register("huber", "Huber", "squared error near 0, absolute error beyond delta: MSE's speed with MAE's robustness",
          "regression", aliases=("huber_loss",),
          params={"delta": Param(1.0, Float(0, low_open=True), "where the loss turns from quadratic to linear")})
_register("log_cosh", "LogCosh", "log(cosh(error)): like Huber, smooth everywhere", "regression",
          aliases=("logcosh",))
_register("poisson", "Poisson", "Poisson negative log-likelihood, for count targets (a softplus output keeps the "
          "predicted rate > 0)", "regression", tags={"positive_output"})
_register("cosine_similarity", "CosineSimilarity", "negative cosine of the angle between target and prediction "
          "vectors", "regression")
_register("kl_divergence", "KLDivergence", "Kullback-Leibler divergence between label and predicted distributions",
          "categorical", aliases=("kld", "kullback_leibler_divergence"))
_register("binary_crossentropy", "BinaryCrossentropy", "log loss for two classes (0/1 labels, sigmoid output)",
          "binary", aliases=("bce",), params=CROSS_ENTROPY)
_register("binary_focal_crossentropy", "BinaryFocalCrossentropy",
          "binary cross-entropy that down-weights easy examples (Lin et al. 2017), for imbalanced classes", "binary",
          aliases=("binary_focal", "focal"),
          params={**CROSS_ENTROPY, "apply_class_balancing": Param(False, Bool(), "weight classes by alpha"),
                  "alpha": ALPHA, "gamma": GAMMA})
_register("categorical_crossentropy", "CategoricalCrossentropy",
          "log loss for several classes (one-hot labels, softmax output)", "categorical", aliases=("cce",),
          params=CROSS_ENTROPY)
_register("categorical_focal_crossentropy", "CategoricalFocalCrossentropy",
          "categorical cross-entropy that down-weights easy examples, for imbalanced classes", "categorical",
          aliases=("categorical_focal",), params={**CROSS_ENTROPY, "alpha": ALPHA, "gamma": GAMMA})
_register("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy",
          "categorical cross-entropy on integer class labels", "sparse", aliases=("scce", "sparse_cce"),
          params={"from_logits": FROM_LOGITS})
_register("hinge", "Hinge", "max(0, 1 - y*f(x)) for two classes; labels -1/+1, linear output (an SVM's loss)",
          "signed")
_register("squared_hinge", "SquaredHinge", "hinge loss squared: smoother, punishes margin violations harder",
          "signed")
_register("categorical_hinge", "CategoricalHinge", "multi-class hinge (Crammer-Singer) on one-hot labels, "
          "linear output", "categorical_hinge")
_register("dice", "Dice", "1 - Dice coefficient (overlap of prediction and one-hot target); for imbalanced "
          "classes and segmentation", "categorical")
_register("tversky", "Tversky", "Dice generalized: alpha weights false positives, beta false negatives",
          "categorical", params={"alpha": Param(0.5, Float(0), "weight of false positives"),
                                 "beta": Param(0.5, Float(0), "weight of false negatives")})


# --- custom losses: module:function or path/to/file.py:function ---------------------------------

CUSTOM_PARAMS = {
    "labels": Param("categorical", Choice(LABEL_MODES), "how labels are encoded for this loss (and so the output "
                    "layer): categorical, sparse, binary, signed, categorical_hinge or regression"),
    "args": Param({}, Mapping_(), "keyword arguments: when given, function(**args) must return the loss function"),
}


def _build_custom(reference: str):
    def build(labels, args):
        fn = custom_function(reference, "loss")
        return fn(**args) if args else fn

    return build


LOSSES.custom = lambda reference: (f"custom loss {reference}", _build_custom(reference), CUSTOM_PARAMS)


def label_mode(spec) -> str:
    if "custom" in spec.entry.tags:
        return spec.params["labels"]
    for mode in LABEL_MODES:
        if mode in spec.entry.tags:
            return mode
    return "regression"
