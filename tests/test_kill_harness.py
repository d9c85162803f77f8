"""The kill harness: `lossopt train` and `lossopt sweep` killed at random moments (start-up, training,
reporting) with a random signal (SIGINT, SIGTERM, SIGKILL), seeded. After each kill every run
directory must be consistent (every file whole, the history's epochs consecutive, the checkpoint
at the last epoch or the one before, no run left `running`, the promised files there after
SIGINT/SIGTERM, no sweep worker left behind) and resumable; some trials resume and finish.

Each trial starts real processes (TensorFlow's import included, 10-60 s a trial on a shared 2-core
machine), so by default a seeded subset of ``DEFAULT_TRIALS`` runs; ``LOSSOPT_KILL_TRIALS=24 pytest tests/test_kill_harness.py`` runs all 24
(the README gives the last full result).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
ALL_TRIALS = 24
DEFAULT_TRIALS = 4
TRIALS = int(os.environ.get("LOSSOPT_KILL_TRIALS", DEFAULT_TRIALS))
SEED = 20261123
EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}

CONFIG = {"name": "victim", "seed": 1, "data": {"dataset": "iris", "validation_split": 0.3},
          "model": {"type": "mlp", "hidden_units": [16]}, "loss": "categorical_crossentropy",
          "optimizer": {"name": "adam", "learning_rate": 0.01}, "training": {"epochs": 25, "batch_size": 8}}


def plan(seed: int = SEED, n: int = ALL_TRIALS) -> list[dict]:
    rng = random.Random(seed)
    trials = []
    for i in range(n):
        trials.append({"index": i, "target": rng.choice(["train", "train", "sweep"]),
                       "signal": rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL]),
                       "phase": rng.choice(["startup", "training", "training", "report"]),
                       "delay": rng.uniform(0.0, 1.5), "resume": i % 3 == 0})
    return trials


# The default subset: every signal, target and phase but one, two of them resumed.
DEFAULT_SUBSET = (6, 15, 8, 2)  # train/training/SIGTERM+resume, sweep/training/SIGKILL+resume, train/report/SIGTERM,
#                                 train/startup/SIGINT


def chosen() -> list[dict]:
    trials = plan()
    if TRIALS >= ALL_TRIALS:
        return trials
    if TRIALS == DEFAULT_TRIALS:
        return [trials[i] for i in DEFAULT_SUBSET]
    return random.Random(SEED + 1).sample(trials, TRIALS)


def children(pid: int) -> set[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except OSError:
        return False


def handles_sigterm(pid: int) -> bool:
    """lossopt has installed its handlers (SIGTERM is in the process's caught-signal mask): before that,
    Python itself is still starting, and a signal there is the interpreter's business, not lossopt's."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    except OSError:
        pass
    return False


def wait_for_phase(proc, out: Path, phase: str, timeout: float = 240.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if not handles_sigterm(proc.pid):
            time.sleep(0.02)
            continue
        histories = list(out.rglob("history.csv"))
        if phase == "startup":
            return
        if phase == "training" and histories and any(len(h.read_text().splitlines()) >= 2 for h in histories):
            return
        if phase == "report":
            for s in out.rglob("summary.json"):
                try:
                    if json.loads(s.read_text()).get("status") not in (None, "running"):
                        return
                except (OSError, ValueError):
                    pass
        time.sleep(0.02)


def check_run_dir(run_dir: Path, sig: int) -> dict:
    """Every file whole and consistent; returns the summary."""
    from lossopt_cli.liveness import effective_status

    names = {p.name for p in run_dir.iterdir() if not p.name.startswith(".")}
    summary = json.loads((run_dir / "summary.json").read_text())
    yaml.safe_load((run_dir / "config.yaml").read_text())
    rows = list(csv.reader(io.StringIO((run_dir / "history.csv").read_text()))) if "history.csv" in names else [[]]
    assert all(len(r) == len(rows[0]) for r in rows), "history.csv is rectangular"
    epochs = [int(r[0]) for r in rows[1:]]
    assert epochs == list(range(1, len(epochs) + 1)), f"epochs consecutive: {epochs}"
    status = effective_status(summary)
    assert status != "running", f"{run_dir} left running"
    if "checkpoint.npz" in names:
        with np.load(run_dir / "checkpoint.npz", allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
        assert meta["epoch"] in (len(epochs), len(epochs) - 1), (meta["epoch"], len(epochs))
    for name in names & {"summary.json", "diagnosis.json"}:
        json.loads((run_dir / name).read_text())
    for name in names & {"curves.png"}:
        data = (run_dir / name).read_bytes()
        assert data.startswith(b"\x89PNG") and data.rstrip().endswith(b"IEND\xaeB`\x82"), f"{name} whole"
    if "report.html" in names:
        assert (run_dir / "report.html").read_text().rstrip().endswith("</html>")
    if "model.keras" in names:
        assert zipfile.is_zipfile(run_dir / "model.keras")
    if sig != signal.SIGKILL and summary["status"] != "running" and summary.get("epochs_run"):
        assert {"diagnosis.json", "curves.png", "report.html"} <= names, f"promised files in {sorted(names)}"
    return summary


def check_sweep_dir(sweep_dir: Path, sig: int) -> None:
    json.loads((sweep_dir / "plan.json").read_text())
    board = sweep_dir / "leaderboard.csv"
    assert not board.exists() or board.stat().st_size > 0, "no empty leaderboard.csv"
    if (sweep_dir / "summary.json").exists():
        json.loads((sweep_dir / "summary.json").read_text())
    for run_dir in (sweep_dir / "runs").iterdir():
        if (run_dir / "summary.json").exists():  # (a run killed while its directory was made has none yet)
            check_run_dir(run_dir, sig)


@pytest.mark.slow
@pytest.mark.parametrize("trial", chosen(), ids=lambda t: f"trial{t['index']}-{t['target']}-{t['phase']}-"
                                                          f"{signal.Signals(t['signal']).name}")
def test_a_killed_run_is_consistent_and_resumable(trial, tmp_path):
    out = tmp_path / "out"
    cfg = dict(CONFIG, output={"dir": str(out)})
    (tmp_path / "victim.yaml").write_text(yaml.safe_dump(cfg))
    (tmp_path / "sweep.yaml").write_text("base: victim.yaml\nvary: {optimizer.learning_rate: [0.01, 0.03]}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "3"}
    args = ([sys.executable, "-m", "lossopt_cli", "train", "victim.yaml", "--quiet"] if trial["target"] == "train"
            else [sys.executable, "-m", "lossopt_cli", "sweep", "sweep.yaml", "--quiet", "--workers", "2"])
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wait_for_phase(proc, out, trial["phase"])
    time.sleep(trial["delay"] if trial["phase"] != "report" else trial["delay"] / 20)
    workers = children(proc.pid)
    sig = trial["signal"]
    if proc.poll() is None:
        proc.send_signal(sig)
    output = proc.communicate(timeout=240)[0].decode(errors="replace")
    assert "Traceback" not in output, output
    assert proc.returncode in (EXIT[sig], 0), (proc.returncode, output)  # 0: it finished before the signal came
    deadline = time.time() + 30
    while any(alive(p) for p in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in workers), "no worker outlives its sweep"
    if not out.exists():
        return  # killed in start-up, before anything was written: nothing to check (and nothing left behind)
    started = [top for top in out.iterdir() if (top / "plan.json").exists() or (top / "summary.json").exists()]
    for top in set(out.iterdir()) - set(started):  # killed while the directory was being made: no data in it yet
        assert not (top / "history.csv").exists() and not (top / "runs").exists() or not any((top / "runs").iterdir())
    for top in started:
        (check_sweep_dir if (top / "plan.json").exists() else check_run_dir)(top, sig)
    if not trial["resume"]:
        return
    for top in started:
        sweep = (top / "plan.json").exists()
        if not sweep and json.loads((top / "summary.json").read_text()).get("status") in ("completed",):
            continue
        resume = ([sys.executable, "-m", "lossopt_cli", "sweep", "--resume", str(top), "--quiet", "--workers", "2"]
                  if sweep else [sys.executable, "-m", "lossopt_cli", "train", "--resume", str(top), "--quiet"])
        done = subprocess.run(resume, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        for run_dir in ((top / "runs").iterdir() if sweep else [top]):
            summary = check_run_dir(run_dir, signal.SIGINT)
            assert summary["status"] == "completed" and summary["epochs_run"] == CONFIG["training"]["epochs"]
