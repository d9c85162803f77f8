"""The stacked computation of a fused group (``stacked`` decides which groups qualify): every weight of the K
members gets a leading member axis, members whose optimizers have the same configuration share one Keras
optimizer over the stacked variables (a ``_Stack``), and ``StackedGroup`` runs the compiled epoch and validation
for all stacks and copies the state back into each member's model. See ``stacked``'s docstring for why the
arithmetic is each member's own."""

from __future__ import annotations

import numpy as np

from .batches import epoch_order
from .stacked import WEIGHTED_LAYERS, l1_l2
from .stacked_layers import forward, member_cross_entropy


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


class _Stack:
    """The members that share one optimizer configuration: stacked variables and one Keras optimizer."""

    def __init__(self, indices, members):
        import tensorflow as tf

        self.indices = indices
        models = [members[i].model for i in indices]
        self.variables = [tf.Variable(np.stack([np.asarray(m.trainable_weights[j].numpy()) for m in models]),
                                      name=f"stacked_{j}") for j in range(len(models[0].trainable_weights))]
        # each dropout layer's seed generator state, one row per member: each member draws its own masks, from
        # the state its run alone would have (``StackedGroup.forward``)
        dropouts = [j for j, layer in enumerate(models[0].layers) if type(layer).__name__ == "Dropout" and layer.rate]
        self.seed_states = [tf.Variable(np.stack([np.asarray(m.layers[j].seed_generator.state.numpy()) for m in models]),
                                        trainable=False, name=f"stacked_seed_{j}") for j in dropouts]
        self.member_seed_states = [[m.layers[j].seed_generator.state for j in dropouts] for m in models]
        # each batch normalization's moving mean and variance, one row per member
        norms = [j for j, layer in enumerate(models[0].layers) if type(layer).__name__ == "BatchNormalization"]
        self.norm_states = [tuple(tf.Variable(np.stack([np.asarray(getattr(m.layers[j], name).numpy()) for m in models]),
                                              trainable=False) for name in ("moving_mean", "moving_variance"))
                            for j in norms]
        self.member_norm_states = [[v for j in norms for v in (m.layers[j].moving_mean, m.layers[j].moving_variance)]
                                   for m in models]
        source = models[0].optimizer
        self.optimizer = type(source).from_config(source.get_config())
        self.optimizer.build(self.variables)
        self.sums = self.count = None
        self.names = None  # the log names of the rows of ``sums`` (loss first), as Keras' get_metrics_result names them
        metrics = [_mean_metrics(m) for m in models]
        if all(ms is not None for ms in metrics) and len({tuple((type(x), x._fn if hasattr(x, "_fn") else None)
                                                                for x in ms) for ms in metrics}) == 1:
            names = [list(m.get_metrics_result()) for m in models]
            if all(n == names[0] for n in names) and len(names[0]) == len(metrics[0]):
                self.names = names[0]
                self.metric_fns = [(x._fn, getattr(x, "_fn_kwargs", {}) or {}) for x in metrics[0][1:]]
                self.sums = tf.Variable(tf.zeros((len(metrics[0]), len(indices))), trainable=False)
                self.count = tf.Variable(0.0, trainable=False)
                self.val_sums = tf.Variable(tf.zeros((len(metrics[0]), len(indices))), trainable=False)
                self.val_count = tf.Variable(0.0, trainable=False)


class StackedGroup:
    """The whole group: its stacks, the compiled epoch and validation, the copy back into members' models."""

    def __init__(self, members, batch_size: int):
        import tensorflow as tf

        self.members = members
        self.batch_size = batch_size
        first = members[0].model
        self.layers = [layer for layer in first.layers if type(layer).__name__ != "InputLayer"]
        self.dtype = first.compute_dtype
        by_config: dict = {}
        for i, m in enumerate(members):
            settings = {k: v for k, v in m.model.optimizer.get_config().items() if k != "name"}
            key = (type(m.model.optimizer).__name__, repr(sorted(settings.items(), key=str)))
            by_config.setdefault(key, []).append(i)
        self.stacks = [_Stack(indices, members) for indices in by_config.values()]
        self.x = [tf.constant(np.stack([np.asarray(members[i].x_train) for i in s.indices]), dtype=self.dtype)
                  for s in self.stacks]
        self.y = [tf.constant(np.stack([np.asarray(members[i].y_train) for i in s.indices])) for s in self.stacks]
        # class weights: each member's per-sample weights (ones for a member without them: the same arithmetic)
        self.weights = [tf.constant(np.stack([np.ones(len(members[i].x_train), "float32") if members[i].sample_weight
                                              is None else np.asarray(members[i].sample_weight, "float32")
                                              for i in s.indices]), dtype=self.dtype)
                        if any(members[i].sample_weight is not None for i in s.indices) else None for s in self.stacks]
        self.penalties = []  # (index among the trainable variables, (l1, l2)) of each penalized kernel
        at = 0
        for layer in self.layers:
            if type(layer).__name__ in WEIGHTED_LAYERS:
                if l1_l2(layer.kernel_regularizer):
                    self.penalties.append((at, l1_l2(layer.kernel_regularizer)))
                at += 1 + bool(layer.use_bias)
            elif type(layer).__name__ == "BatchNormalization":
                at += 2  # gamma, beta
        self.n_train = len(members[0].x_train)
        has_val = members[0].x_val is not None
        self.x_val = [tf.constant(np.stack([np.asarray(members[i].x_val) for i in s.indices]), dtype=self.dtype)
                      for s in self.stacks] if has_val else None
        self.y_val = [tf.constant(np.stack([np.asarray(members[i].y_val) for i in s.indices])) for s in self.stacks] \
            if has_val else None
        self._train = None
        self._validate = None
        self.validate_with_training = self.x_val is not None and all(stack.sums is not None for stack in self.stacks)
        self._val_logs: dict = {}

    # --- the stacked forward pass (stacked_layers) -------------------------------------------
    # "matmul": one batched matmul per Dense layer (kept: the fastest measured); "vectorized_map":
    # tf.vectorized_map over the first member's Keras stateless_call (measured by benchmarks/stacked_seeds.py).
    FORWARD = "matmul"
    # "loop": one convolution per member (kept: bitwise the run alone's); "grouped": the K members' convolutions as
    # one grouped convolution, faster but not bitwise, which the catalog CNN amplifies past 1e-3 (stacked_layers)
    CONVOLUTION = "loop"

    def forward(self, stack, x, training: bool):
        """The stacked network on ``x`` (K, batch, ...) with the stack's variables: (outputs, logits), the members'
        outputs and the input of the last activation (``stacked_layers.forward``; None: the outputs' own)."""
        if self.FORWARD == "vectorized_map":
            import tensorflow as tf

            template = self.members[0].model

            def one(args):
                return template.stateless_call(list(args[:-1]), [], args[-1], training=True)[0]

            return tf.vectorized_map(one, (*stack.variables, x)), None
        return forward(self.layers, stack, x, training, self.CONVOLUTION)

    def _update_metrics(self, s, stack, y, y_pred, losses, weights=None, validation: bool = False):
        """Each member's loss and metrics for this batch, as ``train_step``/``test_step`` update them: the loss
        tracker gets the (class-weighted) loss over the batch's samples; compiled ``metrics`` ignore sample weights
        in Keras (only ``weighted_metrics`` read them). Mean-of-values metrics (the loss tracker, accuracy, mae...)
        are summed stacked into ``stack.sums`` (one row per metric); others are updated member by member from the
        member's slice (with its ``weights``, for a model compiled with weighted metrics)."""
        import tensorflow as tf

        batch = tf.cast(tf.shape(y)[1], self.dtype)
        if stack.sums is not None:
            rows = [losses * batch]
            for fn, kwargs in stack.metric_fns:
                values = tf.cast(fn(y, y_pred, **kwargs), self.dtype)
                values = tf.reshape(values, [tf.shape(values)[0], tf.shape(y)[1], -1])
                rows.append(tf.reduce_sum(tf.reduce_mean(values, axis=2), axis=1))
            sums, count = (stack.val_sums, stack.val_count) if validation else (stack.sums, stack.count)
            sums.assign_add(tf.stack(rows))
            count.assign_add(batch)
            return
        for slot, i in enumerate(stack.indices):
            model = self.members[i].model
            model._loss_tracker.update_state(losses[slot], sample_weight=batch)
            if model._compile_metrics is not None:
                model._compile_metrics.update_state(y[slot], y_pred[slot],
                                                    sample_weight=None if weights is None else weights[slot])

    def _start_sums(self):
        """Zero the stacked sums; the members of a stack without them start their own Keras metrics afresh."""
        for stack in self.stacks:
            if stack.sums is not None:
                for sums, count in ((stack.sums, stack.count), (stack.val_sums, stack.val_count)):
                    sums.assign(np.zeros(sums.shape, np.float32))
                    count.assign(0.0)
            else:
                for i in stack.indices:
                    self.members[i].model.reset_metrics()

    def _logs(self, prefix: str = "", validation: bool = False) -> dict[int, dict]:
        """Every member's logs of the pass just made, as ``fit`` logs them: from the stacked sums (one read per
        stack; a Keras ``Mean`` is ``total / count`` in float32, so the values are the same), else from the
        member's own Keras metrics."""
        from keras.src.utils.python_utils import pythonify_logs

        logs: dict[int, dict] = {}
        for stack in self.stacks:
            if stack.sums is None:
                for i in stack.indices:
                    logs[i] = {prefix + k: v for k, v in pythonify_logs(self.members[i].model.get_metrics_result()).items()}
                continue
            sums, count = (stack.val_sums, stack.val_count) if validation else (stack.sums, stack.count)
            sums, count = sums.numpy(), np.float32(count.numpy())
            for slot, i in enumerate(stack.indices):
                logs[i] = {prefix + name: float(sums[row, slot] / count) if count else 0.0
                           for row, name in enumerate(stack.names)}
        return logs

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
        penalized, at = [], 0
        for layer in self.layers:
            if type(layer).__name__ in WEIGHTED_LAYERS:
                if layer.kernel_regularizer is not None:
                    penalized.append((layer.kernel_regularizer, tf.unstack(variables[at], num=members)))
                at += 1 + bool(layer.use_bias)
            elif type(layer).__name__ == "BatchNormalization":
                at += 2  # gamma, beta
        if not penalized:
            return tf.stack(terms)
        return tf.stack([keras.ops.sum([term] + [keras.ops.sum(regularizer(kernels[k])) for regularizer, kernels in penalized])
                         for k, term in enumerate(terms)])

    def train_epoch(self, epoch: int) -> dict[int, dict]:
        """One epoch of every member; returns each member's training logs. When every stack sums its metrics, the
        validation pass runs in the same compiled call (one function traced instead of two: about 0.1 s less per
        group) and ``validate`` returns its logs."""
        import tensorflow as tf

        if self._train is None:
            self._train = tf.function(self._train_epoch, autograph=False)
        orders = [tf.constant(np.stack([epoch_order(self.members[i].seed, epoch, self.n_train, self.members[i].shuffle)
                                        for i in s.indices])) for s in self.stacks]
        self._start_sums()
        self._train(orders)
        if self.validate_with_training:
            self._val_logs = self._logs("val_", validation=True)
        return self._logs()

    def _train_epoch(self, orders):
        import tensorflow as tf

        steps = -(-self.n_train // self.batch_size)

        def body(step):
            start = step * self.batch_size
            for s, stack in enumerate(self.stacks):
                chosen = orders[s][:, start:start + self.batch_size]
                x = tf.gather(self.x[s], chosen, batch_dims=1)
                y = tf.gather(self.y[s], chosen, batch_dims=1)
                weights = None if self.weights[s] is None else tf.gather(self.weights[s], chosen, batch_dims=1)
                with tf.GradientTape() as tape:
                    y_pred, logits = self.forward(stack, x, training=True)
                    losses = self._member_losses(stack.variables, y, y_pred, logits, weights)
                    total = tf.reduce_sum(losses)
                grads = tape.gradient(total, stack.variables)
                stack.optimizer.apply_gradients(zip(grads, stack.variables))
                self._update_metrics(s, stack, y, y_pred, losses, weights)
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

        n = self.x_val[0].shape[1]
        steps = -(-n // self.batch_size)

        def body(step):
            start = step * self.batch_size
            for s, stack in enumerate(self.stacks):
                x = self.x_val[s][:, start:start + self.batch_size]
                y = self.y_val[s][:, start:start + self.batch_size]
                y_pred, logits = self.forward(stack, x, training=False)
                self._update_metrics(s, stack, y, y_pred, self._member_losses(stack.variables, y, y_pred, logits),
                                     validation=True)
            return (step + 1,)

        tf.while_loop(lambda step: step < steps, body, (tf.constant(0),))

    def copy_back(self, active) -> None:
        """Each active member's slice of the weights and optimizer state into its own model and optimizer: one
        unstack per stacked variable, then one raw assign per member variable, eagerly (about 6 ms an epoch for
        12 members; a compiled copy cost 0.33-0.5 s of tracing, a Keras ``assign`` of a slice per variable 63 ms
        an epoch)."""
        import tensorflow as tf

        active = frozenset(active)
        for stack in self.stacks:
            slots = stack.optimizer.variables
            targets = []  # per active member: its slot and (its variable, the stacked variable) pairs
            for slot, i in enumerate(stack.indices):
                if i not in active:
                    continue
                model = self.members[i].model
                own = model.optimizer.variables
                pairs = list(zip(model.trainable_weights, stack.variables))
                pairs += list(zip(stack.member_seed_states[slot], stack.seed_states))
                pairs += list(zip(stack.member_norm_states[slot], [v for pair in stack.norm_states for v in pair]))
                if len(own) == len(slots):
                    pairs += list(zip(own, slots))
                targets.append((slot, pairs))
            if not targets:
                continue
            count = len(stack.indices)
            parts = {}
            for _, pairs in targets[:1]:
                for var, value in pairs:
                    if tuple(value.shape) != tuple(var.shape):
                        parts[id(value)] = tf.unstack(_raw(value).read_value(), num=count)
            for slot, pairs in targets:
                for var, value in pairs:
                    raw = _raw(var)
                    new = parts[id(value)][slot] if id(value) in parts else _raw(value).read_value()
                    tf.raw_ops.AssignVariableOp(resource=raw.handle, value=tf.cast(new, raw.dtype))
