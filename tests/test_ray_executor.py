"""`lossopt sweep --executor ray`: real small sweeps on one local Ray instance shared by the module.

Starting Ray costs several seconds, so the module starts one instance (2 CPUs) and every test's
executor reuses it. The runs are iris with a tiny MLP for 2 epochs.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli import rundir
from lossopt_cli.cli import cli
from lossopt_cli.sweeps import plan as sweeps_plan
from lossopt_cli.sweeps import run as sweeps_run

FIXTURES = Path(__file__).resolve().parent / "fixtures"

BASE = {"data": {"dataset": "iris", "validation_split": 0.3}, "model": {"type": "mlp", "hidden_units": [8]},
        "loss": "categorical_crossentropy", "optimizer": {"name": "adam", "learning_rate": 0.01},
        "training": {"epochs": 2, "batch_size": 16}, "output": {"save_model": False}}


def sweep_file(tmp_path: Path, vary: dict, name: str = "tiny", **base_changes) -> Path:
    base = copy.deepcopy(BASE)
    for key, value in base_changes.items():
        base[key] = {**base.get(key, {}), **value}
    base["output"]["dir"] = str(tmp_path / "outputs")
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "base": base, "mode": "zip", "vary": vary}, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    import logging

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    yield ray
    ray.shutdown()


def executor(**options):
    from lossopt_cli.sweeps.executors.ray import RayExecutor

    return RayExecutor(workers=2, **options)


def summary(run_dir: Path) -> dict:
    return rundir.read_json(run_dir / rundir.SUMMARY)


@pytest.mark.slow
def test_a_sweep_on_ray_lands_in_the_sweep_directory_as_a_local_sweep_does(ray_instance, tmp_path):
    # sgd and adam on iris share data, network and epochs: one Ray task trains them as a fused group;
    # the run on broken.csv shares nothing and is a task of its own
    (tmp_path / "broken.csv").write_text("x,label\nnot-a-number,0\n1.5,1\n")
    path = sweep_file(tmp_path, {"optimizer.name": ["sgd", "adam", "adam"],
                                 "data.dataset": ["iris", "iris", str(tmp_path / "broken.csv")]})
    outcome = sweeps_run.start(sweeps_plan.load_sweep(path), executor(), quiet=True)

    runs = outcome.sweep_dir / "runs"
    (failed,) = outcome.failed  # the run whose data cannot be read: failed before it made a directory
    assert failed.startswith("adam-") and "broken.csv" in outcome.results[failed].error
    assert sorted(p.name for p in runs.iterdir()) == ["adam-iris", "sgd-iris"]
    for run_dir in runs.iterdir():
        saved = summary(run_dir)
        assert saved["status"] == "completed" and saved["epochs_run"] == 2
        assert saved["run_dir"] == str(run_dir)  # where it lives now, not the worker's temporary directory
        assert (run_dir / "history.csv").read_text().count("\n") == 3
        assert (run_dir / "report.html").is_file() and (run_dir / "curves.png").is_file()
        assert yaml.safe_load((run_dir / "config.yaml").read_text())["output"]["dir"] == str(runs)
        assert saved["fused"] == {"group_size": 2}
    assert (outcome.sweep_dir / "leaderboard.csv").is_file() and (outcome.sweep_dir / "report.html").is_file()
    assert not list(outcome.sweep_dir.glob(".ray-incoming-*"))  # nothing half-written left behind


@pytest.mark.slow
def test_a_ray_worker_that_dies_mid_sweep_is_retried_once_then_recorded_as_failed(ray_instance, tmp_path):
    marker = str(tmp_path / "crashed-once")
    models = [{"type": f"{FIXTURES / 'crashing_model.py'}:build", "args": {"crash": crash, "marker": marker}}
              for crash in ("never", "once", "always")]
    path = sweep_file(tmp_path, {"model": models, "seed": [0, 1, 2]})
    outcome = sweeps_run.start(sweeps_plan.load_sweep(path), executor(), quiet=True)

    by_seed = {r.name.rsplit("seed", 1)[1]: r for r in outcome.results.values()}
    assert by_seed["0"].status == "completed"
    assert by_seed["1"].status == "completed" and Path(marker).exists()  # died once, the retry finished it
    assert by_seed["2"].status == "failed" and "Ray task died" in by_seed["2"].error and by_seed["2"].run_dir is None
    assert sorted(p.name for p in (outcome.sweep_dir / "runs").iterdir()) == sorted(
        Path(by_seed[s].run_dir).name for s in "01")
    assert rundir.read_json(outcome.sweep_dir / "summary.json")  # the sweep finished and wrote its results


@pytest.mark.slow
def wait_for_a_long_run_to_finish_an_epoch(timeout=120.0):
    """The local Ray tasks train into lossopt-ray-* temporary directories on this machine."""
    import glob
    import tempfile
    import time

    deadline = time.time() + timeout
    pattern = str(Path(tempfile.gettempdir()) / "lossopt-ray-*" / "ep400-*" / rundir.HISTORY)
    while time.time() < deadline and not glob.glob(pattern):
        time.sleep(0.2)


def test_ctrl_c_drops_queued_runs_and_the_running_ones_save_what_finished(ray_instance, tmp_path):
    # 2 CPUs: the short run and a long one start; when the short one ends a third starts; the fourth waits.
    # (Different networks: nothing is fused, every run is a task of its own.)
    path = sweep_file(tmp_path, {"training.epochs": [1, 400, 400, 400], "model.hidden_units": [[8], [9], [10], [11]]})
    plan = sweeps_plan.load_sweep(path)
    sweep_dir = sweeps_plan.create_sweep_dir(plan)
    seen = []

    def ctrl_c_after_the_first_result(result):
        seen.append(result)
        if len(seen) == 1:
            wait_for_a_long_run_to_finish_an_epoch()  # else, on a loaded machine, none may have saved anything yet
            raise KeyboardInterrupt

    from lossopt_cli.sweeps.executors.ray import RayExecutor

    outcome = sweeps_run.run_sweep(plan, sweep_dir, RayExecutor(workers=2), ctrl_c_after_the_first_result)
    assert outcome.interrupted
    assert seen[0].name.startswith("ep1-") and seen[0].status == "completed"
    assert 2 <= len(seen) <= 3  # the queued run never started (nor, maybe, one still starting): --resume trains them
    assert all(r.status == "interrupted" for r in seen[1:])
    saved = [r for r in seen[1:] if r.run_dir]
    assert saved and all(summary(Path(r.run_dir))["status"] == "interrupted" for r in saved)


@pytest.mark.slow
def test_a_shared_output_dir_is_written_by_the_tasks_themselves(ray_instance, tmp_path):
    path = sweep_file(tmp_path, {"seed": [0]}, output={"shared": True})
    outcome = sweeps_run.start(sweeps_plan.load_sweep(path), executor(), quiet=True)
    (result,) = outcome.results.values()
    assert result.status == "completed" and Path(result.run_dir).parent == outcome.sweep_dir / "runs"
    assert summary(Path(result.run_dir))["run_dir"] == result.run_dir


def test_without_ray_the_ray_executor_is_a_clear_error_naming_the_install_command(tmp_path, monkeypatch):
    path = sweep_file(tmp_path, {"seed": [0]})
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    result = CliRunner().invoke(cli, ["sweep", str(path), "--executor", "ray"])
    assert result.exit_code == 2, result.output
    assert "pip install 'lossopt[ray]'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "outputs").exists()


def test_address_without_the_ray_executor_is_a_usage_error(tmp_path):
    path = sweep_file(tmp_path, {"seed": [0]})
    result = CliRunner().invoke(cli, ["sweep", str(path), "--address", "auto"])
    assert result.exit_code == 2 and "--address is for --executor ray" in result.output
