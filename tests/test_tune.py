"""``mode: tune`` sweeps: the pruning rules on curves, the plan, Optuna's studies read back, --resume."""

from __future__ import annotations

import math

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli.analysis.pruning import min_epochs, prune_reason
from lossopt_cli.cli import cli
from lossopt_cli.sweeps.executors import base

# --- the pruning rules (pure Python) ---------------------------------------------------------------

GOOD = [1.0, 0.6, 0.4, 0.3, 0.25, 0.22, 0.2, 0.19, 0.18, 0.18, 0.17, 0.17]


def test_nothing_is_pruned_before_a_quarter_of_the_epochs():
    assert min_epochs(12) == 3
    flat = [2.3, 2.3]
    assert prune_reason(flat, 12, GOOD) is None  # even flat and far behind: too early


def test_a_flat_curve_far_behind_is_stalled_and_a_diverging_one_is_unstable():
    assert prune_reason([2.30, 2.299, 2.298], 12, GOOD).startswith("stalled")
    assert prune_reason([1.0, 3.0, 5.0], 12, None).startswith("unstable")
    assert prune_reason([1.0, float("nan")], 12, None).startswith("diverged")


def test_a_slow_start_improving_fast_is_kept():
    slow = [2.3, 2.0, 1.4]  # behind the reference at epoch 3, but at 0.45/epoch it can still reach 0.17
    assert prune_reason(slow, 12, GOOD) is None


def test_an_early_stopping_shaped_curve_is_kept():
    overfit = [1.0, 0.5, 0.3, 0.35, 0.45, 0.55]  # val_loss rises after its best, still below its start
    assert prune_reason(overfit, 12, None) is None
    assert prune_reason(GOOD[:6], 12, GOOD) is None  # the reference itself


# Two trials of the quickstart study of benchmarks/tune/nopruning_quickstart.yaml (val_loss, 12 epochs): SGD at
# learning rate 0.083 (the reference: best 0.135) and at 0.020, which ends at 0.217.
SGD_BEST = [0.447, 0.271, 0.214, 0.181, 0.168, 0.161, 0.150, 0.144, 0.141, 0.138, 0.136, 0.135]
SGD_SLOW = [1.230, 0.789, 0.581, 0.464, 0.391, 0.342, 0.306, 0.279, 0.258, 0.242, 0.228, 0.217]


def test_a_trial_far_behind_whose_gains_shrink_is_slowing_before_a_straight_line_gives_up():
    reasons = [prune_reason(SGD_SLOW[:e], 12, SGD_BEST) for e in range(3, 12)]
    assert reasons[:2] == [None, None]  # epochs 3 and 4: its gains could still carry it to 0.135
    assert reasons[2].startswith("slowing: best 0.391 at epoch 5")  # gains 0.117 then 0.073: flattening
    straight = [prune_reason(SGD_SLOW[:e], 12, SGD_BEST, {"deceleration": 0}) for e in range(3, 12)]
    assert straight.index(next(r for r in straight if r)) + 3 == 8  # the straight line alone: 3 epochs later
    assert prune_reason([1.2, 0.8, 0.6, 0.5], 12, GOOD).startswith("slowing")


def test_slowing_needs_shrinking_gains_and_a_trial_behind():
    assert prune_reason([2.3, 2.0, 1.72], 12, GOOD) is None  # a slow start, gains 0.30 then 0.28: nearly straight
    assert prune_reason([2.3, 2.0, 1.4], 12, GOOD) is None  # gains growing: a straight line, which reaches 0.17
    assert prune_reason([1.1, 0.65, 0.45, 0.34, 0.3], 12, GOOD) is None  # flattening, but not 1.25x behind
    assert all(prune_reason(SGD_BEST[:e], 12, SGD_SLOW) is None for e in range(3, 12))  # the better one


def test_a_metric_higher_is_better_is_judged_negated():
    accuracy = [0.1, 0.1, 0.1, 0.1]
    reference = [0.5, 0.8, 0.9, 0.95, 0.96]
    assert prune_reason([-a for a in accuracy], 12, [-r for r in reference]).startswith("stalled")


# --- a tune sweep, trained for real (iris, tiny) ---------------------------------------------------

SWEEP = {
    "name": "tuned",
    "base": {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy", "training": {"epochs": 4},
             "model": {"type": "mlp", "hidden_units": [8]}, "optimizer": {"name": "adam", "learning_rate": 0.01}},
    "mode": "tune",
    "vary": {"optimizer.name": ["sgd", "adam"]},
    "search": {"optimizer.learning_rate": {"low": 1.0e-4, "high": 1.0, "log": True}},
    "trials": 3,
    "seeds": [0, 1],
}


@pytest.fixture
def sweep_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "tuned.yaml"
    path.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    return path


def test_dry_run_shows_the_plan_and_the_budget(sweep_file):
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "tune 2 configuration(s) over optimizer.name, 3 trials each" in result.output
    assert "budget: 6 trials x 4 epochs = 24 trial epochs at most, then 4 run(s)" in result.output


def test_without_optuna_the_message_names_the_extra_and_exits_2(sweep_file, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else real(name, *a))
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file)])
    assert result.exit_code == 2, result.output
    assert "pip install 'lossopt[tune]'" in result.output and "Traceback" not in result.output
    assert not (sweep_file.parent / "outputs").exists()


def test_search_and_trials_are_required_and_a_key_is_compared_or_tuned(sweep_file):
    for change, message in (({"search": None}, "mode tune needs search:"), ({"trials": None}, "mode tune needs trials:"),
                            ({"search": {"optimizer.name": ["sgd"]}}, "either compared (vary:) or tuned")):
        sweep_file.write_text(yaml.safe_dump({**SWEEP, **change}))
        result = CliRunner().invoke(cli, ["sweep", str(sweep_file)])
        assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.slow
def test_a_tune_sweep_stores_its_studies_and_resumes_without_repeating_a_trial(sweep_file, monkeypatch):
    import optuna

    trained = []
    real = base.run_job

    def interrupted_after_four(job):
        if len(trained) == 4:
            return base.JobResult(job.name, "interrupted", None, None, None, 0.0)
        trained.append((job.runs_root.split("/trials/")[-1], job.name))
        return real(job)

    monkeypatch.setattr(base, "run_job", interrupted_after_four)
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--executor", "serial"])
    assert "interrupted: finish it with --resume" in result.output, result.output
    (sweep_dir,) = (sweep_file.parent / "outputs").iterdir()
    assert len(trained) == 4
    first = list(trained)

    def counting(job):
        trained.append((job.runs_root.split("/trials/")[-1] if "/trials/" in job.runs_root else "runs", job.name))
        return real(job)

    monkeypatch.setattr(base, "run_job", counting)
    result = CliRunner().invoke(cli, ["sweep", "--resume", str(sweep_dir), "--executor", "serial"])
    assert result.exit_code == 0, result.output
    trials = [t for t in trained if t[0] != "runs"]
    assert len(trials) == len(set(trials)) == 6  # 2 configurations x 3 trials, none trained twice
    assert all(t in trials for t in first)
    for group in ("sgd", "adam"):
        study = optuna.load_study(study_name=group, storage=f"sqlite:///{sweep_dir / 'optuna.db'}")
        finished = [t for t in study.trials if t.state.is_finished() and t.state.name != "FAIL"]
        assert len(finished) == 3
        for t in finished:
            assert (sweep_dir / "trials" / group / str(t.number) / "history.csv").is_file()
        assert all(math.isfinite(v) for v in study.best_trial.intermediate_values.values())
    runs = sorted(p.name for p in (sweep_dir / "runs").iterdir())
    assert len(runs) == 4 and {r.split("-")[0] for r in runs} == {"sgd", "adam"}  # each best rate on 2 seeds
    assert "tuned (val_loss" in result.output and "leaderboard" in result.output.lower()


@pytest.mark.slow
def test_a_hopeless_trial_is_pruned_by_its_callback_with_the_reason_and_epoch_recorded(tmp_path):
    from lossopt_cli import rundir
    from lossopt_cli.config import validate

    raw = {**SWEEP["base"], "name": "t", "optimizer": {"name": "sgd", "learning_rate": 1.0e-5},
           "training": {"epochs": 8}}
    best = [0.9, 0.6, 0.4, 0.3, 0.25, 0.2, 0.18, 0.17]  # the best trial so far; 1e-5 barely moves
    job = base.Job("0", validate(raw).to_dict(), str(tmp_path), prune={"monitor": "val_loss", "higher": False,
                                                                       "reference": best})
    result = base.run_job(job)
    assert result.status == "pruned", result
    summary = rundir.read_json(tmp_path / "0" / rundir.SUMMARY)
    assert summary["status"] == "pruned" and summary["pruned_at_epoch"] == 2  # the first epoch it may
    assert summary["prune_reason"].startswith("stalled")
    assert len(rundir.read_history(tmp_path / "0" / rundir.HISTORY)["val_loss"]) == 2
    unpruned = base.run_job(base.Job("1", job.config, str(tmp_path)))  # the same run without the callback
    assert unpruned.status == "completed"
