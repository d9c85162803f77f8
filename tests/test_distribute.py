"""``training.distribute``: a mirrored run on two logical CPU devices matches a single-device run with the
same global batch; only the chief of a multi-worker run writes a run directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lossopt_cli import rundir
from lossopt_cli.schema import ConfigError
from lossopt_cli.training import distribute

ROOT = Path(__file__).resolve().parent.parent

# Logical devices must be configured before TensorFlow initialises: a fresh process, then the
# same config trained twice (default device, then mirrored over the two devices).
SCRIPT = textwrap.dedent("""
    import sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from lossopt_cli import commands

    for distribute in ("none", "mirrored"):
        result = commands.train(sys.argv[1], {"training.distribute": distribute, "name": distribute})
        print(result.run_dir)
""")


@pytest.mark.slow
def test_a_mirrored_run_on_two_devices_matches_one_device_with_the_same_global_batch(tmp_path, small_config):
    import yaml

    small_config["training"] = {"epochs": 4, "batch_size": 16, "shuffle": False}
    small_config["output"]["save_model"] = True  # saving a mirrored model works too
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump(small_config))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(config)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    single, mirrored = (Path(line) for line in done.stdout.split())
    assert rundir.read_json(single / "summary.json")["replicas"] == 1
    summary = rundir.read_json(mirrored / "summary.json")
    assert summary["replicas"] == 2 and summary["status"] == "completed" and summary["batch_size"] == 16
    one, two = rundir.read_history(single / "history.csv"), rundir.read_history(mirrored / "history.csv")
    assert len(two["loss"]) == 4
    for column in ("loss", "val_loss", "accuracy", "val_accuracy"):
        # float sums in another order: equal to 0.1% (a loss scaled by the replicas, or a per-replica batch of
        # 16 instead of 8, would be off by far more)
        assert two[column] == pytest.approx(one[column], rel=1e-3, abs=1e-4), column
    assert (mirrored / "model.keras").is_file()


def test_the_chief_is_the_chief_task_or_worker_0_without_one():
    cluster = {"worker": ["a:1", "b:2"]}
    assert distribute.is_chief(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    assert not distribute.is_chief(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}}))
    with_chief = {**cluster, "chief": ["c:3"]}
    assert distribute.is_chief(json.dumps({"cluster": with_chief, "task": {"type": "chief", "index": 0}}))
    assert not distribute.is_chief(json.dumps({"cluster": with_chief, "task": {"type": "worker", "index": 0}}))
    assert distribute.is_chief("")  # no TF_CONFIG: a single process


def test_multi_worker_without_tf_config_is_a_clear_config_error(monkeypatch, small_config):
    from lossopt_cli.config import validate

    monkeypatch.delenv("TF_CONFIG", raising=False)
    config = validate({**small_config, "training": {"distribute": "multi_worker"}})
    with pytest.raises(ConfigError, match="TF_CONFIG is not set"):
        distribute.make_strategy(config)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_multi_worker_processes_train_one_run_and_only_the_chief_writes_it(tmp_path, small_config):
    import yaml

    small_config["training"] = {"epochs": 2, "batch_size": 16, "distribute": "multi_worker"}
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump(small_config))
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = [subprocess.Popen([sys.executable, "-m", "lossopt_cli", "train", str(config), "--quiet"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT),
                                     "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker",
                                                                                          "index": index}})})
               for index in (0, 1)]
    outputs = [worker.communicate(timeout=600) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    (run_dir,) = (tmp_path / "outputs").iterdir()  # the chief's; the other worker's was temporary
    summary = rundir.read_json(run_dir / "summary.json")
    assert summary["status"] == "completed" and summary["replicas"] == 2 and summary["epochs_run"] == 2
