"""Config loading: defaults, --set overrides, and one clear error (exit 2) per bad key."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import config
from lossopt_cli.cli import cli
from lossopt_cli.schema import ConfigError

from .conftest import REPO, write_config


def test_a_dataset_and_a_loss_are_enough(tmp_path):
    cfg = config.load(write_config(tmp_path, {"data": {"dataset": "digits"}, "loss": "cce"}, "tiny.yaml"))
    assert cfg.name == "tiny"  # the file's stem
    assert cfg.loss["name"] == "categorical_crossentropy"  # alias resolved
    assert cfg.optimizer == {"name": "adam", "learning_rate": 0.001, **{k: v for k, v in cfg.optimizer.items()
                                                                       if k not in ("name", "learning_rate")}}
    assert cfg.training["epochs"] == 10 and cfg.training["batch_size"] == 32
    assert cfg.model["type"] == "mlp" and cfg.model["hidden_units"] == [128]
    # the resolved config is itself a valid config, and resolving it again changes nothing
    again = config.validate(yaml.safe_load(config.dump(cfg)))
    assert again.to_dict() == cfg.to_dict()


def test_set_overrides_parse_values_as_yaml(tmp_path):
    path = write_config(tmp_path, {"data": {"dataset": "digits"}, "loss": "mse", "optimizer": "adam"})
    cfg = config.load(path, config.parse_overrides(["optimizer.name=sgd", "optimizer.learning_rate=0.1",
                                                    "training.epochs=30", "metrics=[accuracy]",
                                                    "training.batch_size=full", "loss.reduction=sum"]))
    assert cfg.optimizer["name"] == "sgd" and cfg.optimizer["learning_rate"] == 0.1
    assert cfg.training == {**cfg.training, "epochs": 30, "batch_size": "full"}
    assert cfg.metrics == [{"name": "accuracy"}]
    assert cfg.loss == {"name": "mean_squared_error", "reduction": "sum"}


BASE = {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"}

# (override path, bad value, text the message must contain)
BAD_VALUES = [
    ("seed", -1, "seed must be an integer >= 0. Got -1."),
    ("seed", "abc", "seed must be an integer >= 0. Got 'abc'."),
    ("deterministic", "yes", "deterministic must be true or false"),
    ("data.validation_split", 1.5, "data.validation_split must be a number >= 0 and < 1. Got 1.5."),
    ("data.test_split", -0.1, "data.test_split must be a number >= 0 and < 1"),
    ("data.normalize", "zscore", "data.normalize must be one of 'auto', 'standard', 'minmax', 'none'"),
    ("data.dataset", "digitz", "Unknown dataset 'digitz' at data.dataset. Did you mean 'digits'?"),
    ("data.params", {"noise": 0.1}, "Unknown key data.params.noise for dataset 'iris'. dataset 'iris' takes no parameters."),
    ("model.type", "mpl", "Unknown model 'mpl' at model.type. Did you mean 'mlp'?"),
    ("model.hidden_units", [0], "model.hidden_units[0] must be an integer >= 1. Got 0."),
    ("model.dropout", 1.0, "model.dropout must be a number >= 0 and < 1. Got 1.0."),
    ("model.activation", "rleu", "model.activation must be one of"),
    ("loss", "cross_entropy", "Unknown loss 'cross_entropy' at loss."),
    ("loss", 3, "loss must be a loss name or a mapping with a 'name' key. Got 3."),
    ("optimizer", [1], "optimizer must be an optimizer name or a mapping with a 'name' key. Got [1]."),
    ("optimizer.name", "adamm", "Unknown optimizer 'adamm' at optimizer.name. Did you mean 'adam'?"),
    ("optimizer.learning_rate", -0.1, "optimizer.learning_rate must be a number > 0. Got -0.1."),
    ("optimizer.learning_rate", 0, "optimizer.learning_rate must be a number > 0. Got 0."),
    ("optimizer", {"name": "sgd", "momentum": 2}, "optimizer.momentum must be a number >= 0 and <= 1. Got 2."),
    ("metrics", ["accuracyy"], "Unknown metric 'accuracyy' at metrics[0]. Did you mean 'accuracy'?"),
    ("training.epochs", 0, "training.epochs must be an integer >= 1 and <= 1000000. Got 0."),
    ("training.epochs", 2.5, "training.epochs must be an integer >= 1 and <= 1000000. Got 2.5."),
    ("training.batch_size", "half", "training.batch_size must be an integer >= 1 or one of 'full'. Got 'half'."),
    ("training.early_stopping", {"patience": -1}, "training.early_stopping.patience must be an integer >= 0"),
    ("training.early_stopping", {"patiense": 2}, "Unknown key training.early_stopping.patiense. Did you mean 'patience'?"),
    ("training.epoch", 5, "Unknown key training.epoch. Did you mean 'epochs'?"),
    ("output.save_model", "no", "output.save_model must be true or false"),
    ("optimiser", "adam", "Unknown key optimiser. Did you mean 'optimizer'?"),
    ("diagnostics.nonsense_threshold", 1, "Unknown key diagnostics.nonsense_threshold"),
]


@pytest.mark.parametrize("key,value,message", BAD_VALUES, ids=[f"{k}={v!r}" for k, v, _ in BAD_VALUES])
def test_every_bad_value_names_its_key(tmp_path, key, value, message):
    path = write_config(tmp_path, BASE)
    with pytest.raises(ConfigError) as err:
        config.load(path, {key: value})
    assert message in str(err.value)
    assert str(path) in str(err.value)  # the file is named


def test_optimizer_parameters_are_checked_per_optimizer(tmp_path):
    path = write_config(tmp_path, {**BASE, "optimizer": {"name": "adam", "momentum": 0.9}})
    with pytest.raises(ConfigError, match=r"Unknown key optimizer.momentum for optimizer 'adam'\. Valid keys: .*beta_1"):
        config.load(path)


def test_dataset_params_belong_to_built_in_datasets(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    path = write_config(tmp_path, {"data": {"dataset": str(tmp_path / "d.csv"), "target": "label",
                                            "params": {"noise": 0.1}}, "loss": "bce"})
    with pytest.raises(ConfigError, match="data.params applies to built-in datasets only"):
        config.load(path)
    moons = write_config(tmp_path, {"data": {"dataset": "moons", "params": {"nosie": 0.1}}, "loss": "bce"})
    with pytest.raises(ConfigError, match=r"Unknown key data.params.nosie for dataset 'moons'. Did you mean 'noise'\?"):
        config.load(moons)


def test_splits_must_leave_training_data(tmp_path):
    path = write_config(tmp_path, {**BASE, "data": {"dataset": "iris", "validation_split": 0.5, "test_split": 0.5}})
    with pytest.raises(ConfigError, match="must be < 1 to leave training data"):
        config.load(path)


def test_missing_required_keys(tmp_path):
    with pytest.raises(ConfigError, match="data.dataset is required"):
        config.load(write_config(tmp_path, {"loss": "mse"}))
    with pytest.raises(ConfigError, match="loss is required"):
        config.load(write_config(tmp_path, {"data": {"dataset": "iris"}}))


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("data:\n  dataset: iris\nloss: [mse\n")
    with pytest.raises(ConfigError, match=r"broken.yaml: invalid YAML at line \d+"):
        config.load(path)


def test_bad_set_syntax(tmp_path):
    with pytest.raises(ConfigError, match="must look like key.path=value"):
        config.load(write_config(tmp_path, BASE), config.parse_overrides(["training.epochs"]))


def test_cli_validate_ok_and_errors(tmp_path):
    good = write_config(tmp_path, BASE, "good.yaml")
    bad = write_config(tmp_path, {**BASE, "optimizer": {"name": "adamm"}}, "bad.yaml")
    runner = CliRunner()
    ok = runner.invoke(cli, ["validate", str(good)])
    assert ok.exit_code == 0 and "ok: " in ok.output
    res = runner.invoke(cli, ["validate", str(good), str(bad)])
    assert res.exit_code == 2
    assert f"Error: {bad}: Unknown optimizer 'adamm' at optimizer.name. Did you mean 'adam'?" in res.output
    assert "Traceback" not in res.output


def test_cli_train_bad_config_exits_2_and_writes_nothing(tmp_path):
    out = tmp_path / "outputs"
    path = write_config(tmp_path, {**BASE, "training": {"epochs": -3}, "output": {"dir": str(out)}})
    res = CliRunner().invoke(cli, ["train", str(path)])
    assert res.exit_code == 2
    assert res.output.strip() == f"Error: {path}: training.epochs must be an integer >= 1 and <= 1000000. Got -3."
    assert not out.exists()


def test_cli_train_data_error_exits_2_and_writes_nothing(tmp_path):
    """Errors found while preparing (here: a binary loss on 3 classes) are raised before any file."""
    out = tmp_path / "outputs"
    path = write_config(tmp_path, {"data": {"dataset": "iris"}, "loss": "binary_crossentropy",
                                   "output": {"dir": str(out)}})
    res = CliRunner().invoke(cli, ["train", str(path)])
    assert res.exit_code == 2, res.output
    assert res.output.startswith(f"Error: {path}: ")  # found by the pre-flight, still names the file
    assert "needs two classes" in res.output and "has 3" in res.output
    assert not out.exists()


def test_shipped_configs_validate():
    paths = sorted(str(p) for p in (REPO / "configs").rglob("*.yaml") if "sweeps" not in p.parts)
    res = CliRunner().invoke(cli, ["validate", *paths])
    assert res.exit_code == 0, res.output


def test_custom_file_references_are_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "my_loss.py").write_text("def my_loss(y_true, y_pred):\n    return (y_true - y_pred) ** 2\n")
    path = write_config(tmp_path / "sub", {"data": {"dataset": "diabetes"}, "loss": "my_loss.py:my_loss"})
    monkeypatch.chdir(tmp_path)  # not the config's directory
    cfg = config.load(path)
    assert cfg.loss["name"] == f"{(tmp_path / 'sub' / 'my_loss.py').resolve()}:my_loss"
    with pytest.raises(ConfigError, match="the file 'nope.py' of 'nope.py:f' does not exist"):
        config.load(write_config(tmp_path / "sub", {"data": {"dataset": "diabetes"}, "loss": "nope.py:f"}, "b.yaml"))


@pytest.mark.parametrize("written, value", [("1e-3", 0.001), ("1E-4", 0.0001), ("5e-2", 0.05), (".5", 0.5),
                                            ("1.0e-3", 0.001), ("3e+0", 3.0)])
def test_numbers_are_read_as_yaml_1_2_reads_them_in_a_config_and_in_set(tmp_path, written, value):
    """PyYAML follows YAML 1.1: `1e-3` was the string '1e-3' and the rate was refused."""
    path = tmp_path / "c.yaml"
    path.write_text(f"data: {{dataset: iris}}\nloss: categorical_crossentropy\n"
                    f"optimizer: {{name: adam, learning_rate: {written}}}\n")
    assert config.load(path).to_dict()["optimizer"]["learning_rate"] == pytest.approx(value)
    result = CliRunner().invoke(cli, ["validate", str(path), "--set", f"optimizer.learning_rate={written}"])
    assert result.exit_code == 0, result.output


def test_a_word_that_only_looks_like_a_number_stays_a_string(tmp_path):
    from lossopt_cli.yaml_reader import load_yaml_text

    assert load_yaml_text("a: 1e\nb: e3\nc: 1e-3x\nd: 2026-01-01x") == {"a": "1e", "b": "e3", "c": "1e-3x", "d": "2026-01-01x"}
