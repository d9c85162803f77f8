"""A validated config reads as typed sections (config.optimizer.learning_rate), generated from the
constraint tables, and it is validated once per run."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import config
from lossopt_cli.analysis.thresholds import THRESHOLDS
from lossopt_cli.cli import cli
from lossopt_cli.config import codegen, sections, validation
from lossopt_cli.config.tables import CATALOG_PARAMS, EARLY_STOPPING, SECTIONS
from lossopt_cli.schema import ConfigError

from .conftest import SMALL, write_config

MINIMAL = {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"}


def test_sections_py_is_generated_from_the_tables_and_up_to_date():
    # after a change to a table: python -m lossopt_cli.config.codegen
    assert codegen.TARGET.read_text(encoding="utf-8") == codegen.source()


@pytest.mark.parametrize("section", list(SECTIONS))
def test_every_key_of_a_table_is_a_field_of_its_section_in_the_tables_order(section):
    kind = sections.SECTION_TYPES[section]
    assert [f.name for f in dataclasses.fields(kind)] == list(SECTIONS[section])


def test_a_minimal_config_reads_as_typed_sections_with_every_default():
    cfg = config.validate(MINIMAL)
    assert isinstance(cfg.data, sections.DataSection) and isinstance(cfg.training, sections.TrainingSection)
    assert cfg.data.dataset == "iris" and cfg.data.validation_split == 0.2 and cfg.data.class_weight is None
    assert cfg.training.epochs == 10 and cfg.training.batch_size == 32 and cfg.training.early_stopping is None
    assert cfg.output.dir == "outputs" and cfg.output.save_model is True
    assert cfg.tracking.mlflow is None and cfg.diagnostics.overfitting_gl == THRESHOLDS["overfitting_gl"].default
    assert cfg.model.type == "mlp" and cfg.model.hidden_units == [128] and cfg.model.dropout == 0.0
    assert cfg.loss.name == "categorical_crossentropy" and cfg.loss.from_logits is False
    assert cfg.optimizer.name == "adam" and cfg.optimizer.learning_rate == 0.001
    assert cfg.optimizer.clipnorm is None and cfg.optimizer.params["beta_1"] == 0.9  # the rest: params
    assert cfg.optimizer.momentum is None  # adam has no momentum: an absent parameter reads as None


def test_a_nested_table_is_a_section_too_and_true_means_its_defaults():
    cfg = config.validate({**MINIMAL, "training": {"early_stopping": True, "reduce_lr_on_plateau": {"factor": 0.2}}})
    stopping = cfg.training.early_stopping
    assert isinstance(stopping, sections.EarlyStoppingSection)
    assert stopping.to_dict() == {key: param.default for key, param in EARLY_STOPPING.items()}
    assert cfg.training.reduce_lr_on_plateau.factor == 0.2 and cfg.training.reduce_lr_on_plateau.patience == 3


def test_the_fields_are_typed_from_the_constraints():
    hints = typing.get_type_hints(sections.TrainingSection)
    assert hints["epochs"] is int and hints["shuffle"] is bool
    assert hints["early_stopping"] == sections.EarlyStoppingSection | None
    assert typing.get_type_hints(sections.DataSection)["validation_split"] is float
    assert typing.get_args(typing.get_type_hints(sections.DataSection)["missing"]) == ("drop", "impute", "error")
    learning_rate = typing.get_type_hints(sections.OptimizerSection.learning_rate.fget)["return"]
    assert float in typing.get_args(learning_rate)
    for section, keys in CATALOG_PARAMS.items():  # the well-known parameters of model, loss and optimizer
        assert all(isinstance(getattr(sections.SECTION_TYPES[section], key), property) for key in keys)


def test_sections_are_read_only_and_replace_makes_a_new_one():
    cfg = config.validate(MINIMAL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.training.epochs = 3
    with pytest.raises(TypeError):
        cfg.training["epochs"] = 3
    stopping = {**{key: param.default for key, param in EARLY_STOPPING.items()}, "patience": 1}
    shorter = cfg.training.replace(epochs=3, early_stopping=stopping)
    assert shorter.epochs == 3 and cfg.training.epochs == 10
    assert isinstance(shorter.early_stopping, sections.EarlyStoppingSection) and shorter.early_stopping.patience == 1
    faster = cfg.optimizer.replace(learning_rate=0.1)
    assert faster.learning_rate == 0.1 and list(faster) == list(cfg.optimizer)  # same keys, same order
    cfg.output = {**cfg.output, "dir": "elsewhere"}  # a mapping assigned to a section becomes one
    assert isinstance(cfg.output, sections.OutputSection) and cfg.output.dir == "elsewhere"


def test_the_mapping_access_and_the_serialised_config_are_unchanged():
    raw = {**SMALL, "training": {**SMALL["training"], "early_stopping": {"patience": 2}}}
    cfg = config.validate(raw)
    assert cfg.training["epochs"] == 4 and cfg.optimizer["learning_rate"] == 0.01 and cfg.model["type"] == "mlp"
    assert cfg.training["early_stopping"]["patience"] == 2 and cfg.training.get("nope") is None
    assert cfg.training == cfg.training.to_dict() and dict(cfg.optimizer) == cfg.optimizer.to_dict()
    plain = cfg.to_dict()

    def only_plain(value):
        if isinstance(value, dict):
            return type(value) is dict and all(only_plain(v) for v in value.values())
        if isinstance(value, list):
            return type(value) is list and all(only_plain(v) for v in value)
        return value is None or type(value) in (str, int, float, bool)

    assert only_plain(plain)  # yaml.safe_dump and json take it as before
    assert list(plain) == ["name", "seed", "deterministic", "data", "model", "loss", "optimizer", "metrics",
                           "training", "diagnostics", "output", "tracking"]
    assert list(plain["data"]) == list(SECTIONS["data"]) and list(plain["model"])[0] == "type"
    assert config.dump(config.validate(yaml.safe_load(config.dump(cfg)))) == config.dump(cfg)


def test_an_unknown_key_is_still_rejected_by_validation_with_a_did_you_mean():
    with pytest.raises(ConfigError, match=r"Unknown key training.epoch\. Did you mean 'epochs'\?"):
        config.validate({**MINIMAL, "training": {"epoch": 3}})
    with pytest.raises(ConfigError, match=r"Did you mean 'optimizer.learning_rate'\?"):
        config.validate({**MINIMAL, "learning_rate": 0.1})
    with pytest.raises(AttributeError):
        config.validate(MINIMAL).training.epoch  # noqa: B018 - a typo in code fails at once too


# --- a config is validated once per run ---------------------------------------------------------------


@pytest.fixture
def validations(monkeypatch):
    """Counts validations: every ``config.validate`` ends in ``check_combinations``, looked up in its module."""
    calls = []
    original = validation.check_combinations

    def counted(cfg):
        calls.append(cfg.name)
        return original(cfg)

    monkeypatch.setattr(validation, "check_combinations", counted)
    return calls


def _small(tmp_path, **changes) -> dict:
    return {**SMALL, "training": {"epochs": 2, "batch_size": 16}, "output": {"dir": str(tmp_path / "outputs")},
            **changes}


def test_train_validates_its_config_once(tmp_path, validations):
    path = write_config(tmp_path, _small(tmp_path))
    result = CliRunner().invoke(cli, ["train", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert validations == ["small"]


def test_train_with_lr_find_validates_its_config_once(tmp_path, validations):
    path = write_config(tmp_path, _small(tmp_path, optimizer={"name": "sgd", "learning_rate": "lr_find"}))
    result = CliRunner().invoke(cli, ["train", str(path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert validations == ["small"]  # the range test's rate is set on a copy, not validated again


@pytest.mark.parametrize("executor", ["serial", "fused"])
def test_a_two_run_sweep_validates_each_run_once(tmp_path, validations, executor):
    base = write_config(tmp_path, _small(tmp_path), "base.yaml")
    sweep = write_config(tmp_path, {"base": str(base), "vary": {"optimizer.learning_rate": [0.01, 0.05]}},
                         "sweep.yaml")
    result = CliRunner().invoke(cli, ["sweep", str(sweep), "--executor", executor])
    assert result.exit_code == 0, result.output
    assert sorted(validations) == ["lr0.01", "lr0.05"], validations  # the plan's, and none after it


def test_a_sweep_with_lr_find_validates_each_run_once(tmp_path, validations):
    base = write_config(tmp_path, _small(tmp_path, optimizer={"name": "sgd", "learning_rate": "lr_find"}), "base.yaml")
    sweep = write_config(tmp_path, {"base": str(base), "vary": {"seed": [1, 2]}}, "sweep.yaml")
    result = CliRunner().invoke(cli, ["sweep", str(sweep), "--executor", "fused"])
    assert result.exit_code == 0, result.output
    assert sorted(validations) == ["seed1", "seed2"], validations


def test_a_job_given_a_mapping_validates_it_once_and_executors_only_read_it(tmp_path, validations):
    from lossopt_cli.sweeps.executors import ray
    from lossopt_cli.sweeps.executors.base import Job
    from lossopt_cli.sweeps.executors.fused import group_jobs

    resolved = config.validate(_small(tmp_path)).to_dict()
    validations.clear()
    jobs = [Job(f"run{i}", {**resolved, "seed": i}, str(tmp_path)) for i in range(2)]
    assert validations == ["small", "small"] and all(isinstance(job.config, config.RunConfig) for job in jobs)
    groups, alone = group_jobs(jobs)
    assert [[job.name for job in group] for group in groups] == [["run0", "run1"]] and alone == []
    assert ray._gpus(jobs[0]) == 0.0 and ray._shared(jobs[0]) is False
    assert validations == ["small", "small"]
