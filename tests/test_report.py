"""The reporter as a user sees it: `lossopt diagnose` / `lossopt report` on saved runs and on
plain Keras CSVLogger files, the curves, report.html, and the diagnosis written after training."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import rundir
from lossopt_cli.cli import cli
from lossopt_cli.reporting.html import report_run
from lossopt_cli.reporting.plots import plot_curves

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parents[1]


def make_run(tmp_path: Path, csv_name: str, diagnostics: dict | None = None, name: str = "run") -> Path:
    """A run directory as lossopt writes it, from a Keras CSVLogger file (epochs made 1-based)."""
    run = tmp_path / name
    run.mkdir(parents=True)
    history = rundir.read_history(FIXTURES / csv_name)
    writer = rundir.HistoryWriter(run / rundir.HISTORY)
    for i, epoch in enumerate(history["epoch"]):
        writer.append(epoch, {k: v[i] for k, v in history.items() if k != "epoch"})
    rundir.write_json(run / rundir.SUMMARY, {"name": name, "status": "completed", "epochs_run": len(history["epoch"]),
                                            "best_epoch": 1, "final": {"loss": history["loss"][-1]}})
    config = {"name": name, "data": {"dataset": "iris"}, "loss": "categorical_crossentropy"}
    if diagnostics:
        config["diagnostics"] = diagnostics
    rundir.atomic_write(run / rundir.CONFIG, yaml.safe_dump(config))
    return run


# --- real runs: plain Keras CSVLogger files from benchmarks/diagnosis ------------------------------


@pytest.mark.parametrize("csv_name, verdict, code", [
    ("keras_overfitting.csv", "overfitting", "overfitting"),
    ("keras_healthy.csv", "healthy", "healthy"),
    ("keras_diverged.csv", "diverged", "diverged"),
])
def test_diagnose_a_keras_csvlogger_file(csv_name, verdict, code):
    result = CliRunner().invoke(cli, ["diagnose", str(FIXTURES / csv_name), "--json"])
    assert result.exit_code == 0, result.output
    diagnosis = json.loads(result.output)
    assert diagnosis["verdict"] == verdict
    assert code in {f["code"] for f in diagnosis["findings"]}


def test_diagnose_prints_the_verdict_and_suggestions():
    result = CliRunner().invoke(cli, ["diagnose", str(FIXTURES / "keras_overfitting.csv")])
    assert result.exit_code == 0
    assert result.output.startswith("verdict: overfitting\n")
    assert "would have stopped at epoch" in result.output


def test_fail_on_gates_a_ci_job():
    runner = CliRunner()
    over = str(FIXTURES / "keras_overfitting.csv")
    assert runner.invoke(cli, ["diagnose", over, "--fail-on", "overfitting,diverged"]).exit_code == 1
    assert runner.invoke(cli, ["diagnose", over, "--fail-on", "diverged"]).exit_code == 0
    bad = runner.invoke(cli, ["diagnose", over, "--fail-on", "overfit"])
    assert bad.exit_code == 2
    assert "Error: Unknown diagnosis code 'overfit' in --fail-on. Did you mean 'overfitting'? Valid codes: " in bad.output
    assert "traceback" not in bad.output.lower()


def test_diagnose_a_directory_without_history_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path)])
    assert result.exit_code == 2
    assert "No history at" in result.output


def test_diagnose_a_run_directory_uses_the_thresholds_of_its_config(tmp_path):
    strict = make_run(tmp_path, "keras_overfitting.csv", name="default")
    lenient = make_run(tmp_path, "keras_overfitting.csv", {"overfitting_gl": 10000, "overfitting_gap_ratio": 1e9}, name="lenient")
    runner = CliRunner()
    assert json.loads(runner.invoke(cli, ["diagnose", str(strict), "--json"]).output)["verdict"] == "overfitting"
    assert json.loads(runner.invoke(cli, ["diagnose", str(lenient), "--json"]).output)["verdict"] != "overfitting"


# --- lossopt report ----------------------------------------------------------------------------------


def test_report_redraws_everything_from_the_saved_files(tmp_path):
    run = make_run(tmp_path, "keras_overfitting.csv")
    result = CliRunner().invoke(cli, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert "verdict overfitting" in result.output
    diagnosis = rundir.read_json(run / rundir.DIAGNOSIS)
    summary = rundir.read_json(run / rundir.SUMMARY)
    assert summary["verdict"] == diagnosis["verdict"] == "overfitting"
    assert summary["findings"] == [f["code"] for f in diagnosis["findings"]]
    page = (run / rundir.REPORT).read_text()
    assert page.count("data:image/png;base64,") == 1
    assert "src='http" not in page and "<link" not in page  # self-contained
    assert "would have stopped at epoch" in page and "categorical_crossentropy" in page
    assert "verdict: overfitting" in page


def test_report_on_a_sweep_reports_each_run(tmp_path):
    sweep = tmp_path / "sweep"
    (sweep / "runs").mkdir(parents=True)
    (sweep / "sweep.yaml").write_text("base: x.yaml\n")
    for csv_name, name in (("keras_healthy.csv", "a"), ("keras_diverged.csv", "b")):
        make_run(sweep / "runs", csv_name, name=name)
    result = CliRunner().invoke(cli, ["report", str(sweep)])
    assert result.exit_code == 0, result.output
    assert "verdict healthy" in result.output and "verdict diverged" in result.output
    assert all((sweep / "runs" / n / rundir.REPORT).exists() for n in "ab")


def test_report_on_something_else_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not a run directory" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_failing_step_warns_and_the_others_still_run(tmp_path, monkeypatch):
    import lossopt_cli.analysis.diagnose as diagnose

    run = make_run(tmp_path, "keras_healthy.csv")

    def broken(run_dir):
        raise RuntimeError("boom")

    monkeypatch.setattr(diagnose, "write_diagnosis", broken)
    problems = []
    report_run(run, on_error=lambda what, exc: problems.append((what, str(exc))))
    assert problems == [("diagnosis.json", "boom")]
    assert (run / rundir.CURVES).exists() and (run / rundir.REPORT).exists()


def test_read_only_commands_do_not_import_tensorflow(tmp_path):
    run = make_run(tmp_path, "keras_overfitting.csv")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from lossopt_cli.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['diagnose', {str(run)!r}, '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        f"r = CliRunner().invoke(cli, ['report', {str(run)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- curves.png ----------------------------------------------------------------------------------------


def png_pixels(path: Path):
    import matplotlib.image

    return matplotlib.image.imread(str(path))


def test_curves_are_drawn_not_blank_and_mark_the_onset(tmp_path):
    n = 40
    h = {"epoch": list(range(1, n + 1)), "loss": [2 * math.exp(-t / 4) + 1e-3 for t in range(n)],
         "val_loss": [0.5 + 0.5 * math.exp(-t / 3) + (0.02 * (t - 10) if t > 10 else 0) for t in range(n)],
         "accuracy": [min(1.0, 0.5 + 0.05 * t) for t in range(n)], "val_accuracy": [0.8] * n}
    path = plot_curves(h, tmp_path / "c.png", best_epoch=11, onset_epoch=11, title="t", verdict="overfitting")
    pixels = png_pixels(path)
    assert 20_000 < path.stat().st_size < 2_000_000
    assert pixels.shape[1] > 800 and pixels[..., :3].std() > 0.05  # two panels, not blank
    # the over-fitted region is shaded orange: some pixels are tinted between onset and end
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    assert ((r > 0.95) & (g > 0.85) & (g < 0.97) & (b < 0.93) & (b > 0.75)).sum() > 1000


def test_a_changing_learning_rate_gets_its_own_panel_and_a_wide_loss_range_a_log_scale(tmp_path):
    n = 20
    base = {"epoch": list(range(1, n + 1)), "loss": [10 ** (-t / 5) for t in range(n)]}
    flat = plot_curves({**base, "learning_rate": [0.01] * n}, tmp_path / "flat.png")
    decaying = plot_curves({**base, "learning_rate": [0.01 * 0.8 ** t for t in range(n)]}, tmp_path / "lr.png")
    assert png_pixels(decaying).shape[1] > png_pixels(flat).shape[1]  # a second panel

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    captured = {}
    real_savefig = plt.Figure.savefig

    def spy(fig, *args, **kwargs):
        captured["scales"] = [ax.get_yscale() for ax in fig.axes if ax.get_visible()]
        return real_savefig(fig, *args, **kwargs)

    plt.Figure.savefig = spy
    try:
        plot_curves({**base, "learning_rate": [0.01 * 0.8 ** t for t in range(n)]}, tmp_path / "spy.png")
    finally:
        plt.Figure.savefig = real_savefig
    assert captured["scales"] == ["log", "linear"]


def test_plot_survives_nan_and_a_single_epoch(tmp_path):
    plot_curves({"epoch": [1, 2, 3], "loss": [1.0, float("nan"), float("inf")]}, tmp_path / "nan.png")
    plot_curves({"epoch": [1], "loss": [1.0], "val_loss": [1.2]}, tmp_path / "one.png")
    assert (tmp_path / "nan.png").stat().st_size > 5000 and (tmp_path / "one.png").stat().st_size > 5000


# --- after training ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_train_writes_the_diagnosis_and_prints_the_verdict(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(
        "name: tiny\nseed: 1\ndata: {dataset: iris}\nmodel: {type: mlp, hidden_units: [8]}\nloss: categorical_crossentropy\n"
        "training: {epochs: 4, batch_size: 16}\ndiagnostics: {overfitting_gl: 25}\n"
        f"output: {{dir: {tmp_path / 'out'}, save_model: false}}\n")
    result = CliRunner().invoke(cli, ["train", str(config), "--quiet"])
    assert result.exit_code == 0, result.output
    run = next((tmp_path / "out").iterdir())
    diagnosis = rundir.read_json(run / rundir.DIAGNOSIS)
    summary = rundir.read_json(run / rundir.SUMMARY)
    assert summary["verdict"] == diagnosis["verdict"]
    assert diagnosis["thresholds"]["overfitting_gl"] == 25
    assert f"verdict: {diagnosis['verdict']}" in result.output
    assert (run / rundir.CURVES).exists() and (run / rundir.REPORT).exists()
    shutil.rmtree(run)


@pytest.mark.parametrize("status", ["failed", "interrupted", "diverged"])
def test_finalize_diagnoses_every_ending_and_never_raises(tmp_path, status, monkeypatch, capsys):
    from lossopt_cli.training import runner

    run = make_run(tmp_path, "keras_diverged.csv" if status == "diverged" else "keras_healthy.csv")
    summary = {**rundir.read_json(run / rundir.SUMMARY), "status": status}
    rundir.write_json(run / rundir.SUMMARY, summary)
    runner.finalize(run, summary)
    assert rundir.read_json(run / rundir.SUMMARY)["verdict"] == rundir.read_json(run / rundir.DIAGNOSIS)["verdict"]
    assert (run / rundir.CURVES).exists() and (run / rundir.REPORT).exists()

    import lossopt_cli.reporting.plots as plots

    monkeypatch.setattr(plots, "plot_run", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("no display")))
    runner.finalize(run, summary)  # warns, does not raise
    assert "warning: could not write curves.png: no display" in capsys.readouterr().err
