"""Declarative constraints for configuration values and the one error they raise.

Every configurable value in lossopt (config sections, and the parameters of each dataset,
model, loss, optimizer and metric in the catalog) is described by a ``Param``: a default
and a constraint. One generic validator checks a mapping against a table of them and
raises ``ConfigError`` with one message shape::

    optimizer.learning_rate must be a number > 0. Got -0.1.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping


class ConfigError(ValueError):
    """A configuration problem the user can fix: names the key, what was expected, the fix.

    One error may carry several ``problems`` (every one found in a file, not only the first);
    its message then lists them, one per line.
    """

    def __init__(self, message: str, key: str | None = None, file: str | None = None,
                 problems: "list[ConfigError] | None" = None):
        self.key = key
        self.file = file
        self.message = message
        self.problems = list(problems or [])
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.message}"

    def in_file(self, file: str | None) -> "ConfigError":
        if file and not self.file:
            self.file = str(file)
            self.args = (self.render(),)
        return self

    @classmethod
    def combine(cls, errors: "list[ConfigError]") -> "ConfigError":
        """One error for every problem found: itself when there is one, else a numbered list."""
        flat: list[ConfigError] = []
        for err in errors:
            flat.extend(err.problems or [err])
        if len(flat) == 1:
            return flat[0]
        message = f"{len(flat)} problems:\n" + "\n".join(f"  - {e.message}" for e in flat)
        return cls(message, key=flat[0].key, file=next((e.file for e in flat if e.file), None), problems=flat)


class Problems:
    """Collects ConfigErrors so that a file's every problem is reported at once."""

    def __init__(self):
        self.errors: list[ConfigError] = []

    def attempt(self, fn: Callable, *args, **kwargs) -> Any:
        """``fn(*args)``, or ``FAILED`` (the error kept) when it raises a ConfigError."""
        try:
            return fn(*args, **kwargs)
        except ConfigError as err:
            self.errors.append(err)
            return FAILED

    def add(self, err: ConfigError) -> None:
        self.errors.append(err)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ConfigError.combine(self.errors)


FAILED = object()  # what Problems.attempt returns for a value that failed its check

MAX_SHOWN = 200  # characters of a bad value repeated in a message


def suggest(name: str, valid: Iterable[str]) -> str:
    """`` Did you mean 'adam'?`` or the empty string."""
    close = difflib.get_close_matches(str(name), list(valid), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


def describe(value: Any) -> str:
    """A value as a message shows it; long values (a pasted array, an expanded alias) are cut."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = _short_repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + f"... ({len(text)} characters)"


def _short_repr(value: Any) -> str:
    import reprlib

    if isinstance(value, str):
        return repr(value) if len(value) <= MAX_SHOWN else repr(value[:MAX_SHOWN]) + f"... ({len(value)} characters)"
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlist, short.maxdict, short.maxlevel = MAX_SHOWN, MAX_SHOWN, 20, 20, 4
    return short.repr(value)


def must_be(key: str, expected: str, value: Any, hint: str = "") -> ConfigError:
    """The one shape of a bad value: ``optimizer.learning_rate must be a number > 0. Got -0.1.``"""
    return ConfigError(f"{key or 'the config'} must be {expected}. Got {describe(value)}.{hint}", key=key)


# --- constraints --------------------------------------------------------------------------
# A constraint is a callable (value, path) -> normalized value that raises ConfigError.


class Constraint:
    expected: str = "a value"
    python_type: str = "Any"  # the type of a validated value, as written in config/sections.py (generated)

    def __call__(self, value: Any, path: str) -> Any:
        if not self.accepts(value):
            raise must_be(path, self.expected, value)
        return self.normalize(value)

    def accepts(self, value: Any) -> bool:  # pragma: no cover - overridden
        return True

    def normalize(self, value: Any) -> Any:
        return value


class Any_(Constraint):
    expected = "any value"


@dataclass
class Number(Constraint):
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    @property
    def expected(self) -> str:  # type: ignore[override]
        kind = "an integer" if self.integer else "a number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {_fmt(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {_fmt(self.high)}")
        return kind + (" " + " and ".join(parts) if parts else "")

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not (isinstance(value, int) or float(value).is_integer()):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return False
        return True

    def normalize(self, value: Any) -> Any:
        return int(value) if self.integer else float(value)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def Int(low: float | None = None, high: float | None = None) -> Number:
    return Number(low=low, high=high, integer=True)


def Float(low: float | None = None, high: float | None = None, low_open=False, high_open=False) -> Number:
    return Number(low=low, high=high, low_open=low_open, high_open=high_open)


class Bool(Constraint):
    expected = "true or false"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


class Str(Constraint):
    expected = "a non-empty string"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value.strip() != ""


@dataclass
class Choice(Constraint):
    choices: tuple

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(describe(c) for c in self.choices)

    def __call__(self, value: Any, path: str) -> Any:
        if any(value == c and type(value) is type(c) for c in self.choices):
            return value
        hint = suggest(value, [str(c) for c in self.choices]) if isinstance(value, str) else ""
        raise must_be(path, self.expected, value, hint)


@dataclass
class ListOf(Constraint):
    item: Constraint
    min_length: int = 0
    allow_scalar: bool = False  # a single value becomes a one-item list

    @property
    def expected(self) -> str:  # type: ignore[override]
        extra = f" (at least {self.min_length})" if self.min_length else ""
        return f"a list of {self.item.expected}{extra}"

    def __call__(self, value: Any, path: str) -> Any:
        if self.allow_scalar and not isinstance(value, (list, tuple)) and value is not None:
            value = [value]
        if not isinstance(value, (list, tuple)) or len(value) < self.min_length:
            raise must_be(path, self.expected, value)
        problems = Problems()
        out = [problems.attempt(self.item, v, f"{path}[{i}]") for i, v in enumerate(value)]
        problems.raise_if_any()
        return out


@dataclass
class OneOf(Constraint):
    """The first alternative that accepts the value wins; the message lists them all."""

    options: tuple

    @property
    def expected(self) -> str:  # type: ignore[override]
        return " or ".join(o.expected for o in self.options)

    def __call__(self, value: Any, path: str) -> Any:
        for option in self.options:
            try:
                return option(value, path)
            except ConfigError:
                continue
        choices = [str(c) for o in self.options if isinstance(o, Choice) for c in o.choices]
        hint = suggest(value, choices) if isinstance(value, str) and choices else ""
        raise must_be(path, self.expected, value, hint)


class Null(Constraint):
    expected = "null"

    def accepts(self, value: Any) -> bool:
        return value is None


def Optional(c: Constraint) -> OneOf:
    return OneOf((Null(), c))


class Mapping_(Constraint):
    expected = "a mapping (key: value)"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping)

    def normalize(self, value: Any) -> Any:
        return dict(value)


@dataclass
class Custom(Constraint):
    """A constraint given by a function returning the normalized value or raising ValueError."""

    check: Callable[[Any], Any]
    expected_text: str
    json_schema: Any = None  # the JSON Schema of what ``check`` accepts (a dict, or a function returning one)
    python_type: str = "Any"  # the type of what ``check`` returns, for the generated config/sections.py
    table: Mapping[str, "Param"] | None = None  # a nested table ``check`` validates: a section of its own

    @property
    def expected(self) -> str:  # type: ignore[override]
        return self.expected_text

    def __call__(self, value: Any, path: str) -> Any:
        try:
            return self.check(value)
        except ConfigError:
            raise
        except (ValueError, TypeError):
            raise must_be(path, self.expected, value) from None


# --- tables of parameters ---------------------------------------------------------------------


@dataclass
class Param:
    default: Any
    constraint: Constraint = field(default_factory=Any_)
    doc: str = ""
    required: bool = False


def validate_table(values: Any, table: Mapping[str, Param], path: str, what: str = "") -> dict:
    """Check a mapping against a parameter table; fill defaults; reject unknown keys.

    ``path`` is the dotted path of the mapping (``""`` for the top level); ``what`` names the
    owner in the unknown-key message (``"optimizer 'adam'"``).
    """
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise must_be(path, "a mapping (key: value)", values)
    out, errors = check_table(values, table, path, what)
    if errors:
        raise ConfigError.combine(errors)
    return out


def check_table(values: Mapping, table: Mapping[str, Param], path: str, what: str = "",
                unknown_hint: Callable[[str], str] | None = None) -> tuple[dict, list[ConfigError]]:
    """Like ``validate_table`` on a mapping, but returns (what validated, every problem found):
    the keys that failed are missing from the first. ``unknown_hint(key)`` may suggest where an
    unknown key belongs."""
    prefix = f"{path}." if path else ""
    out: dict = {}
    errors: list[ConfigError] = []
    for key in values:
        if key not in table:
            owner = f" for {what}" if what else ""
            valid = f"Valid keys: {', '.join(sorted(table))}." if table else f"{what or path} takes no parameters."
            hint = (unknown_hint(key) if unknown_hint else "") or suggest(key, table)
            errors.append(ConfigError(f"Unknown key {prefix}{describe(key) if not isinstance(key, str) else key}"
                                      f"{owner}.{hint} {valid}", key=f"{prefix}{key}"))
    for key, param in table.items():
        if key in values:
            try:
                out[key] = param.constraint(values[key], f"{prefix}{key}")
            except ConfigError as err:
                errors.append(err)
        elif param.required:
            errors.append(ConfigError(f"{prefix}{key} is required: {param.doc or 'set it in the config'}.",
                                      key=f"{prefix}{key}"))
        else:
            out[key] = param.default
    return out, errors
