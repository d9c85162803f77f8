"""The text of ``lossopt catalog KIND``: each name, its aliases, a one-line description and its
parameters (default, constraint, meaning), read from the registries without importing Keras."""

from __future__ import annotations

from ..schema import describe
from . import REGISTRIES
from .optimizers import SCHEDULES
from .registry import Registry

KINDS = (*REGISTRIES, "schedules")

USAGE = {
    "datasets": "data: {dataset: <name>, params: {<param>: <value>}}",
    "models": "model: {type: <name>, <param>: <value>}",
    "losses": "loss: <name>  or  loss: {name: <name>, <param>: <value>}",
    "optimizers": "optimizer: {name: <name>, learning_rate: <number or schedule>, <param>: <value>}",
    "metrics": "metrics: [<name>, {name: <name>, <param>: <value>}]",
    "schedules": "optimizer: {learning_rate: {name: <name>, <param>: <value>}}",
}

FOOTERS = {
    "datasets": [
        "Files: data.dataset may also be path/to/file.csv (data.target, data.features, data.categorical),",
        "path/to/file.npz (arrays x, y; optional x_val/y_val, x_test/y_test), or a folder with one",
        "sub-folder of images per class (data.image_size, data.color_mode).",
        "keras:<name> reads Keras' cache ($KERAS_HOME/datasets or ~/.keras/datasets), else downloads once.",
    ],
    "models": [
        "Your own: model: {type: path/to/file.py:function, args: {...}} (or module:function); the function",
        "gets input_shape, output_units and output_activation (from the loss) and returns a keras.Model.",
    ],
    "losses": [
        "Your own: loss: {name: path/to/file.py:function, labels: categorical} (or module:function);",
        "function(y_true, y_pred) is the loss, or with args: {...}, function(**args) returns it.",
        "See configs/custom/ for an IoU (Jaccard) loss and a perceptual-style feature loss.",
    ],
    "optimizers": [
        "Per-example SGD: sgd with training.batch_size: 1; mini-batch: sgd with batch_size N;",
        "gd: full-batch (one step per epoch; batch_size becomes the training-set size).",
        "optimizer.learning_rate also takes a schedule (below; `lossopt catalog schedules`), and",
        "training.reduce_lr_on_plateau lowers a numeric rate when the monitored metric stalls.",
        "optimizer.learning_rate: lr_find runs the range test first (`lossopt lr-find CONFIG` shows it).",
        "See them move: `lossopt trajectories --function rosenbrock --optimizers sgd,momentum,rmsprop,adam`.",
    ],
}


def shared_params(registry: Registry) -> dict:
    """Parameters every entry of the registry takes (the same ``Param``): listed once."""
    entries = registry.entries()
    if len(entries) < 2:
        return {}
    first = entries[0].params
    return {k: p for k, p in first.items() if all(e.params.get(k) is p for e in entries[1:])}


def param_line(key, param) -> str:
    default = "required" if param.required else describe(param.default)
    doc = f"  {param.doc}" if param.doc else ""
    return f"      {key}: {default}  ({param.constraint.expected}){doc}"


def entry_lines(registry: Registry) -> list[str]:
    shared = shared_params(registry)
    lines = []
    for entry in registry.entries():
        aliases = f" (also: {', '.join(entry.aliases)})" if entry.aliases else ""
        lines.append(f"  {entry.name}{aliases}")
        lines.append(f"      {entry.description}")
        lines += [param_line(k, p) for k, p in entry.params.items() if k not in shared]
    if shared:
        lines += ["", f"Every one of these {registry.plural} also takes:"]
        lines += [param_line(k, p)[2:] for k, p in shared.items()]
    return lines


def catalog_lines(kind: str | None = None) -> list[str]:
    """Every entry of one kind (``losses``, ...), or a summary of the kinds when ``kind`` is None."""
    if kind is None:
        lines = ["Kinds (lossopt catalog KIND):"]
        for name in KINDS:
            names = (SCHEDULES if name == "schedules" else REGISTRIES[name]).names()
            more = ", ..." if len(names) > 6 else ""
            lines.append(f"  {name:<11} {len(names):>3}  {', '.join(names[:6])}{more}")
        return lines
    registry = SCHEDULES if kind == "schedules" else REGISTRIES[kind]
    lines = [f"{kind} ({len(registry.names())}) -- in YAML: {USAGE[kind]}", ""]
    lines += entry_lines(registry)
    if FOOTERS.get(kind):
        lines += [""] + FOOTERS[kind]
    if kind == "optimizers":
        lines += ["", f"schedules ({len(SCHEDULES.names())}) -- in YAML: {USAGE['schedules']}", ""]
        lines += entry_lines(SCHEDULES)
    return lines
