"""Run names: a safe name for any text, and ``--set`` overrides as a short suffix of the config's name.

``lossopt train configs/quickstart.yaml --set optimizer.name=sgd --set optimizer.learning_rate=0.1``
names its run ``quickstart-sgd-lr0.1`` (the directory ``outputs/quickstart-sgd-lr0.1-<time>/``), so
five variants of one config are five names in ``lossopt list`` and ``lossopt compare``. A
``--set name=...`` is the user's own name and is kept as it is. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath
from typing import Any, Mapping

ABBREVIATIONS = {"learning_rate": "lr", "batch_size": "batch", "hidden_units": "units", "epochs": "ep",
                 "validation_split": "val", "test_split": "test", "early_stopping": "es", "dropout": "drop",
                 "activation": "act", "label_smoothing": "ls", "weight_decay": "wd", "momentum": "mom"}
NAMED_BY_VALUE = ("name", "type", "dataset")  # optimizer.name=sgd -> "sgd", not "namesgd"
UNNAMED_SECTIONS = ("output", "diagnostics", "tracking")  # where the run goes, how it is judged and logged: not what was trained
MAX_LENGTH = 48  # of the suffix; longer ones keep a prefix and a hash of the whole
MAX_NAME_LENGTH = 120  # of a run's name: a run directory adds -YYYYmmdd-HHMMSS-N; file systems allow 255 bytes
NAME_CHARACTERS = "letters, digits, '_', '.' and '-'"


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        return ("x" if numeric else "_").join(value_text(v) for v in value)
    if isinstance(value, Mapping):
        head = value.get("name", value.get("type"))
        rest = [part(k, v) for k, v in value.items() if k not in ("name", "type")]
        return "-".join([value_text(head)] * (head is not None) + rest)
    if value is None:
        return "none"
    text = str(value)
    if ".py:" in text:  # a custom loss or model: its function's name
        return text.rsplit(":", 1)[-1]
    if "/" in text or "\\" in text or PurePath(text).suffix:  # a data file: its stem
        return PurePath(text).stem.removesuffix(".csv")
    return text


def part(key: str, value: Any) -> str:
    leaf = key.split(".")[-1]
    text = value_text(value)
    if value == "lr_find":  # optimizer.learning_rate: lr_find reads as itself, not "lrlr_find"
        return "lr_find"
    if leaf in NAMED_BY_VALUE or key in ("loss", "optimizer", "model") or isinstance(value, Mapping):
        return text
    return f"{ABBREVIATIONS.get(leaf, leaf)}{text}"


def safe(text: str) -> str:
    """Letters, digits, ``_ . -`` only (a valid directory name everywhere)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")


def safe_name(name: str) -> str:
    """Any text as a run's name: letters, digits, ``_ . -`` only, never empty (``run``)."""
    return safe(str(name)) or "run"


def override_suffix(pairs: list[tuple[str, Any]]) -> str:
    """``[("optimizer.name", "sgd"), ("optimizer.learning_rate", 0.1)]`` -> ``sgd-lr0.1``."""
    label = safe("-".join(part(key, value) for key, value in pairs))
    label = re.sub(r"-{2,}", "-", label)
    if len(label) > MAX_LENGTH:
        digest = hashlib.sha1(label.encode()).hexdigest()[:6]
        label = f"{label[:MAX_LENGTH - 7].rstrip('-.')}-{digest}"
    return label


def name_with_overrides(name: str, overrides: Mapping[str, Any]) -> str:
    """The run's name with its ``--set`` overrides (``{dotted key: value}``); unchanged without them or
    with ``--set name=``."""
    pairs = [(str(key), value) for key, value in overrides.items()]
    if any(key == "name" for key, _ in pairs):
        return name
    pairs = [(key, value) for key, value in pairs if key.split(".")[0] not in UNNAMED_SECTIONS]
    if not pairs:
        return name
    suffix = override_suffix(pairs)
    return f"{name}-{suffix}" if suffix else name
