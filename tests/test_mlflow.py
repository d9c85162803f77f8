"""MLflow tracking, read back with MlflowClient from a SQLite store in a temporary directory (offline):
a run logged live (params, per-epoch val_loss, verdict tag, curves artifact), an exported sweep (a parent
with its runs nested), and a second export that adds nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli.cli import cli

mlflow = pytest.importorskip("mlflow", reason="pip install 'lossopt[mlflow]'")
from mlflow.tracking import MlflowClient  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from sweep_fakes import FakeTrainer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def store(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mlflow.db'}"


@pytest.mark.slow
def test_a_quickstart_run_logged_live_reads_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow puts a SQLite store's artifacts under ./mlruns
    uri = store(tmp_path)
    result = CliRunner().invoke(cli, ["train", str(REPO / "configs/quickstart.yaml"), "--quiet",
                                      "--set", "training.epochs=3", "--set", f"output.dir={tmp_path / 'out'}",
                                      "--set", f"tracking.mlflow={uri}"])
    assert result.exit_code == 0, result.output
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("quickstart-ep3")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["optimizer.name"] == "adam" and run.data.params["training.epochs"] == "3"
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in history] == [1, 2, 3]
    assert run.data.tags["lossopt.verdict"] not in ("", "None") and run.info.status == "FINISHED"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"curves.png", "report.html", "diagnosis.json", "summary.json", "model"} <= artifacts


def test_an_unreachable_store_warns_once_and_training_goes_on(tmp_path):
    from lossopt_cli.tracking import mlflow_store

    mlflow_store._warned.clear()
    calls = []

    def broken():
        calls.append(1)
        raise ConnectionError("no store at http://127.0.0.1:9")

    assert mlflow_store.safely("log an epoch", broken) is None
    assert mlflow_store.safely("log an epoch", broken) is None
    assert len(calls) == 2 and mlflow_store._warned == {"log an epoch"}


def test_an_exported_sweep_is_a_parent_with_its_runs_nested_and_a_second_export_adds_nothing(tmp_path, monkeypatch):
    from lossopt_cli.sweeps.executors import base

    monkeypatch.chdir(tmp_path)
    spec = {"name": "two", "base": {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"},
            "vary": {"optimizer.name": ["sgd", "adam"]}}
    (tmp_path / "two.yaml").write_text(yaml.safe_dump(spec))
    monkeypatch.setattr(base, "run_job", FakeTrainer())
    assert CliRunner().invoke(cli, ["sweep", "two.yaml", "--executor", "serial", "-q"]).exit_code == 0
    (sweep_dir,) = (tmp_path / "outputs").iterdir()
    uri = store(tmp_path)
    first = CliRunner().invoke(cli, ["export", "mlflow", str(sweep_dir), "--uri", uri])
    assert first.exit_code == 0, first.output
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("two").experiment_id
    runs = client.search_runs([experiment])
    (parent,) = [r for r in runs if r.data.tags.get("lossopt.kind") == "sweep"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(runs) == 3 and len(children) == 2
    assert {"leaderboard.csv", "comparison.png"} <= {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert all(len(client.get_metric_history(c.info.run_id, "val_loss")) == 4 for c in children)
    second = CliRunner().invoke(cli, ["export", "mlflow", str(sweep_dir), "--uri", uri])
    assert second.exit_code == 0 and "already there" in second.output and "0 run(s) sent" in second.output
    assert len(client.search_runs([experiment])) == 3


def test_without_mlflow_export_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "history.csv").write_text("epoch,loss\n1,0.5\n")
    result = CliRunner().invoke(cli, ["export", "mlflow", str(tmp_path / "run")])
    assert result.exit_code == 2 and "pip install 'lossopt[mlflow]'" in result.output
    assert "Traceback" not in result.output


def test_export_does_not_import_tensorflow(tmp_path):
    """`lossopt export` is a fast command: MLflow's client, never TensorFlow or Keras."""
    import subprocess

    from sweep_fakes import write_run

    run_dir = write_run(tmp_path / "run", "run", [1.0, 0.5, 0.4])
    code = ("import sys; from click.testing import CliRunner; from lossopt_cli.cli import cli; "
            f"r = CliRunner().invoke(cli, ['export', 'mlflow', {str(run_dir)!r}, '--uri', {store(tmp_path)!r}]); "
            "print(r.exit_code, [m for m in ('tensorflow', 'keras') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stdout + out.stderr
