"""``compare_fixed: true``: a tune sweep also ranks every compared configuration at its config's own values of the
searched keys, and the leaderboard says how that ranking differs from the tuned one (a tiny iris sweep, for real)."""

from __future__ import annotations

import csv
import re

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import rundir
from lossopt_cli.cli import cli
from lossopt_cli.sweeps.executors import base

SWEEP = {
    "name": "fixedvstuned",
    "base": {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy", "training": {"epochs": 4},
             "model": {"type": "mlp", "hidden_units": [8]}, "optimizer": {"name": "adam", "learning_rate": 1.0}},
    "mode": "tune",
    "vary": {"optimizer.name": ["sgd", "adam"]},
    "search": {"optimizer.learning_rate": {"low": 1.0e-4, "high": 1.0, "log": True}},
    "trials": 3,
    "seeds": [0, 1],
    "compare_fixed": True,
}


@pytest.fixture
def sweep_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "fixedvstuned.yaml"
    path.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    return path


def test_the_dry_run_counts_the_fixed_runs_and_names_them(sweep_file):
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "then 4 run(s) at each configuration's best values (seeds [0, 1]) and 4 at its own values" in result.output
    assert ("compare_fixed: 4 run(s) at the configurations' own optimizer.learning_rate=1.0 (seeds [0, 1]), ranked "
            "beside the tuned ones: runs/sgd-lr1-fixed-seed0/") in result.output
    sweep_file.write_text(yaml.safe_dump({**SWEEP, "compare_fixed": False}))
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--dry-run"])
    assert "and 4 at its own values" not in result.output
    assert "note: the base config sets optimizer.learning_rate=1.0; compare_fixed: true also ranks" in result.output


def test_compare_fixed_must_be_a_boolean(sweep_file):
    sweep_file.write_text(yaml.safe_dump({**SWEEP, "compare_fixed": "yes please"}))
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--dry-run"])
    assert result.exit_code == 2 and "compare_fixed" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_the_leaderboard_ranks_the_fixed_runs_beside_the_tuned_ones_and_resume_never_repeats_them(sweep_file,
                                                                                                   monkeypatch):
    trained, real = [], base.run_job

    def interrupted_at_the_second_fixed_run(job):
        if sum("-fixed-" in name for _, name in trained) == 1 and "-fixed-" in job.name:
            return base.JobResult(job.name, "interrupted", None, None, None, 0.0)
        trained.append(("trials" if "/trials/" in job.runs_root else "runs", job.name))
        return real(job)

    monkeypatch.setattr(base, "run_job", interrupted_at_the_second_fixed_run)
    result = CliRunner().invoke(cli, ["sweep", str(sweep_file), "--executor", "serial"])
    assert "interrupted: finish it with --resume" in result.output, result.output
    (sweep_dir,) = (sweep_file.parent / "outputs").iterdir()
    first = [name for kind, name in trained if kind == "runs"]
    monkeypatch.setattr(base, "run_job", lambda job: trained.append(("resumed", job.name)) or real(job))
    result = CliRunner().invoke(cli, ["sweep", "--resume", str(sweep_dir), "--executor", "serial"])
    assert result.exit_code == 0, result.output
    resumed = [name for kind, name in trained if kind == "resumed"]
    assert not set(resumed) & set(first)  # nothing trained twice, the fixed run of the first invocation included
    fixed = sorted(name for name in first + resumed if "-fixed-" in name)
    assert fixed == ["adam-lr1-fixed-seed0", "adam-lr1-fixed-seed1", "sgd-lr1-fixed-seed0", "sgd-lr1-fixed-seed1"]
    assert len(first + resumed) == 8  # 2 configurations x 2 seeds, tuned and fixed

    with open(sweep_dir / "leaderboard.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and not any("fixed" in r["config"] for r in rows)  # one row per compared configuration
    summary = rundir.read_json(sweep_dir / "summary.json")
    fixed_rows = summary["fixed_vs_tuned"]["fixed_leaderboard"]
    assert {r["config"] for r in fixed_rows} == {"sgd-lr1-fixed", "adam-lr1-fixed"}
    for row in rows:  # each tuned row carries its configuration's fixed rank and score
        name = row["config"].split("-")[0]
        match = next(r for r in fixed_rows if r["config"] == f"{name}-lr1-fixed")
        assert int(row["fixed_rank"]) == match["rank"]
        assert float(row["fixed_final_val_loss_mean"]) == pytest.approx(match["final_val_loss_mean"], rel=1e-3)

    sentence = summary["fixed_vs_tuned"]["sentence"]
    before = [r["config"].split("-")[0] for r in sorted(fixed_rows, key=lambda r: r["rank"])]
    after = [r["config"].split("-")[0] for r in rows]
    said = re.match(r"At your fixed settings \(optimizer.learning_rate=1\) the order was (.+?); tuned it is (.+?) "
                    r"\(best first", sentence)
    assert said, sentence
    assert re.split(r" [>≈] ", said.group(1)) == before and re.split(r" [>≈] ", said.group(2)) == after
    if before == after:
        assert sentence.endswith("the same ranking; tuning changed the scores, not the order.")
    else:
        up = next(label for label in after if after.index(label) < before.index(label))
        assert f"the ranking changed: {up} was held back by optimizer.learning_rate=1 (tuned optimizer." in sentence
    for row in rows:  # a configuration better at the fixed values than tuned is said to be under-tuned
        name, won = row["config"].split("-")[0], float(row["fixed_final_val_loss_mean"]) < float(row["final_val_loss_mean"])
        assert (f"{name} did better at the fixed values" in sentence) == won
    assert sentence in result.output  # printed under the leaderboard
    assert "fixed #" in result.output
    assert "Fixed vs tuned." in (sweep_dir / "report.html").read_text()
    report = CliRunner().invoke(cli, ["report", str(sweep_dir)])  # redrawn from the saved runs: the same sentence
    assert report.exit_code == 0 and sentence in report.output, report.output
