"""The data type every dataset loader returns (built-in sets, keras:<name>, NPZ, CSV tables, image folders)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
