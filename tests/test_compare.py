"""`lossopt compare` and `lossopt list` on saved runs, and the statistics behind the leaderboard."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossopt_cli.analysis import leaderboard, stats
from lossopt_cli.analysis.runs import collect
from lossopt_cli.cli import cli

sys.path.insert(0, str(Path(__file__).parent))  # the helpers beside this file, whatever the import mode
from sweep_fakes import FakeTrainer, write_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


# --- statistics ---------------------------------------------------------------------------------


def test_mean_std_and_the_student_t_interval():
    mean, std = stats.mean_std([1.0, 2.0, 3.0, math.nan])
    assert mean == 2.0 and std == 1.0  # sample std, NaN ignored
    low, high = stats.interval95([1.0, 2.0, 3.0])
    assert low == pytest.approx(2 - 4.303 / math.sqrt(3)) and high == pytest.approx(2 + 4.303 / math.sqrt(3))
    assert stats.interval95([1.0]) is None
    assert stats.overlap((0, 1), (0.9, 2)) is True and stats.overlap((0, 1), (1.1, 2)) is False


def test_epochs_to_target_and_area_under_the_curve():
    history = {"epoch": [1, 2, 3, 4], "val_loss": [1.0, 0.6, 0.4, 0.5], "val_accuracy": [0.5, 0.7, 0.9, 0.85]}
    assert stats.epochs_to_target(history, "val_loss", 0.5) == 3
    assert stats.epochs_to_target(history, "val_accuracy", 0.7) == 2
    assert stats.epochs_to_target(history, "val_loss", 0.1) is None
    assert stats.area_under(history) == pytest.approx(0.8 + 0.5 + 0.45)
    assert stats.area_under({"epoch": [1, 2], "val_loss": [1.0, math.nan]}) is None


def runs_of(tmp_path, curves: dict[str, list[list[float]]], **kw):
    """{group: [curve per seed]} -> run directories named group-seedN."""
    for group, seeds in curves.items():
        for seed, curve in enumerate(seeds):
            write_run(tmp_path / f"{group}-seed{seed}", f"{group}-seed{seed}", curve, seed=seed,
                      config={"optimizer": {"name": group, "learning_rate": 0.01}}, **kw)
    return collect([tmp_path])


def test_the_leaderboard_ranks_groups_over_seeds_and_says_when_they_are_within_noise(tmp_path):
    records = runs_of(tmp_path, {
        "adam": [[1.0, 0.50], [1.0, 0.52], [1.0, 0.54]],
        "rmsprop": [[1.0, 0.51], [1.0, 0.53], [1.0, 0.55]],
        "sgd": [[1.0, 0.90], [1.0, 0.91], [1.0, 0.92]],
    })
    rows, notes = leaderboard.leaderboard(records)
    assert [r["config"] for r in rows] == ["adam", "rmsprop", "sgd"]
    assert rows[0]["best_val_loss_mean"] == pytest.approx(0.52) and rows[0]["best_val_loss_std"] == pytest.approx(0.02)
    # adam beat rmsprop on each of the 3 paired seeds, but 3 seeds cannot prove it (smallest p 0.25)
    assert rows[1]["within_noise_of_best"] == "probably not" and rows[1]["seeds_won_by_best"] == "3/3"
    assert notes["noise"].startswith("adam beat rmsprop on 3 of 3 paired seeds") and "run more seeds" in notes["noise"]
    assert notes["target"]["value"] == pytest.approx(0.572) and rows[0]["reached_target"] == "3/3"
    assert rows[2]["epochs_to_target_mean"] is None and rows[2]["reached_target"] == "0/3"

    apart, notes = leaderboard.leaderboard(runs_of(tmp_path / "apart", {"a": [[0.10], [0.11]], "b": [[0.50], [0.52]]}))
    assert notes["noise"].startswith("a beat b on 2 of 2 paired seeds") and "probably ahead" in notes["noise"]
    one_seed, notes = leaderboard.leaderboard(runs_of(tmp_path / "one", {"a": [[0.1]], "b": [[0.5]]}))
    assert "cannot tell" in notes["noise"]


def test_diverged_runs_are_counted_and_a_group_that_always_diverges_ranks_last(tmp_path):
    records = runs_of(tmp_path, {"fast": [[5.0, math.nan]], "slow": [[1.0, 0.9]]}, status="diverged")
    for record in records:
        if record.group == "slow":
            record.status = "completed"
    rows, _ = leaderboard.leaderboard(records)
    assert [r["config"] for r in rows] == ["slow", "fast"]
    assert rows[1]["diverged"] == 1 and rows[1]["best_val_loss_mean"] is None


def test_the_verdict_column_reads_summary_verdict_when_there_is_one(tmp_path):
    rows, _ = leaderboard.leaderboard(runs_of(tmp_path, {"a": [[0.3, 0.2]]}, verdict="overfitting"))
    assert rows[0]["verdict"] == "overfitting"
    rows, _ = leaderboard.leaderboard(runs_of(tmp_path / "none", {"a": [[0.3, 0.2]]}))
    assert rows[0]["verdict"] == ""


# --- lossopt compare -----------------------------------------------------------------------------


def test_compare_overlays_runs_of_different_lengths_and_prints_the_table(tmp_path):
    a = write_run(tmp_path / "a", "quick", [1.0, 0.5, 0.3], config={"optimizer": {"name": "adam"}})
    b = write_run(tmp_path / "b", "quick", [1.2, 0.9, 0.7, 0.6, 0.55, 0.5], config={"optimizer": {"name": "sgd"}})
    out = tmp_path / "overlay.png"
    result = CliRunner().invoke(cli, ["compare", str(a), str(b), "--output", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["#", "config", "runs"]
    assert lines[2].split()[:3] == ["1", "quick", "1"] and lines[3].split()[:3] == ["2", "quick-2", "1"]
    assert "one seed" in result.output or "cannot tell" in result.output
    assert out.stat().st_size > 5_000


def test_compare_groups_seeds_of_one_config_and_reads_keras_csvlogger_files(tmp_path):
    for seed in (0, 1):
        write_run(tmp_path / f"adam-seed{seed}", f"adam-seed{seed}", [1.0, 0.5 + seed / 10], seed=seed)
    csv_file = tmp_path / "keras_log.csv"
    csv_file.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.7,0.8\n")
    result = CliRunner().invoke(cli, ["compare", str(tmp_path), str(csv_file), "-o", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "adam" in result.output and " 2 " in result.output  # two seeds in one row
    assert "keras_log" in result.output


def test_compare_on_a_sweep_directory(tmp_path, monkeypatch):
    import yaml

    from lossopt_cli.sweeps.executors import base as executors

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump({
        "base": {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"},
        "vary": {"optimizer.learning_rate": [0.1, 0.01]}, "seeds": [0, 1]}))
    monkeypatch.setattr(executors, "run_job", FakeTrainer())
    assert CliRunner().invoke(cli, ["sweep", "s.yaml", "--executor", "serial", "-q"]).exit_code == 0
    (sweep_dir,) = (tmp_path / "outputs").iterdir()
    result = CliRunner().invoke(cli, ["compare", str(sweep_dir), "-o", "c.png"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2].split()[:3] == ["1", "lr0.01", "2"]

    listed = CliRunner().invoke(cli, ["list"])
    assert listed.exit_code == 0
    assert listed.output.startswith(f"sweep  {sweep_dir.name}  completed  4/4 runs (4 completed)  best lr0.01")


# --- lossopt list ---------------------------------------------------------------------------------


def test_list_shows_runs_with_status_verdict_and_best_metric(tmp_path):
    write_run(tmp_path / "good-20261123-100000", "good", [0.5, 0.2], verdict="healthy")
    write_run(tmp_path / "bad-20261123-100001", "bad", [0.5, math.nan], status="diverged")
    (tmp_path / "not-a-run").mkdir()
    result = CliRunner().invoke(cli, ["list", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "run    bad-20261123-100001  diverged  -  best val_accuracy 0.5",
        "run    good-20261123-100000  completed  healthy  best val_accuracy 0.8",
    ]
    assert "no runs or sweeps" in CliRunner().invoke(cli, ["list", str(tmp_path / "not-a-run")]).output


def test_compare_list_and_dry_run_do_not_import_tensorflow(tmp_path):
    write_run(tmp_path / "r", "r", [1.0, 0.5])
    sweep = ROOT / "configs" / "sweeps" / "optimizers.yaml"
    code = f"""
import sys
from lossopt_cli.cli import cli
for args in (["compare", {str(tmp_path / 'r')!r}, "-o", {str(tmp_path / 'c.png')!r}], ["list", {str(tmp_path)!r}],
             ["sweep", {str(sweep)!r}, "--dry-run"], ["sweep", "--help"]):
    try:
        cli(args, standalone_mode=False)
    except SystemExit:
        pass
assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "imported TensorFlow"
print("clean")
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "clean" in result.stdout, result.stderr


def test_compare_without_runs_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["compare", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: no runs with a history.csv in {tmp_path}")


def test_rank_by_a_metric_ranks_highest_first_and_names_its_columns(tmp_path):
    records = runs_of(tmp_path, {"a": [[0.5, 0.4]], "b": [[0.3, 0.2]]})
    for record in records:  # b has the lower loss but a the higher accuracy
        record.history["val_accuracy"] = [0.5, 0.9] if record.group == "a" else [0.5, 0.7]
    rows, notes = leaderboard.leaderboard(records, rank_by="val_accuracy")
    assert [r["config"] for r in rows] == ["a", "b"] and rows[0]["best_val_accuracy_mean"] == 0.9
    assert notes["rank_by"] == "val_accuracy"
    rows, _ = leaderboard.leaderboard(records)
    assert [r["config"] for r in rows] == ["b", "a"]


def test_direction_of_every_metric_name():
    """Ranking and best epochs depend on it: errors go down, scores go up."""
    from lossopt_cli.analysis.stats import lower_is_better

    lower = ["loss", "val_loss", "mae", "val_mae", "mse", "rmse", "mape", "msle", "mean_absolute_error",
             "root_mean_squared_error", "hinge", "val_categorical_crossentropy", "kl_divergence", "poisson"]
    higher = ["accuracy", "val_accuracy", "acc", "sparse_categorical_accuracy", "precision", "val_recall", "f1",
              "val_f1", "auc", "pr_auc", "r2", "val_r2", "r2_score", "top_k_accuracy", "iou", "cosine_similarity"]
    assert [m for m in lower if not lower_is_better(m)] == []
    assert [m for m in higher if lower_is_better(m)] == []


def test_compare_without_output_writes_beside_the_sweep_or_under_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep_dir = tmp_path / "outputs" / "opt-20261123-100000"
    write_run(sweep_dir / "runs" / "a", "a", [0.5, 0.3])
    (sweep_dir / "sweep.yaml").write_text("name: opt\n")
    result = CliRunner().invoke(cli, ["compare", str(sweep_dir)])
    assert result.exit_code == 0, result.output
    beside = tmp_path / "outputs" / "opt-20261123-100000-comparison.png"
    assert beside.is_file() and f"plot: {beside}" in result.output

    run = write_run(tmp_path / "elsewhere" / "r", "r", [1.0, 0.5])
    result = CliRunner().invoke(cli, ["compare", str(run)])
    assert result.exit_code == 0, result.output
    (plot,) = (tmp_path / "outputs").glob("comparison-*.png")
    assert f"plot: {Path('outputs') / plot.name}" in result.output
    assert not list(tmp_path.glob("*.png"))  # nothing in the current directory
