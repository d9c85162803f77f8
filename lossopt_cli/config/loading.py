"""Reading a config: the YAML file, ``--set`` overrides applied, validated into a ``RunConfig``; and back to YAML."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from ..schema import ConfigError, describe, must_be
from .run_config import RunConfig
from .tables import SELECTORS
from .validation import validate


def read_yaml(path: str | Path) -> Any:
    """A YAML file read safely (UTF-8, size and alias limits, duplicate keys refused; see ``yaml_reader``)."""
    from ..yaml_reader import read_yaml_file

    return read_yaml_file(path)


def parse_override(text: str) -> tuple[str, Any]:
    """``optimizer.learning_rate=0.1`` -> ("optimizer.learning_rate", 0.1): the value read as YAML.
    The command line's edge calls this, once; everything after it works on values."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r} must look like key.path=value, e.g. --set optimizer.name=sgd.", key=text)
    key, _, value_text = text.partition("=")
    key = key.strip()
    if not all(key.split(".")):
        raise ConfigError(f"--set {text!r}: the key {key!r} is not a dotted path like training.epochs.", key=key)
    try:
        from ..yaml_reader import StrictSafeLoader

        value = yaml.load(value_text, Loader=StrictSafeLoader) if value_text.strip() else None  # noqa: S506
    except yaml.YAMLError:
        value = value_text
    return key, value


def parse_overrides(texts: Iterable[str]) -> dict[str, Any]:
    """``--set`` options -> ``{dotted key: value}``, in the order given (a later one for the same key wins)."""
    overrides: dict[str, Any] = {}
    for text in texts:
        key, value = parse_override(text)
        overrides.pop(key, None)
        overrides[key] = value
    return overrides


def apply_overrides(raw: Any, overrides: Mapping[str, Any] | None) -> dict:
    """A copy of a raw config with ``{dotted key: value}`` set, in order; a string ``loss: huber``
    becomes ``{name: huber}`` when one of its keys is set."""
    out = copy.deepcopy(raw) if isinstance(raw, Mapping) else {}
    for key, value in (overrides or {}).items():
        parts = str(key).split(".")
        if not all(parts):
            raise ConfigError(f"override {key!r}: not a dotted path like training.epochs.", key=str(key))
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if isinstance(child, str) and depth == 0 and part in SELECTORS:
                child = {SELECTORS[part]: child}
            elif child is None:
                child = {}
            elif not isinstance(child, Mapping):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:depth + 1])} is {describe(child)}, not a mapping.",
                                  key=".".join(parts[:depth + 1]))
            node[part] = dict(child)
            node = node[part]
        node[parts[-1]] = copy.deepcopy(value)
    return out


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> RunConfig:
    """Read, override (``{dotted key: value}``) and validate one config file."""
    try:
        raw = read_yaml(path)
        if not isinstance(raw, Mapping):
            raise must_be("the config", "a mapping of keys (data, loss, optimizer, ...)", raw)
        if "vary" in raw or "base" in raw:
            raise ConfigError("this is a sweep file (it has base: and vary:), not a run config. Run it with "
                              f"`lossopt sweep {path}` (or check it with `lossopt validate {path}`).")
        config = validate(apply_overrides(raw, overrides), source=str(path))
        if overrides:  # five --set variants of one config are five names (outputs/, list, compare)
            from ..naming import name_with_overrides

            config.name = name_with_overrides(config.name, overrides)
        return config
    except ConfigError as err:
        raise err.in_file(str(path)) from None


def dump(config: RunConfig) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
