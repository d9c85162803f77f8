"""The data type every dataset loader returns (built-in sets, keras:<name>, NPZ, CSV tables, image folders),
the registry of named datasets, and the two constructors the sources share."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .registry import Registry

DATASETS = Registry("dataset")  # filled by the source modules (bundled, synthetic, keras_cache)
FIXED = "fixed"  # the tag of a dataset that is the same for every seed (a file read, not drawn)


@dataclass
class Dataset:
    name: str
    x: np.ndarray
    y: np.ndarray
    task: str  # "classification" | "regression"
    n_classes: int | None = None
    feature_names: list | None = None
    class_names: list | None = None
    x_test: np.ndarray | None = None  # a test set the source defines (keras.datasets, NPZ)
    y_test: np.ndarray | None = None
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    # CSV files: (kind "number" | "category", first column, end column) of each source column in x, so
    # missing cells (NaN) can be imputed per column on the training split; notes; what was inferred
    feature_groups: list | None = None
    notes: list = field(default_factory=list)
    inference: dict | None = None


def classification(name, x, y, **kw) -> Dataset:
    y = np.asarray(y)
    classes = np.unique(y)
    if not np.array_equal(classes, np.arange(len(classes))):  # map labels to 0..k-1
        lookup = {c: i for i, c in enumerate(classes)}
        y = np.array([lookup[v] for v in y])
        kw.setdefault("class_names", [str(c) for c in classes])
        for key in ("y_test", "y_val"):
            if kw.get(key) is not None:
                kw[key] = np.array([lookup[v] for v in kw[key]])
    return Dataset(name, np.asarray(x, dtype="float32"), y.astype("int64"), "classification",
                   n_classes=int(len(classes)), **kw)


def regression(name, x, y, **kw) -> Dataset:
    return Dataset(name, np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32"), "regression", **kw)

