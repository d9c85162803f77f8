"""The run recorder owns a run directory whoever trains: Keras' fit (through the callback), or one loop
that trains several models at once and feeds one recorder per model, or a run reopened to continue."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from lossopt_cli import config, rundir
from lossopt_cli.training.recorder import RunRecorder


def check_run_dir(run_dir, status, epochs):
    """What every finished run directory holds, however it was trained."""
    for name in (rundir.CONFIG, rundir.HISTORY, rundir.SUMMARY, rundir.DIAGNOSIS, rundir.CURVES, rundir.REPORT):
        assert (run_dir / name).is_file(), name
    assert not [p.name for p in run_dir.iterdir() if ".tmp" in p.name]  # atomic writes leave nothing behind
    history = rundir.read_history(run_dir / rundir.HISTORY)
    assert history["epoch"] == list(range(1, epochs + 1))
    assert list(history)[:2] == ["epoch", "loss"]
    summary = rundir.read_summary(run_dir)
    assert summary["status"] == status and summary["epochs_run"] == epochs
    assert summary["final"]["val_loss"] == history["val_loss"][-1]
    best = summary["best_epoch"]
    assert summary["best"]["val_loss"] == min(history["val_loss"]) == history["val_loss"][best - 1]
    assert summary["verdict"] == rundir.read_json(run_dir / rundir.DIAGNOSIS)["verdict"]
    assert summary["wall_time_seconds"] >= 0 and summary["finished_at"]
    resolved = rundir.read_config(run_dir)
    assert config.validate(resolved).to_dict() == resolved  # the stored config trains as is
    return history, summary


def make_config(tmp_path, name, learning_rate):
    return config.validate({"name": name, "data": {"dataset": "regression"}, "loss": "mse",
                            "optimizer": {"name": "sgd", "learning_rate": learning_rate},
                            "training": {"epochs": 6}, "output": {"dir": str(tmp_path / "outputs")}})


def test_two_runs_recorded_from_one_training_loop(tmp_path):
    """A second caller of the recorder, as a fused sweep is: K models trained in one loop, K run directories."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=80)
    x_train, y_train, x_val, y_val = x[:60], y[:60], x[60:], y[60:]
    learning_rates = [0.1, 0.01]
    recorders = [RunRecorder.create(make_config(tmp_path, f"lr{lr}", lr), monitor="val_loss",
                                    info={"batch_size": 60, "notes": []}) for lr in learning_rates]
    weights = [np.zeros(3) for _ in learning_rates]
    for epoch in range(1, 7):  # one loop, both models, both recorders
        for i, (lr, recorder) in enumerate(zip(learning_rates, recorders)):
            weights[i] -= lr * 2 * x_train.T @ (x_train @ weights[i] - y_train) / len(x_train)
            loss = float(np.mean((x_train @ weights[i] - y_train) ** 2))
            val_loss = float(np.mean((x_val @ weights[i] - y_val) ** 2))
            recorder.record_epoch(epoch, {"loss": loss, "val_loss": val_loss, "learning_rate": lr})
            assert rundir.read_summary(recorder.run_dir)["epochs_run"] == epoch  # current after every epoch
    for recorder in recorders:
        recorder.finish("completed")
        recorder.finalize()
    (a_history, a_summary), (b_history, _) = (check_run_dir(r.run_dir, "completed", 6) for r in recorders)
    assert recorders[0].run_dir != recorders[1].run_dir
    assert a_history["learning_rate"] == [0.1] * 6 and b_history["learning_rate"] == [0.01] * 6
    assert a_history["val_loss"][-1] < b_history["val_loss"][-1]  # the faster rate got further
    assert a_summary["name"] == "lr0.1" and a_summary["batch_size"] == 60
    assert recorders[0].result().ok


def test_a_recorder_never_reuses_a_directory_and_stops_on_divergence(tmp_path):
    cfg = make_config(tmp_path, "r", 0.1)
    first = RunRecorder.create(cfg)
    assert RunRecorder.create(cfg).run_dir != first.run_dir
    with pytest.raises(FileExistsError):
        RunRecorder.create(cfg, run_dir=first.run_dir)
    first.record_epoch(1, {"loss": 1.0, "val_loss": 1.0})
    first.record_epoch(2, {"loss": math.nan, "val_loss": math.nan})
    assert first.diverged_at == 2
    with pytest.raises(ValueError, match="unknown run status"):
        first.finish("done")


def test_a_reopened_run_continues_its_history_and_summary(tmp_path):
    recorder = RunRecorder.create(make_config(tmp_path, "resumed", 0.1), info={"batch_size": 32})
    for epoch, loss in enumerate([1.0, 0.8, 0.7], 1):
        recorder.record_epoch(epoch, {"loss": loss, "val_loss": loss + 0.1})
    recorder.finish("interrupted")
    config_text = (recorder.run_dir / rundir.CONFIG).read_text()

    again = RunRecorder.reopen(recorder.run_dir)
    assert again.epochs_recorded == 3 and again.monitor == "val_loss"
    for epoch, loss in enumerate([0.6, 0.5], again.epochs_recorded + 1):
        again.record_epoch(epoch, {"loss": loss, "val_loss": loss + 0.1})
    again.finish("completed")
    again.finalize()
    history, summary = check_run_dir(recorder.run_dir, "completed", 5)
    assert history["loss"] == [1.0, 0.8, 0.7, 0.6, 0.5]
    assert summary["batch_size"] == 32 and summary["best_epoch"] == 5
    assert (recorder.run_dir / rundir.CONFIG).read_text() == config_text
    assert yaml.safe_load(config_text)["name"] == "resumed"


def test_a_run_trained_by_keras_fit_meets_the_same_contract(trained_run):
    result, run_dir = trained_run
    assert result.exit_code == 0, result.output
    history, _ = check_run_dir(run_dir, "completed", 4)
    assert (run_dir / rundir.MODEL).is_file()
