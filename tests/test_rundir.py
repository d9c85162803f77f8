"""The run directory: never overwritten, atomic files, history readable by any tool."""

from __future__ import annotations

import math

import pytest

from lossopt_cli import rundir


def test_run_directories_are_never_reused(tmp_path):
    first = rundir.create_run_dir(tmp_path, "exp", now=0)
    (first / "history.csv").write_text("epoch,loss\n1,0.5\n")
    second = rundir.create_run_dir(tmp_path, "exp", now=0)
    third = rundir.create_run_dir(tmp_path, "exp", now=0)
    assert [first.name.rsplit("-", 1)[-1] != "2", second.name.endswith("-2"), third.name.endswith("-3")] == [True] * 3
    assert (first / "history.csv").read_text() == "epoch,loss\n1,0.5\n"


def test_history_writer_rewrites_whole_file_each_epoch(tmp_path):
    writer = rundir.HistoryWriter(tmp_path / "history.csv")
    writer.append(1, {"accuracy": 0.5, "loss": 1.0, "val_accuracy": 0.4, "val_loss": 1.2, "learning_rate": 0.01})
    assert (tmp_path / "history.csv").read_text().splitlines() == [
        "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate", "1,1.0,0.5,1.2,0.4,0.01"]
    writer.append(2, {"accuracy": 0.6, "loss": float("nan"), "val_accuracy": 0.5, "val_loss": 1.1, "learning_rate": 0.01})
    history = rundir.read_history(tmp_path / "history.csv")
    assert history["epoch"] == [1, 2]
    assert math.isnan(history["loss"][1]) and history["val_loss"] == [1.2, 1.1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_read_history_accepts_keras_csvlogger_files(tmp_path):
    """CSVLogger writes 0-based epochs and alphabetical columns; we read them 1-based."""
    path = tmp_path / "log.csv"
    path.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,0.4,1.2\n1,0.6,0.8,0.5,1.0\n")
    history = rundir.read_history(path)
    assert history["epoch"] == [1, 2] and history["val_loss"] == [1.2, 1.0]


def test_json_stays_standard_with_non_finite_numbers(tmp_path):
    import json

    rundir.write_json(tmp_path / "s.json", {"loss": float("inf"), "x": [float("nan"), 1.0]})
    assert json.loads((tmp_path / "s.json").read_text()) == {"loss": "inf", "x": ["nan", 1.0]}


def test_the_queued_writer_writes_in_order_and_hands_a_failure_to_flush(tmp_path):
    writer = rundir.QueuedWriter()
    for epoch in range(1, 6):
        writer(tmp_path / "history.csv", f"epoch {epoch}\n")
        writer(tmp_path / "checkpoint.npz", f"checkpoint {epoch}".encode())
    writer.flush()
    assert (tmp_path / "history.csv").read_text() == "epoch 5\n"
    assert (tmp_path / "checkpoint.npz").read_bytes() == b"checkpoint 5"
    import threading

    broken, other = tmp_path / "broken", tmp_path / "other"  # two runs of one fused group
    other.mkdir()
    gate = threading.Event()
    writer(other / "gate", lambda: "opened" if gate.wait(10) else "timed out")  # holds the writer's thread
    writer(broken / "history.csv", "no such directory")  # will fail in the background
    writer(broken / "checkpoint.npz", b"after the failure")  # depends on it: dropped, never ahead of history
    writer(other / "history.csv", "the other run goes on")  # another run's write is not dropped
    gate.set()
    writer.flush(other)  # the other run's flush does not take this run's failure
    assert (other / "history.csv").read_text() == "the other run goes on"
    with pytest.raises(FileNotFoundError):
        writer.flush(broken)  # this run's own failure, once
    broken.mkdir()
    assert not (broken / "checkpoint.npz").exists()
    writer(broken / "checkpoint.npz", b"once the failure is reported")
    writer.flush()
    assert (broken / "checkpoint.npz").read_bytes() == b"once the failure is reported"
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary file left
