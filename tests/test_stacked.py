"""Horizontal fusion: members stacked into one computation (training/stacked.py) match the same runs
trained alone (final val_loss within 1e-3 relative, every epoch of every column close); groups the stack
cannot take say why and keep the per-member loop."""

from __future__ import annotations

import copy
import math

import pytest

from lossopt_cli import config, rundir

BASE = {
    "data": {"dataset": "digits", "validation_split": 0.2},
    "model": {"type": "mlp", "hidden_units": [32]},
    "loss": "categorical_crossentropy",
    "metrics": ["accuracy"],
    "training": {"epochs": 4, "batch_size": 32},
}


def make(tmp_path, name, optimizer, learning_rate, seed, model=None, **training):
    raw = copy.deepcopy(BASE)
    raw.update(name=name, seed=seed, optimizer={"name": optimizer, "learning_rate": learning_rate},
               output={"dir": str(tmp_path / "outputs")})
    raw["training"].update(training)
    if model:
        raw["model"] = model if model.get("type") == "cnn" else {**raw["model"], **model}
    return config.validate(raw)


def close(a, b, rel=1e-3):
    return len(a) == len(b) and all(abs(x - y) <= rel * max(abs(y), 1e-6) + 1e-6 for x, y in zip(a, b))


@pytest.mark.slow
def test_stacked_members_match_the_same_runs_trained_alone(tmp_path, monkeypatch):
    """Seeds and two optimizers (two stacks), one member early-stopped: each member's history matches its
    solo run; the group really went through the stacked step."""
    from lossopt_cli.training import stacked as stacked_module
    from lossopt_cli.training.fused_runs import train_group
    from lossopt_cli.training.runner import run

    used = []
    original = stacked_module.StackedGroup.train_epoch

    def spy(self, epoch):
        used.append(len(self.stacks))
        return original(self, epoch)

    monkeypatch.setattr(stacked_module.StackedGroup, "train_epoch", spy)
    configs = [make(tmp_path, f"adam-{s}", "adam", 0.01, s) for s in (0, 1, 2)]
    configs += [make(tmp_path, "sgd-0", "sgd", 0.1, 0),
                make(tmp_path, "adam-early", "adam", 0.01, 3, early_stopping={"patience": 0, "min_delta": 0.5})]
    group = train_group(configs, [None] * len(configs))
    assert used and set(used) == {2}, "the group was not stacked"
    used.clear()
    solo = [run(cfg, verbose=0) for cfg in configs]
    assert not used  # alone: the per-member loop
    for alone, together in zip(solo, group.results):
        assert together.status == alone.status
        ours, theirs = (rundir.read_history(r.run_dir / rundir.HISTORY) for r in (together, alone))
        assert list(ours) == list(theirs)
        assert abs(ours["val_loss"][-1] - theirs["val_loss"][-1]) <= 1e-3 * theirs["val_loss"][-1]
        for column in ("loss", "val_loss", "accuracy", "val_accuracy"):
            assert close(ours[column], theirs[column]), (column, ours[column], theirs[column])
    assert group.results[-1].status == "early_stopped"


def test_stack_reason_names_what_falls_back(tmp_path):
    import keras
    import numpy as np

    from lossopt_cli.training.fused import FusedMember
    from lossopt_cli.training.runner import prepare_run  # noqa: F401 - the same building as a run
    from lossopt_cli.training.stacked import stack_reason

    def member(dropout=0.0, optimizer="adam", **kw):
        inputs = keras.Input((4,))
        x = keras.layers.Dense(3, activation="relu")(inputs)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", **kw)
        model.optimizer.build(model.trainable_variables)
        return FusedMember(model, np.zeros((8, 4), "float32"), np.zeros((8, 2), "float32"))

    assert stack_reason([member(), member()]) is None
    assert "dropout" in stack_reason([member(0.5), member(0.5)])
    assert "group of one" in stack_reason([member()])
    assert "resumed" in stack_reason([member(), member()], initial_epoch=2)
    clipped = keras.optimizers.Adam(clipnorm=1.0)
    assert "clipping" in stack_reason([member(optimizer=clipped), member()])
    assert not math.isnan(0.0)


def test_dry_run_says_which_groups_are_stacked_and_why_not(tmp_path):
    from lossopt_cli.training.stacked import config_reason

    assert config_reason(make(tmp_path, "a", "adam", 0.01, 0)) is None
    assert "dropout" in config_reason(make(tmp_path, "d", "adam", 0.01, 0, model={"dropout": 0.2}))
    assert "batch_norm" in config_reason(make(tmp_path, "b", "adam", 0.01, 0, model={"batch_norm": True}))
    assert "model.type cnn" in config_reason(make(tmp_path, "c", "adam", 0.01, 0, model={"type": "cnn"}))
    weighted = make(tmp_path, "w", "adam", 0.01, 0)
    weighted.data = weighted.data.replace(class_weight="balanced")  # sample weights: stack_reason falls back too
    assert "data.class_weight" in config_reason(weighted)
    assert "reduce_lr_on_plateau" in config_reason(make(tmp_path, "r", "adam", 0.01, 0, reduce_lr_on_plateau=True))
