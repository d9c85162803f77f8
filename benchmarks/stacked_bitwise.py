"""Where a stacked member first differs from its run alone, to the bit: K members of the catalog CNN (or the
quickstart MLP) stacked as ``training/stacked_group.py`` stacks them, and each member's own Keras model stepped
alone on the same batches (its ``train_step``'s forward, compiled loss, gradient and optimizer update), from the
same initial weights; after every step each member's gradients and updated weights are compared bit for bit.

    python benchmarks/stacked_bitwise.py --model cnn --k 12 --steps 45
    python benchmarks/stacked_bitwise.py --model cnn --k 12 --convolution grouped --steps 1

Prints one line per step ("bitwise", or the first differing tensors and their largest absolute difference) and
stops at the first difference. How docs/fusion.md's table of what was not bitwise was found.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from timing import ROOT

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--steps", type=int, default=45, help="steps of epoch 0 (the digits: 45, the last of 30)")
    parser.add_argument("--convolution", choices=["loop", "grouped"], default="loop")
    args = parser.parse_args()
    from lossopt_cli.training import import_tensorflow

    import_tensorflow()
    import tensorflow as tf
    from stacked_seeds import configs

    from lossopt_cli.training.batches import epoch_order
    from lossopt_cli.training.fused import FusedMember
    from lossopt_cli.training.fused_runs import prepare_members
    from lossopt_cli.training.stacked_group import StackedGroup

    StackedGroup.CONVOLUTION = args.convolution
    prepared, errors = prepare_members(configs(args.k, 1, args.model))
    assert not errors, errors
    members = [FusedMember(p.model, p.data.x_train, p.data.y_train, p.data.x_val, p.data.y_val, p.data.sample_weight,
                           seed=p.config.seed) for p in (prepared[i] for i in sorted(prepared))]
    batch = prepared[0].batch_size
    group = StackedGroup(members, batch)
    stack = group.stacks[0]
    orders = tf.constant(np.stack([epoch_order(m.seed, 0, group.n_train, True) for m in members]))

    @tf.function(autograph=False)
    def stacked_step(start):
        chosen = orders[:, start:start + batch]
        x, y = tf.gather(group.x, chosen, batch_dims=1), tf.gather(group.y, chosen, batch_dims=1)
        with tf.GradientTape() as tape:
            variables = group._variables()  # one stack (seeds): its own variables
            y_pred, logits = group.forward(variables, x, training=True)
            total = tf.reduce_sum(group._member_losses(variables, y, y_pred, logits))
        grads = tape.gradient(total, stack.variables)
        stack.optimizer.apply_gradients(zip(grads, stack.variables))
        return grads

    def alone_step(k, member):  # Keras' train_step, without its metrics
        model, xs, ys = member.model, tf.constant(member.x_train), tf.constant(member.y_train)

        @tf.function(autograph=False)
        def step(start):
            chosen = orders[k, start:start + batch]
            x, y = tf.gather(xs, chosen), tf.gather(ys, chosen)
            with tf.GradientTape() as tape:
                loss = model._compute_loss(x=x, y=y, y_pred=model(x, training=True), sample_weight=None, training=True)
            grads = tape.gradient(loss, model.trainable_weights)
            model.optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return grads

        return step

    alone = [alone_step(k, m) for k, m in enumerate(members)]
    for step in range(args.steps):
        start = tf.constant(step * batch)
        ours, different = stacked_step(start), []
        for k, member in enumerate(members):
            theirs = alone[k](start)
            for j, weight in enumerate(member.model.trainable_weights):
                for what, a, b in (("gradient", ours[j][k], theirs[j]), ("weight", stack.variables[j][k], weight)):
                    a, b = np.asarray(a), np.asarray(b)
                    if not np.array_equal(a, b):
                        different.append(f"member {k} {what} {weight.path}: {np.max(np.abs(a - b)):.1e}")
        print(f"step {step}: " + ("bitwise" if not different else "; ".join(different[:6])), flush=True)
        if different:
            break


if __name__ == "__main__":
    main()
