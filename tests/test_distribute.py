"""``training.distribute``: a mirrored run on two logical CPU devices matches a single-device run with the
same global batch; multi_worker is refused with the reason (Keras 3's fit does not support it)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lossopt_cli import rundir
from lossopt_cli.schema import ConfigError

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
        result = commands.train(sys.argv[1], {"training.distribute": distribute, "name": distribute,
                                              "model.args.record": f"{sys.argv[2]}/{distribute}.txt"})
        print(result.run_dir)
""")
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.slow
def test_a_mirrored_run_on_two_devices_matches_one_device_with_the_same_global_batch(tmp_path, small_config):
    import yaml

    small_config["training"] = {"epochs": 4, "batch_size": 16, "shuffle": False}
    # an MLP whose training step writes the size of each batch it computes
    small_config["model"] = {"type": f"{FIXTURES / 'replica_model.py'}:build", "args": {"record": "-"}}
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump(small_config))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(config), str(tmp_path)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    single, mirrored = (Path(line) for line in done.stdout.split())
    # each step's batch as computed. 105 training samples = 6 batches of 16 + one of 9, for 4 epochs: on one
    # device 16s and 9s; on two replicas every batch split in half (8 + 8, 5 + 4): the step really ran on both
    one = [int(n) for n in (tmp_path / "none.txt").read_text().split()]
    two = [int(n) for n in (tmp_path / "mirrored.txt").read_text().split()]
    assert one.count(9) == 4 and one.count(16) >= 24 and 8 not in one
    assert two.count(8) == 2 * 6 * 4 and two.count(5) == 4 and two.count(4) == 4 and 9 not in two
    assert rundir.read_json(single / "summary.json")["replicas"] == 1
    summary = rundir.read_json(mirrored / "summary.json")
    assert summary["replicas"] == 2 and summary["status"] == "completed" and summary["batch_size"] == 16
    one, two = rundir.read_history(single / "history.csv"), rundir.read_history(mirrored / "history.csv")
    assert len(two["loss"]) == 4
    for column in ("loss", "val_loss", "accuracy", "val_accuracy"):
        # float sums in another order: equal to 0.1% (a loss scaled by the replicas, or a per-replica batch of
        # 16 instead of 8, would be off by far more)
        assert two[column] == pytest.approx(one[column], rel=1e-3, abs=1e-4), column


def test_multi_worker_is_refused_before_anything_runs_with_the_reason_and_what_to_do(small_config):
    from lossopt_cli.config import validate

    with pytest.raises(ConfigError, match="keras-team/keras#20585") as err:
        validate({**small_config, "training": {"distribute": "multi_worker"}})
    assert err.value.key == "training.distribute" and "mirrored" in str(err.value)


def test_replicated_runs_are_never_fused_into_one_loop(small_config):
    from lossopt_cli.config import validate
    from lossopt_cli.training.fused_runs import fusion_key

    assert fusion_key(validate(small_config)) is not None
    mirrored = {**small_config, "training": {**small_config.get("training", {}), "distribute": "mirrored"}}
    assert fusion_key(validate(mirrored)) is None  # trained alone, by model.fit across the replicas
