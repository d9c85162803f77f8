"""Models: named architectures built from the data's shape and the loss' output head.

A builder receives its validated parameters plus ``input_shape``, ``output_units`` and
``default_activation`` (decided by the loss and the task, see ``training.data``) and returns
an uncompiled ``keras.Model``. ``mlp`` and ``cnn`` are the usual dense and convolutional
networks, ``layers`` stacks any Keras layers by class name, and ``module:function`` (or
``path/to/file.py:function``) calls your own function.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..schema import (
    Bool,
    Choice,
    ConfigError,
    Constraint,
    Float,
    Int,
    ListOf,
    Mapping_,
    Optional,
    Param,
    must_be,
    suggest,
)
from .registry import Registry, custom_function

MODELS = Registry("model", selector="type")

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "gelu", "silu", "swish", "softplus", "leaky_relu", "linear")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
                "random_normal", "random_uniform", "orthogonal", "zeros")

OUTPUT_ACTIVATIONS = ACTIVATIONS + ("softmax", "log_softmax", "softsign", "exponential", "hard_sigmoid", "relu6",
                                   "mish")
OUTPUT_ACTIVATION = Param(None, Optional(Choice(OUTPUT_ACTIVATIONS)),
                          "override the output activation (default: from the loss)")
ACTIVATION = Param("relu", Choice(ACTIVATIONS), "activation of the hidden layers")
DROPOUT = Param(0.0, Float(0, 1, high_open=True), "dropout rate after each hidden block")
BATCH_NORM = Param(False, Bool(), "batch normalization before each hidden activation")
L1 = Param(0.0, Float(0), "L1 penalty on the hidden kernels")
L2 = Param(0.0, Float(0), "L2 penalty (weight decay in the loss) on the hidden kernels")
INITIALIZER = Param("glorot_uniform", Choice(INITIALIZERS), "kernel initializer of every layer")


def _regularizer(keras, l1, l2):
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def _hidden(keras, x, layer, activation, batch_norm, dropout):
    """layer -> [batch norm] -> activation -> [dropout]"""
    x = layer(x)
    if batch_norm:
        x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation(activation)(x)
    return keras.layers.Dropout(dropout)(x) if dropout else x


def _output(keras, x, output_units, activation, initializer):
    return keras.layers.Dense(output_units, activation=activation, kernel_initializer=initializer, name="output")(x)


@MODELS.register(
    "mlp", "fully connected network: Dense layers with an activation, optional batch norm, dropout, L1/L2",
    params={
        "hidden_units": Param([128], ListOf(Int(1), allow_scalar=True), "units of each hidden Dense layer ([] = "
                              "a linear/logistic model)"),
        "activation": ACTIVATION, "dropout": DROPOUT, "batch_norm": BATCH_NORM, "l1": L1, "l2": L2,
        "initializer": INITIALIZER, "output_activation": OUTPUT_ACTIVATION,
    },
)
def mlp(hidden_units, activation, dropout, batch_norm, l1, l2, initializer, output_activation, *, input_shape,
        output_units, default_activation):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for units in hidden_units:
        dense = keras.layers.Dense(units, kernel_initializer=initializer, kernel_regularizer=_regularizer(keras, l1, l2),
                                   use_bias=not batch_norm)
        x = _hidden(keras, x, dense, activation, batch_norm, dropout)
    outputs = _output(keras, x, output_units, output_activation or default_activation, initializer)
    return keras.Model(inputs, outputs, name="mlp")


def image_shape(input_shape: tuple) -> tuple | None:
    """(height, width, channels) for image-shaped data; a flat square vector (digits' 64) counts as one channel."""
    if len(input_shape) == 3:
        return tuple(input_shape)
    if len(input_shape) == 2:
        return (*input_shape, 1)
    if len(input_shape) == 1:
        side = math.isqrt(int(input_shape[0]))
        if side >= 4 and side * side == input_shape[0]:
            return (side, side, 1)
    return None


@MODELS.register(
    "cnn", "convolutional network for image-shaped data: conv blocks (conv, pooling) then a dense head; "
    "flat square inputs such as digits' 64 pixels are reshaped to 8x8x1",
    params={
        "filters": Param([32, 64], ListOf(Int(1), min_length=1, allow_scalar=True), "filters of each conv block"),
        "kernel_size": Param(3, Int(1), "side of the square convolution kernel"),
        "convs_per_block": Param(1, Int(1), "convolutions in each block before the pooling"),
        "pooling": Param("max", Choice(("max", "average", "none")), "2x2 pooling after each block"),
        "dense_units": Param([128], ListOf(Int(1), allow_scalar=True), "units of each Dense layer of the head"),
        "activation": ACTIVATION, "dropout": DROPOUT, "batch_norm": BATCH_NORM, "l1": L1, "l2": L2,
        "initializer": Param("he_uniform", Choice(INITIALIZERS), "kernel initializer of every layer"),
        "output_activation": OUTPUT_ACTIVATION,
    },
    tags={"images"},
)
def cnn(filters, kernel_size, convs_per_block, pooling, dense_units, activation, dropout, batch_norm, l1, l2,
        initializer, output_activation, *, input_shape, output_units, default_activation):
    import keras

    shape = image_shape(input_shape)
    if shape is None:
        raise ConfigError(f"model.type cnn needs image-shaped data (height, width[, channels]) or a flat square "
                          f"vector; this dataset's samples have shape {tuple(input_shape)}. Use model.type mlp.",
                          key="model.type")
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Reshape(shape)(inputs) if tuple(input_shape) != shape else inputs
    reg = _regularizer(keras, l1, l2)
    for n in filters:
        for _ in range(convs_per_block):
            conv = keras.layers.Conv2D(n, kernel_size, padding="same", kernel_initializer=initializer,
                                       kernel_regularizer=reg, use_bias=not batch_norm)
            x = _hidden(keras, x, conv, activation, batch_norm, 0.0)
        if pooling != "none" and min(x.shape[1], x.shape[2]) >= 2:
            x = (keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D)(2)(x)
    x = keras.layers.Flatten()(x)
    for units in dense_units:
        dense = keras.layers.Dense(units, kernel_initializer=initializer, kernel_regularizer=reg)
        x = _hidden(keras, x, dense, activation, False, dropout)
    outputs = _output(keras, x, output_units, output_activation or default_activation, initializer)
    return keras.Model(inputs, outputs, name="cnn")


class LayerSpec(Constraint):
    """``Dense`` or ``{class_name: Dense, units: 64, activation: relu}``: a Keras layer and its arguments."""

    expected = "a Keras layer class name or a mapping {class_name: <Keras layer>, <argument>: <value>, ...}"

    def __call__(self, value, path):
        if isinstance(value, str) and value.strip():
            value = {"class_name": value}
        if not (isinstance(value, Mapping) and isinstance(value.get("class_name"), str)
                and value["class_name"][:1].isupper()):
            raise must_be(path, self.expected, value)
        return dict(value)


@MODELS.register(
    "layers", "any stack of Keras layers by class name and arguments, e.g. [{class_name: Dense, units: 64, "
    "activation: relu}, {class_name: Dropout, rate: 0.2}]; the output layer is added from the loss",
    params={
        "layers": Param(None, ListOf(LayerSpec(), min_length=1), "the hidden layers, in order", required=True),
        "add_output": Param(True, Bool(), "append the output Dense layer chosen by the loss (false: your last "
                            "layer is the output)"),
        "output_activation": OUTPUT_ACTIVATION,
    },
)
def layer_stack(layers, add_output, output_activation, *, input_shape, output_units, default_activation):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = inputs
    for i, spec in enumerate(layers):
        path = f"model.layers[{i}]"
        args = {k: v for k, v in spec.items() if k != "class_name"}
        cls = getattr(keras.layers, spec["class_name"], None)
        if not isinstance(cls, type) or not issubclass(cls, keras.layers.Layer):
            valid = [n for n in dir(keras.layers) if n[:1].isupper()]
            raise ConfigError(f"{path}.class_name {spec['class_name']!r} is not a Keras layer."
                              f"{suggest(spec['class_name'], valid)} See keras.io/api/layers.",
                              key=f"{path}.class_name")
        try:
            x = cls(**args)(x)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: {spec['class_name']}({', '.join(f'{k}={v!r}' for k, v in args.items())}) "
                              f"failed: {exc}", key=path) from None
    if add_output:
        x = _output(keras, x, output_units, output_activation or default_activation, "glorot_uniform")
    return keras.Model(inputs, x, name="layers")


# --- custom models: module:function or path/to/file.py:function --------------------------------

CUSTOM_PARAMS = {"args": Param({}, Mapping_(), "extra keyword arguments for your function")}


def _build_custom(reference: str):
    def build(args, *, input_shape, output_units, default_activation):
        import keras

        fn = custom_function(reference, "model", "model.type")
        try:
            model = fn(input_shape=tuple(input_shape), output_units=output_units,
                       output_activation=default_activation, **args)
        except TypeError as exc:
            raise ConfigError(f"model.type: {reference} must accept input_shape, output_units and "
                              f"output_activation keyword arguments (plus model.args): {exc}", key="model.type") from None
        if not isinstance(model, keras.Model):
            raise ConfigError(f"model.type: {reference} must return a keras.Model. Got {type(model).__name__}.",
                              key="model.type")
        return model

    return build


MODELS.custom = lambda reference: (f"custom model {reference}", _build_custom(reference), CUSTOM_PARAMS)
