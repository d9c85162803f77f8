"""Synthetic datasets (moons, circles, blobs, spirals, xor, imbalanced, regression), seeded."""

from __future__ import annotations

import numpy as np

from ..schema import ConfigError, Float, Int, Param
from .dataset import DATASETS, classification, regression

# --- synthetic datasets ------------------------------------------------------------------------

N_SAMPLES = Param(1000, Int(10), "number of samples")


def _noise(default: float, text: str = "standard deviation of Gaussian noise") -> Param:
    return Param(default, Float(0), text)


@DATASETS.register(
    "moons", "two interleaving half circles, 2 features, 2 classes (scikit-learn make_moons)",
    params={"n_samples": N_SAMPLES, "noise": _noise(0.2)}, tags={"classification"},
)
def moons(n_samples, noise, seed=0):
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return classification("moons", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "circles", "a small circle inside a large one, 2 features, 2 classes (scikit-learn make_circles)",
    params={"n_samples": N_SAMPLES, "noise": _noise(0.05),
            "factor": Param(0.5, Float(0, 1, low_open=True, high_open=True), "inner radius / outer radius")},
    tags={"classification"},
)
def circles(n_samples, noise, factor, seed=0):
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=n_samples, noise=noise, factor=factor, random_state=seed)
    return classification("circles", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "blobs", "Gaussian clusters, one per class (scikit-learn make_blobs)",
    params={"n_samples": N_SAMPLES, "n_features": Param(2, Int(1), "number of features"),
            "centers": Param(3, Int(2), "number of clusters = classes"),
            "cluster_std": Param(1.0, Float(0, low_open=True), "spread of each cluster")},
    tags={"classification"},
)
def blobs(n_samples, n_features, centers, cluster_std, seed=0):
    from sklearn.datasets import make_blobs

    x, y = make_blobs(n_samples=n_samples, n_features=n_features, centers=centers, cluster_std=cluster_std,
                      random_state=seed)
    return classification("blobs", x, y)


@DATASETS.register(
    "spirals", "interleaved spiral arms, 2 features, one class per arm: needs a non-linear model",
    params={"n_samples": N_SAMPLES, "n_classes": Param(2, Int(2), "number of arms = classes"),
            "noise": _noise(0.2), "turns": Param(1.5, Float(0, low_open=True), "turns of each arm")},
    tags={"classification"},
)
def spirals(n_samples, n_classes, noise, turns, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    t = rng.uniform(0.05, 1.0, n_samples)
    angle = t * turns * 2 * np.pi + y * 2 * np.pi / n_classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1) * 5 + rng.normal(0, noise, (n_samples, 2))
    return classification("spirals", x, y, feature_names=["x1", "x2"])


@DATASETS.register(
    "xor", "points in [-1, 1]^2 labelled by the sign of x1 * x2: not linearly separable",
    params={"n_samples": N_SAMPLES, "noise": _noise(0.1)}, tags={"classification"},
)
def xor(n_samples, noise, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_samples, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    return classification("xor", x + rng.normal(0, noise, x.shape), y, feature_names=["x1", "x2"])


@DATASETS.register(
    "imbalanced", "classification where the minority class(es) are rare: accuracy misleads, precision/recall/F1/AUC "
    "and data.class_weight: balanced help (scikit-learn make_classification)",
    params={"n_samples": N_SAMPLES, "n_features": Param(20, Int(2), "number of features"),
            "n_classes": Param(2, Int(2), "number of classes"),
            "minority": Param(0.05, Float(0, 0.5, low_open=True), "fraction of the samples in each minority class"),
            "class_sep": Param(1.0, Float(0, low_open=True), "how far apart the classes are (smaller = harder)"),
            "flip_y": Param(0.01, Float(0, 1), "fraction of labels flipped at random")},
    tags={"classification"},
)
def imbalanced(n_samples, n_features, n_classes, minority, class_sep, flip_y, seed=0):
    from sklearn.datasets import make_classification

    if minority * (n_classes - 1) >= 1:
        raise ConfigError(f"data.params.minority * (n_classes - 1) must be < 1 to leave a majority class. Got "
                          f"{minority} * {n_classes - 1}.", key="data.params.minority")
    weights = [1 - minority * (n_classes - 1)] + [minority] * (n_classes - 1)
    x, y = make_classification(n_samples=n_samples, n_features=n_features, n_informative=min(n_features, 5),
                               n_redundant=min(2, max(0, n_features - 5)), n_classes=n_classes, weights=weights,
                               class_sep=class_sep, flip_y=flip_y, random_state=seed)
    return classification("imbalanced", x, y)


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
