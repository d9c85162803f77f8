"""Datasets: scikit-learn's bundled sets, synthetic sets, ``keras:<name>``, CSV and NPZ files.

A loader returns a ``Dataset`` of NumPy arrays; splitting, normalization and label encoding
happen later, in ``training.data``, so every source is treated alike. Nothing here imports
TensorFlow except ``keras:<name>`` when the file is not already in Keras' cache.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..schema import ConfigError, Float, Int, Param
from .registry import Registry

DATASETS = Registry("dataset")


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


# --- scikit-learn's bundled datasets (real data, offline) ----------------------------------


def _sklearn(loader_name: str, task: str):
    def load(**_):
        from sklearn import datasets as skd

        bunch = getattr(skd, loader_name)()
        names = getattr(bunch, "feature_names", None)
        kw = {"feature_names": [str(n) for n in names] if names is not None and len(names) else None}
        if task == "classification":
            names = getattr(bunch, "target_names", None)
            kw["class_names"] = [str(n) for n in names] if names is not None else None
            return classification(loader_name.removeprefix("load_"), bunch.data, bunch.target, **kw)
        return regression(loader_name.removeprefix("load_"), bunch.data, bunch.target, **kw)

    return load


for _name, _loader, _task, _text in [
    ("digits", "load_digits", "classification", "8x8 handwritten digits, 1797 images, 10 classes (scikit-learn, offline)"),
    ("iris", "load_iris", "classification", "Fisher's iris flowers, 150 samples, 4 features, 3 classes"),
    ("breast_cancer", "load_breast_cancer", "classification", "Wisconsin breast cancer, 569 samples, 30 features, 2 classes"),
    ("diabetes", "load_diabetes", "regression", "Diabetes progression, 442 samples, 10 features, regression"),
]:
    DATASETS.register(_name, _text, tags={_task})(_sklearn(_loader, _task))


# --- synthetic datasets ------------------------------------------------------------------------

N_SAMPLES = Param(1000, Int(10), "number of samples")


@DATASETS.register(
    "moons", "two interleaving half circles, 2 features, 2 classes (scikit-learn make_moons)",
    params={"n_samples": N_SAMPLES, "noise": Param(0.2, Float(0), "standard deviation of Gaussian noise")},
    tags={"classification"},
)
def moons(n_samples, noise, seed=0):
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return classification("moons", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "regression", "linear regression with Gaussian noise and optional outliers (scikit-learn make_regression)",
    params={
        "n_samples": N_SAMPLES,
        "n_features": Param(10, Int(1), "number of features"),
        "noise": Param(10.0, Float(0), "standard deviation of the noise on the target"),
        "outliers": Param(0.0, Float(0, 0.5), "fraction of targets replaced by large outliers"),
    },
    tags={"regression"},
)
def synthetic_regression(n_samples, n_features, noise, outliers, seed=0):
    from sklearn.datasets import make_regression

    x, y = make_regression(n_samples=n_samples, n_features=n_features, noise=noise, random_state=seed)
    if outliers:
        rng = np.random.default_rng(seed)
        idx = rng.choice(n_samples, int(round(outliers * n_samples)), replace=False)
        y[idx] += rng.choice([-1.0, 1.0], len(idx)) * 10 * y.std()
    return regression("regression", x, y)


# --- keras.datasets -----------------------------------------------------------------------

KERAS_DATASETS = {
    # name: (cache file inside ~/.keras/datasets, task)
    "mnist": ("mnist.npz", "classification"),
}


def keras_cache_dir() -> Path:
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "datasets"


def load_keras_dataset(name: str, path: str = "data.dataset") -> Dataset:
    """``keras:<name>``: read Keras' cached file, else let keras.datasets download it."""
    if name not in KERAS_DATASETS:
        from ..schema import suggest

        raise ConfigError(
            f"Unknown Keras dataset 'keras:{name}' at {path}.{suggest(name, KERAS_DATASETS)} "
            f"Valid: {', '.join('keras:' + n for n in KERAS_DATASETS)}.",
            key=path,
        )
    fname, task = KERAS_DATASETS[name]
    cached = keras_cache_dir() / fname
    if cached.exists():
        with np.load(cached, allow_pickle=False) as f:
            (x, y), (xt, yt) = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
    else:
        try:
            import keras

            (x, y), (xt, yt) = getattr(keras.datasets, name).load_data()
        except Exception as exc:  # no network, no cache
            raise ConfigError(
                f"{path}: keras:{name} is not in Keras' cache ({cached}) and could not be downloaded "
                f"({type(exc).__name__}: {str(exc)[:120]}). Download it once with internet access, "
                f"copy {fname} into {cached.parent}, or use an offline dataset such as 'digits'.",
                key=path,
            ) from None
    make = classification if task == "classification" else regression
    return make(f"keras:{name}", x, y, x_test=xt, y_test=yt)


# --- files ---------------------------------------------------------------------------------


def load_file(path_text: str, target: str | None, path: str = "data.dataset") -> Dataset:
    p = Path(path_text)
    if not p.exists():
        raise ConfigError(f"{path}: file {path_text!r} does not exist. Give a built-in name "
                          f"(see `lossopt catalog datasets`) or the path of a .csv or .npz file.", key=path)
    if p.suffix.lower() == ".npz":
        with np.load(p, allow_pickle=False) as f:
            missing = [k for k in ("x", "y") if k not in f.files]
            if missing:
                raise ConfigError(f"{path}: {p} must hold arrays 'x' and 'y' (optional x_val/y_val, "
                                  f"x_test/y_test); it has {', '.join(f.files) or 'none'}.", key=path)
            arrays = {k: f[k] for k in f.files}
        extra = {k: arrays.get(k) for k in ("x_val", "y_val", "x_test", "y_test")}
        y = arrays["y"]
        is_class = y.dtype.kind in "iub" or y.dtype.kind in "US"
        return (classification if is_class else regression)(p.stem, arrays["x"], y, **extra)
    if p.suffix.lower() == ".csv":
        return _load_csv(p, target, path)
    raise ConfigError(f"{path}: {path_text!r} is neither a built-in dataset nor a .csv or .npz file.", key=path)


def _load_csv(p: Path, target: str | None, path: str) -> Dataset:
    import csv

    with open(p, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 2:
        raise ConfigError(f"{path}: {p} has no data rows.", key=path)
    header, body = rows[0], rows[1:]
    if not target:
        raise ConfigError(f"data.target is required for a CSV dataset: the name of the label column in {p} "
                          f"(columns: {', '.join(header)}).", key="data.target")
    if target not in header:
        from ..schema import suggest

        raise ConfigError(f"data.target {target!r} is not a column of {p}.{suggest(target, header)} "
                          f"Columns: {', '.join(header)}.", key="data.target")
    ti = header.index(target)
    features = [h for i, h in enumerate(header) if i != ti]
    try:
        x = np.array([[float(r[i]) for i in range(len(header)) if i != ti] for r in body], dtype="float32")
    except ValueError as exc:
        raise ConfigError(f"{path}: {p} has a non-numeric feature value ({exc}).", key=path) from None
    labels = [r[ti] for r in body]
    try:
        values = np.array([float(v) for v in labels])
        is_class = all(v.is_integer() for v in values) and len(set(values)) <= max(20, len(values) // 20)
    except ValueError:
        values, is_class = np.array(labels), True
    if is_class:
        return classification(p.stem, x, values.astype("int64") if values.dtype.kind == "f" else values,
                              feature_names=features)
    return regression(p.stem, x, values, feature_names=features)


def load_dataset(name: str, params: dict, target: str | None, seed: int) -> Dataset:
    """Load ``data.dataset`` (already validated by the config)."""
    if name.startswith("keras:"):
        return load_keras_dataset(name.split(":", 1)[1])
    if name in DATASETS:
        spec = DATASETS.get({"name": name, **params}, "data.dataset")
        return spec.build(seed=seed)
    return load_file(name, target)
