"""Plain Keras histories get the whole treatment: report beside the file or in --output, the epoch
convention stated, and compare of single runs with training curves and each over-fitting onset."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from lossopt_cli.cli import cli
from lossopt_cli.reporting import sweep_plots

from .conftest import REPO

FIXTURES = REPO / "tests" / "fixtures"


def test_report_of_a_csvlogger_file_writes_beside_it_or_to_output(tmp_path):
    log = tmp_path / "training_log.csv"
    shutil.copy(FIXTURES / "keras_overfitting.csv", log)
    before = log.read_text()
    result = CliRunner().invoke(cli, ["report", str(log)])
    assert result.exit_code == 0, result.output
    assert "verdict: overfitting" in result.output and "overfitting (epoch 6)" in result.output
    assert "epoch N here is the row with epoch N-1 in training_log.csv (CSVLogger counts from 0)" in result.output
    for name in ("training_log-curves.png", "training_log-report.html", "training_log-diagnosis.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    page = (tmp_path / "training_log-report.html").read_text()
    assert "data:image/png;base64," in page and "CSVLogger counts from 0" in page
    assert log.read_text() == before  # the user's file is never written
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["report", str(log), "--output", str(out)])
    assert result.exit_code == 0 and sorted(p.name for p in out.iterdir()) == [
        "curves.png", "diagnosis.json", "report.html"]


def test_report_output_is_for_files_only(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(FIXTURES / "keras_healthy.csv", run_dir / "history.csv")
    result = CliRunner().invoke(cli, ["report", str(run_dir), "--output", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--output applies to a CSVLogger file" in result.output


def test_diagnose_states_the_epoch_convention_of_a_csvlogger_file(tmp_path):
    result = CliRunner().invoke(cli, ["diagnose", str(FIXTURES / "keras_overfitting.csv")])
    assert "note: epochs are counted from 1" in result.output
    own = tmp_path / "history.csv"  # lossopt's own history.csv counts from 1: nothing to say
    own.write_text("epoch,loss,val_loss\n1,1.0,1.1\n2,0.9,1.0\n3,0.8,0.95\n")
    assert "note:" not in CliRunner().invoke(cli, ["diagnose", str(own)]).output


def test_compare_of_single_runs_shows_training_curves_and_each_onset(tmp_path, monkeypatch):
    figures = []
    real_save = sweep_plots._save
    monkeypatch.setattr(sweep_plots, "_save", lambda fig, path, **kw: (figures.append(fig), real_save(fig, path, **kw))[1])
    result = CliRunner().invoke(cli, ["compare", str(FIXTURES / "keras_overfitting.csv"),
                                      str(FIXTURES / "keras_healthy.csv"), "--output", str(tmp_path / "c.png")])
    assert result.exit_code == 0, result.output
    assert "over-fitting onset: keras_overfitting epoch 6, keras_healthy none" in result.output
    assert "(CSVLogger counts from 0)" in result.output
    loss_axes = figures[0].axes[0]
    dashed = [line for line in loss_axes.get_lines() if line.get_linestyle() == "--"]
    markers = [line for line in loss_axes.get_lines() if line.get_marker() == "o"]
    assert len(dashed) == 2 and len(markers) == 1  # both training curves; one run over-fits
    assert list(markers[0].get_xdata()) == [6]
    assert "training dashed" in loss_axes.get_title()
