"""lossopt train --resume: an interrupted run continued from its checkpoint ends with the history of an
uninterrupted run (plain, with a schedule, with early stopping, in a sweep); what cannot be resumed is refused."""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import socket

import pytest
from click.testing import CliRunner

from lossopt_cli import config as config_module
from lossopt_cli import signals
from lossopt_cli.cli import cli

from .conftest import write_config

TINY = {
    "seed": 5,
    "data": {"dataset": "iris", "validation_split": 0.3},
    "model": {"type": "mlp", "hidden_units": [8], "dropout": 0.2},
    "loss": "categorical_crossentropy",
    "optimizer": {"name": "adam", "learning_rate": 0.02},
    "training": {"epochs": 6, "batch_size": 16},
}

CASES = {
    "plain": {},
    "schedule": {"optimizer": {"name": "sgd", "momentum": 0.9,
                               "learning_rate": {"name": "cosine_decay", "initial": 0.2, "decay_steps": 40}}},
    "early_stopping": {"training": {"epochs": 14, "batch_size": 16,
                                    "early_stopping": {"patience": 2, "min_delta": 0.02, "restore_best_weights": True}},
                       "optimizer": {"name": "adam", "learning_rate": 0.05}},
    "reduce_lr": {"training": {"epochs": 8, "batch_size": 16, "reduce_lr_on_plateau": {"patience": 1, "factor": 0.5,
                                                                                       "min_delta": 0.05}}},
}


def rows(run_dir) -> list[dict]:
    with open(run_dir / "history.csv") as f:
        return list(csv.DictReader(f))


def assert_same_history(a, b):
    ra, rb = rows(a), rows(b)
    assert len(ra) == len(rb)
    for x, y in zip(ra, rb):
        assert x.keys() == y.keys()
        for k in x:
            assert float(x[k]) == pytest.approx(float(y[k]), abs=1e-5), (k, x, y)


def train(path, stop_at=None, crash_before_checkpoint=False):
    """Train in this process; with ``stop_at``, as if Ctrl-C came during that epoch (1-based)."""
    from lossopt_cli.training.runner import execute, prepare_run

    def on_epoch(epoch, row):
        if epoch == stop_at:
            if crash_before_checkpoint:  # history.csv has the epoch, the checkpoint not yet
                raise KeyboardInterrupt
            signals._STATE["received"] = signal.SIGINT  # stops at the end of this epoch, after its checkpoint

    signals.reset()
    with signals.deferred():
        result = execute(prepare_run(config_module.load(path)), verbose=0, on_epoch=on_epoch)
    signals.reset()
    return result


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_a_resumed_run_ends_with_the_uninterrupted_history(case, tmp_path):
    from lossopt_cli.training.resume import resume_run

    cfg = copy.deepcopy(TINY)
    for key, value in CASES[case].items():
        cfg[key] = value
    cfg["output"] = {"dir": str(tmp_path / "out")}
    path = write_config(tmp_path, cfg)
    whole = train(path)
    if case == "early_stopping":
        assert whole.status == "early_stopped" and whole.summary["epochs_run"] > 3  # stops after the resume point
    crash = case == "early_stopping"  # one case also loses the checkpoint of its last epoch
    cut = train(path, stop_at=2, crash_before_checkpoint=crash)
    assert cut.status == "interrupted" and len(rows(cut.run_dir)) == 2
    resumed = resume_run(cut.run_dir, verbose=0)
    assert resumed.run_dir == cut.run_dir and resumed.status == whole.status
    assert_same_history(whole.run_dir, resumed.run_dir)
    summary = json.loads((resumed.run_dir / "summary.json").read_text())
    assert summary["epochs_run"] == whole.summary["epochs_run"] and summary["best_epoch"] == whole.summary["best_epoch"]
    assert (resumed.run_dir / "model.keras").is_file() and (resumed.run_dir / "checkpoint.npz").is_file()


@pytest.mark.slow
def test_a_sweep_resumes_its_interrupted_run_in_place_and_never_reruns_a_finished_one(tmp_path, monkeypatch):
    from lossopt_cli import commands
    from lossopt_cli.training import recorder

    base = dict(copy.deepcopy(TINY), output={"dir": str(tmp_path / "out")})
    write_config(tmp_path, base, "base.yaml")
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("base: base.yaml\nvary: {optimizer.learning_rate: [0.02, 0.05]}\n")
    reference = commands.sweep(sweep_file, executor="serial", quiet=True)
    original = recorder.RunRecorder.record_epoch

    def stop_second_run(self, epoch, logs):
        row = original(self, epoch, logs)
        if self.base["name"] == "lr0.05" and epoch == 3:
            signals._STATE["received"] = signal.SIGINT
        return row

    monkeypatch.setattr(recorder.RunRecorder, "record_epoch", stop_second_run)
    cut = commands.sweep(sweep_file, executor="serial", quiet=True)
    assert cut.interrupted and cut.results["lr0.05"].status == "interrupted"
    monkeypatch.setattr(recorder.RunRecorder, "record_epoch", original)
    signals.reset()
    finished_before = (cut.sweep_dir / "runs" / "lr0.02" / "summary.json").read_text()
    resumed = commands.sweep(resume=cut.sweep_dir, executor="serial", quiet=True)
    assert not resumed.interrupted and set(resumed.results) == {"lr0.05"}  # the finished run is not run again
    assert (cut.sweep_dir / "runs" / "lr0.02" / "summary.json").read_text() == finished_before
    assert sorted(p.name for p in (cut.sweep_dir / "runs").iterdir()) == ["lr0.02", "lr0.05"]  # continued in place
    for name in ("lr0.02", "lr0.05"):
        assert_same_history(reference.sweep_dir / "runs" / name, cut.sweep_dir / "runs" / name)


def _fake_run(tmp_path, status, **summary):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.yaml").write_text("data: {dataset: iris}\nloss: categorical_crossentropy\n")
    (run_dir / "summary.json").write_text(json.dumps({"name": "run", "status": status, "epochs_run": 3,
                                                      "epochs_requested": 5, **summary}))
    return run_dir


@pytest.mark.parametrize("status,summary,message", [
    ("completed", {}, "the run already finished (status completed after 3 of 5 epochs)"),
    ("early_stopped", {}, "nothing to resume"),
    ("running", {"pid": os.getpid(), "host": socket.gethostname()}, "the run is still running"),
])
def test_resume_refuses_a_finished_or_live_run(tmp_path, status, summary, message):
    run_dir = _fake_run(tmp_path, status, **summary)
    result = CliRunner().invoke(cli, ["train", "--resume", str(run_dir)])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_resume_refuses_a_directory_that_is_not_a_run_and_a_changed_config(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--resume", str(tmp_path)])
    assert result.exit_code == 2 and "not a run directory" in result.output
    run_dir = _fake_run(tmp_path, "interrupted", pid=2 ** 22 + 1, host=socket.gethostname())
    other = write_config(tmp_path, {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy",
                                    "training": {"epochs": 50}}, "other.yaml")
    result = CliRunner().invoke(cli, ["train", str(other), "--resume", str(run_dir)])
    assert result.exit_code == 2 and "differs from the config the run started with (training.epochs)" in result.output
    result = CliRunner().invoke(cli, ["train", "--resume", str(run_dir), "--set", "seed=1"])
    assert result.exit_code == 2 and "--set cannot change a run being resumed" in result.output


@pytest.mark.slow
def test_resume_refuses_a_config_edited_after_the_checkpoint(tmp_path):
    cfg = dict(copy.deepcopy(TINY), output={"dir": str(tmp_path / "out")})
    cut = train(write_config(tmp_path, cfg), stop_at=2)
    config_file = cut.run_dir / "config.yaml"
    config_file.write_text(config_file.read_text().replace("epochs: 6", "epochs: 7"))
    result = CliRunner().invoke(cli, ["train", "--resume", str(cut.run_dir)])
    assert result.exit_code == 2 and "config.yaml changed after the checkpoint was written" in result.output
