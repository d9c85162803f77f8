"""The pre-flight check: each mismatch between the config and the data is a clear error (exit 2,
nothing written) or a note with the fix. Data-level checks need no TensorFlow."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import config
from lossopt_cli.cli import cli
from lossopt_cli.schema import ConfigError
from lossopt_cli.training.preflight import check_data


def checked(**changes):
    raw = {"data": {"dataset": "iris", "validation_split": 0.2}, "loss": "categorical_crossentropy"}
    for key, value in changes.items():
        section, _, sub = key.partition("__")
        if sub:
            raw.setdefault(section, {})
            raw[section] = {**raw[section], sub: value} if isinstance(raw[section], dict) else {sub: value}
        else:
            raw[section] = value
    return check_data(config.validate(raw), offline=True)


ERRORS = [
    (dict(loss="binary_crossentropy"), "loss 'binary_crossentropy' needs two classes, but the dataset has 3. Use "
                                       "categorical_crossentropy"),
    (dict(loss="hinge"), "loss 'hinge' needs two classes, but the dataset has 3. Use categorical_hinge"),
    (dict(loss="categorical_crossentropy", data__dataset="diabetes"), "is a classification loss but the dataset's "
                                                                      "target is continuous"),
    (dict(data__dataset="breast_cancer", loss="mse", model={"type": "mlp", "output_activation": "softmax"}),
     "model.output_activation is softmax on a single output unit"),
    (dict(loss={"name": "cce", "from_logits": True}, model={"type": "mlp", "output_activation": "softmax"}),
     "loss.from_logits is true but model.output_activation is softmax"),
    (dict(data__dataset="breast_cancer", loss="hinge", model={"type": "mlp", "output_activation": "sigmoid"}),
     "model.output_activation sigmoid cannot go below 0"),
    (dict(model={"type": "mlp", "output_activation": "sigmoid"}), "model.output_activation sigmoid with "
                                                                  "categorical_crossentropy"),
    (dict(data__dataset="diabetes", loss="mse", metrics=["accuracy"]), "metrics[0] accuracy is a classification metric"
                                                                       " but diabetes is a regression task"),
    (dict(metrics=[{"name": "top_k_accuracy", "k": 3}]), "metrics[0].k is 3 but there are only 3 classes"),
    (dict(metrics=["f1", "f1_score"]), "metrics lists f1 more than once"),
    (dict(data__dataset="diabetes", loss="mse", data__class_weight="balanced"), "data.class_weight applies to "
                                                                               "classification"),
    (dict(data__class_weight={5: 2.0}), "data.class_weight names class 5, but the classes are 0..2"),
    (dict(optimizer={"name": "sgd", "learning_rate": {"name": "exponential_decay", "initial": 0.1, "decay_steps": 9}},
          training={"reduce_lr_on_plateau": True}), "training.reduce_lr_on_plateau cannot change a learning-rate "
                                                    "schedule"),
    (dict(optimizer={"name": "adam", "clipnorm": 1.0, "clipvalue": 0.5}), "set only one of clipnorm, clipvalue"),
    (dict(training={"early_stopping": {"monitor": "val_f1"}}), "training.early_stopping.monitor is 'val_f1', which "
                                                                "this run will not record"),
    (dict(data__validation_split=0.0, training={"reduce_lr_on_plateau": True}),
     "There is no validation split: set data.validation_split > 0 or monitor 'loss'"),
    (dict(data__dataset="wine", model={"type": "cnn"}), "model.type cnn needs image-shaped data"),
    (dict(data__categorical=["colour"]), "data.categorical applies to CSV files only; 'iris' is not one"),
]


@pytest.mark.parametrize("changes,message", ERRORS, ids=[m[:40] for _, m in ERRORS])
def test_mismatches_are_clear_errors(changes, message):
    with pytest.raises(ConfigError) as err:
        checked(**changes)
    assert message in str(err.value)


NOTES = [
    (dict(data__dataset="breast_cancer", loss="hinge"), "hinge needs labels in {-1, 1}: class 'malignant' became -1 "
                                                        "and 'benign' +1"),
    (dict(loss="mse"), "mean_squared_error on class labels: targets are one-hot encoded"),
    (dict(training={"batch_size": 500}), "training.batch_size 500 is larger than the 120 training samples"),
    (dict(optimizer="gd"), "optimizer gd is full-batch gradient descent: training.batch_size 32 is replaced by the "
                           "120 training samples"),
    (dict(metrics=["accuracy", "mae"]), "metrics[1] mae measures regression error on encoded class labels"),
    (dict(data__dataset="imbalanced", data__params={"n_samples": 300}, loss="bce", metrics=["accuracy"]),
     "accuracy can look high while that class is never found"),  # accuracy chosen: without metrics, more are tracked
    (dict(data__dataset="imbalanced", data__params={"n_samples": 300}, loss="bce", data__class_weight="balanced",
          metrics=["accuracy", "recall"]), "class weights 0: 0.5"),
]


@pytest.mark.parametrize("changes,note", NOTES, ids=[n[:40] for _, n in NOTES])
def test_misleading_settings_are_notes_with_the_fix(changes, note):
    assert any(note in n for n in checked(**changes).notes), checked(**changes).notes


def test_a_sound_config_has_no_notes_and_gd_batch_is_the_training_set():
    result = checked()
    assert result.notes == [] and result.batch_size == 32
    assert checked(optimizer="gd", training={"batch_size": "full"}).batch_size == 120


def test_validate_reports_preflight_errors_and_train_writes_nothing(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"data": {"dataset": "digits"}, "loss": "binary_crossentropy",
                                    "output": {"dir": str(tmp_path / "outputs")}}))
    runner = CliRunner()
    validated = runner.invoke(cli, ["validate", str(path)])
    assert validated.exit_code == 2
    assert f"Error: {path}: loss 'binary_crossentropy' needs two classes, but the dataset has 10." in validated.output
    trained = runner.invoke(cli, ["train", str(path)])
    assert trained.exit_code == 2 and "needs two classes" in trained.output
    assert not (tmp_path / "outputs").exists()


def test_validate_prints_notes(tmp_path):
    path = tmp_path / "hinge.yaml"
    path.write_text(yaml.safe_dump({"data": {"dataset": "breast_cancer"}, "loss": "hinge"}))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0
    assert f"note: {path}: hinge needs labels in {{-1, 1}}" in result.output


def test_a_rare_class_gets_precision_recall_and_the_aucs_when_no_metrics_are_set():
    """Issue 19.5: the rarest class under 10% of the samples and no metrics: accuracy alone was tracked."""
    cfg = config.validate({"data": {"dataset": "imbalanced", "params": {"n_samples": 600, "minority": 0.05}},
                           "loss": "binary_crossentropy"})
    result = check_data(cfg)
    assert [m["name"] for m in cfg.metrics] == ["accuracy", "precision", "recall", "auc", "pr_auc"]
    (note,) = [n for n in result.notes if "PR-AUC are tracked" in n]
    assert "rarest class is" in note
    chosen = config.validate({"data": {"dataset": "imbalanced", "params": {"n_samples": 600, "minority": 0.05}},
                              "loss": "binary_crossentropy", "metrics": ["accuracy"]})
    check_data(chosen)
    assert [m["name"] for m in chosen.metrics] == ["accuracy"]  # the user's choice stands (with the older note)
    balanced = config.validate({"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"})
    check_data(balanced)
    assert [m["name"] for m in balanced.metrics] == ["accuracy"]


@pytest.mark.slow
def test_the_terminal_summary_shows_the_minority_metrics(tmp_path):
    path = tmp_path / "imb.yaml"
    path.write_text(yaml.safe_dump({"data": {"dataset": "imbalanced", "params": {"n_samples": 600, "minority": 0.05}},
                                    "loss": "binary_crossentropy", "training": {"epochs": 2},
                                    "output": {"dir": str(tmp_path / "out")}}))
    result = CliRunner().invoke(cli, ["train", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    final = next(line for line in result.output.splitlines() if line.startswith("final:"))
    for name in ("val_precision", "val_recall", "val_auc", "val_pr_auc"):
        assert name in final
