"""JSON Schema from the validator's declarative constraints: a ``schema.Constraint``, a table of
``Param`` and a registry each map onto their JSON Schema; ``config_schema`` and ``sweep_schema`` put
them together for ``lossopt schema`` (editors), from the tables ``commands`` hands them.

Generated from the very tables the validator checks (``config.SECTIONS`` and ``TOP_LEVEL``, the
registries' parameter tables, the reporter's thresholds, ``sweeps.SWEEP_TABLE``): each
``schema.Constraint`` maps onto its JSON Schema, so the editor and ``lossopt validate`` cannot
drift apart. The schema checks the shape of a file (keys, types, ranges, names); what needs the
data (a loss against the labels, a column of a CSV file) is left to ``lossopt validate``.
The committed copies live in ``docs/schema/`` (a test keeps them current). No TensorFlow.
"""

from __future__ import annotations

from typing import Any, Mapping

from .schema import (
    Any_,
    Bool,
    Choice,
    Constraint,
    Custom,
    ListOf,
    Mapping_,
    Null,
    Number,
    OneOf,
    Param,
    Str,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID = "urn:lossopt:schema:"  # the schema's $id (a name, not a place): editors find it by the modeline's path
REFERENCE = r"^[^:\s][^:]*:[A-Za-z_][A-Za-z0-9_]*$"  # module:function or path/to/file.py:function


def _plain(value: Any) -> Any:
    """A default as JSON can hold it (tuples as lists)."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def constraint_schema(c: Constraint) -> dict:
    """The JSON Schema of the values a constraint accepts."""
    from .catalog.models import LayerSpec
    from .catalog.optimizers import LearningRate

    if isinstance(c, Number):
        out: dict = {"type": "integer" if c.integer else "number"}
        if c.low is not None:
            out["exclusiveMinimum" if c.low_open else "minimum"] = c.low
        if c.high is not None:
            out["exclusiveMaximum" if c.high_open else "maximum"] = c.high
        return out
    if isinstance(c, Bool):
        return {"type": "boolean"}
    if isinstance(c, Str):
        return {"type": "string", "minLength": 1, "pattern": r"\S"}
    if isinstance(c, Null):
        return {"type": "null"}
    if isinstance(c, Choice):
        return {"enum": list(c.choices)}
    if isinstance(c, ListOf):
        items = constraint_schema(c.item)
        array = {"type": "array", "items": items, **({"minItems": c.min_length} if c.min_length else {})}
        return {"anyOf": [array, items]} if c.allow_scalar else array
    if isinstance(c, OneOf):
        return {"anyOf": [constraint_schema(o) for o in c.options]}
    if isinstance(c, Mapping_):
        return {"type": "object"}
    if isinstance(c, Custom):
        schema = c.json_schema() if callable(c.json_schema) else c.json_schema
        return dict(schema) if schema else {}
    if isinstance(c, LearningRate):  # shared by every optimizer: defined once, in config_schema's $defs
        return {"$ref": "#/$defs/learning_rate"}
    if isinstance(c, LayerSpec):
        name = {"type": "string", "pattern": "^[A-Z]"}
        return {"anyOf": [name, {"type": "object", "properties": {"class_name": name}, "required": ["class_name"]}]}
    if isinstance(c, Any_):
        return {}
    raise TypeError(f"no JSON Schema for the constraint {type(c).__name__}")  # a new kind must be added here


def param_schema(param: Param) -> dict:
    out = constraint_schema(param.constraint)
    if param.doc:
        out["description"] = param.doc
    if not param.required:
        out["default"] = _plain(param.default)
    return out


def table_schema(table: Mapping[str, Param], required: bool = True, overrides: Mapping[str, dict] | None = None) -> dict:
    """A mapping checked by ``schema.validate_table``: these keys only, each with its schema and default."""
    properties = {key: param_schema(param) for key, param in table.items()}
    for key, schema in (overrides or {}).items():
        properties[key] = {**schema, **{k: v for k, v in properties[key].items() if k in ("description", "default")}}
    out: dict = {"type": "object", "properties": properties, "additionalProperties": False}
    needed = [key for key, param in table.items() if param.required] if required else []
    if needed:
        out["required"] = needed
    return out


def registry_schema(registry, default: str | None = None) -> dict:
    """A name (or an alias, or ``module:function`` where the registry accepts user code) or a
    ``{name: ..., **params}`` mapping; ``default``: the entry a mapping without a name means."""
    sel = registry.selector
    names = sorted(n for e in registry.entries() for n in (e.name, *e.aliases))
    name_schema: dict = {"enum": names}
    if registry.custom is not None:
        name_schema = {"anyOf": [name_schema, {"type": "string", "pattern": REFERENCE}]}
    mappings = []
    for entry in registry.entries():
        mapping = table_schema(entry.params, required=True)
        mapping["properties"] = {sel: {"enum": [entry.name, *entry.aliases], "description": entry.description},
                                 **mapping["properties"]}
        if entry.name != default:
            mapping["required"] = [sel, *mapping.get("required", [])]
        mappings.append(mapping)
    if registry.custom is not None:
        _, _, params = registry.custom("custom.py:function")
        custom = table_schema(params)
        custom["properties"] = {sel: {"type": "string", "pattern": REFERENCE,
                                      "description": "your own: module:function or path/to/file.py:function"},
                                **custom["properties"]}
        custom["required"] = [sel]
        mappings.append(custom)
    return {"anyOf": [name_schema, *mappings],
            "description": f"a {registry.kind} name or a mapping {{{sel}: ..., parameters}} "
                           f"(see `lossopt catalog {registry.plural}`)"}


# --- the schemas of the two files ----------------------------------------------------------


def config_schema(sections_table: dict, top_level: dict) -> dict:
    """The JSON Schema of a run config (``lossopt schema``) from its tables (the config's sections and top level)."""
    from .analysis.thresholds import THRESHOLDS
    from .catalog import DATASETS, LOSSES, METRICS, MODELS, OPTIMIZERS
    from .catalog.optimizers import SCHEDULES

    dataset = {"anyOf": [{"enum": DATASETS.names()}, {"type": "string", "minLength": 1}]}
    data = table_schema(sections_table["data"], overrides={"dataset": dataset})
    metric = registry_schema(METRICS)
    sections = {
        "data": data,
        "training": table_schema(sections_table["training"]),
        "output": table_schema(sections_table["output"]),
        "tracking": table_schema(sections_table["tracking"]),
        "diagnostics": table_schema(THRESHOLDS),
        "model": registry_schema(MODELS, default="mlp"),
        "loss": registry_schema(LOSSES),
        "optimizer": registry_schema(OPTIMIZERS, default="adam"),
        "metrics": {"anyOf": [{"type": "null"}, {"type": "array", "items": metric}, metric]},
    }
    out = table_schema(top_level, overrides=sections)
    learning_rate = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"const": "lr_find"},
                               registry_schema(SCHEDULES)],
                     "description": "a number > 0, lr_find (the range test's recommended rate), or a schedule "
                                    "{name: cosine_decay, initial: 0.01, ...}"}
    return {"$schema": DRAFT, "$id": ID + "config", "title": "lossopt run config",
            "description": "A lossopt config: data.dataset and loss are required; every other key has a default. "
                           "`lossopt validate` also checks the config against its data.", **out,
            "$defs": {"learning_rate": learning_rate}}


def sweep_schema(sweep_table: dict) -> dict:
    """The JSON Schema of a sweep file (``lossopt schema --sweep``) from the sweep file's table."""
    values = {"anyOf": [{"type": "array", "minItems": 1},
                        {"type": "object", "properties": {"low": {"type": "number"}, "high": {"type": "number"},
                                                          "log": {"type": "boolean"}, "integer": {"type": "boolean"}},
                         "required": ["low", "high"], "additionalProperties": False}]}
    vary = {"type": "object", "minProperties": 1, "additionalProperties": values,
            "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$"}}
    out = table_schema(sweep_table, overrides={"vary": vary, "base": {"anyOf": [
        {"type": "string", "minLength": 1, "description": "a config file, relative to the sweep file"},
        {"type": "object", "description": "an inline config"}]}})
    return {"$schema": DRAFT, "$id": ID + "sweep", "title": "lossopt sweep file",
            "description": "A lossopt sweep: a base config and the dotted keys to vary.", **out}
