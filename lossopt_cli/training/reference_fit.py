"""Cheap reference fits: the best validation loss simple off-the-shelf models reach on the same split.

Under-fitting is a claim about capacity: the network could do better. A history cannot tell a model
that is too small from data at their noise ceiling (passenger survival tops out near 80 % accuracy
whatever the model), so each run of tabular data also records what simple models reach on its own
split, scored with the run's loss (summary.json ``data.reference_fit``: the best of them, and each in
``fits``):

- **k nearest neighbours** on the run's normalized inputs (NumPy, milliseconds), with k and the
  smoothing of its class probabilities chosen by leave-one-out on the training split (never on the
  validation data it is scored on): a flexible model with no capacity to choose;
- **gradient-boosted trees** (scikit-learn's ``HistGradientBoosting*``, 50 rounds, one thread) for
  regressions and tasks of at most ``BOOSTED_MAX_CLASSES`` classes: they find the interactions between
  columns that neighbours miss (mode-choice data: 0.16 against 0.44 for neighbours), at 10-80 ms a split
  on 2 cores. Many-class tasks (digits) skip them: there they cost 0.4-1.4 s a split.

The trees' first fit in a process imports scikit-learn's estimators (about 1.3 s, more than the
quickstart's training): so ``reference_fit`` returns the neighbours' fit at once and fits the trees on a
background thread while the network trains; ``settle`` (called when training has ended, before the final
summary and the diagnosis) waits for them and returns the complete record.

The diagnosis calls a flattened run under-fitting when its validation loss stays well above that
reference; a run near it is at the data's ceiling, and a bigger model would not help. Fits are cached
per split in the process, skipped for images, wide inputs and large sets (subsampled), and never fail a run.
"""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import Future

import numpy as np

from .baseline import EPS

MAX_ROWS = 5_000  # larger training sets are subsampled to this many rows (and validation sets to MAX_VAL)
MAX_VAL = 2_000
MAX_FEATURES = 256  # wider inputs (images, bags of words) get no reference fit
NEIGHBOURS = (5, 15, 40)  # the k tried (leave-one-out on the training split picks one)
SMOOTHING = (0.1, 0.5, 2.0)  # pseudo-counts spread over the classes by the training prior (picked the same way)
LOO_ROWS = 600  # training rows the leave-one-out choice is made on
BOOSTED_MAX_CLASSES = 3
BOOSTED_ROUNDS = 50
CLASSIFICATION = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")
REGRESSION = ("mean_squared_error", "mean_absolute_error")
_CACHE: dict[str, dict] = {}
_PENDING: dict[str, Future] = {}  # the trees' fits still running on the background thread, by split


class PendingFit(dict):
    """The neighbours' record (a plain dict in ``summary.json``) while the trees are fitted in the background:
    ``settle`` turns it into the complete record."""

    def __init__(self, record: dict, future: Future):
        super().__init__(record)
        self.future = future


def reference_fit(x_train, y_train, x_val, y_val, encoding: str, loss_name: str, seed: int = 0) -> dict:
    """``{"loss", "model", "fits", "seconds"}``: the best validation loss (the run's loss) of the reference fits on
    the run's split, which model reached it, and every fit's loss; ``{}`` where none is made (no validation
    split, images, another loss)."""
    if x_val is None or len(x_val) == 0 or len(x_train) < 20 or (
            loss_name not in CLASSIFICATION and loss_name not in REGRESSION):
        return {}
    x_train, x_val = np.asarray(x_train), np.asarray(x_val)
    if x_train.ndim != 2 or x_train.shape[1] > MAX_FEATURES:
        return {}
    key = _key(x_train, y_train, x_val, y_val, loss_name)
    if key not in _CACHE:
        try:
            _CACHE[key] = _fit(x_train, np.asarray(y_train), x_val, np.asarray(y_val), encoding, loss_name, seed,
                               key)
        except Exception as exc:  # a reference is a luxury: never fail the run for it
            _CACHE[key] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    future = _PENDING.get(key)
    return PendingFit(_CACHE[key], future) if future is not None else dict(_CACHE[key])


def settle(record, timeout: float = 60.0) -> dict | None:
    """The complete reference record: ``record`` with the background trees' fit added (waiting for it up to
    ``timeout`` seconds; a fit that failed or is still running leaves the neighbours' record)."""
    if not isinstance(record, PendingFit):
        return record
    try:
        return record.future.result(timeout)
    except Exception:  # noqa: BLE001 - the neighbours' fit stands alone
        return dict(record)


def _fit(x_train, y_train, x_val, y_val, encoding, loss_name, seed, key: str | None = None) -> dict:
    """The neighbours' record; the trees' fit (where they apply) starts on a background thread under ``key``,
    or runs here without one."""
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
    classification = loss_name in CLASSIFICATION
    if classification:
        y_train, y_val = _classes(y_train, encoding), _classes(y_val, encoding)
        if len(np.unique(y_train)) < 2:
            return {}
    else:
        y_train = np.asarray(y_train, dtype="float64").reshape(len(y_train), -1)
        y_val = np.asarray(y_val, dtype="float64").reshape(len(y_val), -1)
        if y_train.shape[1] != 1:
            return {}
        y_train, y_val = y_train[:, 0], y_val[:, 0]
    k, alpha, loss = _neighbours(x_train, y_train, x_val, y_val, loss_name, rng)
    neighbours = {f"{k} nearest neighbours on the normalized inputs": loss}
    record = _record(neighbours, time.perf_counter() - start)
    n_classes = int(max(y_train.max(), y_val.max())) + 1 if classification else 0
    if n_classes > BOOSTED_MAX_CLASSES:
        return record

    def with_trees() -> dict:
        begun = time.perf_counter()
        fits = dict(neighbours)
        fits[f"gradient-boosted trees ({BOOSTED_ROUNDS} rounds)"] = _boosted(x_train, y_train, x_val, y_val,
                                                                            loss_name, seed)
        return _record(fits, record["seconds"] + time.perf_counter() - begun)

    if key is None:
        try:
            return with_trees()
        except Exception:  # noqa: BLE001 - the neighbours' fit stands alone
            return record
    _PENDING[key] = _in_background(with_trees)
    return record


def _record(fits: dict, seconds: float) -> dict:
    model = min(fits, key=fits.get)
    return {"loss": fits[model], "model": model, "fits": {m: round(v, 6) for m, v in fits.items()},
            "seconds": round(seconds, 3)}


def _in_background(work) -> Future:
    """``work()`` on a daemon thread (a process that ends never waits for it), its result in a Future."""
    future: Future = Future()

    def run():
        try:
            future.set_result(work())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever settles the record
            future.set_exception(exc)

    threading.Thread(target=run, name="lossopt-reference-fit", daemon=True).start()
    return future


def _distances(a, b):
    """Squared Euclidean distances, in float32 (they only rank neighbours; twice as fast as float64)."""
    a, b = a.astype("float32"), b.astype("float32")
    return (a ** 2).sum(1)[:, None] - 2 * a @ b.T + (b ** 2).sum(1)[None, :]


def _nearest(distances, k):
    """The indices of each row's k nearest, nearest first."""
    near = np.argpartition(distances, k - 1, axis=1)[:, :k]
    return np.take_along_axis(near, np.argsort(np.take_along_axis(distances, near, axis=1), axis=1), axis=1)


def _neighbours(x_train, y_train, x_val, y_val, loss_name, rng):
    """``(k, smoothing, validation loss)``: k nearest neighbours, with k (and for classes the pseudo-counts)
    chosen by leave-one-out on (a sample of) the training split."""
    classification = loss_name in CLASSIFICATION
    n_classes = int(max(y_train.max(), y_val.max())) + 1 if classification else 0
    prior = (np.bincount(y_train, minlength=n_classes) + 1.0) / (len(y_train) + n_classes) if classification else None
    ks = [k for k in NEIGHBOURS if k < len(x_train)] or [max(1, len(x_train) - 1)]
    sample = rng.choice(len(x_train), min(LOO_ROWS, len(x_train)), replace=False)
    own = _distances(x_train[sample], x_train)
    own[np.arange(len(sample)), sample] = np.inf  # leave each row out of its own neighbours
    order, val_order = _nearest(own, max(ks)), _nearest(_distances(x_val, x_train), max(ks))

    def score(order, truth, k, alpha):
        near = y_train[order[:, :k]]
        if not classification:
            predicted = near.mean(axis=1) if loss_name == "mean_squared_error" else np.median(near, axis=1)
            error = predicted - truth
            return float((error ** 2).mean() if loss_name == "mean_squared_error" else np.abs(error).mean())
        counts = np.zeros((len(truth), n_classes))
        np.add.at(counts, (np.repeat(np.arange(len(truth)), k), near.reshape(-1)), 1.0)
        proba = (counts + alpha * prior) / (k + alpha)
        return float(-np.log(np.clip(proba[np.arange(len(truth)), truth], EPS, 1.0)).mean())

    choices = [(k, a) for k in ks for a in (SMOOTHING if classification else (0.0,))]
    k, alpha = min(choices, key=lambda c: score(order, y_train[sample], *c))
    return k, alpha, score(val_order, y_val, k, alpha)


def _boosted(x_train, y_train, x_val, y_val, loss_name, seed) -> float:
    """Gradient-boosted trees' validation loss (scikit-learn, one thread: training shares the cores)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        if loss_name in CLASSIFICATION:
            model = HistGradientBoostingClassifier(max_iter=BOOSTED_ROUNDS, early_stopping=False, random_state=seed)
            model.fit(x_train, y_train)
            proba = np.zeros((len(x_val), int(max(y_train.max(), y_val.max())) + 1))
            proba[:, model.classes_] = model.predict_proba(x_val)
            return float(-np.log(np.clip(proba[np.arange(len(y_val)), y_val], EPS, 1.0)).mean())
        model = HistGradientBoostingRegressor(max_iter=BOOSTED_ROUNDS, early_stopping=False, random_state=seed,
                                              loss="absolute_error" if loss_name == "mean_absolute_error"
                                              else "squared_error")
        error = model.fit(x_train, y_train).predict(x_val) - y_val
        return float((error ** 2).mean() if loss_name == "mean_squared_error" else np.abs(error).mean())


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
