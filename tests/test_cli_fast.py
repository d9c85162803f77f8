"""The read-only paths never import TensorFlow, and every command is documented."""

from __future__ import annotations

import subprocess
import sys

from lossopt_cli.cli import cli

from .conftest import REPO

PROBE = """
import sys
from click.testing import CliRunner
from lossopt_cli.cli import cli
result = CliRunner().invoke(cli, {args!r})
heavy = [m for m in ("tensorflow", "keras", "sklearn", "pandas") if m in sys.modules]
print(result.exit_code, heavy)
"""


def run_probe(args):
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args)], capture_output=True, text=True,
                         cwd=REPO, timeout=120)
    return out.stdout.strip().splitlines()[-1]


def test_help_and_validate_do_not_import_tensorflow():
    """Nor scikit-learn (1.5 s): validate reads the bundled datasets' files itself, so it answers in well
    under a second (timed in the README's notes, not here)."""
    assert run_probe(["--help"]) == "0 []"
    assert run_probe(["validate", "configs/quickstart.yaml"]) == "0 []"
    assert run_probe(["schema"]) == "0 []"
    assert run_probe(["diagnose", "tests/fixtures/keras_healthy.csv"]) == "0 []"
    assert run_probe(["list", "tests/fixtures"]) == "0 []"


def test_validate_imports_pandas_only_for_a_csv_file():
    """pandas reads the CSV file so that validate shows exactly what training will infer; still no TensorFlow."""
    assert run_probe(["validate", "configs/csv_field_survey.yaml"]) == "0 ['pandas']"


def test_every_command_has_help():
    for name, command in cli.commands.items():  # that each is documented: tests/test_docs.py
        assert command.help and command.help.strip(), name


def test_tensorflow_start_up_lines_do_not_reach_the_user():
    """The C++ lines TensorFlow writes to stderr while loading (CUDA probes on CPU machines) are
    kept off the terminal; Python output to stderr afterwards still arrives."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = ("import sys; from lossopt_cli.training import import_tensorflow; tf = import_tensorflow(); "
            "print('tensorflow', tf.__version__, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().startswith("tensorflow "), out.stderr
    assert "cuda" not in out.stderr.lower() and "absl" not in out.stderr


def test_importing_lossopt_changes_nothing_in_the_process():
    """No environment variable, logging level or umask is set by an import: the entry points do that."""
    code = """
import logging, os, sys
before = (dict(os.environ), logging.getLogger("tensorflow").level, open("/proc/self/status").read().split("Umask:")[1].split()[0])
import lossopt_cli.api, lossopt_cli.cli, lossopt_cli.commands, lossopt_cli.rundir, lossopt_cli.training.runner
import lossopt_cli.sweeps.run, lossopt_cli.sweeps.executors, lossopt_cli.training.preflight
after = (dict(os.environ), logging.getLogger("tensorflow").level, open("/proc/self/status").read().split("Umask:")[1].split()[0])
print(before == after, sorted(set(after[0].items()) - set(before[0].items())), before[1:], after[1:])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.stdout.startswith("True"), out.stdout + out.stderr
