"""A process that imported TensorFlow ends without its teardown once its work is written, with the exit status
the command chose; when something in the process needs its exit handlers, the normal exit runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import atexit, sys, types
from pathlib import Path
marker = Path(sys.argv[1])
atexit.register(lambda: marker.write_text("teardown ran"))  # registered first: runs last in a normal exit
sys.modules["tensorflow"] = types.ModuleType("tensorflow")  # as if TensorFlow were loaded (not imported: slow)
if sys.argv[2] == "mlflow":
    sys.modules["mlflow"] = types.ModuleType("mlflow")
from lossopt_cli import rundir
from lossopt_cli.training.quick_exit import leave
rundir.QUEUED(Path(sys.argv[3]), "written in the background\\n")
print("the command's output", end="")
leave(int(sys.argv[4]))
print(" and after leave")
sys.exit(int(sys.argv[4]))
"""


def run(tmp_path, module: str, status: int):
    marker, queued = tmp_path / "marker", tmp_path / "queued.txt"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(marker), module, str(queued), str(status)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    return done, marker, queued


@pytest.mark.parametrize("status", [0, 130])
def test_leave_ends_the_process_with_its_status_its_output_and_its_queued_files(tmp_path, status):
    done, marker, queued = run(tmp_path, "none", status)
    assert done.returncode == status, done.stderr
    assert done.stdout == "the command's output"  # flushed; nothing after leave ran
    assert queued.read_text() == "written in the background\n"  # the queued write waited for
    assert not marker.exists()  # the interpreter's teardown (exit handlers) skipped


def test_a_process_with_mlflow_exits_normally_so_its_exit_handlers_run(tmp_path):
    done, marker, queued = run(tmp_path, "mlflow", 3)
    assert done.returncode == 3 and done.stdout == "the command's output and after leave\n"
    assert marker.read_text() == "teardown ran" and queued.is_file()


def test_exit_status_follows_sys_exit():
    from lossopt_cli.training.quick_exit import exit_status

    assert exit_status(None) == 0 and exit_status(2) == 2 and exit_status(130) == 130
