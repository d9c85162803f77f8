"""Optimizers: every Keras optimizer with its arguments, the names of the teaching material, and
the learning-rate schedules ``optimizer.learning_rate`` accepts instead of a number.

``gd`` is full-batch gradient descent (one step per epoch over the whole training set: it
implies ``training.batch_size: full``), ``momentum`` is SGD with momentum 0.9 and ``nesterov``
the same with Nesterov's update. Per-example SGD and mini-batch SGD are ``sgd`` with
``training.batch_size: 1`` or ``N``. Schedules are a sub-kind of optimizer: their own small
registry, listed by ``lossopt catalog optimizers`` (and ``lossopt catalog schedules``).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..schema import Bool, ConfigError, Constraint, Float, Int, ListOf, Number, Optional, Param, must_be
from .registry import Registry, keras_class

OPTIMIZERS = Registry("optimizer")
SCHEDULES = Registry("schedule")

POSITIVE = Float(0, low_open=True)
UNIT = Float(0, 1, high_open=True)

# --- learning-rate schedules -----------------------------------------------------------------

INITIAL = Param(None, POSITIVE, "the learning rate at step 0", required=True)
DECAY_STEPS = Param(None, Int(1), "optimizer steps (batches) over which the rate decays", required=True)


def _schedule_arguments(params: dict) -> dict:
    """``initial`` is Keras' ``initial_learning_rate``."""
    params = dict(params)
    if "initial" in params:
        params["initial_learning_rate"] = params.pop("initial")
    return params


def _schedule(name, class_name, text, params):
    SCHEDULES.register(name, text, params=params)(keras_class("optimizers.schedules", class_name, _schedule_arguments))


_schedule("exponential_decay", "ExponentialDecay", "initial * decay_rate ^ (step / decay_steps)",
          {"initial": INITIAL, "decay_steps": DECAY_STEPS,
           "decay_rate": Param(0.96, Float(0, low_open=True), "factor applied every decay_steps"),
           "staircase": Param(False, Bool(), "decay in whole steps of decay_steps, not continuously")})
_schedule("inverse_time_decay", "InverseTimeDecay", "initial / (1 + decay_rate * step / decay_steps)",
          {"initial": INITIAL, "decay_steps": DECAY_STEPS,
           "decay_rate": Param(0.5, Float(0, low_open=True), "how fast the rate falls"),
           "staircase": Param(False, Bool(), "decay in whole steps of decay_steps, not continuously")})
_schedule("polynomial_decay", "PolynomialDecay", "from initial to end_learning_rate along (1 - step/decay_steps)^power",
          {"initial": INITIAL, "decay_steps": DECAY_STEPS,
           "end_learning_rate": Param(0.0001, Float(0), "the rate after decay_steps"),
           "power": Param(1.0, POSITIVE, "1 = linear decay"),
           "cycle": Param(False, Bool(), "start again after decay_steps instead of staying at the end rate")})
_schedule("piecewise_constant_decay", "PiecewiseConstantDecay",
          "constant rates between step boundaries: values[i] until boundaries[i]",
          {"boundaries": Param(None, ListOf(Int(1), min_length=1), "increasing step numbers", required=True),
           "values": Param(None, ListOf(POSITIVE, min_length=2), "one more rate than boundaries", required=True)})
_schedule("cosine_decay", "CosineDecay", "half a cosine from initial to alpha * initial, after an optional linear "
          "warm-up from initial to warmup_target over warmup_steps",
          {"initial": INITIAL, "decay_steps": DECAY_STEPS,
           "alpha": Param(0.0, Float(0, 1), "the final rate as a fraction of the peak"),
           "warmup_steps": Param(0, Int(0), "steps of linear warm-up before the decay"),
           "warmup_target": Param(None, Optional(POSITIVE), "the peak rate reached after warm-up (needs warmup_steps)")})
_schedule("cosine_decay_restarts", "CosineDecayRestarts", "cosine decay restarted every period (SGDR, "
          "Loshchilov & Hutter 2017); each period t_mul times longer, each peak m_mul times lower",
          {"initial": INITIAL, "first_decay_steps": Param(None, Int(1), "steps of the first period", required=True),
           "t_mul": Param(2.0, POSITIVE, "growth of the period length"),
           "m_mul": Param(1.0, POSITIVE, "factor on the peak rate at each restart"),
           "alpha": Param(0.0, Float(0, 1), "the lowest rate as a fraction of the peak")})


LR_FIND = "lr_find"  # run the learning-rate range test first and use its suggestion (lossopt_cli.insight.lr_find)


class LearningRate(Constraint):
    """A number > 0, a schedule ``{name: cosine_decay, initial: 0.01, decay_steps: 1000, ...}``, or
    ``lr_find`` (the range test's suggestion, found before training)."""

    expected = ("a number > 0, lr_find, or a schedule mapping {name: <schedule>, ...} "
                "(see `lossopt catalog schedules`)")
    python_type = "float | Literal['lr_find'] | dict[str, Any]"

    def __call__(self, value, path):
        if value == LR_FIND:
            return value
        if isinstance(value, Mapping):
            spec = SCHEDULES.get(value, path)
            params = spec.params
            if spec.name == "piecewise_constant_decay":
                if len(params["values"]) != len(params["boundaries"]) + 1:
                    raise ConfigError(f"{path}.values must hold one more rate than {path}.boundaries. Got "
                                      f"{len(params['values'])} values for {len(params['boundaries'])} boundaries.",
                                      key=f"{path}.values")
                if sorted(set(params["boundaries"])) != params["boundaries"]:
                    raise ConfigError(f"{path}.boundaries must be increasing. Got {params['boundaries']}.",
                                      key=f"{path}.boundaries")
            if spec.name == "cosine_decay" and params["warmup_target"] is not None and not params["warmup_steps"]:
                raise ConfigError(f"{path}.warmup_target needs {path}.warmup_steps > 0 (the length of the warm-up).",
                                  key=f"{path}.warmup_steps")
            return {"name": spec.name, **params}
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise must_be(path, self.expected, value)
        return Number(low=0, low_open=True)(value, path)  # "must be a number > 0. Got -0.1."


def build_learning_rate(value):
    """A float as it is; a schedule mapping as a Keras LearningRateSchedule."""
    if isinstance(value, Mapping):
        return SCHEDULES.get(value, "optimizer.learning_rate").build()
    if value == LR_FIND:
        raise ConfigError("optimizer.learning_rate is lr_find, which `lossopt train` and `lossopt sweep` replace by "
                          "the range test's suggestion before building the optimizer; run `lossopt lr-find CONFIG` "
                          "to see it.", key="optimizer.learning_rate")
    return value


def is_schedule(value) -> bool:
    return isinstance(value, Mapping)


# --- optimizers ---------------------------------------------------------------------------------

COMMON = {
    "weight_decay": Param(None, Optional(Float(0)), "decoupled weight decay"),
    "clipnorm": Param(None, Optional(POSITIVE), "clip each gradient to this norm"),
    "clipvalue": Param(None, Optional(POSITIVE), "clip each gradient value to [-v, v]"),
    "global_clipnorm": Param(None, Optional(POSITIVE), "clip all gradients together to this global norm"),
    "use_ema": Param(False, Bool(), "keep an exponential moving average of the weights (momentum 0.99) and use it "
                     "at the end"),
}


def lr(default):
    return Param(default, LearningRate(), "step size")


def beta(default, text="decay of the running mean of gradients"):
    return Param(default, UNIT, text)


EPSILON = Param(1e-7, POSITIVE, "small constant for numerical stability")


def _optimizer_arguments(params: dict) -> dict:
    return {**params, "learning_rate": build_learning_rate(params["learning_rate"])}


def _register(name, class_name, text, params, tags=(), **fixed):
    common = {k: v for k, v in COMMON.items() if k not in params}
    OPTIMIZERS.register(name, text, params={**params, **common}, tags=tags)(
        keras_class("optimizers", class_name, _optimizer_arguments, **fixed))


ADAM_BETAS = {"beta_1": beta(0.9), "beta_2": beta(0.999, "decay of the running mean of squared gradients"),
              "epsilon": EPSILON}

_register("sgd", "SGD", "stochastic gradient descent: w -= lr * g per batch (batch_size 1 = per-example, "
          "N = mini-batch)", {"learning_rate": lr(0.01), "momentum": Param(0.0, Float(0, 1)),
                               "nesterov": Param(False, Bool())})
_register("gd", "SGD", "full-batch gradient descent: one step per epoch over the whole training set "
          "(implies training.batch_size: full)", {"learning_rate": lr(0.01)}, tags={"full_batch"})
_register("momentum", "SGD", "SGD with momentum 0.9: a velocity that accumulates past gradients",
          {"learning_rate": lr(0.01), "momentum": Param(0.9, Float(0, 1))})
_register("nesterov", "SGD", "SGD with Nesterov momentum 0.9: the gradient is taken after the momentum step",
          {"learning_rate": lr(0.01), "momentum": Param(0.9, Float(0, 1))}, nesterov=True)
_register("rmsprop", "RMSprop", "divides the step by a running root mean square of the gradients",
          {"learning_rate": lr(0.001), "rho": Param(0.9, UNIT), "momentum": Param(0.0, Float(0, 1)),
           "epsilon": EPSILON, "centered": Param(False, Bool())})
_register("adam", "Adam", "adaptive moments: momentum plus RMSprop-style scaling, bias corrected",
          {"learning_rate": lr(0.001), **ADAM_BETAS, "amsgrad": Param(False, Bool())})
_register("adamw", "AdamW", "Adam with decoupled weight decay (Loshchilov & Hutter 2019)",
          {"learning_rate": lr(0.001), **ADAM_BETAS, "amsgrad": Param(False, Bool()),
           "weight_decay": Param(0.004, Float(0), "decoupled weight decay")})
_register("adagrad", "Adagrad", "per-parameter rates that shrink with the sum of past squared gradients",
          {"learning_rate": lr(0.001), "initial_accumulator_value": Param(0.1, Float(0)), "epsilon": EPSILON})
_register("adadelta", "Adadelta", "Adagrad with a decaying window instead of the full sum",
          {"learning_rate": lr(0.001), "rho": Param(0.95, UNIT), "epsilon": EPSILON})
_register("adamax", "Adamax", "Adam with the infinity norm in place of the squared gradients",
          {"learning_rate": lr(0.001), **ADAM_BETAS})
_register("nadam", "Nadam", "Adam with Nesterov momentum", {"learning_rate": lr(0.001), **ADAM_BETAS})
_register("ftrl", "Ftrl", "follow-the-regularized-leader, for wide sparse linear models",
          {"learning_rate": lr(0.001), "learning_rate_power": Param(-0.5, Float(None, 0)),
           "initial_accumulator_value": Param(0.1, Float(0)), "l1_regularization_strength": Param(0.0, Float(0)),
           "l2_regularization_strength": Param(0.0, Float(0)),
           "l2_shrinkage_regularization_strength": Param(0.0, Float(0)), "beta": Param(0.0, Float(0))})
_register("lion", "Lion", "sign of an interpolated momentum (Chen et al. 2023); use a 3-10x smaller rate than Adam",
          {"learning_rate": lr(0.001), "beta_1": beta(0.9), "beta_2": beta(0.99)})
_register("lamb", "Lamb", "Adam with a per-layer trust ratio, for large batches",
          {"learning_rate": lr(0.001), **ADAM_BETAS})
_register("adafactor", "Adafactor", "memory-light Adam: factored second moments",
          {"learning_rate": lr(0.001), "beta_2_decay": Param(-0.8, Float(None, 0)),
           "epsilon_1": Param(1e-30, POSITIVE), "epsilon_2": Param(1e-3, POSITIVE),
           "clip_threshold": Param(1.0, POSITIVE), "relative_step": Param(True, Bool())})
_register("muon", "Muon", "orthogonalized momentum for 2-D weights (Newton-Schulz), AdamW for the rest",
          {"learning_rate": lr(0.001), "adam_beta_1": beta(0.9), "adam_beta_2": beta(0.999),
           "adam_weight_decay": Param(0.004, Float(0)), "epsilon": EPSILON,
           "weight_decay": Param(0.004, Float(0), "decoupled weight decay"),
           "momentum": Param(0.95, UNIT), "nesterov": Param(True, Bool()), "ns_steps": Param(5, Int(1)),
           "adam_lr_ratio": Param(1.0, POSITIVE, "Adam's rate as a multiple of learning_rate")})


def is_full_batch(spec) -> bool:
    return "full_batch" in spec.entry.tags
