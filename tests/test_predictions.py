"""After training, each split goes through the model once: the test scores equal `model.evaluate`'s and the
per-class scores come from the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

from lossopt_cli import config
from lossopt_cli.training import predictions

from .conftest import write_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small run with a test split and no validation split, trained two epochs (no run directory)."""
    from lossopt_cli.training.runner import prepare_run

    from .conftest import SMALL

    root = tmp_path_factory.mktemp("predictions")
    cfg = dict(SMALL, output={"dir": str(root)}, model={"type": "mlp", "hidden_units": [8], "dropout": 0.3},
               data={"dataset": "iris", "validation_split": 0.0, "test_split": 0.3},
               metrics=["accuracy", "auc"])
    prepared = prepare_run(config.load(write_config(root, cfg)))
    data = prepared.data
    prepared.model.fit(data.x_train, data.y_train, epochs=2, batch_size=16, verbose=0)
    return prepared


def test_the_test_scores_equal_model_evaluate(trained):
    data, model = trained.data, trained.model
    expected = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0, return_dict=True)
    scores = predictions.Predictions(trained).test_scores()
    assert set(scores) == set(expected) and list(scores)[0] == "loss"
    for key, value in expected.items():
        assert scores[key] == pytest.approx(float(value), rel=1e-5, abs=1e-6), key
    # the outputs are the model's in inference mode (dropout off), as model.predict gives them
    np.testing.assert_allclose(predictions.outputs(model, data.x_test), model.predict(data.x_test, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_run_without_validation_predicts_its_test_split_once_for_both_scores(trained, monkeypatch):
    calls = []
    real = predictions.outputs
    monkeypatch.setattr(predictions, "outputs", lambda model, x: calls.append(len(x)) or real(model, x))
    run = predictions.Predictions(trained)
    test = run.test_scores()
    per_class = run.per_class()
    assert calls == [len(trained.data.x_test)]  # one forward pass over the test split, shared
    assert per_class["split"] == "test" and sum(per_class["support"]) == len(trained.data.x_test)
    hits = sum(per_class["confusion"][i][i] for i in range(3))
    assert hits / len(trained.data.x_test) == pytest.approx(test["accuracy"], abs=1e-6)
