"""The stacked forward pass of ``stacked_group.StackedGroup``: the members' network on ``x`` of shape (K, batch, ...),
layer by layer, with the stack's variables (a leading member axis on every weight). Each layer computes what the
member's own Keras layer computes on its slice: batched matmuls for Dense, one grouped convolution (or one per
member) for Conv2D, pooling with the members folded into the batch, each member's own dropout masks and its own
batch-normalization moments."""

from __future__ import annotations


def forward(layers, stack, x, training: bool, how: str = "grouped"):
    """The stacked network on ``x`` (K, batch, ...) with ``stack``'s variables. In training, each dropout layer
    draws member k's mask exactly as its Keras ``Dropout`` draws it alone (TensorFlow's stateless dropout on its
    slice, seeded by its seed generator's state, cast as Keras casts it; the state then advances by one), and
    each batch normalization normalizes member k's slice by its own batch's moments and moves its own moving
    mean and variance as Keras' ``BatchNormalization`` does; in inference (validation) it uses them. ``how``: the
    convolutions' form (``convolution``)."""
    import tensorflow as tf

    variables = stack.variables
    at = dropout = norm = 0
    for layer in layers:
        kind = type(layer).__name__
        if kind == "Flatten":
            x = tf.reshape(x, tf.concat([tf.shape(x)[:2], [-1]], 0))
        elif kind == "Reshape":
            x = tf.reshape(x, tf.concat([tf.shape(x)[:2], list(layer.target_shape)], 0))
        elif kind == "Conv2D":
            x = convolution(layer, x, variables[at], how)
            at += 1
            if layer.use_bias:
                x = x + variables[at][:, None, None, None, :]
                at += 1
            x = layer.activation(x)
        elif kind in ("MaxPooling2D", "AveragePooling2D"):  # per sample: the members folded into the batch
            shape = tf.shape(x)
            pooled = (tf.nn.max_pool2d if kind == "MaxPooling2D" else tf.nn.avg_pool2d)(
                tf.reshape(x, tf.concat([[-1], shape[2:]], 0)), ksize=layer.pool_size, strides=layer.strides,
                padding=layer.padding.upper())
            x = tf.reshape(pooled, tf.concat([shape[:2], tf.shape(pooled)[1:]], 0))
        elif kind == "Dense":
            x = tf.matmul(x, variables[at])
            at += 1
            if layer.use_bias:
                x = x + variables[at][:, None, :]
                at += 1
            x = layer.activation(x)
        elif kind == "Activation":
            x = layer.activation(x)
        elif kind == "Dropout" and layer.rate and training:
            states = stack.seed_states[dropout]
            dropout += 1
            seeds = tf.cast(tf.math.floormod(states, tf.int32.max - 1), tf.int32)  # Keras' _cast_seed
            x = tf.stack([tf.nn.experimental.stateless_dropout(member, rate=layer.rate, seed=seeds[k])
                          for k, member in enumerate(tf.unstack(x, num=states.shape[0]))])
            states.assign_add(tf.tile(tf.constant([[0, 1]], states.dtype), [states.shape[0], 1]))
        elif kind == "BatchNormalization":
            members, rank = variables[at].shape[0], len(x.shape)
            per_member = [members] + [1] * (rank - 2) + [-1]  # (K, 1.., channels): broadcast over each batch
            gamma, beta = tf.reshape(variables[at], per_member), tf.reshape(variables[at + 1], per_member)
            at += 2
            moving_mean, moving_variance = stack.norm_states[norm]
            norm += 1
            if training:  # each member's own batch (and positions, after a convolution)
                mean, variance = tf.nn.moments(x, axes=list(range(1, rank - 1)), keepdims=True)
                moving_mean.assign(moving_mean * layer.momentum
                                   + tf.reshape(mean, [members, -1]) * (1.0 - layer.momentum))
                moving_variance.assign(moving_variance * layer.momentum
                                       + tf.reshape(variance, [members, -1]) * (1.0 - layer.momentum))
            else:
                mean, variance = tf.reshape(moving_mean, per_member), tf.reshape(moving_variance, per_member)
            x = tf.nn.batch_normalization(x, mean, variance, offset=beta, scale=gamma,
                                          variance_epsilon=layer.epsilon)
    return x


def convolution(layer, x, kernel, how: str = "grouped"):
    """Each member's ``x`` (K, batch, h, w, c) convolved with its own kernel (K, kh, kw, c, f), as its Keras
    ``Conv2D`` does (``tf.nn.convolution``, the layer's strides and padding). ``how``: "grouped", the K members'
    convolutions as one grouped convolution (HFTA's), their channels side by side; "loop", one per member. Both
    exact (benchmarks/stacked_seeds.py --model cnn measures them)."""
    import tensorflow as tf

    members = kernel.shape[0]
    strides, padding = list(layer.strides), layer.padding.upper()
    if how == "loop":
        return tf.stack([tf.nn.convolution(x[k], kernel[k], strides=strides, padding=padding)
                         for k in range(members)])
    kh, kw, c, f = kernel.shape[1:]
    shape = tf.shape(x)
    side_by_side = tf.reshape(tf.transpose(x, [1, 2, 3, 0, 4]), tf.concat([shape[1:4], [members * c]], 0))
    kernels = tf.reshape(tf.transpose(kernel, [1, 2, 3, 0, 4]), [kh, kw, c, members * f])
    out = tf.nn.convolution(side_by_side, kernels, strides=strides, padding=padding)  # groups = K
    out_shape = tf.shape(out)
    return tf.transpose(tf.reshape(out, tf.concat([out_shape[:3], [members, f]], 0)), [3, 0, 1, 2, 4])
