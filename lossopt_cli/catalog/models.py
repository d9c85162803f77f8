"""Models: named architectures built from the data's shape and the loss' output head.

A builder receives its validated parameters plus ``input_shape``, ``output_units`` and
``output_activation`` (decided by the loss and the task, see ``training.data``) and returns
an uncompiled ``keras.Model``.
"""

from __future__ import annotations

from ..schema import Choice, Float, Int, ListOf, Optional, Param, Str
from .registry import Registry

MODELS = Registry("model", selector="type")

ACTIVATIONS = ("relu", "sigmoid", "tanh", "elu", "selu", "gelu", "silu", "swish", "softplus", "leaky_relu", "linear")


@MODELS.register(
    "mlp", "fully connected network: Dense layers with an activation, optional dropout",
    params={
        "hidden_units": Param([128], ListOf(Int(1), allow_scalar=True), "units of each hidden Dense layer"),
        "activation": Param("relu", Choice(ACTIVATIONS), "activation of the hidden layers"),
        "dropout": Param(0.0, Float(0, 1, high_open=True), "dropout rate after each hidden layer"),
        "output_activation": Param(None, Optional(Str()), "override the output activation (default: from the loss)"),
    },
)
def mlp(hidden_units, activation, dropout, output_activation, *, input_shape, output_units, default_activation):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs) if len(input_shape) > 1 else inputs
    for units in hidden_units:
        x = keras.layers.Dense(units, activation=activation)(x)
        if dropout:
            x = keras.layers.Dropout(dropout)(x)
    outputs = keras.layers.Dense(output_units, activation=output_activation or default_activation)(x)
    return keras.Model(inputs, outputs, name="mlp")
