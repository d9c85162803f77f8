"""Members whose optimizers differ only in the learning rate share one stack (training/stacked_optimizers.py): one Keras
optimizer over the stacked variables, each member's update with its own rate. For every element-wise optimizer lossopt
stacks, a few updates of stacked variables equal, bit for bit, the updates of each slice by the optimizer alone."""

from __future__ import annotations

import numpy as np
import pytest

from lossopt_cli.training.stacked import STACKED_OPTIMIZERS

RATES = (0.03, 0.001, 0.2)


def build(name: str, rate: float, **settings):
    from lossopt_cli.catalog.optimizers import OPTIMIZERS

    return OPTIMIZERS.get({"name": name, "learning_rate": rate, **settings}, "optimizer").build()


@pytest.mark.parametrize("name", [n for n in STACKED_OPTIMIZERS if n != "ftrl"])
@pytest.mark.parametrize("weight_decay", [None, 0.05])
def test_one_stack_with_each_members_rate_updates_each_slice_as_the_optimizer_alone(name, weight_decay):
    import tensorflow as tf

    from lossopt_cli.training.stacked_optimizers import _with_member_rates, optimizer_key

    settings = {} if weight_decay is None else {"weight_decay": weight_decay}
    if name == "adamw":
        settings = {"weight_decay": weight_decay or 0.004}
    alone = [build(name, rate, **settings) for rate in RATES]
    assert len({optimizer_key(o) for o in alone}) == 1  # the rate apart, one configuration
    assert optimizer_key(build(name, RATES[0], clipvalue=1.0)) != optimizer_key(alone[0])
    rng = np.random.default_rng(0)
    shapes = [(len(RATES), 4, 3), (len(RATES), 3)]
    start = [rng.normal(size=s).astype("float32") for s in shapes]
    grads = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(3)]

    stacked = [tf.Variable(v) for v in start]
    optimizer = _with_member_rates(type(alone[0])).from_config(alone[0].get_config())
    optimizer.member_rates = tf.constant(np.asarray(RATES, "float32"))
    optimizer.build(stacked)
    for step in grads:
        optimizer.apply_gradients(zip([tf.constant(g) for g in step], stacked))

    for k, own in enumerate(alone):
        slices = [tf.Variable(v[k]) for v in start]
        own.build(slices)
        for step in grads:
            own.apply_gradients(zip([tf.constant(g[k]) for g in step], slices))
        for ours, theirs in zip(stacked, slices):
            np.testing.assert_array_equal(ours.numpy()[k], theirs.numpy(), err_msg=f"{name} member {k}")
    assert float(optimizer.learning_rate.numpy()) == pytest.approx(RATES[0])  # its own rate untouched


def test_ftrl_which_divides_by_its_rate_keeps_a_stack_per_rate():
    """Ftrl divides by the rate, and TensorFlow divides by a scalar and by a tensor 1e-7 apart: not bit for bit."""
    from lossopt_cli.training.stacked_optimizers import optimizer_key

    assert optimizer_key(build("ftrl", 0.1)) != optimizer_key(build("ftrl", 0.2))
    assert optimizer_key(build("ftrl", 0.1)) == optimizer_key(build("ftrl", 0.1))


def test_a_schedule_keeps_its_own_stack():
    from lossopt_cli.training.stacked_optimizers import optimizer_key

    schedule = {"name": "exponential_decay", "initial": 0.01, "decay_steps": 100, "decay_rate": 0.5}
    assert optimizer_key(build("adam", schedule)) != optimizer_key(build("adam", {**schedule, "initial": 0.02}))
    assert optimizer_key(build("adam", schedule)) == optimizer_key(build("adam", dict(schedule)))
