"""`lossopt schema`: the JSON Schema editors use is generated from the validator's own tables, the
committed copies are current, every example config passes it, and bad configs fail it and
`lossopt validate` alike."""

from __future__ import annotations

import functools
import json
import re

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli.cli import cli
from lossopt_cli.commands import config_schema, sweep_schema
from lossopt_cli.commands import render_schema as render

from .conftest import REPO, write_config

SCHEMA_DIR = REPO / "docs" / "schema"
EXAMPLES = sorted(REPO.glob("configs/**/*.yaml"))


@functools.lru_cache(maxsize=None)
def validator(sweep: bool = False):
    schema = sweep_schema() if sweep else config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("sweep,name", [(False, "config.schema.json"), (True, "sweep.schema.json")])
def test_committed_schema_files_are_up_to_date(sweep, name):
    assert (SCHEMA_DIR / name).read_text() == render(sweep), (
        f"docs/schema/{name} is stale: run lossopt schema{' --sweep' if sweep else ''} > docs/schema/{name}")
    result = CliRunner().invoke(cli, ["schema", *(["--sweep"] if sweep else [])])
    assert result.exit_code == 0 and json.loads(result.output) == json.loads(render(sweep))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_config_passes_the_schema_its_modeline_names(path):
    text = path.read_text()
    modeline = re.match(r"# yaml-language-server: \$schema=(\S+)\n", text)
    assert modeline, f"{path} does not start with the yaml-language-server modeline"
    target = (path.parent / modeline[1]).resolve()
    raw = yaml.safe_load(text)
    sweep = "vary" in raw
    assert target == SCHEMA_DIR / ("sweep.schema.json" if sweep else "config.schema.json")
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator(sweep).iter_errors(raw)]
    assert not errors, errors


GOOD = {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy"}
BAD = [
    ({**GOOD, "optimizer": {"name": "adam", "learning_rat": 0.1}}, "Unknown key optimizer.learning_rat"),
    ({**GOOD, "optimizer": {"name": "adamm"}}, "Unknown optimizer 'adamm'"),
    ({**GOOD, "loss": "mse2"}, "Unknown loss 'mse2'"),
    ({**GOOD, "training": {"epochs": 0}}, "training.epochs must be an integer >= 1 and <= 1000000. Got 0."),
    ({**GOOD, "data": {"dataset": "iris", "validation_split": 1.5}}, "data.validation_split must be a number"),
    ({**GOOD, "data": {"dataset": "x.csv", "target": "y", "missing": "dorp"}}, "data.missing must be one of"),
    ({**GOOD, "diagnostics": {"overfitting_gl": -1}}, "diagnostics.overfitting_gl must be a number > 0"),
    ({**GOOD, "optimizer": {"name": "sgd", "learning_rate": {"name": "cosine_decay", "initial": 0.1}}},
     "optimizer.learning_rate.decay_steps is required"),
    ({"data": {"dataset": "iris"}}, "loss is required"),
]


@pytest.mark.parametrize("raw,message", BAD, ids=[m for _, m in BAD])
def test_bad_configs_fail_the_schema_and_validate_alike(tmp_path, raw, message):
    assert list(validator().iter_errors(raw)), "the JSON Schema accepted a config lossopt rejects"
    result = CliRunner().invoke(cli, ["validate", str(write_config(tmp_path, raw))])
    assert result.exit_code == 2 and message in result.output, result.output
    assert not list(validator().iter_errors(GOOD))


def test_a_bad_sweep_fails_both(tmp_path):
    raw = {"base": "../quickstart.yaml", "mode": "grd", "vary": {"optimizer.name": ["sgd", "adam"]}}
    assert list(validator(sweep=True).iter_errors(raw))
    path = tmp_path / "sweeps" / "s.yaml"
    path.parent.mkdir()
    (tmp_path / "quickstart.yaml").write_text((REPO / "configs/quickstart.yaml").read_text())
    path.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2 and "mode must be one of 'grid', 'zip', 'random', 'tune'. Got 'grd'." in result.output
    raw["mode"] = "grid"
    assert not list(validator(sweep=True).iter_errors(raw))


def test_schema_describes_every_key_with_its_default():
    data = config_schema()["properties"]["data"]["properties"]
    assert data["missing"]["enum"] == ["drop", "impute", "error"] and data["missing"]["default"] == "drop"
    assert "sniffed" in data["delimiter"]["description"]
    assert "digits" in json.dumps(data["dataset"])  # editors complete the built-in dataset names
    assert config_schema()["$id"] == "urn:lossopt:schema:config" and sweep_schema()["$id"] == "urn:lossopt:schema:sweep"
