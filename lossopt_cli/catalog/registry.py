"""One registry per kind (dataset, model, loss, optimizer, metric).

A registry maps a name (and its aliases) to an ``Entry``: a one-line description, a table of
parameters (``schema.Param``) checked at config load, and a ``build`` function that does the
heavy work (importing Keras) only when a run needs it. ``get()`` accepts a name or a
``{name: ..., **params}`` mapping, as Keras' own ``get()`` functions do, and an unknown name
lists the valid ones and suggests the closest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
        key = self._canonical(name)
        if key not in self._entries:
            valid = list(self._entries) + list(self._aliases)
            raise ConfigError(
                f"Unknown {self.kind} {name!r} at {path}.{suggest(name, valid)} "
                f"Valid: {', '.join(self.names())}. See `lossopt catalog {self.kind}s`.",
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
