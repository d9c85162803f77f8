"""Per-class scores of a trained classifier on the validation split (else the test split): each
class by name with its precision, recall and support, and the confusion matrix.

Written to ``summary.json`` as ``per_class`` and shown in ``report.html``, so a user with string
labels sees "Chinstrap: recall 0.62" rather than a macro average. Predictions are decoded as the
labels were encoded (``training.data``): argmax over the classes, or a threshold on one unit. The
outputs come from ``training.predictions``, which runs each split through the model once.
"""

from __future__ import annotations

import numpy as np

from .data import Prepared


def labels_from(y: np.ndarray, encoding: str, threshold: float) -> np.ndarray:
    """Class indices from encoded labels or model outputs."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(-1)
    if encoding == "integer":
        return y.astype(int)
    return (y > threshold).astype(int)


def scores(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> dict:
    confusion = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(confusion, (true, predicted), 1)
    support = confusion.sum(axis=1)
    found = confusion.sum(axis=0)
    hits = np.diag(confusion)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(found > 0, hits / np.maximum(found, 1), np.nan)
        recall = np.where(support > 0, hits / np.maximum(support, 1), np.nan)
    return {"precision": [None if np.isnan(v) else round(float(v), 4) for v in precision],
            "recall": [None if np.isnan(v) else round(float(v), 4) for v in recall],
            "support": support.tolist(), "confusion": confusion.tolist()}


def per_class_split(data: Prepared) -> tuple[str, np.ndarray, np.ndarray] | None:
    """``(name, x, y)`` of the split the per-class scores are computed on: the validation split, else the
    test split; None for a regression or a run with neither."""
    if data.task != "classification" or not data.n_classes:
        return None
    return next(((name, x, y) for name, x, y in (("validation", data.x_val, data.y_val), ("test", data.x_test, data.y_test))
                 if x is not None and len(x)), None)


def per_class_scores(data: Prepared, split: str, y: np.ndarray, outputs: np.ndarray) -> dict:
    """``{split, classes, precision, recall, support, confusion}`` (rows: true class, columns: predicted) from the
    model's ``outputs`` on the split's inputs (``training.predictions``) and its labels ``y``."""
    sigmoid_like = data.output_activation in ("sigmoid", "softmax")
    threshold = 0.5 if sigmoid_like and data.encoding != "signed" else 0.0
    true = labels_from(y, data.encoding, 0.0 if data.encoding == "signed" else 0.5)
    predicted = labels_from(outputs, data.encoding, threshold)
    names = data.class_names or [str(i) for i in range(data.n_classes)]
    return {"split": split, "classes": list(names), **scores(true, predicted, data.n_classes)}
