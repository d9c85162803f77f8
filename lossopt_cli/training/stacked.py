"""Horizontal fusion: the members of a fused group that share a network (Dense, Conv2D, pooling, dropout, batch
normalization) trained as ONE stacked computation.

Every weight of the K members gets a leading member axis (a kernel ``(in, out)`` becomes ``(K, in, out)``)
and each step is one batched matmul per Dense layer for all K, each member on its own batch (its own order,
``batches.epoch_order``), from its own initial weights (copied from its built model), with its own loss.
Members whose optimizers have the same configuration, the learning rate apart, share one Keras optimizer
over their stacked variables (``stacked_optimizers``): the optimizers this module accepts update element by
element, so one update of a stacked variable is exactly K updates of its slices (and K sets of moments), each
with its member's own rate. Members whose optimizers differ otherwise form separate stacks; the forward and
backward pass is still one for all members (the stacks' variables concatenated along the member axis).
The total loss is the sum of the members' losses: member j's loss does not depend on member k's
weights, so the gradient of each slice is that member's own gradient.

The members' Keras models keep the truth outside the step: each epoch's logs are read from the stacked
sums of the loss and the mean-of-values metrics (one read per stack; other metrics are updated in each
member's own Keras metrics from its slice of the predictions), and after every epoch the stacked
weights and optimizer slots are copied back into the member's model and optimizer, so its callbacks
(early stopping with ``restore_best_weights``, checkpoints, the recorder) see the run as ``fit`` does.
A member that leaves (early stopping) keeps the weights copied at its last epoch; its slice goes on
being computed but is never read again.

The step of a member is bitwise the step of its run alone (measured: the catalog MLP and CNN, 12 seeds, final
val_loss equal to the last bit): the batched matmuls and the elementwise ops sum and round as the member's own do,
and where a batched op would not (a grouped convolution, the gradient of a broadcast bias, a cross-entropy over
the stacked batch, batch normalization's moments), each member's slice gets its own op, still inside the one
compiled epoch.

This module decides: ``stack_reason(members, initial_epoch)`` says why a group cannot be stacked (None when it
can; ``fused.fit_fused`` then keeps its loop of per-member ``train_step`` calls), ``config_reason`` the same from a
config alone. ``stacked_group`` holds the computation and ``stacked_layers`` its forward pass.
"""

from __future__ import annotations

from ..config import RunConfig

# Optimizers whose update of a variable is element by element (no norm over a whole variable).
ELEMENTWISE_OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion", "Ftrl")
CHAIN_LAYERS = ("InputLayer", "Reshape", "Flatten", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D",
                "Activation", "BatchNormalization")
WEIGHTED_LAYERS = ("Dense", "Conv2D")  # a kernel (and a bias): its L1/L2 penalty is stacked
# Convolutional networks are stacked (a switch for tests; off, CNN groups keep the per-member loop). The catalog
# CNN is chaotic: a member leaves 1e-3 of its run alone once the last bit of one sum flips a ReLU or a pooling tie
# (the same run alone on 1 thread instead of 2: 1.6e-3 after 5 epochs), so its stacked step is bitwise the run
# alone's: one convolution per member (a grouped convolution adds in another order), the bias gradients and each
# member's loss as Keras computes them alone (stacked_group, stacked_layers; docs/fusion.md).
STACK_CONVOLUTIONS = True
CNN_REASON = ("a convolutional network (stacked.STACK_CONVOLUTIONS is off; the stacked CNN must be bitwise the run "
              "alone: docs/fusion.md)")
DETERMINISM_REASON = ("TensorFlow's op determinism (deterministic: true) picks other kernels for a run alone than "
                      "the stacked step's; the per-member loop is the run alone bit for bit")
# Optimizers (Keras classes) whose update divides by the rate: TensorFlow divides by a scalar and by a tensor
# differently (1e-7 apart, tests/test_stacked_rates.py), so each of their rates keeps a stack of its own.
RATE_DIVIDERS = ("Ftrl",)
PER_EPOCH_LR_CALLBACKS = ("ReduceLROnPlateau", "LearningRateScheduler")


STACKED_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax",
                      "nadam", "ftrl", "lion")


def config_reason(config: RunConfig) -> str | None:
    """Why a run of this config falls back to the per-member fused loop (None: it is stacked), read from
    the config alone (``--dry-run``, no TensorFlow). ``stack_reason`` decides on the built models."""
    model, optimizer = config.model, config.optimizer
    if model.type == "cnn" and not STACK_CONVOLUTIONS:
        return f"model.type cnn: {CNN_REASON}"
    if config.deterministic:
        return f"deterministic: true ({DETERMINISM_REASON})"
    if model.type not in ("mlp", "cnn"):
        return f"model.type {model.type} (stacked: mlp)"
    if optimizer.name not in STACKED_OPTIMIZERS:
        return f"optimizer {optimizer.name} (stacked: element-wise optimizers {', '.join(STACKED_OPTIMIZERS)})"
    if optimizer.clipnorm or optimizer.global_clipnorm:
        return "optimizer clipnorm/global_clipnorm (a norm over a whole variable)"
    if config.training.reduce_lr_on_plateau:
        return "training.reduce_lr_on_plateau (changes one member's rate during training)"
    return None


def stack_key(config: RunConfig) -> str:
    """Runs of a stacked group with the same key share one stack (one Keras optimizer over their stacked variables,
    ``stacked_group.optimizer_key`` on the built optimizers): the optimizer section but for a numeric learning rate,
    which each member keeps its own (not Ftrl's: it divides by it)."""
    import json

    section = dict(config.to_dict()["optimizer"])
    dividers = {name.lower() for name in RATE_DIVIDERS}  # the catalog's names of those Keras classes
    if isinstance(section.get("learning_rate"), (int, float)) and section.get("name") not in dividers:
        section.pop("learning_rate")
    return json.dumps(section, sort_keys=True, default=str)


def stack_reason(members, initial_epoch: int = 0) -> str | None:
    """Why these members cannot be trained as one stacked computation (None when they can)."""
    if len(members) < 2:
        return "a group of one"
    if initial_epoch:
        return "a resumed run (its optimizer state lives in its own optimizer)"
    from tensorflow.python.framework.config import is_op_determinism_enabled

    if is_op_determinism_enabled():  # turned on in this process (a deterministic run before, a notebook)
        return DETERMINISM_REASON
    first = members[0].model
    for m in members:
        reason = _model_reason(m.model)
        if reason:
            return reason
        if _architecture(m.model) != _architecture(first):
            return "the members' architectures differ"
        if type(m.model.loss) is not type(first.loss) or _loss_config(m.model.loss) != _loss_config(first.loss):
            return "the members' losses differ"
        if m.x_train.shape[1:] != members[0].x_train.shape[1:]:
            return "the members' input shapes differ"
        for cb in m.callbacks:
            if type(cb).__name__ in PER_EPOCH_LR_CALLBACKS:
                return f"{type(cb).__name__} changes one member's learning rate during training"
    return None


def _model_reason(model) -> str | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return "a model without an optimizer"
    name = type(optimizer).__name__
    if name not in ELEMENTWISE_OPTIMIZERS:
        return f"optimizer {name} (only element-wise optimizers are stacked: {', '.join(ELEMENTWISE_OPTIMIZERS)})"
    config = optimizer.get_config()
    if config.get("clipnorm") or config.get("global_clipnorm"):
        return "gradient clipping by norm (a norm over a whole variable)"
    if config.get("gradient_accumulation_steps"):
        return "gradient accumulation"
    if isinstance(model.loss, (list, tuple, dict)):
        return "a model with several outputs"
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dropout" and layer.rate and (layer.noise_shape is not None
                                                 or getattr(layer, "seed_generator", None) is None):
            return "dropout with a noise shape (stacked: Keras' Dropout with its own seed generator)"
        if kind == "BatchNormalization" and (layer.axis not in (-1, len(layer.input.shape) - 1) or layer.renorm
                                             or layer.synchronized or not layer.center or not layer.scale
                                             or not layer.trainable or len(layer.input.shape) not in (2, 4)):
            return "batch normalization other than Keras' default after a Dense or Conv2D layer"
        if kind not in CHAIN_LAYERS and kind != "Dropout":
            return f"layer {kind} (stacked: {', '.join(CHAIN_LAYERS)})"
        if kind == "Conv2D" and not STACK_CONVOLUTIONS:
            return CNN_REASON
        if kind == "Conv2D" and (layer.groups != 1 or layer.data_format != "channels_last"
                                 or tuple(layer.dilation_rate) != (1, 1)):
            return "a grouped, dilated or channels-first convolution"
        if kind in ("MaxPooling2D", "AveragePooling2D") and layer.data_format != "channels_last":
            return "channels-first pooling"
        if kind in WEIGHTED_LAYERS and (layer.bias_regularizer or layer.activity_regularizer or layer.kernel_constraint
                                        or layer.bias_constraint):
            return f"a bias or activity penalty, or a constraint, on a {kind} layer (stacked: L1/L2 on kernels)"
        if kind in WEIGHTED_LAYERS and layer.kernel_regularizer is not None and l1_l2(layer.kernel_regularizer) is None:
            return f"kernel regularizer {type(layer.kernel_regularizer).__name__} (stacked: L1, L2, L1L2)"
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return "a model with several inputs or outputs"
    penalized = sum(type(layer).__name__ in WEIGHTED_LAYERS and layer.kernel_regularizer is not None
                    for layer in model.layers)
    if len(model.losses) != penalized:
        return "a model with added losses"
    return None


def _architecture(model):
    return [(type(layer).__name__, tuple(tuple(w.shape) for w in layer.weights),
             getattr(getattr(layer, "activation", None), "__name__", None), getattr(layer, "rate", None),
             *(repr(getattr(layer, key, None)) for key in ("strides", "padding", "pool_size", "target_shape")),
             l1_l2(getattr(layer, "kernel_regularizer", None))) for layer in model.layers]


def l1_l2(regularizer) -> tuple[float, float] | None:
    """(l1, l2) of Keras' L1, L2 or L1L2 penalty (None for no penalty or another kind)."""
    import keras

    if regularizer is None or not isinstance(regularizer, (keras.regularizers.L1, keras.regularizers.L2,
                                                           keras.regularizers.L1L2)):
        return None
    config = regularizer.get_config()
    return float(config.get("l1", 0.0) or 0.0), float(config.get("l2", 0.0) or 0.0)


def _loss_config(loss):
    if isinstance(loss, str) or not hasattr(loss, "get_config"):
        return loss
    return loss.get_config()
