"""One registry per kind (dataset, model, loss, optimizer, metric).

A registry maps a name (and its aliases) to an ``Entry``: a one-line description, a table of
parameters (``schema.Param``) checked at config load, and a ``build`` function that does the
heavy work (importing Keras) only when a run needs it. ``get()`` accepts a name or a
``{name: ..., **params}`` mapping, as Keras' own ``get()`` functions do, and an unknown name
lists the valid ones and suggests the closest. A registry may also accept user code as
``module:function`` or ``path/to/file.py:function`` (losses, models): the reference is checked
at config load as far as possible without importing it, and imported only at build time.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..schema import ConfigError, Param, describe, suggest, validate_table


@dataclass
class Entry:
    name: str
    description: str
    build: Callable[..., Any]
    params: dict[str, Param] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    tags: frozenset = frozenset()  # free-form facts, e.g. {"classification"}, {"regression"}


@dataclass
class Spec:
    """A resolved choice from a registry: the entry and its validated parameters."""

    entry: Entry
    params: dict

    @property
    def name(self) -> str:
        return self.entry.name

    def build(self, **context):
        return self.entry.build(**self.params, **context)


class Registry:
    def __init__(self, kind: str, selector: str = "name"):
        self.kind = kind
        self.selector = selector  # the key that names the entry in a mapping: name, or type for models
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        # custom(reference) -> (description, build, params) for ``module:function`` names, or None
        self.custom: Callable[[str], tuple] | None = None

    def register(self, name: str, description: str, params: Mapping[str, Param] | None = None,
                 aliases: tuple[str, ...] = (), tags=()):
        """Decorator: register ``build`` under ``name``."""

        def decorate(build):
            self.add(Entry(name, description, build, dict(params or {}), tuple(aliases), frozenset(tags)))
            return build

        return decorate

    def add(self, entry: Entry) -> Entry:
        for key in (entry.name, *entry.aliases):
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
        self._entries[entry.name] = entry
        for alias in entry.aliases:
            self._aliases[alias] = entry.name
        return entry

    @property
    def plural(self) -> str:
        """The kind as ``lossopt catalog`` names it: losses, optimizers, ..."""
        return self.kind + ("es" if self.kind.endswith("s") else "s")

    def _custom_hint(self) -> str:
        return ", or your own as module:function or path/to/file.py:function" if self.custom else ""

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]

    def __contains__(self, name: str) -> bool:
        return self._canonical(name) in self._entries

    def _canonical(self, name: str) -> str:
        key = str(name).strip()
        key = self._aliases.get(key, key)
        lowered = key.lower().replace("-", "_")
        return self._aliases.get(lowered, lowered if lowered in self._entries else key)

    def entry(self, name: str, path: str) -> Entry:
        if self.custom is not None and ":" in str(name):
            check_reference(str(name), path, self.kind)
            description, build, params = self.custom(str(name))
            return Entry(str(name), description, build, dict(params), tags=frozenset({"custom"}))
        key = self._canonical(name)
        if key not in self._entries:
            valid = list(self._entries) + list(self._aliases)
            raise ConfigError(
                f"Unknown {self.kind} {name!r} at {path}.{suggest(name, valid)} "
                f"Valid: {', '.join(self.names())}{self._custom_hint()}. See `lossopt catalog {self.plural}`.",
                key=path,
            )
        return self._entries[key]

    def get(self, value: Any, path: str, extra: Mapping[str, Any] | None = None, default: str | None = None) -> Spec:
        """Resolve ``name`` or ``{name: ..., **params}`` into a validated ``Spec``.

        With ``default``, a mapping without the selector key means that entry (``{learning_rate: 0.1}``
        is Adam with that learning rate when ``default="adam"``).
        """
        sel = self.selector
        if isinstance(value, Mapping) and sel not in value and default:
            value = {sel: default, **value}
        if isinstance(value, str):
            name, params = value, {}
        elif isinstance(value, Mapping) and isinstance(value.get(sel), str):
            name, params = value[sel], {k: v for k, v in value.items() if k != sel}
        else:
            article = "an" if self.kind[0] in "aeiou" else "a"
            raise ConfigError(
                f"{path} must be {article} {self.kind} name or a mapping with a '{sel}' key. Got {describe(value)}.",
                key=path,
            )
        if extra:
            params = {**params, **extra}
        entry = self.entry(name, path + (f".{sel}" if isinstance(value, Mapping) else ""))
        return Spec(entry, validate_table(params, entry.params, path, what=f"{self.kind} {entry.name!r}"))

    def resolve(self, value: Any, path: str, default: str | None = None) -> Any:
        """A ``Spec`` as a plain config value, ``{name: ..., **every param}``."""
        spec = self.get(value, path, default=default)
        return {self.selector: spec.name, **spec.params}


# --- Keras classes, built lazily ---------------------------------------------------------------


def keras_class(module: str, class_name: str, convert: Callable[[dict], dict] | None = None, **fixed) -> Callable:
    """A ``build`` that imports Keras and calls ``keras.<module>.<class_name>(**params, **fixed)``.

    ``convert`` turns the config's parameters into Keras' arguments (e.g. a schedule mapping into
    a schedule object). ``build.keras_class`` lets a test check the parameter table against Keras.
    """

    def build(**params):
        import keras

        namespace = keras
        for part in module.split("."):
            namespace = getattr(namespace, part)
        return getattr(namespace, class_name)(**(convert(params) if convert else params), **fixed)

    build.keras_class = class_name
    build.keras_module = module
    return build


# --- user code: module:function or path/to/file.py:function -----------------------------------

_REFERENCE = re.compile(r"^(?P<module>[^:]+):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def check_reference(reference: str, path: str, kind: str) -> tuple[str, str]:
    """Check ``module:function`` / ``file.py:function`` without importing it; (module or file, function)."""
    form = f"A custom {kind} is module:function or path/to/file.py:function"
    match = _REFERENCE.match(reference.strip())
    if not match:
        raise ConfigError(f"{path}: {reference!r} is not a valid reference. {form}, e.g. "
                          f"configs/custom/iou_loss.py:iou_loss.", key=path)
    module, function = match["module"], match["function"]
    if module.endswith(".py"):
        if not Path(module).is_file():
            raise ConfigError(f"{path}: the file {module!r} of {reference!r} does not exist (paths are relative to "
                              f"the config file or the current directory). {form}.", key=path)
        _check_defined(Path(module), function, reference, path)
    elif not _MODULE.match(module):
        raise ConfigError(f"{path}: {module!r} in {reference!r} is neither a Python module name nor a .py file. "
                          f"{form}.", key=path)
    return module, function


def _check_defined(file: Path, function: str, reference: str, path: str) -> None:
    """The file parses and defines ``function`` at top level: read with ``ast``, never run (that is for training)."""
    import ast

    try:
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except (SyntaxError, ValueError) as exc:
        line = f" on line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise ConfigError(f"{path}: {file} of {reference!r} is not valid Python: {getattr(exc, 'msg', exc)}{line}. "
                          f"Fix the file.", key=path) from None
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif not isinstance(node, (ast.Expr, ast.Pass)):
            return  # defined conditionally (if/try/for ...): only importing it can tell
    if function not in defined:
        names = sorted(n for n in defined if not n.startswith("_"))
        raise ConfigError(f"{path}: {file} defines no function {function!r}.{suggest(function, names)} "
                          f"Defined there: {', '.join(names) or '(nothing)'}.", key=path)


def custom_function(reference: str, kind: str, path: str | None = None) -> Callable:
    """Import the function a ``module:function`` / ``file.py:function`` reference names (build time)."""
    path = path or kind
    module_name, function = check_reference(reference, path, kind)
    try:
        if module_name.endswith(".py"):
            file = Path(module_name).resolve()
            spec = importlib.util.spec_from_file_location(f"lossopt_user_{file.stem}", file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ConfigError:
        raise
    except Exception as exc:
        raise ConfigError(f"{path}: could not import {module_name!r} for {reference!r}: "
                          f"{type(exc).__name__}: {exc}.", key=path) from None
    fn = getattr(module, function, None)
    if not callable(fn):
        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        raise ConfigError(f"{path}: {module_name!r} has no function {function!r}.{suggest(function, names)} "
                          f"Functions there: {', '.join(names) or '(none)'}.", key=path)
    return fn
