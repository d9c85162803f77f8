"""The verdicts a careful colleague would give on the real-data cases of issue 18, each rebuilt from
scikit-learn's bundled data in the same shape, trained for real (small models, seconds each):

- a rare positive class (6 %) that the model never finds is not healthy: verdict imbalanced;
- the same data with data.class_weight: balanced learned, and is not called stalled;
- data at their noise ceiling (labels 20 % flipped) are not under-fitting, and a bigger model does not help;
- a linear model on non-linear data is under-fitting, and the advice (a bigger model) does help;
- advice fits the task: no softmax/sigmoid talk for a regression, no "track recall" when it is tracked.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from lossopt_cli import api, rundir

pytestmark = pytest.mark.slow


def rare_positive_csv(path, positives=23):
    """Breast-cancer measurements (four weak columns) with the malignant class cut to 6 % of the rows, as an
    insurance file with a rare claim class looks."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame["label"] = np.where(frame["target"] == 0, "claim", "none")
    rare = frame[frame["label"] == "claim"].sample(n=positives, random_state=0)
    table = np.concatenate([frame[frame["label"] == "none"].to_numpy(), rare.to_numpy()])
    kept = frame.columns.get_indexer(["mean texture", "mean smoothness", "mean symmetry", "worst texture", "label"])
    rows = np.random.default_rng(1).permutation(table[:, kept])
    path.write_text("texture,smoothness,symmetry,worst_texture,label\n"
                    + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return path


def train(tmp_path, raw: dict, **overrides):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**raw, "output": {"dir": str(tmp_path / "out")}}))
    result = api.train(str(path), overrides=overrides or None, verbose=0)
    return result, rundir.read_json(result.run_dir / rundir.DIAGNOSIS)


def codes(diagnosis, severities=("warning", "error")):
    return {f["code"] for f in diagnosis["findings"] if f["severity"] in severities}


def test_a_rare_class_the_model_never_finds_is_imbalanced_and_class_weights_fix_it(tmp_path):
    raw = {"data": {"dataset": str(rare_positive_csv(tmp_path / "claims.csv")), "target": "label",
                    "validation_split": 0.3}, "loss": "binary_crossentropy", "training": {"epochs": 20}}
    plain, diagnosis = train(tmp_path, raw)
    per_class = plain.summary["per_class"]
    assert per_class["classes"][1] == "claim" and per_class["recall"][1] < 0.5  # the rare class is mostly missed
    assert diagnosis["verdict"] == "imbalanced"
    (missed,) = [f for f in diagnosis["findings"] if f["code"] == "minority_missed"]
    assert "'claim'" in missed["message"] and "class_weight: balanced" in missed["suggestion"]
    weighted, diagnosis = train(tmp_path, raw, **{"data.class_weight": "balanced"})
    assert weighted.summary["per_class"]["recall"][1] >= 0.5  # the advice helped
    assert diagnosis["verdict"] not in ("stalled", "imbalanced", "underfitting"), diagnosis["findings"]
    constant = weighted.summary["data"]["constant_model"]
    assert constant["train_loss"] == pytest.approx(np.log(2), rel=0.02)  # balanced weights: ln 2, not the prior's


def noisy_csv(path, flip=0.2):
    """Breast cancer with a fifth of the labels flipped: no model can beat about 80 % accuracy."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    rng = np.random.default_rng(0)
    y = np.where(rng.random(len(data.target)) < flip, 1 - data.target, data.target)
    columns = data.data[:, :10]
    path.write_text(",".join(f"f{i}" for i in range(10)) + ",survived\n"
                    + "".join(",".join(f"{v:.5g}" for v in row) + f",{label}\n" for row, label in zip(columns, y)))
    return path


def test_data_at_their_noise_ceiling_are_not_under_fitting_and_a_bigger_model_does_not_help(tmp_path):
    raw = {"data": {"dataset": str(noisy_csv(tmp_path / "noisy.csv")), "target": "survived", "validation_split": 0.3},
           "loss": "binary_crossentropy", "model": {"hidden_units": [16]}, "training": {"epochs": 40}}
    small, diagnosis = train(tmp_path, raw)
    assert "underfitting" not in codes(diagnosis), diagnosis["findings"]
    bigger, _ = train(tmp_path, raw, **{"model.hidden_units": [128, 128]})
    # what "use a bigger model" would have promised does not happen: the best validation loss does not improve
    assert bigger.summary["best"]["val_loss"] >= 0.95 * small.summary["best"]["val_loss"]


def test_a_linear_model_on_non_linear_data_is_under_fitting_and_the_advice_helps(tmp_path):
    raw = {"data": {"dataset": "circles", "params": {"n_samples": 600, "noise": 0.1}}, "loss": "binary_crossentropy",
           "model": {"hidden_units": []}, "optimizer": {"name": "adam", "learning_rate": 0.05},
           "training": {"epochs": 30}}
    linear, diagnosis = train(tmp_path, raw)
    assert diagnosis["verdict"] == "underfitting", diagnosis["findings"]
    (finding,) = [f for f in diagnosis["findings"] if f["code"] == "underfitting"]
    assert "bigger model" in finding["suggestion"]
    bigger, diagnosis = train(tmp_path, raw, **{"model.hidden_units": [32, 32]})
    assert bigger.summary["best"]["val_loss"] < 0.5 * linear.summary["best"]["val_loss"]
    assert "underfitting" not in codes(diagnosis)


def test_a_stalled_regression_gets_no_classification_advice(tmp_path):
    raw = {"data": {"dataset": "diabetes", "normalize": "none"}, "loss": "mse",
           "optimizer": {"name": "sgd", "learning_rate": 1e-9}, "training": {"epochs": 5}}
    _, diagnosis = train(tmp_path, raw)
    assert diagnosis["verdict"] == "stalled"
    text = " ".join(f["message"] + " " + f["suggestion"] for f in diagnosis["findings"])
    assert "softmax" not in text and "sigmoid" not in text and "labels match" not in text


def test_a_run_that_gives_back_what_it_learned_diverged_and_a_tenth_of_the_rate_fixes_it(tmp_path):
    # the case: the corpus' digits run at Adam 0.05 (benchmarks/diagnosis/corpus/unstable-digits-mlp-05): its
    # training loss reached 0.002 at epoch 17, then climbed back to 0.94 (first 1.06). At such a rate the exact
    # curve varies from one machine (or thread schedule) to the next, so the case is the recorded run; the
    # advice is checked by training the same config (same seed, same split) at a tenth of the rate
    from pathlib import Path

    from lossopt_cli.analysis.diagnose import diagnose_path

    case = Path(__file__).resolve().parents[1] / "benchmarks" / "diagnosis" / "corpus" / "unstable-digits-mlp-05"
    diagnosis = diagnose_path(case)
    assert diagnosis["verdict"] == "diverged", diagnosis["findings"]
    (finding,) = [f for f in diagnosis["findings"] if f["code"] == "diverged"]
    assert "Divide the learning rate by 10" in finding["suggestion"]
    raw = {"seed": 2, "deterministic": True, "data": {"dataset": "digits", "validation_split": 0.2, "test_split": 0.2},
           "model": {"hidden_units": [64]}, "loss": "categorical_crossentropy",
           "optimizer": {"name": "adam", "learning_rate": 0.005},
           "training": {"epochs": 25, "batch_size": 16, "checkpoint": "none"}}
    tenth, diagnosis = train(tmp_path, raw)
    assert diagnosis["verdict"] != "diverged" and "diverged" not in codes(diagnosis)
    recorded = rundir.read_json(case / rundir.SUMMARY)["final"]["val_loss"]
    assert tenth.summary["final"]["val_loss"] < 0.1 * recorded


def test_a_loss_the_initial_weights_put_below_the_prior_that_never_moves_is_stalled_and_a_higher_rate_fixes_it(
        tmp_path):
    # the corpus' fresh-stalled-breast_cancer-mlp runs: SGD at 1e-5, the first epoch's loss already below the class
    # prior's (the initial weights happen to separate the classes a little) and 30 epochs move it by 0.1 %. Once
    # called under-fitting ("use a bigger model"); it is stalled, and the advice (the rate x10-100) must help
    raw = {"seed": 100, "data": {"dataset": "breast_cancer", "validation_split": 0.2, "test_split": 0.2},
           "model": {"hidden_units": [32]}, "loss": "binary_crossentropy",
           "optimizer": {"name": "sgd", "learning_rate": 1e-5}, "training": {"epochs": 12, "checkpoint": "none"}}
    (tmp_path / "slow").mkdir(), (tmp_path / "fixed").mkdir()
    slow, diagnosis = train(tmp_path / "slow", raw)
    assert diagnosis["verdict"] == "stalled" and "underfitting" not in codes(diagnosis), diagnosis["findings"]
    (finding,) = [f for f in diagnosis["findings"] if f["code"] == "stalled"]
    assert "Multiply the learning rate by 10-100" in finding["suggestion"]
    fixed, diagnosis = train(tmp_path / "fixed", raw, **{"optimizer.learning_rate": 1e-3})
    assert diagnosis["verdict"] != "stalled" and "stalled" not in codes(diagnosis)
    history = rundir.read_history(fixed.run_dir / rundir.HISTORY)
    assert history["loss"][-1] < 0.92 * history["loss"][0]  # it learns: 12-13 % in 12 epochs, against 0.1 % at 1e-5
    assert fixed.summary["best"]["val_loss"] < 0.92 * slow.summary["best"]["val_loss"]
