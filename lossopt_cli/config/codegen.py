"""Writes ``config/sections.py``, the typed sections of a ``RunConfig``, from the constraint tables.

A key is declared once, in its table (``tables.py``, ``analysis/thresholds.py`` for ``diagnostics``,
``tables.CATALOG_PARAMS`` for the well-known parameters of model, loss and optimizer); this turns the
tables into source an editor and a type checker read. ``python -m lossopt_cli.config.codegen`` rewrites
the file; ``tests/test_config_sections.py`` fails while it is out of date. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import keyword
import sys
import textwrap
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Mapping

from ..schema import Any_, Bool, Choice, Constraint, Custom, ListOf, Mapping_, Null, Number, OneOf, Param, Str
from .tables import CATALOG_PARAMS, SECTIONS, SELECTORS, _diagnostics_table

TARGET = Path(__file__).with_name("sections.py")
COMMAND = "python -m lossopt_cli.config.codegen"

HEADER = f'''"""The typed sections of a ``RunConfig``: ``config.data``, ``config.training``, ``config.optimizer``, ...

GENERATED from the constraint tables by ``{COMMAND}``; do not edit. A new config key goes in its table
(``config/tables.py``), then this command adds it here. Each class is a read-only ``Section``
(``section.py``): attributes, mapping access and ``to_dict()``.
"""
# ruff: noqa: E501

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .section import CatalogSection, Section
'''


def type_hint(constraint: Constraint, nested: Mapping[int, str] | None = None) -> str:
    """The Python type of a value the constraint accepts, once validated."""
    if isinstance(constraint, Custom) and constraint.table is not None and nested and id(constraint.table) in nested:
        return f"{nested[id(constraint.table)]} | None"
    if isinstance(constraint, OneOf):
        parts: list[str] = []
        for option in constraint.options:
            for part in type_hint(option, nested).split(" | "):
                if part not in parts:
                    parts.append(part)
        return " | ".join([p for p in parts if p != "None"] + (["None"] if "None" in parts else []))
    if isinstance(constraint, Number):
        return "int" if constraint.integer else "float"
    if isinstance(constraint, ListOf):
        return f"list[{type_hint(constraint.item, nested)}]"
    simple = {Bool: "bool", Str: "str", Null: "None", Mapping_: "dict[str, Any]", Any_: "Any"}
    for kind, hint in simple.items():
        if type(constraint) is kind:
            return hint
    if isinstance(constraint, Choice):
        return f"Literal[{', '.join(repr(c) for c in constraint.choices)}]"
    return constraint.python_type


def class_name(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_")) + "Section"


def _doc(text: str, indent: str = "    ") -> list[str]:
    """``text`` as a docstring: an editor shows it beside the attribute."""
    if not text:
        return []
    text = text.replace("\\", "\\\\").replace('"""', "'''")
    lines = textwrap.wrap(f'"""{text}"""', 136 - len(indent))
    return [f"{indent}{line}" for line in lines]


def _check_name(section: str, key: str) -> None:
    if not key.isidentifier() or keyword.iskeyword(key) or hasattr(MappingABC, key) or key in ("replace", "to_dict", "of"):
        raise ValueError(f"{section}.{key} cannot be an attribute of a section; rename the key")


def table_class(name: str, path: str, table: Mapping[str, Param], nested: dict[int, str]) -> list[str]:
    """A frozen dataclass with one typed field per key of ``table``, its help as the field's docstring."""
    lines = ["", "", "@dataclass(frozen=True, eq=False)", f"class {name}(Section):", *_doc(f"``{path}``.")]
    inner = {key: nested[id(p.constraint.table)] for key, p in table.items()
             if isinstance(p.constraint, Custom) and p.constraint.table is not None}
    if inner:
        lines.append("")
        lines.append(f"    NESTED = {{{', '.join(f'{k!r}: {v}' for k, v in inner.items())}}}")
    lines.append("")
    for key, param in table.items():
        _check_name(path, key)
        lines.append(f"    {key}: {type_hint(param.constraint, nested)}")
        lines.extend(_doc(param.doc))
    return lines


def catalog_class(section: str) -> list[str]:
    """A ``CatalogSection`` with a typed property per well-known parameter (``CATALOG_PARAMS``)."""
    from ..catalog import LOSSES, MODELS, OPTIMIZERS

    registry = {"model": MODELS, "loss": LOSSES, "optimizer": OPTIMIZERS}[section]
    selector = SELECTORS[section]
    lines = ["", "", "@dataclass(frozen=True, eq=False)", f"class {class_name(section)}(CatalogSection):",
             *_doc(f"``{section}``: the {registry.kind} (``{selector}``) and its parameters (``params``, every "
                   f"default filled in); an absent parameter reads as None."),
             ]
    if selector != "name":
        lines += ["", f"    SELECTOR = {selector!r}", "", "    @property", f"    def {selector}(self) -> str:",
                  "        return self.name"]
    for key in CATALOG_PARAMS.get(section, ()):
        _check_name(section, key)
        hints: list[str] = []
        docs = []
        for entry in registry.entries():
            if key in entry.params:
                for part in type_hint(entry.params[key].constraint).split(" | "):
                    if part not in hints and part != "None":
                        hints.append(part)
                docs.append(entry.params[key].doc)
        doc = next((d for d in docs if d), "")
        lines += ["", "    @property", f"    def {key}(self) -> {' | '.join(hints + ['None'])}:", *_doc(doc, " " * 8),
                  f"        return self.params.get({key!r})"]
    return lines


def source() -> str:
    """The text of ``sections.py``."""
    nested: dict[int, str] = {}
    classes: list[str] = []
    top: dict[str, str] = {}
    for section, table in {**SECTIONS, "diagnostics": _diagnostics_table()}.items():
        for key, param in table.items():
            constraint = param.constraint
            if isinstance(constraint, Custom) and constraint.table is not None and id(constraint.table) not in nested:
                nested[id(constraint.table)] = class_name(key)
                classes += table_class(class_name(key), f"{section}.{key}", constraint.table, nested)
        top[section] = class_name(section)
        classes += table_class(class_name(section), section, table, nested)
    for section in SELECTORS:
        top[section] = class_name(section)
        classes += catalog_class(section)
    order = ("data", "model", "loss", "optimizer", "training", "diagnostics", "output", "tracking")
    mapping = ", ".join(f'"{key}": {top[key]}' for key in order)
    tail = ["", "", "# RunConfig's sections: the attribute -> its class", f"SECTION_TYPES: dict[str, type[Section]] = {{{mapping}}}"]
    return HEADER + "\n".join(classes + tail) + "\n"


def main() -> int:
    text = source()
    if TARGET.exists() and TARGET.read_text(encoding="utf-8") == text:
        print(f"{TARGET} is up to date")
        return 0
    from ..rundir import atomic_write

    atomic_write(TARGET, text)
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
