"""The stacked computation of a fused group (``stacked`` decides which groups qualify): every weight of the K
members gets a leading member axis, members whose optimizers have the same configuration (the learning rate
apart) share one Keras optimizer over their stacked variables (a ``stacked_optimizers.Stack``), and
``StackedGroup`` runs the compiled epoch and validation, one forward and backward pass for all members of all
stacks per step, and copies the state back into each member's model. See ``stacked``'s docstring for why the
arithmetic is each member's own."""

from __future__ import annotations

import numpy as np

from .batches import epoch_order
from .stacked import WEIGHTED_LAYERS
from .stacked_layers import forward, member_cross_entropy
from .stacked_optimizers import Stack, optimizer_key


def _mean_metrics(model):
    """[loss tracker, compiled metrics...] when every one is a mean of per-sample values (None otherwise)."""
    from keras.src.metrics.reduction_metrics import Mean, MeanMetricWrapper

    compiled = [] if model._compile_metrics is None else list(model._compile_metrics.metrics)
    if not isinstance(model._loss_tracker, Mean) or not all(type(x).update_state is MeanMetricWrapper.update_state
                                                             and isinstance(x, MeanMetricWrapper) for x in compiled):
        return None
    if model._compile_metrics is not None and (not model._compile_metrics.built
                                               or any(model._compile_metrics._flat_weighted_metrics)):
        return None  # weighted_metrics read the sample weights: updated member by member
    return [model._loss_tracker, *compiled]


def _raw(variable):
    """The TensorFlow variable under a Keras variable (assigning it in a graph skips Keras' Python layers, which
    made tracing the copy of 12 members' state cost 0.65 s); a plain tf.Variable as it is."""
    value = getattr(variable, "_value", None)
    return value if hasattr(value, "assign") else variable


class _Forward:
    """What ``stacked_layers.forward`` reads: the group's stacked variables (every stack's, concatenated along
    the member axis), its dropout seed states and its batch-normalization statistics."""

    def __init__(self, variables, seed_states, norm_states):
        self.variables, self.seed_states, self.norm_states = variables, seed_states, norm_states


def _stacked_rows(models, read):
    """One variable holding ``read(model)`` of every model, one row per model."""
    import tensorflow as tf

    return tf.Variable(np.stack([np.asarray(read(m).numpy()) for m in models]), trainable=False)


class StackedGroup:
    """The whole group as one computation: its stacks (one per optimizer configuration), one forward and backward
    pass for all members per step, the compiled epoch and validation, the copy back into members' models."""

    def __init__(self, members, batch_size: int):
        import tensorflow as tf

        self.members = members
        self.batch_size = batch_size
        first = members[0].model
        self.layers = [layer for layer in first.layers if type(layer).__name__ != "InputLayer"]
        self.dtype = first.compute_dtype
        by_config: dict = {}
        for i, m in enumerate(members):
            by_config.setdefault(optimizer_key(m.model.optimizer), []).append(i)
        self.stacks = [Stack(indices, members) for indices in by_config.values()]
        # the group's member axis: the stacks' members one after another
        self.order = [i for stack in self.stacks for i in stack.indices]
        self.position = {i: p for p, i in enumerate(self.order)}
        ordered = [members[i] for i in self.order]
        models = [m.model for m in ordered]
        # each dropout layer's seed generator state, one row per member: each member draws its own masks, from
        # the state its run alone would have (``stacked_layers.forward``)
        dropouts = [j for j, layer in enumerate(first.layers) if type(layer).__name__ == "Dropout" and layer.rate]
        self.seed_states = [_stacked_rows(models, lambda m, j=j: m.layers[j].seed_generator.state) for j in dropouts]
        # each batch normalization's moving mean and variance, one row per member
        norms = [j for j, layer in enumerate(first.layers) if type(layer).__name__ == "BatchNormalization"]
        self.norm_states = [tuple(_stacked_rows(models, lambda m, j=j, name=name: getattr(m.layers[j], name))
                                  for name in ("moving_mean", "moving_variance")) for j in norms]
        self.member_states = {i: [m.model.layers[j].seed_generator.state for j in dropouts]
                              + [v for j in norms for v in (m.model.layers[j].moving_mean,
                                                           m.model.layers[j].moving_variance)]
                              for i, m in enumerate(members)}
        self.x = tf.constant(np.stack([np.asarray(m.x_train) for m in ordered]), dtype=self.dtype)
        self.y = tf.constant(np.stack([np.asarray(m.y_train) for m in ordered]))
        # class weights: each member's per-sample weights (ones for a member without them: the same arithmetic)
        self.weights = tf.constant(np.stack([np.ones(len(m.x_train), "float32") if m.sample_weight is None
                                             else np.asarray(m.sample_weight, "float32") for m in ordered]),
                                   dtype=self.dtype) if any(m.sample_weight is not None for m in ordered) else None
        self.penalties = []  # (index among the trainable variables, its layer's regularizer) of each penalized kernel
        at = 0
        for layer in self.layers:
            if type(layer).__name__ in WEIGHTED_LAYERS:
                if layer.kernel_regularizer is not None:
                    self.penalties.append((at, layer.kernel_regularizer))
                at += 1 + bool(layer.use_bias)
            elif type(layer).__name__ == "BatchNormalization":
                at += 2  # gamma, beta
        self.n_train = len(members[0].x_train)
        has_val = members[0].x_val is not None
        self.x_val = tf.constant(np.stack([np.asarray(m.x_val) for m in ordered]), dtype=self.dtype) \
            if has_val else None
        self.y_val = tf.constant(np.stack([np.asarray(m.y_val) for m in ordered])) if has_val else None
        self._sums_for(models)
        self._train = None
        self._validate = None
        self.validate_with_training = self.x_val is not None and self.sums is not None
        self._val_logs: dict = {}

    def _sums_for(self, models) -> None:
        """When every member logs the same mean-of-values metrics, one stacked variable sums them (``sums``, one
        row per metric, one column per member; ``names`` their log names, loss first, as Keras'
        ``get_metrics_result`` names them); otherwise ``sums`` is None and each member updates its own metrics."""
        import tensorflow as tf

        self.sums = self.count = self.names = None
        metrics = [_mean_metrics(m) for m in models]
        if any(ms is None for ms in metrics) or len({tuple((type(x), getattr(x, "_fn", None)) for x in ms)
                                                     for ms in metrics}) != 1:
            return
        names = [list(m.get_metrics_result()) for m in models]
        if any(n != names[0] for n in names) or len(names[0]) != len(metrics[0]):
            return
        self.names = names[0]
        self.metric_fns = [(x._fn, getattr(x, "_fn_kwargs", {}) or {}) for x in metrics[0][1:]]
        shape = (len(metrics[0]), len(models))
        self.sums, self.val_sums = (tf.Variable(tf.zeros(shape), trainable=False) for _ in range(2))
        self.count, self.val_count = (tf.Variable(0.0, trainable=False) for _ in range(2))

    # --- the stacked forward pass (stacked_layers) -------------------------------------------
    # "matmul": one batched matmul per Dense layer (kept: the fastest measured); "vectorized_map":
    # tf.vectorized_map over the first member's Keras stateless_call (measured by benchmarks/stacked_seeds.py).
    FORWARD = "matmul"
    # "loop": one convolution per member (kept: bitwise the run alone's); "grouped": the K members' convolutions as
    # one grouped convolution, faster but not bitwise, which the catalog CNN amplifies past 1e-3 (stacked_layers)
    CONVOLUTION = "loop"

    def _variables(self) -> list:
        """Every trainable weight of all members, (K, ...): the stacks' variables concatenated along the member
        axis (inside the traced step: the gradient of a concatenation is each stack's slice, untouched)."""
        import tensorflow as tf

        if len(self.stacks) == 1:
            return list(self.stacks[0].variables)
        return [tf.concat(parts, 0) for parts in zip(*(stack.variables for stack in self.stacks))]

    def forward(self, variables, x, training: bool):
        """The stacked network on ``x`` (K, batch, ...) with ``variables``: (outputs, logits), the members' outputs
        and the input of the last activation (``stacked_layers.forward``; None: the outputs' own)."""
        if self.FORWARD == "vectorized_map":
            import tensorflow as tf

            template = self.members[0].model

            def one(args):
                return template.stateless_call(list(args[:-1]), [], args[-1], training=True)[0]

            return tf.vectorized_map(one, (*variables, x)), None
        return forward(self.layers, _Forward(variables, self.seed_states, self.norm_states), x, training,
                       self.CONVOLUTION)

    def _update_metrics(self, y, y_pred, losses, weights=None, validation: bool = False):
        """Each member's loss and metrics for this batch, as ``train_step``/``test_step`` update them: the loss
        tracker gets the (class-weighted) loss over the batch's samples; compiled ``metrics`` ignore sample weights
        in Keras (only ``weighted_metrics`` read them). Mean-of-values metrics (the loss tracker, accuracy, mae...)
        are summed stacked into ``sums`` (one row per metric); others are updated member by member from the
        member's slice (with its ``weights``, for a model compiled with weighted metrics)."""
        import tensorflow as tf

        batch = tf.cast(tf.shape(y)[1], self.dtype)
        if self.sums is not None:
            rows = [losses * batch]
            for fn, kwargs in self.metric_fns:
                values = tf.cast(fn(y, y_pred, **kwargs), self.dtype)
                values = tf.reshape(values, [tf.shape(values)[0], tf.shape(y)[1], -1])
                rows.append(tf.reduce_sum(tf.reduce_mean(values, axis=2), axis=1))
            sums, count = (self.val_sums, self.val_count) if validation else (self.sums, self.count)
            sums.assign_add(tf.stack(rows))
            count.assign_add(batch)
            return
        for p, i in enumerate(self.order):
            model = self.members[i].model
            model._loss_tracker.update_state(losses[p], sample_weight=batch)
            if model._compile_metrics is not None:
                model._compile_metrics.update_state(y[p], y_pred[p],
                                                    sample_weight=None if weights is None else weights[p])

    def _start_sums(self):
        """Zero the stacked sums; without them, every member starts its own Keras metrics afresh."""
        if self.sums is None:
            for m in self.members:
                m.model.reset_metrics()
            return
        for sums, count in ((self.sums, self.count), (self.val_sums, self.val_count)):
            sums.assign(np.zeros(sums.shape, np.float32))
            count.assign(0.0)

    def _logs(self, prefix: str = "", validation: bool = False) -> dict[int, dict]:
        """Every member's logs of the pass just made, as ``fit`` logs them: from the stacked sums (one read; a
        Keras ``Mean`` is ``total / count`` in float32, so the values are the same), else from the member's own
        Keras metrics."""
        from keras.src.utils.python_utils import pythonify_logs

        if self.sums is None:
            return {i: {prefix + k: v for k, v in pythonify_logs(m.model.get_metrics_result()).items()}
                    for i, m in enumerate(self.members)}
        sums, count = (self.val_sums, self.val_count) if validation else (self.sums, self.count)
        sums, count = sums.numpy(), np.float32(count.numpy())
        return {i: {prefix + name: float(sums[row, p] / count) if count else 0.0 for row, name in enumerate(self.names)}
                for p, i in enumerate(self.order)}

    def _member_losses(self, variables, y, y_pred, logits, weights=None):
        """Each member's loss, (K,), computed as its ``train_step`` computes it alone, op for op on its own slices
        where a batched op would round otherwise (measured): the categorical cross-entropy of a softmax output from
        the logits (``stacked_layers.member_cross_entropy``), any other compiled loss called on each member's
        output, the last activation applied to its own slice of the ``logits``; each with its sample ``weights``
        (class weights); plus the L1/L2 penalties of its own kernels from the layers' own regularizers, summed as
        Keras' ``compute_loss`` sums them (in training and validation alike)."""
        import keras
        import tensorflow as tf

        members = y.shape[0]
        loss, last = self.members[0].model.loss, getattr(self.layers[-1], "activation", None)
        if (type(loss) is keras.losses.CategoricalCrossentropy and logits is not None and y_pred.op.type == "Softmax"
                and loss.get_config() | {"name": None} == {"name": None, "reduction": "sum_over_batch_size",
                                                           "from_logits": False, "label_smoothing": 0.0, "axis": -1}):
            terms = tf.unstack(member_cross_entropy(logits, tf.cast(y, logits.dtype), weights), num=members)
        else:
            outputs = tf.unstack(y_pred, num=members) if logits is None else [last(z) for z in tf.unstack(logits, num=members)]
            sample_weights = [None] * members if weights is None else tf.unstack(weights, num=members)
            terms = [self.members[0].model._compile_loss(y_k, out, w) for y_k, out, w in
                     zip(tf.unstack(y, num=members), outputs, sample_weights)]
        penalized = [(regularizer, tf.unstack(variables[at], num=members)) for at, regularizer in self.penalties]
        if not penalized:
            return tf.stack(terms)
        return tf.stack([keras.ops.sum([term] + [keras.ops.sum(regularizer(kernels[k])) for regularizer, kernels in penalized])
                         for k, term in enumerate(terms)])

    def train_epoch(self, epoch: int) -> dict[int, dict]:
        """One epoch of every member; returns each member's training logs. When the metrics are summed stacked,
        the validation pass runs in the same compiled call (one function traced instead of two: about 0.1 s less
        per group) and ``validate`` returns its logs."""
        import tensorflow as tf

        if self._train is None:
            self._train = tf.function(self._train_epoch, autograph=False)
        orders = tf.constant(np.stack([epoch_order(self.members[i].seed, epoch, self.n_train, self.members[i].shuffle)
                                       for i in self.order]))
        self._start_sums()
        self._train(orders)
        if self.validate_with_training:
            self._val_logs = self._logs("val_", validation=True)
        return self._logs()

    def _train_epoch(self, orders):
        """The compiled epoch: per step, each member's own batch gathered into one (K, batch, ...) tensor, one
        forward and backward pass for all members, then each stack's optimizer updates its slices."""
        import tensorflow as tf

        steps = -(-self.n_train // self.batch_size)
        trainable = [v for stack in self.stacks for v in stack.variables]

        def body(step):
            start = step * self.batch_size
            chosen = orders[:, start:start + self.batch_size]
            x = tf.gather(self.x, chosen, batch_dims=1)
            y = tf.gather(self.y, chosen, batch_dims=1)
            weights = None if self.weights is None else tf.gather(self.weights, chosen, batch_dims=1)
            with tf.GradientTape() as tape:
                variables = self._variables()
                y_pred, logits = self.forward(variables, x, training=True)
                losses = self._member_losses(variables, y, y_pred, logits, weights)
                total = tf.reduce_sum(losses)
            grads = tape.gradient(total, trainable)
            at = 0
            for stack in self.stacks:
                count = len(stack.variables)
                stack.optimizer.apply_gradients(zip(grads[at:at + count], stack.variables))
                at += count
            self._update_metrics(y, y_pred, losses, weights)
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, body, (tf.constant(0),))
        if self.validate_with_training:  # after the epoch's last update (the ops on the variables keep their order)
            self._validation()

    def validate(self) -> dict[int, dict]:
        """Every member's validation pass; returns each member's ``val_`` logs."""
        import tensorflow as tf

        if self.x_val is None:
            return {}
        if self.validate_with_training:
            return self._val_logs
        if self._validate is None:
            self._validate = tf.function(self._validation, autograph=False)
        self._start_sums()
        self._validate()
        return self._logs("val_")

    def _validation(self):
        import tensorflow as tf

        steps = -(-self.x_val.shape[1] // self.batch_size)

        def body(step):
            start = step * self.batch_size
            x = self.x_val[:, start:start + self.batch_size]
            y = self.y_val[:, start:start + self.batch_size]
            variables = self._variables()
            y_pred, logits = self.forward(variables, x, training=False)
            self._update_metrics(y, y_pred, self._member_losses(variables, y, y_pred, logits), validation=True)
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, body, (tf.constant(0),))

    def copy_back(self, active) -> None:
        """Each active member's slice of the weights, optimizer state, seed states and moving statistics into its
        own model and optimizer: one unstack per stacked variable, then one raw assign per member variable,
        eagerly (about 6 ms an epoch for 12 members; a compiled copy cost 0.33-0.5 s of tracing, a Keras
        ``assign`` of a slice per variable 63 ms an epoch). A member's own learning rate stays its own."""
        import tensorflow as tf

        active = frozenset(active)
        rows: dict = {}

        def row(value, count: int, at: int):
            if id(value) not in rows:
                rows[id(value)] = tf.unstack(_raw(value).read_value(), num=count)
            return rows[id(value)][at]

        states = self.seed_states + [v for pair in self.norm_states for v in pair]
        for stack in self.stacks:
            slots = stack.slots(stack.optimizer)
            count = len(stack.indices)
            for at, i in enumerate(stack.indices):
                if i not in active:
                    continue
                model = self.members[i].model
                assigns = [(var, row(value, count, at)) for var, value in zip(model.trainable_weights, stack.variables)]
                assigns += [(var, row(value, len(self.order), self.position[i]))
                            for var, value in zip(self.member_states[i], states)]
                own = stack.slots(model.optimizer)
                if len(own) == len(slots):
                    assigns += [(var, row(value, count, at) if tuple(value.shape) != tuple(var.shape)
                                 else _raw(value).read_value()) for var, value in zip(own, slots)]
                for var, new in assigns:
                    raw = _raw(var)
                    tf.raw_ops.AssignVariableOp(resource=raw.handle, value=tf.cast(new, raw.dtype))
