"""The reference fits of ``data.reference_fit``: what simple models reach on a run's own split, chosen without
looking at the validation data they are scored on."""

from __future__ import annotations

import numpy as np

from lossopt_cli.training import reference_fit as rf


def _xor(n, seed, noise=0.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 4))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype("float32")
    flip = rng.random(n) < noise
    return x, np.where(flip, 1 - y, y).reshape(-1, 1)


def test_trees_find_an_interaction_and_the_best_fit_is_recorded():
    x, y = _xor(600, 0)
    xv, yv = _xor(200, 1)
    pending = rf.reference_fit(x, y, xv, yv, "binary", "binary_crossentropy")
    # the neighbours' record at once, the trees on a background thread: settle() waits for them
    assert list(pending["fits"]) == [m for m in pending["fits"] if "nearest neighbours" in m]
    fit = rf.settle(pending)
    trees = next(v for m, v in fit["fits"].items() if "boosted trees" in m)
    neighbours = next(v for m, v in fit["fits"].items() if "nearest neighbours" in m)
    assert trees < 0.5 * neighbours and abs(fit["loss"] - trees) < 1e-5 and "boosted trees" in fit["model"]
    assert fit["loss"] < 0.2 * np.log(2)  # far below the prior's loss: the inputs carry signal


def test_the_neighbours_choice_never_looks_at_the_validation_labels():
    x, y = _xor(400, 2, noise=0.2)
    xv, yv = _xor(150, 3, noise=0.2)
    rng = np.random.default_rng(0)
    k1 = rf._neighbours(x, y[:, 0].astype(int), xv, yv[:, 0].astype(int), "binary_crossentropy", rng)[:2]
    rng = np.random.default_rng(0)
    k2 = rf._neighbours(x, y[:, 0].astype(int), xv, 1 - yv[:, 0].astype(int), "binary_crossentropy", rng)[:2]
    assert k1 == k2


def test_many_classes_skip_the_trees_and_a_regression_gets_both():
    rng = np.random.default_rng(4)
    x, xv = rng.normal(size=(300, 5)), rng.normal(size=(100, 5))
    y, yv = rng.integers(0, 10, 300), rng.integers(0, 10, 100)
    fit = rf.settle(rf.reference_fit(x, np.eye(10)[y], xv, np.eye(10)[yv], "onehot", "categorical_crossentropy",
                                     seed=5))
    assert list(fit["fits"]) == [m for m in fit["fits"] if "nearest neighbours" in m] and len(fit["fits"]) == 1
    t, tv = x[:, 0] ** 2 + 0.1 * rng.normal(size=300), xv[:, 0] ** 2
    fit = rf.settle(rf.reference_fit(x, t, xv, tv, "", "mean_squared_error", seed=6))
    assert len(fit["fits"]) == 2 and fit["loss"] < np.var(tv)
