"""Reference pages of the documentation site, generated at build time so nothing is written twice.

A page holds a marker line such as ``<!-- lossopt:config-reference -->``; MkDocs calls
``on_page_markdown`` (this file is a hook in ``mkdocs.yml``) and the marker becomes a table:

- ``config-reference`` / ``sweep-reference``: every key of a config / sweep file with its type,
  default and meaning, from the committed JSON Schemas in ``docs/schema/`` (which a test keeps equal
  to what ``lossopt schema`` generates from the validator's own constraint tables);
- ``catalog:<kind>``: the text of ``lossopt catalog <kind>``, from the registries.

The functions are plain, so ``tests/test_docs.py`` checks the pages cover every key and command.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "docs" / "schema"
MARKER = re.compile(r"^<!-- lossopt:([a-z-]+)(?::([a-z_]+))? -->$", re.MULTILINE)


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


def _type(node: dict) -> str:
    """A short reading of a JSON Schema node: `integer >= 1`, `one of: a, b`, `number or null`..."""
    if "enum" in node:
        return "one of: " + ", ".join(f"`{v}`" if v is not None else "`null`" for v in node["enum"])
    if "anyOf" in node or "oneOf" in node:
        parts = [_type(n) for n in node.get("anyOf", node.get("oneOf", []))]
        return " or ".join(dict.fromkeys(p for p in parts if p))
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind in ("integer", "number"):
        bounds = [f">= {node['minimum']}" if "minimum" in node else "",
                  f"> {node['exclusiveMinimum']}" if "exclusiveMinimum" in node else "",
                  f"<= {node['maximum']}" if "maximum" in node else "",
                  f"< {node['exclusiveMaximum']}" if "exclusiveMaximum" in node else ""]
        return " ".join([kind, *[b for b in bounds if b]])
    if kind == "array":
        return "list" + (f" of {_type(node['items'])}" if isinstance(node.get("items"), dict) else "")
    if kind == "object":
        return "mapping"
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1].replace("_", " ")
    return kind or "any"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _merged_alternatives(node: dict) -> dict:
    """The keys of the mappings among a node's alternatives (early_stopping: true or {...}; an optimizer:
    one mapping per optimizer), merged: a key in several alternatives lists every value it may take."""
    merged: dict = {}
    for alternative in node.get("anyOf", node.get("oneOf", [])):
        for key, sub in (alternative.get("properties") or {}).items() if isinstance(alternative, dict) else ():
            if key not in merged:
                merged[key] = dict(sub)
                continue
            if "enum" in sub and "enum" in merged[key]:
                merged[key]["enum"] = list(dict.fromkeys([*merged[key]["enum"], *sub["enum"]]))
                merged[key].pop("description", None)
            if merged[key].get("default", None) != sub.get("default", None) and "default" in merged[key]:
                merged[key].pop("default")
                merged[key]["description"] = (merged[key].get("description", "") +
                                              " (the default depends on the choice: see the catalog)").strip()
    return merged


def _rows(properties: dict, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(dotted key, type, default, description) for every key, sections first-level then nested."""
    rows = []
    for key, node in properties.items():
        dotted = f"{prefix}{key}"
        default = json.dumps(node["default"]) if "default" in node else ""
        rows.append((dotted, _type(node), default, node.get("description", "")))
        nested = node.get("properties") or _merged_alternatives(node)
        if nested:
            rows.extend(_rows(nested, dotted + "."))
    return rows


def reference_rows(name: str) -> list[tuple[str, str, str, str]]:
    """Every key of the config (``name="config"``) or sweep file (``"sweep"``) as a table row."""
    return _rows(_schema(name)["properties"])


def reference_table(name: str) -> str:
    lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    lines += [f"| `{key}` | {_cell(kind)} | {f'`{_cell(default)}`' if default else ''} | {_cell(text)} |"
              for key, kind, default, text in reference_rows(name)]
    return "\n".join(lines)


def catalog_block(kind: str) -> str:
    from lossopt_cli.catalog.listing import catalog_lines

    return "```\n" + "\n".join(catalog_lines(kind)) + "\n```"


def expand(markdown: str) -> str:
    """The page with every marker replaced by its generated content."""
    def one(match: re.Match) -> str:
        what, arg = match.group(1), match.group(2)
        if what == "config-reference":
            return reference_table("config")
        if what == "sweep-reference":
            return reference_table("sweep")
        if what == "catalog":
            return catalog_block(arg)
        raise ValueError(f"unknown lossopt marker {match.group(0)!r}")

    return MARKER.sub(one, markdown)


def on_page_markdown(markdown: str, **_) -> str:  # MkDocs hook
    return expand(markdown)
