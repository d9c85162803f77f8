"""Optimizer trajectories: the real Keras optimizers (built from the catalog, with its arguments)
stepping on one 2-D variable over a test function, written to ``trajectories.json`` and drawn as
``trajectories.png`` (and, when asked, an animated ``trajectories.gif`` or ``trajectories.html``)
in a new directory ``outputs/trajectories-<function>-<time>/``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import rundir
from ..schema import ConfigError
from .surfaces import Surface, get_surface

TRAJECTORIES_JSON = "trajectories.json"
TRAJECTORIES_PNG = "trajectories.png"
ANIMATIONS = {"gif": "trajectories.gif", "html": "trajectories.html"}
DEFAULT_OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


@dataclass
class Trajectory:
    optimizer: str
    learning_rate: float
    arguments: dict  # every argument the Keras optimizer was built with (the catalog's defaults filled in)
    path: list  # [[x, y], ...]: the start, then one point per step
    values: list  # f at each point of the path

    def to_dict(self, surface: Surface) -> dict:
        (x0, y0), (x1, y1) = self.path[0], self.path[-1]
        return {"optimizer": self.optimizer, "learning_rate": self.learning_rate, "arguments": self.arguments,
                "final": [x1, y1], "final_value": self.values[-1],
                "start_distance": surface.nearest_minimum_distance(x0, y0),
                "final_distance": surface.nearest_minimum_distance(x1, y1),
                "path": self.path, "values": self.values}


def parse_rates(items, optimizers) -> dict[str, float]:
    """``("adam=0.1", ...)`` -> ``{"adam": 0.1}``; each name must be one of the optimizers drawn."""
    rates = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not rate > 0 or not math.isfinite(rate):
            raise ConfigError(f"--lr {item!r} must look like NAME=RATE with a rate > 0, e.g. --lr adam=0.05.",
                              key="--lr")
        if name not in optimizers:
            raise ConfigError(f"--lr {item!r}: {name!r} is not among --optimizers ({', '.join(optimizers)}).",
                              key="--lr")
        rates[name] = rate
    return rates


def parse_point(text: str | None, what: str = "--start") -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        x, y = (float(v) for v in text.split(","))
        if math.isfinite(x) and math.isfinite(y):
            return x, y
    except ValueError:
        pass
    raise ConfigError(f"{what} must be two numbers X,Y, e.g. {what} -1.5,2. Got {text!r}.", key=what)


def build_optimizer(name: str, learning_rate: float):
    """The Keras optimizer the catalog builds for ``name`` (what a config's ``optimizer.name`` trains with)."""
    from ..catalog import OPTIMIZERS

    spec = OPTIMIZERS.get({"name": name, "learning_rate": learning_rate}, "--optimizers")
    return spec.build(), spec.params


def step_path(surface: Surface, optimizer_name: str, learning_rate: float, start, steps: int,
              params: dict) -> Trajectory:
    """``steps`` updates of the optimizer on a 2-D ``keras.Variable`` starting at ``start``."""
    from ..training import import_tensorflow

    tf = import_tensorflow()
    import keras

    optimizer, arguments = build_optimizer(optimizer_name, learning_rate)
    point = keras.Variable(list(map(float, start)), dtype="float32", name="xy")
    optimizer.build([point])

    def value():
        return surface.value(point[0], point[1], keras.ops, **params)

    @tf.function
    def step():  # one traced step: 200 eager steps of five optimizers would take seconds each
        with tf.GradientTape() as tape:
            f = value()
        optimizer.apply_gradients([(tape.gradient(f, point), point)])
        return point.value, value()

    x_low, x_high, y_low, y_high = surface.view
    reach = 3 * max(x_high - x_low, y_high - y_low)
    path, values = [[float(start[0]), float(start[1])]], [float(value())]
    for _ in range(steps):
        xy, current = step()
        x, y = (float(v) for v in xy.numpy())
        current = float(current)
        path.append([x, y])
        values.append(current)
        if not (math.isfinite(current) and math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > reach:
            break  # diverged, or left far behind the view (the saddle is unbounded): the path so far is the answer
    return Trajectory(optimizer_name, learning_rate, {k: v for k, v in arguments.items() if k != "learning_rate"},
                      path, values)


@dataclass
class TrajectoriesOutcome:
    surface: Surface
    params: dict
    start: tuple
    steps: int
    trajectories: list
    directory: Path
    files: list

    def lines(self) -> list[str]:
        from ..reporting.text import fmt

        s = self.surface
        lines = [f"trajectories: {self.directory} ({', '.join(self.files)})",
                 f"{s.name}: f = {s.formula}"
                 + "".join(f", {k} = {v:g}" for k, v in self.params.items())
                 + f"; from ({self.start[0]:g}, {self.start[1]:g}) over {self.steps} steps; "
                 + (f"minimum {', '.join(f'({x:g}, {y:g})' for x, y in s.minima)}" if s.minima else "no minimum")]
        width = max(len(t.optimizer) for t in self.trajectories)
        header = f"  {'optimizer':<{max(width, 9)}}  {'lr':<8}  {'final (x, y)':<20}  {'f(final)':<10}"
        lines.append(header + ("  distance to the nearest minimum" if s.minima else ""))
        for t in self.trajectories:
            d = t.to_dict(s)
            final = f"({fmt(d['final'][0])}, {fmt(d['final'][1])})"
            row = f"  {t.optimizer:<{max(width, 9)}}  {t.learning_rate:<8g}  {final:<20}  {fmt(d['final_value']):<10}"
            if s.minima:
                row += f"  {fmt(d['final_distance'])} (start {fmt(d['start_distance'])})"
            if len(t.path) - 1 < self.steps:
                row += f"  stopped after {len(t.path) - 1} steps: diverged or far outside the view"
            lines.append(row)
        lines.append(f"what it shows: {s.teaches}")
        return lines


def run_trajectories(function: str = "rosenbrock", optimizers=DEFAULT_OPTIMIZERS, steps: int = 200,
                     rates=(), start: str | None = None, condition: float | None = None, animate: str | None = None,
                     output_dir: str = "outputs") -> TrajectoriesOutcome:
    """``lossopt trajectories``: step each optimizer, then write the JSON, the PNG and the animation asked for."""
    surface = get_surface(function)
    optimizers = [o.strip() for o in (optimizers.split(",") if isinstance(optimizers, str) else optimizers)
                  if o.strip()]
    if not optimizers:
        raise ConfigError("--optimizers must name at least one optimizer, e.g. --optimizers sgd,adam.",
                          key="--optimizers")
    from ..catalog import OPTIMIZERS

    for name in optimizers:
        OPTIMIZERS.entry(name, "--optimizers")  # unknown -> did-you-mean, before TensorFlow
    if steps < 1:
        raise ConfigError(f"--steps must be at least 1. Got {steps}.", key="--steps")
    if animate is not None and animate not in ANIMATIONS:
        raise ConfigError(f"--animate must be one of {', '.join(ANIMATIONS)}. Got {animate!r}.", key="--animate")
    params = {}
    if condition is not None:
        if "condition" not in surface.params:
            raise ConfigError(f"--condition applies to ill_conditioned only, not {surface.name}.", key="--condition")
        if not condition >= 1:
            raise ConfigError(f"--condition must be a number >= 1. Got {condition:g}.", key="--condition")
        params["condition"] = float(condition)
    elif "condition" in surface.params:
        params["condition"] = 20.0
    chosen = parse_rates(rates, optimizers)
    origin = parse_point(start) or surface.start
    trajectories = [step_path(surface, name, chosen.get(name, surface.default_rate(name, params)), origin, steps,
                              params) for name in optimizers]
    directory = rundir.create_run_dir(output_dir, f"trajectories-{surface.name}")
    record = {"function": surface.name, "formula": surface.formula, "parameters": params,
              "minima": [list(m) for m in surface.minima], "minimum_value": surface.minimum_value,
              "start": list(origin), "steps": steps, "teaches": surface.teaches,
              "trajectories": [t.to_dict(surface) for t in trajectories]}
    rundir.write_json(directory / TRAJECTORIES_JSON, record)
    files = [TRAJECTORIES_JSON]
    from .plots import animate_trajectories, plot_trajectories

    try:
        plot_trajectories(surface, params, record, directory / TRAJECTORIES_PNG)
        files.append(TRAJECTORIES_PNG)
        if animate:
            animate_trajectories(surface, params, record, directory / ANIMATIONS[animate], animate)
            files.append(ANIMATIONS[animate])
    except Exception as exc:  # the paths are saved; a drawing failure only warns
        print(f"warning: could not draw the trajectories: {exc}", file=sys.stderr)
    return TrajectoriesOutcome(surface, params, tuple(origin), steps, trajectories, directory, files)
