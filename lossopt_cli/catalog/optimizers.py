"""Optimizers: Keras' optimizers with their arguments, and the names of the teaching material.

``momentum`` is SGD with momentum 0.9 and ``nesterov`` the same with Nesterov's update.
Full-batch gradient descent and per-example SGD are ``training.batch_size: full`` and ``1``.
"""

from __future__ import annotations

from ..schema import Bool, Float, Optional, Param
from .registry import Registry

OPTIMIZERS = Registry("optimizer")

POSITIVE = Float(0, low_open=True)
COMMON = {
    "clipnorm": Param(None, Optional(POSITIVE), "clip each gradient to this norm"),
    "clipvalue": Param(None, Optional(POSITIVE), "clip each gradient value to [-v, v]"),
    "global_clipnorm": Param(None, Optional(POSITIVE), "clip all gradients together to this global norm"),
    "weight_decay": Param(None, Optional(Float(0)), "decoupled weight decay"),
}


def lr(default):
    return Param(default, POSITIVE, "step size")


def _keras_optimizer(class_name: str, **fixed):
    def build(**params):
        import keras

        return getattr(keras.optimizers, class_name)(**{**params, **fixed})

    return build


def _register(name, class_name, text, params, aliases=(), **fixed):
    OPTIMIZERS.register(name, text, params={**params, **COMMON}, aliases=aliases)(_keras_optimizer(class_name, **fixed))


_register("sgd", "SGD", "stochastic gradient descent: w -= lr * g (mini-batch by default)",
          {"learning_rate": lr(0.01), "momentum": Param(0.0, Float(0, 1)), "nesterov": Param(False, Bool())})
_register("momentum", "SGD", "SGD with momentum 0.9: a velocity that accumulates past gradients",
          {"learning_rate": lr(0.01), "momentum": Param(0.9, Float(0, 1))})
_register("rmsprop", "RMSprop", "divides the step by a running root mean square of the gradients",
          {"learning_rate": lr(0.001), "rho": Param(0.9, Float(0, 1)), "momentum": Param(0.0, Float(0, 1)),
           "epsilon": Param(1e-7, POSITIVE), "centered": Param(False, Bool())})
_register("adam", "Adam", "adaptive moments: momentum plus RMSprop-style scaling, bias corrected",
          {"learning_rate": lr(0.001), "beta_1": Param(0.9, Float(0, 1, high_open=True)),
           "beta_2": Param(0.999, Float(0, 1, high_open=True)), "epsilon": Param(1e-7, POSITIVE),
           "amsgrad": Param(False, Bool())})
