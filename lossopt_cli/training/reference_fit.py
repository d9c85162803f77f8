"""A cheap reference fit: the validation loss a small gradient-boosted trees model reaches on the same split.

Under-fitting is a claim about capacity: the network could do better. A history cannot tell a model
that is too small from data at their noise ceiling (passenger survival tops out near 80 % accuracy
whatever the model), so each run of tabular data also records what scikit-learn's
``HistGradientBoosting`` reaches on its own split, scored with the run's loss (summary.json
``data.reference_fit``). The diagnosis calls a flattened run under-fitting when its validation loss
stays well above that reference; a run near it is at the data's ceiling, and a bigger model would
not help. Fits are cached per split in the process (a sweep's seeds share it), skipped for images,
wide inputs and large sets, and never fail a run.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from .baseline import EPS

MAX_ROWS = 20_000  # larger training sets are subsampled to this many rows
MAX_FEATURES = 256  # wider inputs (images, bags of words) get no reference fit
ITERATIONS = 50
CLASSIFICATION = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")
REGRESSION = {"mean_squared_error": "squared_error", "mean_absolute_error": "absolute_error"}
_CACHE: dict[str, dict] = {}


def reference_fit(x_train, y_train, x_val, y_val, encoding: str, loss_name: str, seed: int = 0) -> dict:
    """``{"loss", "model", "seconds"}``: the run's loss of a gradient-boosted trees fit on the validation split,
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
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    start = time.perf_counter()
    if len(x_train) > MAX_ROWS:
        keep = np.random.default_rng(seed).choice(len(x_train), MAX_ROWS, replace=False)
        x_train, y_train = x_train[keep], y_train[keep]
    if loss_name in CLASSIFICATION:
        train, val = _classes(y_train, encoding), _classes(y_val, encoding)
        if len(np.unique(train)) < 2:
            return {}
        model = HistGradientBoostingClassifier(max_iter=ITERATIONS, random_state=seed).fit(x_train, train)
        proba = np.clip(model.predict_proba(x_val), EPS, 1 - EPS)
        columns = {c: i for i, c in enumerate(model.classes_)}
        picked = np.array([proba[i, columns[c]] if c in columns else EPS for i, c in enumerate(val)])
        loss = float(-np.log(picked).mean())
    else:
        target = y_train.reshape(len(y_train), -1)
        if target.shape[1] != 1:
            return {}
        model = HistGradientBoostingRegressor(loss=REGRESSION[loss_name], max_iter=ITERATIONS,
                                              random_state=seed).fit(x_train, target[:, 0])
        error = model.predict(x_val) - y_val.reshape(len(y_val), -1)[:, 0]
        loss = float((error ** 2).mean() if loss_name == "mean_squared_error" else np.abs(error).mean())
    return {"loss": loss, "model": f"gradient-boosted trees (scikit-learn HistGradientBoosting, {ITERATIONS} "
                                   f"iterations)", "seconds": round(time.perf_counter() - start, 3)}


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
