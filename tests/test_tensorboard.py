"""``training.tensorboard``: TensorBoard logs inside the run directory; a sweep with it also shows in the
HParams dashboard. Checked by reading the event files back with TensorBoard's own reader."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import config, rundir
from lossopt_cli.cli import cli
from lossopt_cli.schema import ConfigError
from lossopt_cli.sweeps.executors import base

sys.path.insert(0, str(Path(__file__).parent))
from sweep_fakes import FakeTrainer  # noqa: E402

BASE = {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy", "training": {"epochs": 2}}


def resolved(training):
    return config.validate({**BASE, "training": training}).training["tensorboard"]


def test_tensorboard_key_takes_true_or_the_keras_callbacks_arguments():
    assert resolved({}) is None and resolved({"tensorboard": False}) is None
    defaults = resolved({"tensorboard": True})
    assert defaults == {"histogram_freq": 0, "write_graph": True, "write_images": False,
                        "write_steps_per_second": False, "update_freq": "epoch", "profile_batch": 0,
                        "embeddings_freq": 0}
    assert resolved({"tensorboard": {"histogram_freq": 1, "update_freq": 10}})["update_freq"] == 10


@pytest.mark.parametrize("value, message", [
    ({"log_dir": "logs"}, "Unknown key training.tensorboard.log_dir"),
    ({"histogram_freq": -1}, "training.tensorboard.histogram_freq must be"),
    ({"update_freq": "often"}, "training.tensorboard.update_freq must be"),
    ("yes", "training.tensorboard must be null, true, or a mapping with keys histogram_freq"),
])
def test_a_bad_tensorboard_value_names_the_key(value, message):
    with pytest.raises(ConfigError, match=message):
        resolved({"tensorboard": value})


def test_without_the_tensorboard_package_the_config_error_says_how_to_install_it(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else find_spec(name, *a))
    with pytest.raises(ConfigError, match=r"needs the tensorboard package.*pip install tensorboard"):
        resolved({"tensorboard": True})
    assert resolved({"tensorboard": False}) is None  # off: nothing needed


def accumulator(path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def scalar(acc, tag):
    from tensorboard.util import tensor_util

    (event,) = acc.Tensors(tag)
    return event.step, float(tensor_util.make_ndarray(event.tensor_proto))


@pytest.mark.slow
def test_a_run_with_tensorboard_writes_the_keras_logs_in_its_directory(tmp_path):
    from tensorboard.util import tensor_util

    path = tmp_path / "tb.yaml"
    path.write_text(yaml.safe_dump({**BASE, "name": "tb", "training": {"epochs": 2, "tensorboard": True},
                                    "output": {"dir": str(tmp_path / "outputs"), "save_model": False}}))
    result = CliRunner().invoke(cli, ["train", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    (run,) = (tmp_path / "outputs").iterdir()
    history = rundir.read_history(run / rundir.HISTORY)
    for group, prefix in (("train", ""), ("validation", "val_")):
        acc = accumulator(run / "tensorboard" / group)
        losses = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors("epoch_loss")]
        assert [step for step, _ in losses] == [0, 1]
        assert [v for _, v in losses] == pytest.approx(history[f"{prefix}loss"], rel=1e-5)


@pytest.fixture
def hparams_sweep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "opt.yaml"
    path.write_text(yaml.safe_dump({
        "name": "opt", "base": {**BASE, "training": {"epochs": 4, "tensorboard": True}},
        "vary": {"optimizer.name": ["sgd", "adam"], "optimizer.learning_rate": [0.1, 0.01]},
    }, sort_keys=False))
    monkeypatch.setattr(base, "run_job", FakeTrainer(diverge=("sgd-lr0.1",)))  # any executor: the driver writes
    result = CliRunner().invoke(cli, ["sweep", str(path), "--executor", "serial"])
    assert result.exit_code == 0, result.output
    (sweep_dir,) = (tmp_path / "outputs").iterdir()
    return sweep_dir


def test_a_sweep_with_tensorboard_writes_the_hparams_dashboards_summaries(hparams_sweep):
    from tensorboard.plugins.hparams import api_pb2, metadata

    sweep_dir = hparams_sweep
    experiment = accumulator(sweep_dir / "tensorboard").PluginTagToContent(metadata.PLUGIN_NAME)
    info = metadata.parse_experiment_plugin_data(experiment[metadata.EXPERIMENT_TAG])
    assert [h.name for h in info.hparam_infos] == ["optimizer.name", "optimizer.learning_rate"]
    assert sorted(v.string_value for v in info.hparam_infos[0].domain_discrete.values) == ["adam", "sgd"]
    metrics = {m.name.tag for m in info.metric_infos}
    assert {"final/val_loss", "final/val_accuracy", "best/val_loss", "epochs_run"} <= metrics

    for name in ("sgd-lr0.1", "sgd-lr0.01", "adam-lr0.1", "adam-lr0.01"):
        summary = rundir.read_summary(sweep_dir / "runs" / name)
        acc = accumulator(sweep_dir / "runs" / name / "tensorboard")
        content = acc.PluginTagToContent(metadata.PLUGIN_NAME)
        start = metadata.parse_session_start_info_plugin_data(content[metadata.SESSION_START_INFO_TAG])
        assert start.hparams["optimizer.name"].string_value == name.split("-")[0]
        assert start.hparams["optimizer.learning_rate"].number_value == float(name.split("lr")[1])
        end = metadata.parse_session_end_info_plugin_data(content[metadata.SESSION_END_INFO_TAG])
        step, final = scalar(acc, "final/val_loss")
        assert step == 4
        if name == "sgd-lr0.1":
            assert end.status == api_pb2.STATUS_FAILURE and math.isnan(final)
        else:
            assert end.status == api_pb2.STATUS_SUCCESS and final == pytest.approx(summary["final"]["val_loss"])
            assert scalar(acc, "best/val_loss")[1] == pytest.approx(summary["best"]["val_loss"])


def test_report_rewrites_the_hparams_summaries_without_duplicates(hparams_sweep):
    sweep_dir = hparams_sweep
    before = sorted(p.name for p in sweep_dir.rglob("*.lossopt-hparams"))
    assert len(before) == 5  # the experiment and four sessions
    result = CliRunner().invoke(cli, ["report", str(sweep_dir)])
    assert result.exit_code == 0, result.output
    after = sorted(sweep_dir.rglob("*.lossopt-hparams"))
    assert len(after) == 5 and not list(sweep_dir.rglob(".*.tmp"))


def test_a_sweep_without_tensorboard_writes_no_event_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "plain.yaml"
    path.write_text(yaml.safe_dump({"name": "plain", "base": BASE, "vary": {"optimizer.learning_rate": [0.1, 0.01]}}))
    monkeypatch.setattr(base, "run_job", FakeTrainer())
    assert CliRunner().invoke(cli, ["sweep", str(path), "--executor", "serial"]).exit_code == 0
    assert not list((tmp_path / "outputs").rglob("*tfevents*"))


def test_validating_the_tensorboard_examples_imports_neither_tensorboard_nor_tensorflow():
    """The package check looks for tensorboard without importing it; the callback module stays out of the CLI."""
    import subprocess

    from .conftest import REPO

    probe = ("import sys; from click.testing import CliRunner; from lossopt_cli.cli import cli; "
             "r = CliRunner().invoke(cli, ['validate', 'configs/tensorboard.yaml', 'configs/sweeps/hparams.yaml']); "
             "print(r.exit_code, [m for m in ('tensorflow', 'tensorboard', 'keras', 'lossopt_cli.keras') "
             "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stderr[-2000:]
