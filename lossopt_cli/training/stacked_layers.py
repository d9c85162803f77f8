"""The stacked forward pass of ``stacked_group.StackedGroup``: the members' network on ``x`` of shape (K, batch, ...),
layer by layer, with the stack's variables (a leading member axis on every weight). Each layer computes what the
member's own Keras layer computes on its slice, to the last bit: batched matmuls for Dense, elementwise ops and
pooling (the members folded into the batch) once for all; one convolution per member for Conv2D, each member's
own dropout masks and batch normalization, the last activation on each member's slice, and the bias gradients
member by member, where the batched op would sum or round in another order (docs/fusion.md: measured)."""

from __future__ import annotations


def forward(layers, stack, x, training: bool, how: str = "loop"):
    """The stacked network on ``x`` (K, batch, ...) with ``stack``'s variables: (outputs, logits), the members'
    outputs (K, batch, ...) and the input of the last layer's activation (None when the last layer has none), from
    which the losses are computed member by member (``member_cross_entropy``; ``StackedGroup._member_losses``).
    In training, each dropout layer
    draws member k's mask exactly as its Keras ``Dropout`` draws it alone (TensorFlow's stateless dropout on its
    slice, seeded by its seed generator's state, cast as Keras casts it; the state then advances by one), and
    each batch normalization normalizes member k's slice by its own batch's moments with Keras' ops on the member's
    shapes (over the stack they reduce in another order) and moves its own moving mean and variance as Keras'
    ``BatchNormalization`` does; in inference (validation) it uses them. ``how``: the convolutions' form
    (``convolution``)."""
    import tensorflow as tf

    variables = stack.variables
    at = dropout = norm = 0
    members = variables[0].shape[0]
    logits = None
    for index, layer in enumerate(layers):
        kind = type(layer).__name__
        if index == len(layers) - 1 and kind in ("Conv2D", "Dense", "Activation"):
            logits = x if kind == "Activation" else None  # Conv2D and Dense: after their bias
        if kind == "Flatten":
            x = tf.reshape(x, tf.concat([tf.shape(x)[:2], [-1]], 0))
        elif kind == "Reshape":
            x = tf.reshape(x, tf.concat([tf.shape(x)[:2], list(layer.target_shape)], 0))
        elif kind in ("Conv2D", "Dense"):
            kernel = variables[at]
            x = convolution(layer, x, kernel, how) if kind == "Conv2D" else tf.matmul(x, kernel)
            at += 1
            if layer.use_bias:
                x = add_bias(x, variables[at])
                at += 1
            logits = x if index == len(layers) - 1 else None
            x = layer.activation(x)
        elif kind in ("MaxPooling2D", "AveragePooling2D"):  # per sample: the members folded into the batch
            shape = tf.shape(x)
            pooled = (tf.nn.max_pool2d if kind == "MaxPooling2D" else tf.nn.avg_pool2d)(
                tf.reshape(x, tf.concat([[-1], shape[2:]], 0)), ksize=layer.pool_size, strides=layer.strides,
                padding=layer.padding.upper())
            x = tf.reshape(pooled, tf.concat([shape[:2], tf.shape(pooled)[1:]], 0))
        elif kind == "Activation":
            x = layer.activation(x)
        elif kind == "Dropout" and layer.rate and training:
            states = stack.seed_states[dropout]
            dropout += 1
            seeds = tf.cast(tf.math.floormod(states, tf.int32.max - 1), tf.int32)  # Keras' _cast_seed
            x = tf.stack([tf.nn.experimental.stateless_dropout(member, rate=layer.rate, seed=seeds[k])
                          for k, member in enumerate(tf.unstack(x, num=states.shape[0]))])
            states.assign_add(tf.tile(tf.constant([[0, 1]], states.dtype), [states.shape[0], 1]))
        elif kind == "BatchNormalization":  # each member's own slice, as its Keras layer normalizes it alone
            moving_mean, moving_variance = stack.norm_states[norm]
            norm += 1
            slices = zip(tf.unstack(x, num=members), tf.unstack(variables[at], num=members),
                         tf.unstack(variables[at + 1], num=members))
            at += 2
            if training:  # each member's own batch (and positions, after a convolution)
                axes = list(range(len(x.shape) - 2))
                normalized, means, variances = [], [], []
                for member, gamma, beta in slices:
                    mean, variance = tf.nn.moments(member, axes)
                    normalized.append(tf.nn.batch_normalization(member, mean, variance, offset=beta, scale=gamma,
                                                                variance_epsilon=layer.epsilon))
                    means.append(mean)
                    variances.append(variance)
                moving_mean.assign(moving_mean * layer.momentum + tf.stack(means) * (1.0 - layer.momentum))
                moving_variance.assign(moving_variance * layer.momentum
                                       + tf.stack(variances) * (1.0 - layer.momentum))
            else:
                normalized = [tf.nn.batch_normalization(member, mean, variance, offset=beta, scale=gamma,
                                                        variance_epsilon=layer.epsilon)
                              for (member, gamma, beta), mean, variance in
                              zip(slices, tf.unstack(moving_mean, num=members), tf.unstack(moving_variance, num=members))]
            x = tf.stack(normalized)
    return x, logits


def member_cross_entropy(logits, labels, weights=None):
    """Each member's categorical cross-entropy (K,) from its ``logits`` (K, batch, classes), as Keras computes it alone
    on a softmax output: ``softmax_cross_entropy_with_logits`` of the member's own slice (the op's elementwise
    ``exp``/``log`` leave the last elements of a tensor to Eigen's scalar path, so over the stack they would round
    otherwise: measured on a last batch of 30 and on batches of 40 or more), times its sample ``weights``, summed
    over its batch (one ``Sum`` per member, as alone) and divided by the batch's size (``sum_over_batch_size``).
    The gradient is the one TensorFlow derives alone, written out: elementwise products (the same for all K at
    once), so only the forward ops are per member."""
    import tensorflow as tf

    members = logits.shape[0]

    @tf.custom_gradient
    def losses(logits):
        pairs = [tf.raw_ops.SoftmaxCrossEntropyWithLogits(features=z, labels=y)
                 for z, y in zip(tf.unstack(logits, num=members), tf.unstack(labels, num=members))]
        values = tf.stack([loss for loss, _ in pairs])
        if weights is not None:
            values = values * weights
        size = tf.cast(tf.shape(values)[1], values.dtype)
        sums = tf.stack([tf.reduce_sum(member) for member in tf.unstack(values, num=members)])

        def grad(upstream):  # DivNoNan's, Sum's (a broadcast), Mul's (the weights), the cross-entropy's
            per_sample = tf.broadcast_to(tf.math.divide_no_nan(upstream, size)[:, None], tf.shape(values))
            if weights is not None:
                per_sample = per_sample * weights
            return per_sample[:, :, None] * tf.stack([backprop for _, backprop in pairs])

        return tf.math.divide_no_nan(sums, size), grad

    return losses(logits)


def convolution(layer, x, kernel, how: str = "loop"):
    """Each member's ``x`` (K, batch, h, w, c) convolved with its own kernel (K, kh, kw, c, f), as its Keras
    ``Conv2D`` does (``tf.nn.convolution``, the layer's strides and padding). ``how``: "loop", one convolution per
    member, the member's own shapes: bitwise its Keras layer's, forward and gradients; "grouped", the K members'
    convolutions as one grouped convolution (HFTA's), their channels side by side: the same sums in another
    order (5e-7 from the loop at step 1), which the catalog CNN amplifies past 1e-3 within 5 epochs
    (benchmarks/stacked_seeds.py --model cnn measures both)."""
    import tensorflow as tf

    members = kernel.shape[0]
    strides, padding = list(layer.strides), layer.padding.upper()
    if how == "loop":
        return tf.stack([tf.nn.convolution(x_k, kernel_k, strides=strides, padding=padding)
                         for x_k, kernel_k in zip(tf.unstack(x, num=members), tf.unstack(kernel, num=members))])
    kh, kw, c, f = kernel.shape[1:]
    shape = tf.shape(x)
    side_by_side = tf.reshape(tf.transpose(x, [1, 2, 3, 0, 4]), tf.concat([shape[1:4], [members * c]], 0))
    kernels = tf.reshape(tf.transpose(kernel, [1, 2, 3, 0, 4]), [kh, kw, c, members * f])
    out = tf.nn.convolution(side_by_side, kernels, strides=strides, padding=padding)  # groups = K
    out_shape = tf.shape(out)
    return tf.transpose(tf.reshape(out, tf.concat([out_shape[:3], [members, f]], 0)), [3, 0, 1, 2, 4])


def add_bias(x, bias):
    """``x`` (K, batch, ..., out) plus each member's ``bias`` (K, out). Keras adds a bias with ``tf.nn.bias_add``, whose
    gradient is ``BiasAddGrad``: a sum over every axis but the last in its own order. The gradient of a broadcast
    add (``Sum`` over the stacked tensor's axes) adds in another order, so each member's bias gradient here is a
    ``BiasAddGrad`` of its own slice, flattened to (samples x positions, out) as the kernel flattens it (one
    ``BiasAddGrad`` over the K members side by side was bitwise for K = 3 and 12 but not 2: measured)."""
    import tensorflow as tf

    members, rank = bias.shape[0], len(x.shape)

    @tf.custom_gradient
    def add(x, bias):
        def grad(upstream):
            return upstream, tf.stack([tf.raw_ops.BiasAddGrad(out_backprop=tf.reshape(member, [-1, bias.shape[1]]))
                                       for member in tf.unstack(upstream, num=members)])

        return x + tf.reshape(bias, [members] + [1] * (rank - 2) + [-1]), grad

    return add(x, bias)
