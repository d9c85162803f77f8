"""scikit-learn's bundled datasets (iris, digits, wine, breast_cancer, diabetes, linnerud): real data,
offline, read straight from the files scikit-learn ships (no 1.5 s scikit-learn import in `validate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..schema import ConfigError
from .dataset import DATASETS, FIXED, classification, regression

# --- scikit-learn's bundled datasets (real data, offline) ----------------------------------


# Read straight from the files scikit-learn ships (the same arrays its load_* functions return, a
# test checks), so that `lossopt validate` does not pay the 1.5 s of importing scikit-learn.


def sklearn_data_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("data.dataset: scikit-learn is not installed; its bundled datasets need it "
                          "(pip install scikit-learn).", key="data.dataset")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def _read_labelled_csv(file: str):
    """scikit-learn's CSV format: a first row 'n_samples,n_features,class names...', then features + label."""
    path = sklearn_data_dir() / file
    with open(path) as f:
        class_names = f.readline().strip().split(",")[2:]
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    return table[:, :-1], table[:, -1].astype(int), class_names


def _bundled(name: str):
    folder = sklearn_data_dir()
    if name == "digits":
        table = np.loadtxt(folder / "digits.csv.gz", delimiter=",")
        return classification(name, table[:, :-1], table[:, -1].astype(int), class_names=[str(i) for i in range(10)])
    if name in ("iris", "wine", "breast_cancer"):
        x, y, class_names = _read_labelled_csv({"wine": "wine_data.csv"}.get(name, f"{name}.csv"))
        return classification(name, x, y, class_names=class_names)
    if name == "diabetes":  # load_diabetes(scaled=True): standardized, then divided by sqrt(n_samples)
        x = np.loadtxt(folder / "diabetes_data_raw.csv.gz")
        x = (x - x.mean(axis=0)) / x.std(axis=0) / np.sqrt(len(x))
        return regression(name, x, np.loadtxt(folder / "diabetes_target.csv.gz"),
                          feature_names=["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"])
    if name == "linnerud":
        with open(folder / "linnerud_exercise.csv") as f:
            features = f.readline().split()
        x = np.loadtxt(folder / "linnerud_exercise.csv", skiprows=1)
        return regression(name, x, np.loadtxt(folder / "linnerud_physiological.csv", skiprows=1), feature_names=features)
    raise ValueError(name)


def _sklearn(loader_name: str, task: str):
    name = loader_name.removeprefix("load_")

    def load(**_):
        return _bundled(name)

    return load


for _name, _loader, _task, _text in [
    ("digits", "load_digits", "classification", "8x8 handwritten digits, 1797 images, 10 classes (scikit-learn, offline)"),
    ("iris", "load_iris", "classification", "Fisher's iris flowers, 150 samples, 4 features, 3 classes"),
    ("wine", "load_wine", "classification", "wine cultivars, 178 samples, 13 chemical features, 3 classes"),
    ("breast_cancer", "load_breast_cancer", "classification", "Wisconsin breast cancer, 569 samples, 30 features, 2 classes"),
    ("diabetes", "load_diabetes", "regression", "Diabetes progression, 442 samples, 10 features, regression"),
    ("linnerud", "load_linnerud", "regression", "Linnerud exercise/physiology, 20 samples, 3 features, 3 targets "
     "(multi-output regression)"),
]:
    DATASETS.register(_name, _text, tags={_task, FIXED})(_sklearn(_loader, _task))
