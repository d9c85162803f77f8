"""A cheap reference fit: the validation loss a k-nearest-neighbours model reaches on the same split.

Under-fitting is a claim about capacity: the network could do better. A history cannot tell a model
that is too small from data at their noise ceiling (passenger survival tops out near 80 % accuracy
whatever the model), so each run of tabular data also records what k nearest neighbours (k = 15, on
the run's own normalized inputs, class probabilities smoothed by one count per class) reach on its
own split, scored with the run's loss (summary.json ``data.reference_fit``): a flexible model with
no capacity to choose, in NumPy (milliseconds; scikit-learn's gradient-boosted trees were measured
at 1-4 s a run on the quickstart, too much for every run). The diagnosis calls a flattened run
under-fitting when its validation loss stays well above that reference; a run near it is at the
data's ceiling, and a bigger model would not help. Fits are cached per split in the process, skipped
for images, wide inputs and large sets (subsampled), and never fail a run.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from .baseline import EPS

MAX_ROWS = 5_000  # larger training sets are subsampled to this many rows (and validation sets to MAX_VAL)
MAX_VAL = 2_000
MAX_FEATURES = 256  # wider inputs (images, bags of words) get no reference fit
NEIGHBOURS = 15
CLASSIFICATION = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")
REGRESSION = ("mean_squared_error", "mean_absolute_error")
_CACHE: dict[str, dict] = {}


def reference_fit(x_train, y_train, x_val, y_val, encoding: str, loss_name: str, seed: int = 0) -> dict:
    """``{"loss", "model", "seconds"}``: the run's loss of a k-nearest-neighbours fit on the validation split,
    or ``{}`` where none is made (no validation split, images, another loss)."""
    if x_val is None or len(x_val) == 0 or len(x_train) < 20 or (
            loss_name not in CLASSIFICATION and loss_name not in REGRESSION):
        return {}
    x_train, x_val = np.asarray(x_train), np.asarray(x_val)
    if x_train.ndim != 2 or x_train.shape[1] > MAX_FEATURES:
        return {}
    key = _key(x_train, y_train, x_val, y_val, loss_name)
    if key not in _CACHE:
        try:
            _CACHE[key] = _fit(x_train, np.asarray(y_train), x_val, np.asarray(y_val), encoding, loss_name, seed)
        except Exception as exc:  # a reference is a luxury: never fail the run for it
            _CACHE[key] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return dict(_CACHE[key])


def _fit(x_train, y_train, x_val, y_val, encoding, loss_name, seed) -> dict:
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    if len(x_train) > MAX_ROWS:
        keep = rng.choice(len(x_train), MAX_ROWS, replace=False)
        x_train, y_train = x_train[keep], y_train[keep]
    if len(x_val) > MAX_VAL:
        keep = rng.choice(len(x_val), MAX_VAL, replace=False)
        x_val, y_val = x_val[keep], y_val[keep]
    x_train = np.nan_to_num(np.asarray(x_train, dtype="float64"))
    x_val = np.nan_to_num(np.asarray(x_val, dtype="float64"))
    k = int(min(NEIGHBOURS, max(1, len(x_train) - 1)))
    squared = (x_val ** 2).sum(1)[:, None] - 2 * x_val @ x_train.T + (x_train ** 2).sum(1)[None, :]
    nearest = np.argpartition(squared, k - 1, axis=1)[:, :k]
    if loss_name in CLASSIFICATION:
        train, val = _classes(y_train, encoding), _classes(y_val, encoding)
        n_classes = int(max(train.max(), val.max())) + 1
        if len(np.unique(train)) < 2:
            return {}
        counts = np.zeros((len(val), n_classes))
        np.add.at(counts, (np.repeat(np.arange(len(val)), k), train[nearest].reshape(-1)), 1.0)
        proba = (counts + 1.0) / (k + n_classes)  # one count per class: never a probability of 0
        loss = float(-np.log(np.clip(proba[np.arange(len(val)), val], EPS, 1.0)).mean())
    else:
        target = np.asarray(y_train, dtype="float64").reshape(len(y_train), -1)
        truth = np.asarray(y_val, dtype="float64").reshape(len(y_val), -1)
        if target.shape[1] != 1:
            return {}
        predicted = target[nearest, 0].mean(axis=1) if loss_name == "mean_squared_error" else \
            np.median(target[nearest, 0], axis=1)
        error = predicted - truth[:, 0]
        loss = float((error ** 2).mean() if loss_name == "mean_squared_error" else np.abs(error).mean())
    return {"loss": loss, "model": f"{k} nearest neighbours on the normalized inputs",
            "seconds": round(time.perf_counter() - start, 3)}


def _classes(y: np.ndarray, encoding: str) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(-1)
    return (y > 0).astype(int) if encoding in ("binary", "signed") else y.astype(int)


def _key(*parts) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray) else str(part).encode())
    return digest.hexdigest()
