"""The learning-rate range test (Smith 2017; fastai's ``lr_find``, Lightning's ``Tuner.lr_find``).

One short training from the config's initial weights, the learning rate rising exponentially
from ``start`` to ``end`` over ``steps`` batches, stopped early once the (exponentially averaged)
loss passes ``diverge`` times its minimum or stops being finite. The model's weights and the
optimizer's state are put back afterwards: nothing else is trained. The suggestions come from
``lr_suggest``; ``lr_find.json`` and ``lr_find.png`` go into a directory of their own,
``outputs/<name>-lrfind-<time>/``.

``optimizer.learning_rate: lr_find`` in a config or a sweep is resolved here too: the test runs
once (per sweep configuration) and its recommended rate replaces ``lr_find`` in the config the
run records.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import rundir
from ..catalog.optimizers import LR_FIND, is_schedule
from ..config import RunConfig, dump
from ..config.sections import OptimizerSection
from ..schema import ConfigError
from . import lr_suggest

LR_FIND_JSON = "lr_find.json"
LR_FIND_PNG = "lr_find.png"
DEFAULTS = {"start": 1e-7, "end": 10.0, "steps": 100, "diverge": 4.0}


@dataclass
class RangeTest:
    """What the range test saw: one learning rate and one batch loss per step, and how it ended."""

    start: float
    end: float
    steps: int
    diverge: float
    learning_rates: list[float]
    losses: list[float]
    stop_reason: str  # end | diverged | not_finite
    batch_size: int
    wall_time_seconds: float
    suggestions: lr_suggest.Suggestions = field(init=False)

    def __post_init__(self):
        self.suggestions = lr_suggest.suggest(self.learning_rates, self.losses)

    @property
    def learning_rate(self) -> float | None:
        return self.suggestions.learning_rate

    def to_dict(self) -> dict:
        s = self.suggestions
        return {
            "start": self.start, "end": self.end, "steps": self.steps, "diverge": self.diverge,
            "batch_size": self.batch_size, "steps_run": len(self.losses), "stop_reason": self.stop_reason,
            "recommended": s.recommended, "learning_rate": s.learning_rate,
            "suggestions": {m: {"learning_rate": s.rates[m], "step": s.indices[m], "how": lr_suggest.DESCRIPTIONS[m]}
                            for m in lr_suggest.METHODS},
            "notes": s.notes, "wall_time_seconds": round(self.wall_time_seconds, 3),
            "learning_rates": self.learning_rates, "losses": self.losses, "smoothed": s.smoothed,
        }


def rates(start: float, end: float, steps: int) -> np.ndarray:
    """``steps`` learning rates rising exponentially from ``start`` to ``end``."""
    return start * (end / start) ** (np.arange(steps) / max(1, steps - 1))


def check_range(start: float, end: float, steps: int, diverge: float) -> None:
    if not (start > 0 and end > start):
        raise ConfigError(f"--start and --end must satisfy 0 < start < end. Got start {start:g}, end {end:g}.",
                          key="--start")
    if steps < lr_suggest.MIN_POINTS:
        raise ConfigError(f"--steps must be at least {lr_suggest.MIN_POINTS}. Got {steps}.", key="--steps")
    if not diverge > 1:
        raise ConfigError(f"--diverge must be a factor > 1. Got {diverge:g}.", key="--diverge")


def _batches(n: int, batch_size: int, shuffle: bool, seed: int):
    """Index arrays of full batches, passing over the data again and again (reshuffled each pass)."""
    batch_size = min(batch_size, n)
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for i in range(0, n - batch_size + 1, batch_size):  # full batches only: one traced step
            yield order[i:i + batch_size]


def range_test(prepared, start: float = 1e-7, end: float = 10.0, steps: int = 100, diverge: float = 4.0,
               on_step=None) -> RangeTest:
    """Run the range test on a prepared run (``training.runner.prepare_run``) whose optimizer has a
    numeric learning rate. The model's weights and the optimizer's variables are restored after."""
    check_range(start, end, steps, diverge)
    model, data, config = prepared.model, prepared.data, prepared.config
    optimizer = model.optimizer
    weights = model.get_weights()
    optimizer.build(model.trainable_variables)
    saved = [np.array(v.numpy()) for v in optimizer.variables]
    schedule = rates(start, end, steps)
    burn_in = int(math.ceil(lr_suggest.BURN_IN * steps))
    lrs, losses, stop = [], [], "end"
    smoothed, beta, best = 0.0, 0.98, math.inf
    batches = _batches(len(data.x_train), prepared.batch_size, config.training.shuffle, config.seed)
    started = time.time()
    try:
        for i, lr in enumerate(schedule):
            idx = next(batches)
            optimizer.learning_rate = float(lr)
            weight = None if data.sample_weight is None else data.sample_weight[idx]
            logs = model.train_on_batch(data.x_train[idx], data.y_train[idx], sample_weight=weight, return_dict=True)
            loss = float(logs["loss"])
            lrs.append(float(lr))
            losses.append(loss)
            if on_step:
                on_step(i + 1, float(lr), loss)
            if not math.isfinite(loss):
                stop = "not_finite"
                break
            smoothed = beta * smoothed + (1 - beta) * loss  # fastai's and Lightning's stop rule, causal
            average = smoothed / (1 - beta ** (i + 1))
            if i < burn_in:  # an early spike must not end the test before it starts
                continue
            best = min(best, average)
            if average - best > (diverge - 1) * abs(best):  # = average > diverge x best for a positive loss
                stop = "diverged"
                break
    finally:
        model.set_weights(weights)
        for var, value in zip(optimizer.variables, saved):
            var.assign(value)
        model.reset_metrics()
    return RangeTest(start, end, steps, diverge, lrs, losses, stop, min(prepared.batch_size, len(data.x_train)),
                     time.time() - started)


def with_learning_rate(config: RunConfig, learning_rate: float) -> RunConfig:
    """A copy of ``config`` with a numeric ``optimizer.learning_rate`` (a schedule's place taken too). The
    rate is checked as the config's own key is; the rest was validated already, and a number in place of
    ``lr_find`` or of a schedule breaks no combination, so the config is not validated again."""
    import copy

    from ..catalog.optimizers import LearningRate

    rate = LearningRate()(float(learning_rate), "optimizer.learning_rate")
    copied = copy.deepcopy(config)
    copied.optimizer = config.optimizer.replace(learning_rate=rate)
    return copied


def find(config: RunConfig, start: float = 1e-7, end: float = 10.0, steps: int = 100, diverge: float = 4.0,
         on_step=None) -> tuple[RangeTest, list[str]]:
    """Prepare the config's model (pre-flight included) with a settable rate and run the range test.
    Returns the test and the pre-flight's notes. Raises ConfigError; writes nothing."""
    check_range(start, end, steps, diverge)
    from ..training.runner import prepare_run

    prepared = prepare_run(with_learning_rate(config, start))
    return range_test(prepared, start, end, steps, diverge, on_step), list(prepared.notes)


def write_result(test: RangeTest, config: RunConfig, directory: Path, title: str = "") -> Path:
    """``lr_find.json``, ``lr_find.png`` and the tested ``config.yaml`` into ``directory`` (atomically)."""
    from .plots import plot_lr_find

    record = {"name": config.name, "source": config.source, "optimizer": config.optimizer.to_dict(),
              "seed": config.seed, **test.to_dict()}
    rundir.atomic_write(directory / rundir.CONFIG, dump(config))
    rundir.write_json(directory / LR_FIND_JSON, record)
    try:
        plot_lr_find(record, directory / LR_FIND_PNG, title=title or config.name)
    except Exception as exc:  # the numbers are saved; a plot failure only warns
        print(f"warning: could not draw {LR_FIND_PNG}: {exc}", file=sys.stderr)
    return directory


@dataclass
class LrFindOutcome:
    """``lossopt lr-find``: the test, where it was written, and the command that uses its suggestion."""

    test: RangeTest
    directory: Path
    config_path: str
    overrides: dict  # {dotted key: value}, repeated in the printed command
    optimizer: OptimizerSection
    notes: list[str]

    def command(self) -> str | None:
        lr = self.test.learning_rate
        if lr is None:
            return None
        key = "optimizer.learning_rate.initial" if is_schedule(self.optimizer.learning_rate) \
            else "optimizer.learning_rate"
        kept = {k: v for k, v in self.overrides.items() if not k.startswith("optimizer.learning_rate")}
        sets = "".join(f" --set {_quote(f'{k}={_inline(v)}')}" for k, v in kept.items())
        return f"lossopt train {self.config_path}{sets} --set {key}={lr:g}"

    def lines(self) -> list[str]:
        from ..reporting.text import fmt

        t, s = self.test, self.test.suggestions
        how = {"end": f"ran all {t.steps} steps",
               "diverged": f"stopped at step {len(t.losses)} (lr {fmt(t.learning_rates[-1])}): the smoothed loss passed "
                           f"{t.diverge:g}x its minimum",
               "not_finite": f"stopped at step {len(t.losses)} (lr {fmt(t.learning_rates[-1])}): the loss was not finite"}
        lines = [f"lr-find: {self.directory} ({LR_FIND_JSON}, {LR_FIND_PNG})",
                 f"range: {t.start:g} -> {t.end:g} over {t.steps} batches of {t.batch_size} "
                 f"({self.optimizer.name}); {how[t.stop_reason]}"]
        width = max(len(m) for m in lr_suggest.METHODS)
        for method in lr_suggest.METHODS:
            value = s.rates[method]
            mark = "*" if method == s.recommended else " "
            lines.append(f" {mark}{method:<{width}}  {fmt(value) if value is not None else '-':<9}  "
                         f"{lr_suggest.DESCRIPTIONS[method]}")
        for note in [*self.notes, *s.notes]:
            lines.append(f"note: {note}")
        if s.recommended:
            lines.append(f"recommended: {t.learning_rate:g} ({s.recommended}, the middle of the suggestions)")
            if is_schedule(self.optimizer.learning_rate):
                lines.append("note: the config uses a learning-rate schedule; the suggestion is its initial rate")
            lines.append(f"  {self.command()}")
        else:
            lines.append("no suggestion: see the notes above and the plot")
        return lines


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _inline(value) -> str:
    """A value as ``--set`` reads it back (one line of YAML)."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def run_lr_find(config_path: str, overrides=None, start: float = 1e-7, end: float = 10.0, steps: int = 100,
                diverge: float = 4.0, output_dir: str | None = None) -> LrFindOutcome:
    """``lossopt lr-find CONFIG`` (``overrides``: ``{dotted key: value}``): load, test, write
    ``outputs/<name>-lrfind-<time>/``."""
    from .. import config as config_module

    check_range(start, end, steps, diverge)
    config = config_module.load(config_path, overrides)
    try:
        test, notes = find(config, start, end, steps, diverge)
    except ConfigError as err:  # found by the pre-flight: still the config file's fault
        raise err.in_file(config_path) from None
    directory = rundir.create_run_dir(output_dir or config.output.dir, f"{config.name}-lrfind")
    write_result(test, config, directory)
    return LrFindOutcome(test, directory, str(config_path), dict(overrides or {}), config.optimizer, notes)


# --- optimizer.learning_rate: lr_find ---------------------------------------------------------------------


def wants_lr_find(config: RunConfig) -> bool:
    return config.optimizer.learning_rate == LR_FIND


def resolve(config: RunConfig, directory_root: str | Path, name: str | None = None, stamp: bool = True,
            echo=None) -> tuple[RunConfig, Path | None]:
    """``optimizer.learning_rate: lr_find`` -> the range test's recommended rate (defaults of ``lossopt
    lr-find``), the test written to ``directory_root/<name>-lrfind[-<time>]/``. A config with a rate
    comes back as it is. Raises ConfigError when the test finds no suggestion."""
    if not wants_lr_find(config):
        return config, None
    test, _ = find(config, **DEFAULTS)
    directory = rundir.create_run_dir(directory_root, name or f"{config.name}-lrfind", stamp=stamp)
    write_result(test, config, directory)
    if test.learning_rate is None:
        raise ConfigError(f"optimizer.learning_rate is lr_find, but the range test found no suggestion "
                          f"({'; '.join(test.suggestions.notes)}); see {directory / LR_FIND_PNG}. Give a number "
                          f"instead.", key="optimizer.learning_rate")
    if echo:
        echo(f"lr_find: {config.name}: optimizer.learning_rate={test.learning_rate:g} "
             f"({test.suggestions.recommended}; {directory / LR_FIND_PNG})")
    return with_learning_rate(config, test.learning_rate), directory


def resolve_sweep(sweep, sweep_dir: str | Path, echo=None) -> bool:
    """Run the range test once per configuration of a sweep (the group of its runs over seeds, on the
    first run's config) whose ``optimizer.learning_rate`` is ``lr_find``, and put the recommended rate
    into every run's config. The tests go to ``<sweep_dir>/lr_find/<configuration>/``. Returns whether
    anything changed (the caller then rewrites the sweep's plan, so ``--resume`` keeps the rates)."""
    found: dict[str, float] = {}
    changed = False
    for run in sweep.runs:
        if not wants_lr_find(run.config):
            continue
        if run.group not in found:
            resolved, _ = resolve(run.config, Path(sweep_dir) / "lr_find", name=run.group, stamp=False, echo=echo)
            found[run.group] = resolved.optimizer.learning_rate
        run.config = with_learning_rate(run.config, found[run.group])
        changed = True
    return changed
