"""Running a sweep: results written, failures recorded and the sweep goes on, Ctrl-C, --resume.

The executor's trainer is replaced by a fake that writes run directories from synthetic curves,
so these tests are pure Python; ``test_sweep_end_to_end.py`` trains for real.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import rundir
from lossopt_cli.cli import cli
from lossopt_cli.sweeps import executors
from lossopt_cli.sweeps.executors import base

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file, whatever the import mode
from sweep_fakes import FakeTrainer  # noqa: E402

SWEEP = {
    "name": "opt",
    "base": {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy", "training": {"epochs": 4},
             "optimizer": {"name": "adam", "learning_rate": 0.01}},
    "vary": {"optimizer.name": ["sgd", "adam"], "optimizer.learning_rate": [0.1, 0.01]},
    "seeds": [0, 1, 2],
}


@pytest.fixture
def sweep_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "opt.yaml"
    path.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    return path


def run_cli(monkeypatch, trainer, *args):
    monkeypatch.setattr(base, "run_job", trainer)
    return CliRunner().invoke(cli, ["sweep", *map(str, args), "--executor", "serial"])


def sweep_dir_of(tmp_path):
    (found,) = (tmp_path / "outputs").iterdir()
    return found


def test_a_sweep_writes_its_directory_and_ranks_the_configurations(tmp_path, sweep_file, monkeypatch):
    trainer = FakeTrainer(diverge=("sgd-lr0.1-seed2",))
    result = run_cli(monkeypatch, trainer, sweep_file)
    assert result.exit_code == 0, result.output  # a diverged run is a result, not a failure
    sweep_dir = sweep_dir_of(tmp_path)
    assert sweep_dir.name.startswith("opt-")
    for name in ("sweep.yaml", "plan.json", "leaderboard.csv", "comparison.png", "summary.json", "report.html",
                 "lr_sensitivity.png", "final_metric_boxplot.png"):
        assert (sweep_dir / name).is_file(), name
    assert len(trainer.ran) == 12 and len(list((sweep_dir / "runs").iterdir())) == 12
    rows = list(csv.DictReader(open(sweep_dir / "leaderboard.csv")))
    assert [r["config"] for r in rows][:2] == ["sgd-lr0.01", "adam-lr0.01"]  # the fake is best at lr 0.01
    assert rows[0]["runs"] == "3" and rows[0]["within_noise_of_best"] == ""
    assert {r["config"]: r["diverged"] for r in rows}["sgd-lr0.1"] == "1"
    assert "sgd-lr0.01 and adam-lr0.01 score the same on all 3 paired seeds: within seed noise" in result.output
    summary = rundir.read_json(sweep_dir / "summary.json")
    assert summary["status"] == "completed" and summary["counts"] == {"completed": 11, "diverged": 1}
    assert summary["best"] == "sgd-lr0.01"
    html = (sweep_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "sgd-lr0.01" in html
    resolved = yaml.safe_load((sweep_dir / "sweep.yaml").read_text())
    assert resolved["base"]["training"]["epochs"] == 4


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, sweep_file, monkeypatch):
    trainer = FakeTrainer(fail=("sgd-lr0.1-seed0", "adam-lr0.01-seed1"))
    result = run_cli(monkeypatch, trainer, sweep_file)
    assert result.exit_code == 1
    assert len(trainer.ran) == 12  # every run was tried
    assert "failed: sgd-lr0.1-seed0: ValueError: boom" in result.output
    sweep_dir = sweep_dir_of(tmp_path)
    summary = rundir.read_json(sweep_dir / "summary.json")
    assert summary["counts"]["failed"] == 2 and summary["counts"]["completed"] == 10
    assert summary["status"] == "incomplete"
    rows = {r["config"]: r for r in csv.DictReader(open(sweep_dir / "leaderboard.csv"))}
    assert rows["sgd-lr0.1"]["failed"] == "1" and rows["sgd-lr0.1"]["runs"] == "3"


def test_resume_runs_only_what_is_missing_and_never_overwrites(tmp_path, sweep_file, monkeypatch):
    first = FakeTrainer()
    assert run_cli(monkeypatch, first, sweep_file).exit_code == 0
    sweep_dir = sweep_dir_of(tmp_path)
    runs = sweep_dir / "runs"
    # a killed sweep: one run was still running, one never started
    summary_path = runs / "adam-lr0.1-seed1" / "summary.json"
    summary = rundir.read_json(summary_path)
    rundir.write_json(summary_path, {**summary, "status": "running"})
    for f in (runs / "sgd-lr0.01-seed2").iterdir():
        f.unlink()
    (runs / "sgd-lr0.01-seed2").rmdir()
    untouched = (runs / "adam-lr0.01-seed0" / "summary.json").stat().st_mtime_ns
    # the sweep file changes afterwards: resume follows the recorded plan, not the file
    sweep_file.write_text(yaml.safe_dump({**SWEEP, "seeds": [0]}))

    second = FakeTrainer()
    result = run_cli(monkeypatch, second, "--resume", sweep_dir)
    assert result.exit_code == 0, result.output
    assert sorted(second.ran) == ["adam-lr0.1-seed1", "sgd-lr0.01-seed2"]
    assert (runs / "adam-lr0.1-seed1-2" / "summary.json").is_file()  # a fresh directory beside the old one
    assert rundir.read_json(summary_path)["status"] == "running"  # the old attempt is kept as it was
    assert (runs / "adam-lr0.01-seed0" / "summary.json").stat().st_mtime_ns == untouched
    assert rundir.read_json(sweep_dir / "summary.json")["counts"] == {"completed": 12}

    third = FakeTrainer()
    assert run_cli(monkeypatch, third, "--resume", sweep_dir).exit_code == 0
    assert third.ran == []  # a finished run is never run twice


def test_ctrl_c_stops_the_sweep_with_130_and_resume_finishes_it(tmp_path, sweep_file, monkeypatch):
    trainer = FakeTrainer(interrupt=("sgd-lr0.01-seed0",))
    result = run_cli(monkeypatch, trainer, sweep_file)
    assert result.exit_code == 130
    assert trainer.ran[-1] == "sgd-lr0.01-seed0" and len(trainer.ran) == 4  # nothing started after Ctrl-C
    sweep_dir = sweep_dir_of(tmp_path)
    assert f"--resume outputs/{sweep_dir.name}" in result.output
    assert rundir.read_json(sweep_dir / "summary.json")["status"] == "interrupted"
    assert (sweep_dir / "leaderboard.csv").is_file()  # what finished is ranked already
    rest = FakeTrainer()
    assert run_cli(monkeypatch, rest, "--resume", sweep_dir).exit_code == 0
    assert len(rest.ran) == 9 and rest.ran[0] == "sgd-lr0.01-seed0"


def test_resume_refuses_set_and_non_sweep_directories(tmp_path, sweep_file, monkeypatch):
    result = run_cli(monkeypatch, FakeTrainer(), "--resume", tmp_path)
    assert result.exit_code == 2 and "not a sweep directory" in result.output
    result = run_cli(monkeypatch, FakeTrainer(), "--resume", tmp_path, "--set", "seed=1")
    assert result.exit_code == 2 and "--set cannot change a sweep being resumed" in result.output


def test_the_progress_lines_count_runs_and_show_the_best_so_far(tmp_path, sweep_file, monkeypatch):
    result = run_cli(monkeypatch, FakeTrainer(), sweep_file)
    lines = [line for line in result.output.splitlines() if line.startswith("[")]
    assert len(lines) == 12
    assert lines[0].startswith("[ 1/12] sgd-lr0.1-seed0: completed") and "left" in lines[0]
    assert lines[-1].startswith("[12/12]") and "best val_loss" in lines[-1] and "(sgd-lr0.01-seed0)" in lines[-1]


def test_executors_are_chosen_by_name():
    assert isinstance(executors.make_executor("serial"), executors.SerialExecutor)
    process = executors.make_executor("processes", workers=3)
    assert isinstance(process, executors.ProcessExecutor) and process.workers == 3
    with pytest.raises(ValueError, match="valid: auto, processes, serial, fused, ray"):
        executors.make_executor("dask")


def test_redraw_rewrites_a_sweeps_results_from_its_saved_runs(tmp_path, sweep_file, monkeypatch):
    from lossopt_cli.sweeps import run as sweeps

    assert run_cli(monkeypatch, FakeTrainer(), sweep_file).exit_code == 0
    sweep_dir = sweep_dir_of(tmp_path)
    before = (sweep_dir / "leaderboard.csv").read_text()
    for name in ("leaderboard.csv", "comparison.png", "report.html", "summary.json"):
        (sweep_dir / name).unlink()
    outcome = sweeps.redraw(sweep_dir)
    assert (sweep_dir / "leaderboard.csv").read_text() == before
    assert (sweep_dir / "report.html").is_file() and outcome.rows[0]["config"] == "sgd-lr0.01"


def test_on_a_terminal_a_bar_follows_the_lines_and_is_cleared_at_the_end():
    import io

    from lossopt_cli.sweeps.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = Progress(4, stream=screen)
    progress(executors.JobResult("adam-seed0", "completed", None, {"best": {"val_loss": 0.25}}, None, 1.0))
    assert screen.getvalue().startswith("\r\x1b[K[1/4] adam-seed0: completed (1 s) | best val_loss 0.25 (adam-seed0)")
    assert screen.getvalue().split("\n")[-1].startswith("[#####...............] 1/4 runs")
    progress.close()
    assert screen.getvalue().endswith("\r\x1b[K")


def test_diagnose_takes_a_sweep_directory_and_diagnoses_every_run(tmp_path, sweep_file, monkeypatch):
    """Issue 19.9: `lossopt diagnose SWEEP_DIR` failed with 'No history at .../history.csv'."""
    trainer = FakeTrainer(diverge=("sgd-lr0.1-seed2",))
    run_cli(monkeypatch, trainer, sweep_file)
    sweep_dir = sweep_dir_of(tmp_path)
    started = sweep_dir / "runs" / "adam-lr0.1-seed0"  # as if Ctrl-C came before its first epoch ended
    (started / rundir.HISTORY).unlink()
    rundir.write_json(started / rundir.SUMMARY, {**rundir.read_json(started / rundir.SUMMARY), "status": "interrupted"})
    result = CliRunner().invoke(cli, ["diagnose", str(sweep_dir)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"sweep: {sweep_dir}") and "(12 runs)" in lines[0]
    assert any("sgd-lr0.1-seed2" in line and "diverged" in line for line in lines)
    assert any("adam-lr0.1-seed0" in line and "no epoch finished" in line for line in lines)
    assert lines[-1].startswith("verdicts: ") and "diverged 1" in lines[-1]
    gate = CliRunner().invoke(cli, ["diagnose", str(sweep_dir), "--fail-on", "diverged"])
    assert gate.exit_code == 1 and "failing: found diverged" in gate.output
    as_json = CliRunner().invoke(cli, ["diagnose", str(sweep_dir), "--json"])
    assert len(__import__("json").loads(as_json.output)["runs"]) == 12


def test_a_sweep_whose_varied_values_make_duplicate_runs_says_so(tmp_path, monkeypatch):
    """Issue 19.7: momentum varied for adam (which has no momentum) trained the same run twice without a word."""
    monkeypatch.chdir(tmp_path)
    spec = {"name": "dup", "base": SWEEP["base"], "vary": {"optimizer.name": ["sgd", "adam"],
                                                           "training.batch_size": [32, 32]}}
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = CliRunner().invoke(cli, ["sweep", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "note: 4 runs train a config another run already trains" in result.output
    trainer = FakeTrainer()
    out = run_cli(monkeypatch, trainer, path)
    assert "runs train a config another run already trains" in out.output
    assert rundir.read_json(sweep_dir_of(tmp_path) / "summary.json")["notes"]


def test_progress_after_ctrl_c_says_interrupted_without_counting_it_done_and_the_leaderboard_marks_it(tmp_path):
    """Issue 19.8: '[12/12] ... interrupted | 0s left'; the leaderboard averaged interrupted runs unmarked."""
    import io

    from sweep_fakes import write_run

    from lossopt_cli.analysis import leaderboard
    from lossopt_cli.analysis.runs import collect
    from lossopt_cli.sweeps.executors.base import JobResult
    from lossopt_cli.sweeps.progress import Progress

    stream = io.StringIO()
    progress = Progress(12, 0, stream=stream)
    progress(JobResult("a", "completed", None, {"best": {"val_loss": 0.3}}, None, 1.0))
    progress(JobResult("b", "interrupted", None, {}, None, 2.0))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("[ 1/12] a: completed") and "left" in lines[0]
    assert lines[1].startswith("[ 1/12] b: interrupted") and "--resume" in lines[1] and "left" not in lines[1]
    write_run(tmp_path / "a-seed0", "a-seed0", [0.5, 0.4, 0.3])
    write_run(tmp_path / "a-seed1", "a-seed1", [0.5, 0.45], status="interrupted", seed=1)
    rows, notes = leaderboard.leaderboard(collect([tmp_path]))
    assert rows[0]["interrupted"] == 1
    from lossopt_cli.reporting.sweep_report import table_lines

    assert "1 interrupted" in "\n".join(table_lines(rows, notes))


def test_the_time_left_is_not_guessed_from_the_first_run_which_carries_the_start_up(monkeypatch):
    """Issue 19.10: the first progress line said '3m49s left' for a 24 s sweep (TensorFlow's import and tracing
    charged to one run, times the runs left)."""
    import io

    from lossopt_cli.sweeps import progress as progress_module
    from lossopt_cli.sweeps.executors.base import JobResult

    clock = iter([100.0, 120.0, 122.0, 124.0])  # start; the first result after 20 s of start-up; then 2 s a run
    monkeypatch.setattr(progress_module.time, "time", lambda: next(clock))
    stream = io.StringIO()
    progress = progress_module.Progress(12, 0, stream=stream)
    for name in ("a", "b", "c"):
        progress(JobResult(name, "completed", None, {"best": {"val_loss": 0.3}}, None, 1.0))
    first, second, third = stream.getvalue().splitlines()
    assert first.endswith("? (after the next run) left")
    assert second.endswith("| 20s left") and third.endswith("| 18s left")  # 2 s a run, not (20 + 2) s
