"""A real sweep, trained in a worker process: iris, a small MLP, 3 epochs, one run that cannot read its data.

One sweep is shared by the module; then one of its runs is marked unfinished and ``--resume``
(serial executor) trains only that one again.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lossopt_cli import rundir

ROOT = Path(__file__).resolve().parent.parent

SWEEP = {
    "name": "tiny",
    "base": {"data": {"dataset": "iris"}, "model": {"type": "mlp", "hidden_units": [8]},
             "loss": "categorical_crossentropy", "training": {"epochs": 3, "batch_size": 16},
             "output": {"save_model": False}},
    "mode": "zip",
    "vary": {
        "optimizer": [{"name": "sgd", "learning_rate": 0.1}, {"name": "adam", "learning_rate": 0.01},
                      {"name": "adam", "learning_rate": 0.01}],
        # passes validation (an existing .csv file) but fails when the worker reads it: a crash at run time
        "data.dataset": ["iris", "iris", "broken.csv"],
    },
}


def lossopt(*args, cwd):
    return subprocess.run([sys.executable, "-m", "lossopt_cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    work = tmp_path_factory.mktemp("sweep")
    (work / "tiny.yaml").write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    (work / "broken.csv").write_text("x,label\nnot-a-number,0\n1.5,1\n")
    result = lossopt("sweep", "tiny.yaml", "--workers", "1", cwd=work)  # one training process: a shared machine
    (sweep_dir,) = (work / "outputs").iterdir()
    return work, sweep_dir, result


def test_the_sweep_trains_every_run_in_worker_processes_and_records_the_crash(sweep):
    work, sweep_dir, result = sweep
    assert result.returncode == 1, result.stderr  # a run crashed: exit 1, after every other run finished
    assert "auto executor with 1 worker(s)" in result.stderr  # the iris runs fused, the broken one alone
    assert "[3/3]" in result.stderr and "best val_loss" in result.stderr
    runs = sorted(p.name for p in (sweep_dir / "runs").iterdir())
    assert runs == ["adam-lr0.01-iris", "sgd-lr0.1-iris"]
    for name in runs:
        summary = rundir.read_json(sweep_dir / "runs" / name / "summary.json")
        assert summary["status"] == "completed" and summary["epochs_run"] == 3
        assert len(rundir.read_history(sweep_dir / "runs" / name / "history.csv")["val_loss"]) == 3
    summary = rundir.read_json(sweep_dir / "summary.json")
    failed = {r["name"]: r for r in summary["runs"]}["adam-lr0.01-broken"]
    assert failed["status"] == "failed" and "broken.csv" in failed["error"]
    rows = list(csv.DictReader(open(sweep_dir / "leaderboard.csv")))
    assert {r["config"] for r in rows} == {"sgd-lr0.1-iris", "adam-lr0.01-iris", "adam-lr0.01-broken"}
    assert rows[-1]["config"] == "adam-lr0.01-broken" and rows[-1]["failed"] == "1"
    assert float(rows[0]["final_val_accuracy_mean"]) > 0
    assert "failed: adam-lr0.01-broken" in result.stdout
    assert (sweep_dir / "comparison.png").stat().st_size > 10_000


def test_resume_trains_only_the_unfinished_run(sweep):
    work, sweep_dir, _ = sweep
    summary_path = sweep_dir / "runs" / "sgd-lr0.1-iris" / "summary.json"
    rundir.write_json(summary_path, {**rundir.read_json(summary_path), "status": "interrupted"})
    before = (sweep_dir / "runs" / "adam-lr0.01-iris" / "history.csv").read_text()
    result = lossopt("sweep", "--resume", sweep_dir, "--executor", "serial", cwd=work)
    assert result.returncode == 1, result.stderr  # the missing CSV still fails
    assert "3 runs, 2 to run" in result.stderr
    # the interrupted run continues in its own directory from its checkpoint (here: its last epoch)
    assert not (sweep_dir / "runs" / "sgd-lr0.1-iris-2").exists()
    assert rundir.read_json(summary_path)["status"] == "completed"
    assert (sweep_dir / "runs" / "adam-lr0.01-iris" / "history.csv").read_text() == before
    assert not (sweep_dir / "runs" / "adam-lr0.01-iris-2").exists()
