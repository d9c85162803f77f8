"""Shared fixtures: small configs written to a temp dir, and one real trained run per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parent.parent


def write_config(directory: Path, data: dict, name: str = "cfg.yaml") -> Path:
    path = Path(directory) / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


SMALL = {
    "name": "small",
    "seed": 7,
    "data": {"dataset": "iris", "validation_split": 0.3},
    "model": {"type": "mlp", "hidden_units": [16]},
    "loss": "categorical_crossentropy",
    "optimizer": {"name": "adam", "learning_rate": 0.01},
    "training": {"epochs": 4, "batch_size": 16},
}


@pytest.fixture
def small_config(tmp_path) -> dict:
    import copy

    cfg = copy.deepcopy(SMALL)
    cfg["output"] = {"dir": str(tmp_path / "outputs")}
    return cfg


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory):
    """One real training of the small config through the CLI; returns (result, run_dir)."""
    from click.testing import CliRunner

    from lossopt_cli.cli import cli

    root = tmp_path_factory.mktemp("trained")
    cfg = dict(SMALL, output={"dir": str(root / "outputs")})
    path = write_config(root, cfg)
    result = CliRunner().invoke(cli, ["train", str(path), "--quiet"])
    runs = sorted((root / "outputs").iterdir())
    return result, runs[0] if runs else None


@pytest.fixture(autouse=True)
def _no_op_determinism_left_behind():
    """A test that turns on TensorFlow's op determinism (``deterministic: true``, a plain Keras comparison) turns it
    on for the whole process; turned off after it, so the next test runs with the kernels it would run alone."""
    yield
    import sys

    if "tensorflow" in sys.modules:
        from tensorflow.python.framework.config import disable_op_determinism

        disable_op_determinism()
