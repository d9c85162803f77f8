"""A user keeps their own training script: ``LossoptCallback`` in ``model.fit`` makes a lossopt run
directory that ``lossopt diagnose``, ``report`` and ``list`` read like any other."""

from __future__ import annotations

import math
import os
import signal

import numpy as np
import pytest
from click.testing import CliRunner

from lossopt_cli import rundir
from lossopt_cli.cli import cli

pytestmark = pytest.mark.slow


def user_model(learning_rate=0.01):
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def user_data(n=120):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0.5).astype("int32")
    return x, y


def only_run(root):
    runs = [p for p in root.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def test_plain_fit_with_the_callback_makes_a_run_the_cli_reads(tmp_path):
    from lossopt_cli.keras import LossoptCallback

    x, y = user_data()
    callback = LossoptCallback("my-model", output_dir=tmp_path / "outputs", verbose=False)
    user_model().fit(x, y, validation_split=0.25, epochs=4, batch_size=16, verbose=0, callbacks=[callback])

    run = only_run(tmp_path / "outputs")
    assert run == callback.run_dir and run.name.startswith("my-model-")
    for name in (rundir.CONFIG, rundir.HISTORY, rundir.SUMMARY, rundir.DIAGNOSIS, rundir.CURVES, rundir.REPORT):
        assert (run / name).is_file(), name
    history = rundir.read_history(run / rundir.HISTORY)
    assert history["epoch"] == [1, 2, 3, 4]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(history)
    summary = rundir.read_summary(run)
    assert summary["status"] == "completed" and callback.result.status == "completed"
    assert summary["epochs_run"] == 4 and summary["monitor"] == "val_loss"
    assert summary["data"]["n_classes"] == 3  # from the softmax output and the loss
    config = rundir.read_config(run)
    assert config["recorded_from"] == "user_script"
    assert config["loss"] == {"name": "sparse_categorical_crossentropy"}
    assert config["optimizer"]["name"] == "adam" and config["optimizer"]["learning_rate"] == 0.01
    assert config["metrics"] == ["accuracy"] and config["training"]["epochs"] == 4
    assert [layer["class"] for layer in config["model"]["layers"]] == ["Dense", "Dense"]

    runner = CliRunner()
    diagnosed = runner.invoke(cli, ["diagnose", str(run), "--json"])
    assert diagnosed.exit_code == 0, diagnosed.output
    assert '"verdict"' in diagnosed.output
    (run / rundir.REPORT).unlink()
    reported = runner.invoke(cli, ["report", str(run)])
    assert reported.exit_code == 0, reported.output
    assert "my-model" in (run / rundir.REPORT).read_text()
    listed = runner.invoke(cli, ["list", str(tmp_path / "outputs")])
    assert listed.exit_code == 0 and f"run    {run.name}  completed" in listed.output
    compared = runner.invoke(cli, ["compare", str(run), "--output", str(tmp_path / "comparison.png")])
    assert compared.exit_code == 0, compared.output
    assert "my-model" in compared.output and (tmp_path / "comparison.png").is_file()


def test_early_stopping_in_the_users_list_without_validation(tmp_path):
    import keras

    from lossopt_cli.keras import LossoptCallback

    x, y = user_data()
    early = keras.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)  # stops at epoch 2
    callback = LossoptCallback(output_dir=tmp_path, verbose=False)
    user_model().fit(x, y, epochs=10, batch_size=32, verbose=0, callbacks=[early, callback])
    summary = rundir.read_summary(callback.run_dir)
    assert summary["status"] == "early_stopped" and summary["epochs_run"] == 2 == summary["stopped_epoch"]
    assert summary["monitor"] == "loss"  # no validation data: the best epoch by the training loss
    assert "val_loss" not in rundir.read_history(callback.run_dir / rundir.HISTORY)


def test_a_loss_that_turns_nan_stops_training_as_diverged(tmp_path):
    from lossopt_cli.keras import LossoptCallback

    x, y = user_data()
    weights = np.ones(len(y), dtype="float32")
    weights[5] = np.nan  # a NaN input would not do: oneDNN's relu maps NaN to 0 on some CPUs, the loss stays finite
    callback = LossoptCallback(output_dir=tmp_path, verbose=False)
    user_model().fit(x, y, sample_weight=weights, epochs=5, batch_size=200, verbose=0, callbacks=[callback])
    summary = rundir.read_summary(callback.run_dir)
    assert summary["status"] == "diverged" and summary["diverged_at_epoch"] == 1 and summary["epochs_run"] == 1
    assert math.isnan(rundir.read_history(callback.run_dir / rundir.HISTORY)["loss"][0])
    assert summary["verdict"] == "diverged"


def test_ctrl_c_leaves_a_valid_interrupted_run(tmp_path):
    import keras

    from lossopt_cli.keras import LossoptCallback

    class CtrlCAtEpoch2(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGINT)

    x, y = user_data()
    callback = LossoptCallback(output_dir=tmp_path, verbose=False)
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        user_model().fit(x, y, validation_split=0.25, epochs=10, batch_size=32, verbose=0,
                         callbacks=[callback, CtrlCAtEpoch2()])
    assert signal.getsignal(signal.SIGINT) is handler  # the script's handler is back
    summary = rundir.read_summary(callback.run_dir)
    assert summary["status"] == "interrupted" and summary["epochs_run"] == 2
    assert (callback.run_dir / rundir.REPORT).is_file() and summary["verdict"]


SCRIPT = """
import keras, numpy as np
from lossopt_cli.keras import LossoptCallback

class Boom(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("boom")

model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
x = np.random.default_rng(0).normal(size=(64, 4))
model.fit(x, x.sum(axis=1), epochs=5, verbose=0, callbacks=[LossoptCallback(output_dir={out!r}), Boom()])
"""


def test_an_exception_that_escapes_the_script_leaves_a_failed_run(tmp_path):
    import subprocess
    import sys

    from .conftest import REPO

    script = tmp_path / "train_script.py"
    script.write_text(SCRIPT.format(out=str(tmp_path / "outputs")))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1 and "RuntimeError: boom" in out.stderr  # the script's traceback, as without lossopt
    run = only_run(tmp_path / "outputs")
    assert run.name.startswith("train_script-")  # named after the script
    summary = rundir.read_summary(run)
    assert summary["status"] == "failed" and summary["error"] == "RuntimeError: boom" and summary["epochs_run"] == 2
    assert rundir.read_config(run)["script"] == str(script.resolve())
    assert (run / rundir.REPORT).is_file()
