"""The loss of a constant model: what a run must beat to have learned anything.

A model that ignores its input and always predicts the training set's class prior (or the
target's mean, or median for absolute errors) reaches a known loss on the validation split. The
diagnosis judges under-fitting and a set-up that cannot learn against it, instead of against
where the loss happened to start. NumPy only; ``None`` for losses without a closed form here.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-7  # Keras clips probabilities to [eps, 1 - eps] in its cross-entropies


def constant_model(y_train: np.ndarray, y_val: np.ndarray | None, encoding: str, loss_name: str,
                   params: dict | None = None, sample_weight: np.ndarray | None = None) -> dict:
    """``{"loss": validation loss of the best constant prediction, "prediction": what it predicts}``
    for the run's loss (the training loss when there is no validation split); ``{}`` when unknown.

    With ``sample_weight`` (``data.class_weight``), also ``train_loss``: the weighted training loss of the
    best constant prediction under those weights, which is what the run's training loss must beat (Keras
    weights the training loss only: under balanced weights a constant model scores ln(classes) there,
    not the prior's entropy)."""
    out = _constant_model(y_train, y_val, encoding, loss_name, params or {})
    if out and sample_weight is not None and len(sample_weight) == len(y_train):
        weighted = _weighted_prior_loss(np.asarray(y_train, dtype="float64"), encoding, loss_name,
                                        np.asarray(sample_weight, dtype="float64"), out.get("classes"))
        if weighted is not None:
            out.update({"train_loss": weighted, "train_prediction": "the class prior under the class weights"})
    return out


def _weighted_prior_loss(y_train: np.ndarray, encoding: str, loss_name: str, weight: np.ndarray,
                         n_classes: int | None) -> float | None:
    """min over constant class probabilities p of mean_i w_i * CE(y_i, p): p_c is proportional to the classes'
    summed weights W_c, and the value is -sum_c (W_c / n) ln(W_c / sum W)."""
    if loss_name in ("categorical_crossentropy", "sparse_categorical_crossentropy") and n_classes:
        onehot = _one_hot(y_train, encoding, n_classes)
    elif loss_name == "binary_crossentropy" and encoding == "binary":
        positive = y_train.reshape(-1)
        onehot = np.stack([1 - positive, positive], axis=1)
    else:
        return None
    mass = (onehot * weight[:, None]).sum(axis=0) / len(weight)
    share = np.clip(mass / mass.sum(), EPS, 1 - EPS)
    return float(-(mass * np.log(share)).sum())


def _constant_model(y_train: np.ndarray, y_val: np.ndarray | None, encoding: str, loss_name: str,
                    params: dict) -> dict:
    y_val = y_train if y_val is None or len(y_val) == 0 else y_val
    if len(y_train) == 0:
        return {}
    y_train = np.asarray(y_train, dtype="float64")
    y_val = np.asarray(y_val, dtype="float64")
    smoothing = float(params.get("label_smoothing") or 0.0)
    if loss_name in ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence"):
        n_classes = int(y_train.shape[1]) if encoding == "one_hot" else int(max(y_train.max(), y_val.max())) + 1
        train, val = _one_hot(y_train, encoding, n_classes), _one_hot(y_val, encoding, n_classes)
        if smoothing:
            train = train * (1 - smoothing) + smoothing / n_classes
            val = val * (1 - smoothing) + smoothing / n_classes
        prior = np.clip(train.mean(axis=0), EPS, 1 - EPS)
        loss = float(-(val * np.log(prior)).sum(axis=1).mean())
        if loss_name == "kl_divergence":
            loss += float((val * np.log(np.clip(val, EPS, 1))).sum(axis=1).mean())
        return {"loss": loss, "prediction": "the class prior", "classes": n_classes}
    if loss_name == "binary_crossentropy" and encoding == "binary":
        train, val = y_train.reshape(-1), y_val.reshape(-1)
        if smoothing:
            train, val = train * (1 - smoothing) + smoothing / 2, val * (1 - smoothing) + smoothing / 2
        p = float(np.clip(train.mean(), EPS, 1 - EPS))
        loss = float(-(val * np.log(p) + (1 - val) * np.log(1 - p)).mean())
        return {"loss": loss, "prediction": "the class prior", "classes": 2}
    if encoding != "values":
        return {}
    y_train = y_train.reshape(len(y_train), -1)
    y_val = y_val.reshape(len(y_val), -1)
    if loss_name == "mean_squared_error":
        mean = y_train.mean(axis=0)
        return {"loss": float(((y_val - mean) ** 2).mean()), "prediction": "the target's mean",
                "target_variance": float(y_train.var(axis=0).mean())}
    if loss_name == "mean_absolute_error":
        median = np.median(y_train, axis=0)
        return {"loss": float(np.abs(y_val - median).mean()), "prediction": "the target's median"}
    if loss_name in ("huber", "log_cosh"):
        center = np.median(y_train, axis=0)
        err = np.abs(y_val - center)
        if loss_name == "huber":
            delta = float(params.get("delta", 1.0))
            loss = np.where(err <= delta, 0.5 * err ** 2, delta * (err - 0.5 * delta)).mean()
        else:
            loss = (err + np.log1p(np.exp(-2 * err)) - np.log(2)).mean()
        return {"loss": float(loss), "prediction": "the target's median"}
    return {}


def _one_hot(y: np.ndarray, encoding: str, n_classes: int) -> np.ndarray:
    if encoding == "one_hot":
        return y.reshape(len(y), -1)
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y.reshape(-1).astype(int)] = 1.0
    return out
