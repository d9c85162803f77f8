"""A quiet terminal: no TensorFlow start-up line or absl warning reaches the user, sweep worker
processes included; `lossopt --verbose` lets them through."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import REPO

TENSORFLOW_LINE = re.compile(r"absl|cuda|cudart|cpu_feature_guard|oneDNN|rebuild TensorFlow|tensorflow/|^[IWEF]\d{4} ",
                             re.IGNORECASE | re.MULTILINE)


def user_env() -> dict:
    """The environment of a user who never set TF_CPP_MIN_LOG_LEVEL (the test suite sets it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "LOSSOPT_TF_LOG_DEFAULT",
                                                             "LOSSOPT_VERBOSE")}
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.mark.slow
def test_a_sweep_in_worker_processes_writes_no_tensorflow_line(tmp_path):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump({
        "data": {"dataset": "iris"}, "loss": "categorical_crossentropy", "training": {"epochs": 1},
        "output": {"dir": str(tmp_path / "out")}}))
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"base": "base.yaml", "vary": {"optimizer.name": ["sgd", "adam"]}}))
    out = subprocess.run([sys.executable, "-m", "lossopt_cli", "sweep", "sweep.yaml", "--workers", "2"],
                         capture_output=True, text=True, cwd=tmp_path, env=user_env(), timeout=600)
    assert out.returncode == 0, out.stderr
    assert "[2/2]" in out.stderr  # the progress lines still arrive
    assert not TENSORFLOW_LINE.search(out.stderr), out.stderr


def test_verbose_lets_tensorflow_log():
    """--verbose reaches the code that imports TensorFlow (and, through the environment, sweep workers):
    no quiet log level, no redirected stderr during the import."""
    code = ("import os, sys; from click.testing import CliRunner; from lossopt_cli.cli import cli; "
            "r = CliRunner().invoke(cli, ['--verbose', 'catalog']); assert r.exit_code == 0, r.output; "
            "import lossopt_cli.training as t; "
            "print(os.environ.get('LOSSOPT_VERBOSE'), os.environ.get('TF_CPP_MIN_LOG_LEVEL'), t.verbose())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=user_env(),
                         timeout=120)
    assert out.stdout.split() == ["1", "None", "True"], out.stderr
    quiet = subprocess.run([sys.executable, "-c", "import os, lossopt_cli.training as t; t.quiet_tensorflow(); "
                            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), t.verbose())"],
                           capture_output=True, text=True, cwd=REPO, env=user_env(), timeout=120)
    assert quiet.stdout.split() == ["3", "False"], quiet.stderr


@pytest.mark.slow
@pytest.mark.parametrize("level", ["1", "2", "3"])
def test_a_user_who_set_tf_cpp_min_log_level_sees_no_more_noise_than_one_who_did_not(tmp_path, level):
    """Issue 19.6: with the variable set, lossopt skipped its own quieting and absl's 'All log messages before
    absl::InitializeLog()...' and the cudart lines appeared. Only --verbose or a level of 0 shows them."""
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({
        "data": {"dataset": "iris"}, "loss": "categorical_crossentropy", "training": {"epochs": 1},
        "output": {"dir": str(tmp_path / "out")}}))
    env = {**user_env(), "TF_CPP_MIN_LOG_LEVEL": level}
    out = subprocess.run([sys.executable, "-m", "lossopt_cli", "train", "c.yaml", "--quiet"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    assert not TENSORFLOW_LINE.search(out.stderr), out.stderr


def test_a_level_of_0_lets_tensorflow_log_like_verbose():
    code = ("import os, lossopt_cli.training as t; t.quiet_tensorflow(); "
            "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), t.show_tensorflow_lines())")
    for level, expected in (("0", ["0", "True"]), ("2", ["3", "False"])):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                             env={**user_env(), "TF_CPP_MIN_LOG_LEVEL": level}, timeout=120)
        assert out.stdout.split() == expected, out.stderr
