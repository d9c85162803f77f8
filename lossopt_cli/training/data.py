"""From a loaded ``Dataset`` to arrays Keras can fit: split, normalize, encode labels.

The split is seeded (stratified for classification), the scaler is fitted on the training
split only, and labels are encoded to suit the loss, which also decides the output layer:
softmax over classes, one sigmoid unit, one linear unit with -1/+1 labels (hinge), or
linear units for regression. ``data.class_weight`` becomes per-sample training weights.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..catalog.datasets import Dataset
from ..catalog.losses import label_mode
from ..config.sections import DataSection
from ..schema import ConfigError


@dataclass
class Prepared:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    task: str
    n_classes: int | None
    output_units: int
    output_activation: str
    label_mode: str
    encoding: str = "values"  # one_hot | integer | binary (0/1) | signed (-1/+1) | values
    class_names: list | None = None
    sample_weight: np.ndarray | None = None  # from data.class_weight, training split only
    class_counts: list | None = None  # training samples per class
    notes: list[str] = field(default_factory=list)
    constant_model: dict = field(default_factory=dict)  # training.baseline: the loss of a constant prediction
    target_scale: dict | None = None  # data.scale_target: {"mean": [...], "variance": [...]} of the training targets

    @property
    def input_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    def majority_class_rate(self) -> float | None:
        """The accuracy of always predicting the most common training class (None for regression)."""
        if self.task != "classification" or len(self.y_train) == 0:
            return None
        y = np.asarray(self.y_train)
        labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
        _, counts = np.unique(labels, return_counts=True)
        return round(float(counts.max() / counts.sum()), 6)

    def sizes(self) -> dict:
        return {"train": len(self.x_train), "validation": 0 if self.x_val is None else len(self.x_val),
                "test": 0 if self.x_test is None else len(self.x_test)}


def split_indices(y: np.ndarray, fraction: float, seed: int, stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) index arrays; held_out is ``fraction`` of the samples."""
    n = len(y)
    idx = np.arange(n)
    n_out = int(round(n * fraction))
    if n_out == 0:
        return idx, idx[:0]
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True) if stratify else (None, None)
    if stratify and 1 < len(classes) <= n_out and counts.min() >= 2:
        # each class gives its share of n_out (largest remainders round up), drawn at random
        quota = counts * n_out / n
        take = np.floor(quota).astype(int)
        order = np.lexsort((rng.random(len(classes)), -(quota - take)))
        take[order[: n_out - take.sum()]] += 1
        out = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, take)])
    else:
        out = rng.permutation(n)[:n_out]
    held = np.zeros(n, dtype=bool)
    held[out] = True
    return idx[~held], idx[held]


class Scaler:
    def __init__(self, method: str):
        self.method = method
        self.shift: np.ndarray | float = 0.0
        self.scale: np.ndarray | float = 1.0

    def fit(self, x: np.ndarray) -> "Scaler":
        method = self.method
        if method == "auto":
            method = "pixels" if x.ndim >= 3 and x.size and float(np.nanmax(x)) > 1.0 else "standard"
            if x.ndim < 3 and x.size == 0:
                method = "none"
        self.method = method
        if method == "standard":
            self.shift = x.mean(axis=0)
            std = x.std(axis=0)
            self.scale = np.where(std > 0, std, 1.0)
        elif method == "minmax":
            lo, hi = x.min(axis=0), x.max(axis=0)
            self.shift, self.scale = lo, np.where(hi > lo, hi - lo, 1.0)
        elif method == "pixels":
            self.shift, self.scale = 0.0, 255.0 if float(x.max()) > 1.0 else 1.0
        return self

    def transform(self, x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        return ((x.astype("float32") - self.shift) / self.scale).astype("float32")


class Imputer:
    """Fills missing cells (NaN) with statistics of the training split: the median of a numeric
    column, the most frequent level of a one-hot encoded one (``data.missing: impute``)."""

    def __init__(self, groups: list):
        self.groups = groups  # (kind, start, stop) per source column
        self.fill: list = []

    def fit(self, x: np.ndarray) -> "Imputer":
        for kind, start, stop in self.groups:
            block = x[:, start:stop]
            if kind == "number":
                values = block[:, 0][np.isfinite(block[:, 0])]
                self.fill.append(np.array([float(np.median(values)) if len(values) else 0.0], dtype="float32"))
            else:
                counts = np.nansum(block, axis=0)
                level = np.zeros(stop - start, dtype="float32")
                level[int(np.argmax(counts))] = 1.0
                self.fill.append(level)
        return self

    def transform(self, x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        x = x.copy()
        for (_, start, stop), value in zip(self.groups, self.fill):
            rows = np.isnan(x[:, start:stop]).any(axis=1)
            x[rows, start:stop] = value
        return x


def output_head(task: str, n_classes: int | None, mode: str, loss_name: str) -> tuple[int, str, str]:
    """(units, activation, encoding) for the loss' label mode on this task."""
    if task == "regression":
        if mode != "regression":
            raise ConfigError(
                f"loss {loss_name!r} is a classification loss but the dataset's target is continuous "
                f"(regression). Use a regression loss such as mean_squared_error, mean_absolute_error or huber.",
                key="loss",
            )
        return 0, "linear", "values"
    if mode in ("binary", "signed"):
        if n_classes != 2:
            other = ("categorical_hinge" if mode == "signed"
                     else "categorical_crossentropy (one-hot) or sparse_categorical_crossentropy")
            raise ConfigError(
                f"loss {loss_name!r} needs two classes, but the dataset has {n_classes}. Use {other}.",
                key="loss",
            )
        return (1, "sigmoid", "binary") if mode == "binary" else (1, "linear", "signed")
    if mode == "sparse":
        return n_classes, "softmax", "integer"
    if mode == "categorical_hinge":
        return n_classes, "linear", "one_hot"
    if mode == "regression" and n_classes == 2:
        return 1, "sigmoid", "binary"
    return n_classes, "softmax", "one_hot"


def encode(y: np.ndarray | None, encoding: str, n_classes: int | None) -> np.ndarray | None:
    if y is None:
        return None
    if encoding == "one_hot":
        out = np.zeros((len(y), n_classes), dtype="float32")
        out[np.arange(len(y)), y.astype(int)] = 1.0
        return out
    if encoding == "binary":
        return y.astype("float32").reshape(-1, 1)
    if encoding == "signed":
        return (2.0 * y.astype("float32") - 1.0).reshape(-1, 1)
    if encoding == "integer":
        return y.astype("int64")
    return y.astype("float32").reshape(len(y), -1)  # regression: (n, targets)


def class_weights(y: np.ndarray, n_classes: int, setting) -> dict[int, float]:
    """``balanced``: n / (k * count), as scikit-learn computes it; a mapping: as given, 1.0 elsewhere."""
    if setting == "balanced":
        counts = np.bincount(y.astype(int), minlength=n_classes)
        present = counts > 0
        return {int(c): float(len(y) / (present.sum() * counts[c])) if present[c] else 0.0 for c in range(n_classes)}
    return {c: float(setting.get(c, 1.0)) for c in range(n_classes)}


def prepare(ds: Dataset, data_cfg: DataSection, loss_spec, seed: int) -> Prepared:
    notes: list[str] = []
    x, y = ds.x, ds.y
    classify = ds.task == "classification"
    x_test, y_test = ds.x_test, ds.y_test
    if x_test is None and data_cfg.test_split > 0:
        keep, test = split_indices(y, data_cfg.test_split, seed, classify)
        x_test, y_test, x, y = x[test], y[test], x[keep], y[keep]
    elif x_test is not None and data_cfg.test_split > 0:
        notes.append(f"{ds.name} comes with its own test set; data.test_split is not used.")
    x_val, y_val = ds.x_val, ds.y_val
    if x_val is None and data_cfg.validation_split > 0:
        frac = data_cfg.validation_split / (1 - (data_cfg.test_split if ds.x_test is None else 0.0))
        keep, val = split_indices(y, min(frac, 0.9), seed + 1, classify)
        x_val, y_val, x, y = x[val], y[val], x[keep], y[keep]
    if len(x) == 0:
        raise ConfigError("no training samples are left after the validation and test splits; "
                          "lower data.validation_split or data.test_split.", key="data.validation_split")
    notes = list(ds.notes) + notes
    if ds.feature_groups and np.isnan(x).any() | any(a is not None and np.isnan(a).any() for a in (x_val, x_test)):
        imputer = Imputer(ds.feature_groups).fit(x)
        x, x_val, x_test = imputer.transform(x), imputer.transform(x_val), imputer.transform(x_test)
    scaler = Scaler(data_cfg.normalize).fit(x.astype("float32"))
    mode = label_mode(loss_spec)
    units, activation, encoding = output_head(ds.task, ds.n_classes, mode, loss_spec.name)
    if units == 0:
        units = 1 if y.ndim == 1 else int(y.shape[1])
    if loss_spec.params.get("from_logits"):
        activation = "linear"
    if ds.task == "regression" and "positive_output" in loss_spec.entry.tags:
        activation = "softplus"  # Poisson: the predicted rate must be > 0
    if mode == "regression" and ds.task == "classification":
        notes.append(f"{loss_spec.name} on class labels: targets are {encoding.replace('_', '-')} encoded "
                     f"with a {activation} output; cross-entropy is the usual loss for classification.")
    if encoding == "signed":
        notes.append(f"{loss_spec.name} needs labels in {{-1, 1}}: class {_class_name(ds, 0)} became -1 and "
                     f"{_class_name(ds, 1)} +1, with a linear output (its sign is the prediction).")
    sample_weight, counts = None, None
    if ds.task == "classification":
        counts = np.bincount(y.astype(int), minlength=ds.n_classes).tolist()
        if data_cfg.class_weight is not None:
            weights = class_weights(y, ds.n_classes, data_cfg.class_weight)
            sample_weight = np.array([weights[int(c)] for c in y], dtype="float32")
            notes.append("class weights " + ", ".join(f"{_class_name(ds, c)}: {w:.3g}" for c, w in weights.items())
                         + " (training loss only)")
    y_train_encoded, y_val_encoded = encode(y, encoding, ds.n_classes), encode(y_val, encoding, ds.n_classes)
    from .baseline import constant_model

    scale = data_cfg.scale_target if loss_spec.name in SCALED_LOSSES else "none"
    target_scale = _target_scale(y_train_encoded, encoding, activation, scale, notes)

    return Prepared(
        x_train=scaler.transform(x), y_train=y_train_encoded,
        x_val=scaler.transform(x_val), y_val=y_val_encoded,
        x_test=scaler.transform(x_test), y_test=encode(y_test, encoding, ds.n_classes),
        task=ds.task, n_classes=ds.n_classes, output_units=units, output_activation=activation,
        label_mode=mode, encoding=encoding, class_names=ds.class_names, sample_weight=sample_weight,
        class_counts=counts, notes=notes, target_scale=target_scale,
        constant_model=constant_model(y_train_encoded, y_val_encoded, encoding, loss_spec.name, loss_spec.params,
                                      sample_weight=sample_weight),
    )


# regression losses measured in the target's units, which a standardizing last layer leaves meaningful
# (cosine similarity, Poisson and the like are about direction or positivity: their output stays plain)
SCALED_LOSSES = ("mean_squared_error", "mean_absolute_error", "huber", "log_cosh", "mean_absolute_percentage_error",
                 "mean_squared_logarithmic_error")


def _target_scale(y_train: np.ndarray, encoding: str, activation, setting: str, notes: list[str]) -> dict | None:
    """The mean and variance of a regression target (per output), for the model's last layer to map standardized
    outputs back to the target's units; said once when the target is far from unit scale."""
    if setting != "auto" or encoding != "values" or activation not in (None, "linear") or len(y_train) < 2:
        return None
    y = np.asarray(y_train, dtype="float64").reshape(len(y_train), -1)
    mean, std = y.mean(axis=0), y.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    if np.all((std > 0.5) & (std < 2) & (np.abs(mean) < 1)):
        return None  # already about standardized: nothing to gain
    shown = ", ".join(f"mean {m:.4g}, std {s:.4g}" for m, s in zip(mean[:3], std[:3]))
    notes.append(f"the regression target ({shown}) is standardized by the model's last layer (fitted on the "
                 f"training split): training is as well conditioned as on a scaled target, and losses, metrics and "
                 f"predictions stay in the target's units (data.scale_target: none turns this off).")
    return {"mean": mean.tolist(), "variance": (std ** 2).tolist()}


def _class_name(ds: Dataset, c: int) -> str:
    return repr(ds.class_names[c]) if ds.class_names and c < len(ds.class_names) else str(c)
