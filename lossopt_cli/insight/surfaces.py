"""The 2-D test functions of ``lossopt trajectories``: formula, minima, a start, a view and default rates.

Each function is written once with plain arithmetic and an ``ops`` module for ``cos``, so the same
code evaluates a NumPy grid for the contours and a Keras tensor for the optimizer's gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ..schema import ConfigError, suggest


@dataclass(frozen=True)
class Surface:
    name: str
    formula: str
    fn: Callable  # (x, y, ops, **params) -> value
    minima: tuple  # ((x, y), ...): the global minima ([] for the saddle, which has none)
    minimum_value: float | None
    start: tuple
    view: tuple  # (x_low, x_high, y_low, y_high) of the plot
    rates: dict  # default learning rate by optimizer name; "sgd" for the SGD family, "*" for the others
    teaches: str
    params: tuple = ()  # names of the parameters this function takes

    def value(self, x, y, ops, **params):
        return self.fn(x, y, ops, **{k: v for k, v in params.items() if k in self.params})

    def default_rate(self, optimizer: str, params: dict) -> float:
        rates = self.rates(params) if callable(self.rates) else self.rates
        if optimizer in rates:
            return rates[optimizer]
        return rates["sgd"] if optimizer in SGD_FAMILY else rates["*"]

    def nearest_minimum_distance(self, x: float, y: float) -> float | None:
        if not self.minima:
            return None
        return min(math.hypot(x - mx, y - my) for mx, my in self.minima)


SGD_FAMILY = ("sgd", "gd", "momentum", "nesterov")


def _rosenbrock(x, y, ops):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def _beale(x, y, ops):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def _himmelblau(x, y, ops):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def _saddle(x, y, ops):
    return x ** 2 - y ** 2


def _ill_conditioned(x, y, ops, condition=20.0):
    return 0.5 * (x ** 2 + condition * y ** 2)


def _rastrigin(x, y, ops):
    return 20 + x ** 2 - 10 * ops.cos(2 * math.pi * x) + y ** 2 - 10 * ops.cos(2 * math.pi * y)


SURFACES = {s.name: s for s in (
    Surface("rosenbrock", "(1 - x)^2 + 100 (y - x^2)^2", _rosenbrock, ((1.0, 1.0),), 0.0, (-1.5, 2.0),
            (-2.0, 2.0, -1.0, 3.0), {"sgd": 1e-3, "*": 0.1},
            "a narrow curved valley: gradient descent zig-zags across it and crawls along it"),
    Surface("beale", "(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2", _beale, ((3.0, 0.5),), 0.0,
            (1.0, 1.5), (-1.0, 4.5, -1.5, 2.5), {"sgd": 1e-3, "*": 0.05},
            "flat plateaus and steep walls: adaptive steps cross the plateau"),
    Surface("himmelblau", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", _himmelblau,
            ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)), 0.0, (0.0, 0.0),
            (-5.0, 5.0, -5.0, 5.0), {"sgd": 5e-3, "*": 0.05},
            "four equal minima: which one an optimizer reaches depends on its path"),
    Surface("saddle", "x^2 - y^2", _saddle, (), None, (1.0, 0.01), (-1.5, 1.5, -1.5, 1.5), {"sgd": 0.02, "*": 0.01},
            "a saddle point at (0, 0): plain gradient descent lingers near it, momentum and adaptive steps escape"),
    Surface("ill_conditioned", "(x^2 + condition * y^2) / 2", _ill_conditioned, ((0.0, 0.0),), 0.0, (-4.0, 1.5),
            (-5.0, 5.0, -2.0, 2.0),
            lambda p: {"sgd": 1.8 / p.get("condition", 20.0), "momentum": 1.0 / p.get("condition", 20.0),
                       "nesterov": 1.0 / p.get("condition", 20.0), "*": 0.1},
            "a long narrow bowl (condition number = curvature ratio): gradient descent zig-zags across it, "
            "RMSprop and Adam take near-equal steps per coordinate", params=("condition",)),
    Surface("rastrigin", "20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y)", _rastrigin, ((0.0, 0.0),), 0.0,
            (2.2, 2.3), (-3.0, 3.0, -3.0, 3.0), {"sgd": 2e-3, "*": 0.05},
            "many local minima: every optimizer stops in one near its start"),
)}


def get_surface(name: str) -> Surface:
    if name not in SURFACES:
        raise ConfigError(f"--function must be one of {', '.join(SURFACES)}. Got {name!r}.{suggest(name, list(SURFACES))}",
                          key="--function")
    return SURFACES[name]
