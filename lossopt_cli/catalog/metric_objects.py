"""The Keras metric objects behind the catalog's classification metrics (imports Keras).

Imported only by the metrics' build functions. Every object gets an explicit ``name``; the
labels' encoding (``one_hot``, ``integer``, ``binary`` 0/1 or ``signed`` -1/+1) decides how
predictions are read: argmax over classes, or one score against a threshold. The classes are
registered with Keras (package ``lossopt``), so a saved ``model.keras`` loads compiled once this
module is imported (``keras.saving.load_model(path, compile=False)`` needs nothing).
"""

from __future__ import annotations

import keras
from keras import ops


def _binary_cut(encoding: str, threshold: float, from_logits: bool) -> float:
    """The score above which a one-unit output means "positive"."""
    if encoding == "signed":
        return 0.0  # hinge: the sign of a linear output
    if from_logits:
        import math

        return math.log(threshold / (1 - threshold)) if 0 < threshold < 1 else 0.0
    return threshold


@keras.saving.register_keras_serializable(package="lossopt")
def sign_accuracy(y_true, y_pred):
    return ops.cast(ops.equal(ops.greater(ops.reshape(y_true, (-1,)), 0.0),
                              ops.greater(ops.reshape(y_pred, (-1,)), 0.0)), "float32")


def accuracy(encoding: str = "one_hot", from_logits: bool = False, **_):
    if encoding == "signed":
        return keras.metrics.MeanMetricWrapper(sign_accuracy, name="accuracy")
    if encoding == "binary":
        return keras.metrics.BinaryAccuracy(name="accuracy", threshold=_binary_cut(encoding, 0.5, from_logits))
    if encoding == "integer":
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    return keras.metrics.CategoricalAccuracy(name="accuracy")


@keras.saving.register_keras_serializable(package="lossopt")
class ClassificationScore(keras.metrics.Metric):
    """Precision, recall or F1 from per-class true-positive / false-positive / false-negative counts.

    Two classes (one output unit): the score of the positive class. Several classes: averaged
    ``macro`` (each class alike), ``micro`` (each sample alike) or ``weighted`` (by support).
    """

    def __init__(self, kind, average="macro", threshold=0.5, encoding="one_hot", n_classes=2,
                 from_logits=False, name=None, **_):
        super().__init__(name=name or kind)
        self.kind, self.average, self.encoding = kind, average, encoding
        self.threshold, self.from_logits = threshold, from_logits
        self.binary = encoding in ("binary", "signed")
        self.n_classes = 2 if self.binary else int(n_classes)
        self.cut = _binary_cut(encoding, threshold, from_logits)
        self.true_cut = 0.0 if encoding == "signed" else 0.5
        shape = (self.n_classes,)
        self.tp = self.add_variable(shape=shape, initializer="zeros", name="tp")
        self.fp = self.add_variable(shape=shape, initializer="zeros", name="fp")
        self.fn = self.add_variable(shape=shape, initializer="zeros", name="fn")

    def get_config(self):
        return {"kind": self.kind, "average": self.average, "threshold": self.threshold, "encoding": self.encoding,
                "n_classes": self.n_classes, "from_logits": self.from_logits, "name": self.name}

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.binary:
            true = ops.cast(ops.greater(ops.reshape(y_true, (-1,)), self.true_cut), "int32")
            pred = ops.cast(ops.greater(ops.reshape(y_pred, (-1,)), self.cut), "int32")
        else:
            pred = ops.argmax(y_pred, axis=-1)
            true = ops.argmax(y_true, axis=-1) if self.encoding == "one_hot" else ops.reshape(y_true, (-1,))
        true = ops.one_hot(ops.cast(true, "int32"), self.n_classes)
        pred = ops.one_hot(ops.cast(pred, "int32"), self.n_classes)
        if sample_weight is not None:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
            true, pred = true * weight, pred * ops.cast(weight > 0, "float32")
        self.tp.assign_add(ops.sum(true * pred, axis=0))
        self.fp.assign_add(ops.sum((1.0 - true) * pred, axis=0))
        self.fn.assign_add(ops.sum(true * (1.0 - pred), axis=0))

    def result(self):
        tp, fp, fn = self.tp, self.fp, self.fn
        if self.binary:
            tp, fp, fn = tp[1:], fp[1:], fn[1:]
        elif self.average == "micro":
            tp, fp, fn = ops.sum(tp, keepdims=True), ops.sum(fp, keepdims=True), ops.sum(fn, keepdims=True)
        precision = ops.divide_no_nan(tp, tp + fp)
        recall = ops.divide_no_nan(tp, tp + fn)
        value = {"precision": precision, "recall": recall,
                 "f1": ops.divide_no_nan(2 * precision * recall, precision + recall)}[self.kind]
        if self.average == "weighted" and not self.binary:
            support = tp + fn
            return ops.divide_no_nan(ops.sum(value * support), ops.sum(support))
        return ops.mean(value)


@keras.saving.register_keras_serializable(package="lossopt")
class LabelEncodingAUC(keras.metrics.AUC):
    """Keras' AUC fed with one-hot or 0/1 labels whatever the loss' encoding."""

    def __init__(self, encoding="one_hot", n_classes=2, **kwargs):
        super().__init__(**kwargs)
        self.encoding, self.n_classes = encoding, n_classes

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding, "n_classes": self.n_classes}

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.encoding == "integer":
            y_true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), self.n_classes)
        elif self.encoding == "signed":
            y_true = ops.cast(ops.greater(y_true, 0.0), "float32")
        return super().update_state(y_true, y_pred, sample_weight)


def auc(curve: str, name: str, encoding="one_hot", n_classes=2, from_logits=False, **_):
    return LabelEncodingAUC(encoding=encoding, n_classes=n_classes, curve=curve, name=name,
                from_logits=from_logits or encoding == "signed")


def top_k_accuracy(k: int, encoding="one_hot", **_):
    if encoding == "integer":
        return keras.metrics.SparseTopKCategoricalAccuracy(k=k, name="top_k_accuracy")
    return keras.metrics.TopKCategoricalAccuracy(k=k, name="top_k_accuracy")
