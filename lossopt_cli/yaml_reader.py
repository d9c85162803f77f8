"""Read a user's YAML file safely: one clear ``ConfigError`` for anything that is not a sane config.

Built on ``yaml.SafeLoader`` (never ``yaml.load``: no Python objects are ever constructed from
a file), with four limits a plain ``safe_load`` lacks:

- the file must be UTF-8 text (a byte-order mark is accepted), not binary;
- a key given twice in one mapping is an error (plain YAML keeps the last one silently);
- a file over ``MAX_BYTES`` is refused before it is parsed (a config is a few hundred bytes);
- an "alias bomb" (anchors referring to anchors, a billion laughs) is refused when the document
  expanded would exceed ``MAX_NODES`` values, before anything is built from it.

Syntax errors name the line and column; a tab used for indentation says so. Numbers are read as
YAML 1.2 reads them: ``1e-3`` and ``1E5`` are floats (PyYAML follows YAML 1.1, which needs a dot
and a signed exponent, ``1.0e-3``, and reads ``1e-3`` as a string).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from .schema import ConfigError

MAX_BYTES = int(os.environ.get("LOSSOPT_MAX_YAML_BYTES", 1_000_000))  # 1 MB: configs are ~1 kB
MAX_NODES = 100_000  # scalars, lists and mappings in the document with every alias expanded

MERGE_TAG = "tag:yaml.org,2002:merge"


class StrictSafeLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses duplicate keys and documents that expand beyond ``MAX_NODES``."""

    def compose_document(self):
        node = super().compose_document()
        expanded = _expanded_size(node, {})
        if expanded > MAX_NODES:
            raise yaml.YAMLError(f"__expansion__{expanded}")
        return node

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # the base class reports an unhashable key
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice in one mapping (first at line {seen[key] + 1}); "
                        f"YAML would keep only the last one. Remove one of them", key_node.start_mark)
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


FLOAT_TAG = "tag:yaml.org,2002:float"
# YAML 1.2's core-schema floats (an exponent without a dot, an unsigned exponent) and YAML 1.1's
# (underscores, sexagesimal) alike; what matches is converted by SafeLoader's float constructor.
FLOAT_1_2 = re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""", re.X)
StrictSafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != FLOAT_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
StrictSafeLoader.add_implicit_resolver(FLOAT_TAG, FLOAT_1_2, list("-+0123456789."))


def _expanded_size(node, memo: dict) -> int:
    """The number of nodes of the document with every alias expanded (memoized: linear time)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = MAX_NODES + 1  # a cycle (recursive alias) counts as too big
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    size = min(size, 10 * MAX_NODES)  # bounded: a deep bomb's count must not grow to huge integers
    memo[id(node)] = size
    return size


def read_text(path: Path, what: str = "config file") -> str:
    """The file's text: a clear error when it is missing, a directory, too big, binary or not UTF-8."""
    if not path.exists():
        raise ConfigError(f"no such {what}. Check the path (it is relative to {Path.cwd()}).", file=str(path))
    if path.is_dir():
        raise ConfigError(f"is a directory, not a {what}.", file=str(path))
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(f"the {what} is {size / 1e6:.1f} MB; lossopt reads YAML files of at most {MAX_BYTES / 1e6:g} MB "
                          f"(a config is a few hundred bytes). Is this the right file?", file=str(path))
    data = path.read_bytes()
    if b"\x00" in data:
        raise ConfigError(f"is a binary file (it holds NUL bytes), not a YAML {what}. Save the config as UTF-8 text.",
                          file=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line} cannot be decoded. Save the "
                          f"{what} as UTF-8.", file=str(path)) from None


def load_yaml_text(text: str, source: str | None = None) -> Any:
    """Parse one YAML document with ``StrictSafeLoader``; errors become ``ConfigError`` with line and column."""
    try:
        return yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None
    except RecursionError:
        raise ConfigError("the YAML document is nested too deeply to be a config.", file=source) from None


def yaml_error(exc: yaml.YAMLError, source: str | None) -> ConfigError:
    text = str(exc)
    if text.startswith("__expansion__"):
        return ConfigError(f"the YAML anchors and aliases (&name / *name) expand to more than {MAX_NODES:,} values "
                           f"(an 'alias bomb'); lossopt refuses to read it. Write the values out, or use fewer "
                           f"nested aliases.", file=source)
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or text.splitlines()[0]
    context = getattr(exc, "context", None)
    if context and getattr(exc, "context_mark", None) is None:  # e.g. "expected a single document in the stream"
        problem = f"{context}, {problem}"
    elif context:
        problem = f"{context} (from line {exc.context_mark.line + 1}), {problem}"
    hint = ""
    if "'\\t'" in problem or "\\t" in problem:
        hint = " YAML indentation must use spaces, not tabs: replace the tab with spaces."
    elif "found duplicate anchor" in text:
        hint = " Give each anchor (&name) a different name."
    elif "appears twice" not in problem:
        hint = " Fix the syntax there (check the indentation, quotes and brackets)."
    return ConfigError(f"invalid YAML{where}: {problem}.{hint}", file=source)


def read_yaml_file(path: str | Path, what: str = "config file") -> Any:
    """Read and parse a YAML file; an empty document (or only comments) is an error."""
    p = Path(path)
    value = load_yaml_text(read_text(p, what), str(p))
    if value is None:
        raise ConfigError(f"the {what} is empty (or only comments). A config needs at least data.dataset and loss, "
                          f"e.g. configs/quickstart.yaml.", file=str(p))
    return value
