"""The base of a ``RunConfig``'s typed sections (``sections.py``, generated from the tables).

A section is a frozen dataclass read as attributes (``config.training.epochs``, which an editor
completes and a type checker checks) and as a read-only mapping (``config.training["epochs"]``,
``dict(section)``), and ``to_dict()`` gives back the plain dict that ``config.yaml`` holds, key for
key and in the same order. A section is never changed in place: ``section.replace(epochs=3)`` is a
new one. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar


@dataclasses.dataclass(frozen=True, eq=False)  # eq: Mapping's (a section equals a dict of the same items)
class Section(Mapping):
    """A section of a table in ``config/tables.py``: one field per key of the table, in its order."""

    NESTED: ClassVar[dict[str, type[Section]]] = {}  # a key holding a sub-table of its own (training.early_stopping)

    @classmethod
    def of(cls, values: Mapping[str, Any] | None) -> Any:
        """The section of validated values (every key of the table, defaults filled in); a section as it is."""
        if values is None or isinstance(values, cls):
            return values
        if not isinstance(values, Mapping):
            raise TypeError(f"{cls.__name__} is made from a mapping of validated values, not {type(values).__name__}")
        return cls(**{key: cls._value(key, value) for key, value in values.items()})

    @classmethod
    def _value(cls, key: str, value: Any) -> Any:
        nested = cls.NESTED.get(key)
        return nested.of(value) if nested is not None else value

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` (validated values) set: sections are read-only."""
        return dataclasses.replace(self, **{key: self._value(key, value) for key, value in changes.items()})

    def to_dict(self) -> dict[str, Any]:
        """The plain dict (nested sections too), as ``config.yaml`` holds it."""
        return {key: value.to_dict() if isinstance(value, Section) else copy.deepcopy(value) for key, value in self.items()}

    def __getitem__(self, key: str) -> Any:
        if key in self._keys():
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    @classmethod
    def _keys(cls) -> tuple[str, ...]:
        keys = cls.__dict__.get("_KEYS")
        if keys is None:
            keys = tuple(f.name for f in dataclasses.fields(cls))
            cls._KEYS = keys  # type: ignore[attr-defined]
        return keys


@dataclasses.dataclass(frozen=True, eq=False)
class CatalogSection(Section):
    """``model``, ``loss``, ``optimizer``: a catalog entry's name (under ``SELECTOR``: ``name``, or ``type``
    for models) and its parameters, every default filled in. The well-known parameters are typed properties
    (``tables.CATALOG_PARAMS``); the rest differ from one entry to the next and are read from ``params``."""

    SELECTOR: ClassVar[str] = "name"

    name: str
    params: dict[str, Any]

    @classmethod
    def of(cls, values: Mapping[str, Any] | None) -> Any:
        if values is None or isinstance(values, cls):
            return values
        if not isinstance(values, Mapping):
            raise TypeError(f"{cls.__name__} is made from a resolved mapping {{{cls.SELECTOR}: ..., ...}}, "
                            f"not {type(values).__name__}")
        params = dict(values)
        return cls(params.pop(cls.SELECTOR), params)

    def replace(self, **changes: Any) -> Any:
        name = changes.pop(self.SELECTOR, self.name)
        return type(self)(name, {**self.params, **changes})

    def to_dict(self) -> dict[str, Any]:
        return {self.SELECTOR: self.name, **copy.deepcopy(self.params)}

    def __getitem__(self, key: str) -> Any:
        return self.name if key == self.SELECTOR else self.params[key]

    def __iter__(self) -> Iterator[str]:
        yield self.SELECTOR
        yield from self.params

    def __len__(self) -> int:
        return 1 + len(self.params)
