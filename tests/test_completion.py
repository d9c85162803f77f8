"""Shell completion (click's): commands, options, catalog kinds, and config keys and values after --set."""

from __future__ import annotations

from click.testing import CliRunner

from lossopt_cli.cli import cli


def complete(words: str, shell: str = "bash") -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    result = CliRunner().invoke(cli, [], prog_name="lossopt", env={
        "_LOSSOPT_COMPLETE": f"{shell}_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)})
    lines = result.output.splitlines()
    if shell == "bash":
        return [line.split(",", 1)[1] for line in lines]
    return [lines[i + 1] for i in range(0, len(lines), 3)]  # zsh: type, value, help


def test_commands_options_and_catalog_kinds_complete():
    assert {"train", "sweep", "schema", "validate"} <= set(complete("lossopt "))
    assert "--workers" in complete("lossopt sweep --w")
    assert complete("lossopt catalog op") == ["optimizers"]


def test_config_keys_complete_after_set():
    assert complete("lossopt train cfg.yaml --set optimizer.le") == ["optimizer.learning_rate",
                                                                     "optimizer.learning_rate_power"]
    assert {"data.missing", "data.max_categories"} <= set(complete("lossopt validate cfg.yaml --set data.m"))
    assert "training.early_stopping.patience" in complete("lossopt sweep s.yaml --set training.early_stopping.")


def test_catalog_names_and_choices_complete_as_values_where_the_shell_keeps_key_value_together():
    assert complete("lossopt train cfg.yaml --set optimizer.name=rms", "zsh") == ["optimizer.name=rmsprop"]
    assert "loss=huber" in complete("lossopt train cfg.yaml --set loss=hu", "zsh")
    assert complete("lossopt train cfg.yaml --set data.missing=", "zsh") == [
        "data.missing=drop", "data.missing=impute", "data.missing=error"]
    assert complete("lossopt train cfg.yaml --set training.shuffle=f", "zsh") == ["training.shuffle=false"]
