"""Fused sweeps: runs trained together equal the same runs trained alone, and each writes a normal run
directory; `auto` groups the runs that can share a step and leaves the others alone."""

from __future__ import annotations

import copy
import math

import pytest

from lossopt_cli import config, rundir
from lossopt_cli.sweeps.executors import DEFAULT_EXECUTOR, EXECUTORS, Job
from lossopt_cli.sweeps.executors import fused as fused_executor

from .test_recorder import check_run_dir

BASE = {
    "data": {"dataset": "iris", "validation_split": 0.3},
    "model": {"type": "mlp", "hidden_units": [16]},
    "loss": "categorical_crossentropy",
    "training": {"epochs": 5, "batch_size": 16},
}


def make(tmp_path, name, optimizer, learning_rate, seed, **training):
    raw = copy.deepcopy(BASE)
    raw.update(name=name, seed=seed, optimizer={"name": optimizer, "learning_rate": learning_rate},
               output={"dir": str(tmp_path / "outputs"), "save_model": True})
    raw["training"].update(training)
    return config.validate(raw)


def same(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-5 for x, y in zip(a, b))


@pytest.mark.slow
def test_a_fused_group_equals_the_same_runs_trained_alone(tmp_path):
    """Mixed optimizers, different seeds, early stopping, reduce-on-plateau and one member diverging:
    every member's history equals its solo run's within 1e-5, and its directory meets the run contract."""
    from lossopt_cli.training.fused_runs import train_group
    from lossopt_cli.training.runner import run

    configs = [
        make(tmp_path, "sgd", "sgd", 0.1, 0),
        make(tmp_path, "rmsprop", "rmsprop", 0.01, 1, reduce_lr_on_plateau={"patience": 1, "factor": 0.5, "min_delta": 0.5}),
        make(tmp_path, "adam-early", "adam", 0.01, 0, early_stopping={"patience": 1, "min_delta": 0.5}),
        make(tmp_path, "exploding", "sgd", 1e6, 2),
    ]
    solo = [run(cfg, verbose=0) for cfg in configs]
    group = train_group(configs, [None] * len(configs))
    assert not group.errors and not group.interrupted
    expected_status = {"sgd": "completed", "rmsprop": "completed", "adam-early": "early_stopped",
                       "exploding": "diverged"}
    for alone, together in zip(solo, group.results):
        name = together.summary["name"]
        assert together.status == alone.status == expected_status[name], name
        ours, theirs = (rundir.read_history(r.run_dir / rundir.HISTORY) for r in (together, alone))
        assert list(ours) == list(theirs)
        for column in ours:
            assert same(ours[column], theirs[column]), (name, column, ours[column], theirs[column])
        assert together.summary["fused"] == {"group_size": 4}
        if together.status != "diverged":
            check_run_dir(together.run_dir, together.status, len(ours["epoch"]))
            assert (together.run_dir / rundir.MODEL).is_file()
    lr = rundir.read_history(group.results[1].run_dir / rundir.HISTORY)["learning_rate"]
    assert min(lr) < max(lr)  # reduce-on-plateau did cut the rate, in both paths alike (compared above)
    assert group.results[3].summary["diverged_at_epoch"] == 1


@pytest.mark.slow
def test_ctrl_c_keeps_every_members_finished_epochs(tmp_path, monkeypatch):
    import keras

    from lossopt_cli.training import callbacks as callbacks_module
    from lossopt_cli.training.fused_runs import train_group

    class CtrlC(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    build = callbacks_module.build_callbacks
    calls = []

    def with_ctrl_c(cfg, recorder):
        calls.append(cfg.name)
        return build(cfg, recorder) + ([CtrlC()] if len(calls) == 2 else [])  # the second member's

    monkeypatch.setattr(callbacks_module, "build_callbacks", with_ctrl_c)
    configs = [make(tmp_path, "a", "sgd", 0.1, 0), make(tmp_path, "b", "adam", 0.01, 1)]
    group = train_group(configs, [None, None])
    assert group.interrupted
    for result in group.results:
        assert result.status == "interrupted"
        history = rundir.read_history(result.run_dir / rundir.HISTORY)
        assert history["epoch"] == [1, 2] and result.summary["epochs_run"] == 2
        assert (result.run_dir / rundir.CURVES).is_file()


def jobs_of(tmp_path, *configs):
    return [Job(cfg.name, cfg.to_dict(), str(tmp_path / "runs")) for cfg in configs]


def test_auto_groups_runs_that_share_data_network_batch_and_epochs(tmp_path):
    runs = [make(tmp_path, f"{opt}-{seed}", opt, lr, seed) for opt, lr in (("sgd", 0.1), ("adam", 0.01))
            for seed in (0, 1, 2)]
    wider = make(tmp_path, "wide", "adam", 0.01, 0)
    wider.model = {**wider.model, "hidden_units": [64]}
    other_batch = make(tmp_path, "batch8", "adam", 0.01, 0, batch_size=8)
    other_batch_too = make(tmp_path, "batch8-seed1", "sgd", 0.1, 1, batch_size=8)
    full_batch = make(tmp_path, "gd", "gd", 0.1, 0)
    groups, alone = fused_executor.plan_groups(jobs_of(tmp_path, *runs, wider, other_batch, full_batch,
                                                       other_batch_too))
    names = sorted(sorted(job.name for job in group) for group in groups)
    assert names == [["adam-0", "adam-1", "adam-2", "sgd-0", "sgd-1", "sgd-2"], ["batch8", "batch8-seed1"]]
    assert sorted(job.name for job in alone) == ["gd", "wide"]  # nothing to share with; gd: one step per epoch


def test_one_grouping_rule_resumed_runs_alone_for_every_fusing_executor(tmp_path):
    from lossopt_cli.sweeps.executors.ray import plan_units

    runs = [make(tmp_path, f"r{i}", "adam", 0.01, i) for i in range(4)]
    jobs = jobs_of(tmp_path, *runs)
    jobs[1].resume_dir = str(tmp_path / "runs" / "r1")  # an interrupted run continues from its checkpoint
    groups, alone = fused_executor.group_jobs(jobs, workers=1)
    assert [sorted(job.name for job in g) for g in groups] == [["r0", "r2", "r3"]]
    assert [job.name for job in alone] == ["r1"]
    units = plan_units(jobs, workers=1)  # Ray once grouped a resumed run with new ones
    assert sorted(len(u) for u in units) == [1, 3] and [u for u in units if len(u) == 1][0][0].name == "r1"


def test_auto_gives_every_worker_a_group_and_bounds_groups(tmp_path):
    runs = [make(tmp_path, f"r{i}", "adam", 0.01, i) for i in range(7)]
    groups, alone = fused_executor.plan_groups(jobs_of(tmp_path, *runs), workers=2, split_for_workers=True)
    assert sorted(len(g) for g in groups) == [3, 4] and not alone
    groups, alone = fused_executor.plan_groups(jobs_of(tmp_path, *runs), max_size=3)
    assert sorted(len(g) for g in groups) == [2, 2, 3] and not alone
    groups, alone = fused_executor.plan_groups(jobs_of(tmp_path, *runs[:3]), workers=4, split_for_workers=True)
    assert [len(g) for g in groups] == [3] and not alone  # a group of one would fuse nothing
    assert fused_executor.group_size_limit(100 * 2**20, workers=2, available=1000 * 2**20) == 2
    assert fused_executor.group_size_limit(1, available=10**12) == fused_executor.MAX_GROUP_SIZE


def test_stacked_runs_of_one_optimizer_share_a_group_so_each_group_trains_few_stacks(tmp_path):
    """4 optimizers x 3 seeds over 2 workers: each group holds 2 optimizers x 3 seeds (2 stacks), not 6 seeds of
    4 optimizers; runs that fall back to the per-member loop keep the seed order (a shared split)."""
    grid = (("sgd", 0.1), ("momentum", 0.05), ("rmsprop", 0.001), ("adam", 0.001))
    runs = [make(tmp_path, f"{opt}-{seed}", opt, lr, seed) for seed in (0, 1, 2) for opt, lr in grid]
    groups, alone = fused_executor.plan_groups(jobs_of(tmp_path, *runs), workers=2, split_for_workers=True)
    assert not alone and sorted(len(g) for g in groups) == [6, 6]
    for group in groups:
        assert len({job.config.optimizer.name for job in group}) == 2
        assert sorted(job.config.seed for job in group) == [0, 0, 1, 1, 2, 2]
    # the groups train in parallel: the costliest update (adam) shares a group with the cheapest (sgd)
    assert sorted(sorted({job.config.optimizer.name for job in group}) for group in groups) == [
        ["adam", "sgd"], ["momentum", "rmsprop"]]
    for group in groups:  # each stack contiguous, in seed order
        names = [job.config.optimizer.name for job in group]
        assert names[:3] == [names[0]] * 3 and names[3:] == [names[3]] * 3
    mixed = [make(tmp_path, f"{opt}-{seed}", opt, lr, seed) for seed in (0, 1, 2)
                 for opt, lr in (("lamb", 0.01), ("lion", 0.001))]  # lamb: not stacked
    groups, _ = fused_executor.plan_groups(jobs_of(tmp_path, *mixed), max_size=3)
    unstacked = [job for group in groups for job in group if job.config.optimizer.name == "lamb"]
    assert [job.config.seed for job in unstacked] == [0, 1, 2]


def test_fused_and_auto_are_executors_and_auto_is_the_default():
    assert {"fused", "auto", "serial", "processes"} <= set(EXECUTORS)
    assert DEFAULT_EXECUTOR == "auto"


def test_resuming_a_fused_sweep_trains_only_the_missing_members(tmp_path, monkeypatch):
    from lossopt_cli.sweeps import plan as plan_module
    from lossopt_cli.sweeps import run as run_module
    from lossopt_cli.sweeps.executors.base import JobResult

    from .sweep_fakes import write_run

    sweep_file = tmp_path / "sweep.yaml"
    base = copy.deepcopy(BASE)
    base["output"] = {"dir": str(tmp_path / "outputs")}
    sweep_file.write_text(__import__("yaml").safe_dump({"base": base, "vary": {"optimizer.name": ["sgd", "adam"]},
                                                        "seeds": [0, 1]}))
    sweep = plan_module.load_sweep(sweep_file)
    sweep_dir = plan_module.create_sweep_dir(sweep)
    write_run(sweep_dir / rundir.RUNS / "sgd-seed0", "sgd-seed0", [1.0, 0.5])  # finished before the Ctrl-C
    trained = []

    def fake_group(jobs):
        trained.append(sorted(job.name for job in jobs))
        return [JobResult(job.name, "completed", None, None, None, 0.0) for job in jobs]

    monkeypatch.setattr(fused_executor, "run_group", fake_group)
    run_module.run_sweep(sweep, sweep_dir, fused_executor.FusedExecutor(), resume=True)
    assert trained == [["adam-seed0", "adam-seed1", "sgd-seed1"]]


def test_the_batch_order_is_a_function_of_seed_and_epoch():
    import numpy as np

    from lossopt_cli.training.batches import epoch_order

    first = epoch_order(3, 0, 100)
    assert sorted(first) == list(range(100)) and np.array_equal(first, epoch_order(3, 0, 100))
    assert not np.array_equal(first, epoch_order(3, 1, 100)) and not np.array_equal(first, epoch_order(4, 0, 100))
    assert list(epoch_order(3, 5, 10, shuffle=False)) == list(range(10))


def test_callbacks_with_batch_hooks_get_keras_fit():
    import keras

    from lossopt_cli.training.fused import needs_batch_hooks

    assert not needs_batch_hooks([keras.callbacks.EarlyStopping(), keras.callbacks.ReduceLROnPlateau()])
    assert needs_batch_hooks([keras.callbacks.EarlyStopping(), keras.callbacks.TerminateOnNaN()])
    assert needs_batch_hooks([keras.callbacks.LambdaCallback(on_train_batch_end=print)])
    assert not needs_batch_hooks([keras.callbacks.LambdaCallback(on_epoch_end=print)])
