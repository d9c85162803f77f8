"""End to end: `lossopt train` on real data writes the whole run-directory contract."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import config, rundir
from lossopt_cli.cli import cli

from .conftest import write_config


def test_train_writes_the_run_directory_contract(trained_run):
    result, run_dir = trained_run
    assert result.exit_code == 0, result.output
    for name in ("config.yaml", "history.csv", "summary.json", "curves.png", "model.keras"):
        assert (run_dir / name).is_file(), name
    assert run_dir.name.startswith("small-")

    history = rundir.read_history(run_dir / "history.csv")
    assert history["epoch"] == [1, 2, 3, 4]
    assert list(history)[:6] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
    assert history["learning_rate"] == [0.01] * 4

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_run"] == 4 and summary["seed"] == 7
    best = summary["best_epoch"]
    assert summary["best"]["val_loss"] == min(history["val_loss"]) == history["val_loss"][best - 1]
    assert summary["final"]["val_accuracy"] == history["val_accuracy"][-1]
    constant = summary["data"].pop("constant_model")  # the class prior's loss: what a run must beat
    assert constant["prediction"] == "the class prior" and constant["loss"] == pytest.approx(math.log(3), rel=1e-3)
    fit = summary["data"].pop("reference_fit")  # what simple models reach on the same split: the best of them
    assert 0 < fit["loss"] < math.log(3) and fit["loss"] == pytest.approx(min(fit["fits"].values()), rel=1e-5)
    assert fit["model"] in fit["fits"] and any("nearest neighbours" in m for m in fit["fits"]) \
        and any("boosted trees" in m for m in fit["fits"])
    assert summary["data"] == {"dataset": "iris", "task": "classification", "n_classes": 3, "input_shape": [4],
                               "train": 105, "validation": 45, "test": 0, "majority_class_rate": round(35 / 105, 6),
                               "class_names": ["setosa", "versicolor", "virginica"], "class_counts": [35, 35, 35]}
    assert summary["per_class"]["classes"] == ["setosa", "versicolor", "virginica"]
    assert summary["per_class"]["support"] == [15, 15, 15] and summary["per_class"]["split"] == "validation"
    assert {"tensorflow", "keras", "python", "lossopt"} <= set(summary["versions"])
    assert summary["wall_time_seconds"] > 0

    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert resolved["metrics"] == [{"name": "accuracy"}]  # the default, filled in
    assert config.validate(resolved).to_dict() == resolved  # the stored config trains as is

    assert f"run: {run_dir}" in result.output
    assert "best epoch" in result.output and f"curves: {run_dir / 'curves.png'}" in result.output


def test_saved_model_predicts_like_the_trained_one(trained_run):
    import keras

    _, run_dir = trained_run
    model = keras.saving.load_model(run_dir / "model.keras")
    assert model.output_shape == (None, 3)
    probs = model.predict(np.zeros((2, 4), dtype="float32"), verbose=0)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)  # softmax output chosen from the loss


def test_curves_png_is_a_real_picture(trained_run):
    from PIL import Image

    _, run_dir = trained_run
    img = Image.open(run_dir / "curves.png")
    assert img.size[0] >= 800 and img.size[1] >= 300
    colors = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colors) > 50  # lines, text and legends, not a blank canvas


def test_same_seed_same_history_and_a_new_directory_each_time(small_config, tmp_path):
    from lossopt_cli.training.runner import run

    small_config["training"]["epochs"] = 2
    path = write_config(tmp_path, small_config)
    a = run(config.load(path), verbose=0)
    b = run(config.load(path), verbose=0)
    assert a.run_dir != b.run_dir
    assert (a.run_dir / "history.csv").read_text() == (b.run_dir / "history.csv").read_text()


def test_test_split_is_evaluated(small_config, tmp_path):
    from lossopt_cli.training.runner import run

    small_config["data"].update(test_split=0.2, validation_split=0.2)
    small_config["training"]["epochs"] = 1
    result = run(config.load(write_config(tmp_path, small_config)), verbose=0)
    assert result.summary["data"]["test"] == 30 and result.summary["data"]["train"] == 90
    assert set(result.summary["test"]) == {"loss", "accuracy"}


def test_regression_and_binary_heads(tmp_path):
    from lossopt_cli.training.runner import prepare_run

    reg = config.validate({"data": {"dataset": "diabetes"}, "loss": "mae"})
    prepared = prepare_run(reg)
    assert prepared.model.output_shape == (None, 1) and prepared.data.task == "regression"
    dense = [layer for layer in prepared.model.layers[-2].layers if hasattr(layer, "activation")][-1]
    assert dense.activation.__name__ == "linear"  # then data.scale_target's fixed layer maps it to the target's units
    assert prepared.model.layers[-1].name == "target_scale"
    binary = config.validate({"data": {"dataset": "breast_cancer"}, "loss": "bce"})
    prepared = prepare_run(binary)
    assert prepared.model.output_shape == (None, 1)
    assert prepared.model.layers[-1].activation.__name__ == "sigmoid"
    assert set(np.unique(prepared.data.y_train)) == {0.0, 1.0}
    sparse = config.validate({"data": {"dataset": "moons", "params": {"n_samples": 200}},
                              "loss": "sparse_categorical_crossentropy"})
    prepared = prepare_run(sparse)
    assert prepared.model.output_shape == (None, 2) and prepared.data.y_train.ndim == 1


def test_interrupt_keeps_finished_epochs(small_config, tmp_path):
    from lossopt_cli.training.runner import execute, prepare_run

    def stop_after_two(epoch, row):
        if epoch == 2:
            raise KeyboardInterrupt

    prepared = prepare_run(config.load(write_config(tmp_path, small_config)))
    result = execute(prepared, verbose=0, on_epoch=stop_after_two)
    assert result.status == "interrupted"
    assert rundir.read_history(result.run_dir / "history.csv")["epoch"] == [1, 2]
    assert result.summary["epochs_run"] == 2 and (result.run_dir / "curves.png").exists()


def test_a_crash_is_recorded_as_failed(small_config, tmp_path):
    from lossopt_cli.training.runner import execute, prepare_run

    def crash(epoch, row):
        raise RuntimeError("disk on fire")

    prepared = prepare_run(config.load(write_config(tmp_path, small_config)))
    result = execute(prepared, verbose=0, on_epoch=crash)
    assert result.status == "failed" and "RuntimeError: disk on fire" in result.summary["error"]
    assert rundir.read_history(result.run_dir / "history.csv")["epoch"] == [1]


def test_divergence_stops_the_run_with_exit_1(tmp_path):
    out = tmp_path / "outputs"
    path = write_config(tmp_path, {"data": {"dataset": "regression", "params": {"n_samples": 200}}, "loss": "mse",
                                   "optimizer": {"name": "sgd", "learning_rate": 10.0},
                                   "training": {"epochs": 20}, "output": {"dir": str(out)}})
    res = CliRunner().invoke(cli, ["train", str(path), "--quiet"])
    assert res.exit_code == 1, res.output
    (run_dir,) = out.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["epochs_run"] < 20
    loss = rundir.read_history(run_dir / "history.csv")["loss"]
    assert not math.isfinite(loss[-1]) and loss[-1] is not None


def test_early_stopping_status(small_config, tmp_path):
    from lossopt_cli.training.runner import run

    small_config["training"].update(epochs=40, early_stopping={"patience": 0, "min_delta": 10.0})
    result = run(config.load(write_config(tmp_path, small_config)), verbose=0)
    assert result.status == "early_stopped" and result.summary["epochs_run"] == 2
    assert result.summary["stopped_epoch"] == 2
