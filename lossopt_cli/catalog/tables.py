"""CSV files as datasets: read with pandas, every column typed and encoded, missing cells handled.

A first pass over the text (the standard ``csv`` module) skips comment lines, sniffs the
delimiter and checks that every row has as many fields as the header, naming the line that
does not; pandas then reads the table (quoted fields, ``NA``/``NaN``/empty/``?`` cells).
Numeric columns are features as they are; text columns are one-hot encoded unless they have
too many distinct values for that (an id, free text, a date), in which case they are dropped
with a note; a numeric column that is a row id (all distinct integers, in order or named like
``id``, ``index``, ``rownames``, ``Unnamed: 0``: what R's write.csv and pandas' to_csv add) is
dropped with a note too; ``data.include`` keeps such a column, ``data.categorical`` one-hot
encodes a column whatever its type. The target's
task is inferred (text or few integers: classification; otherwise, or with a regression
loss: regression) unless ``data.task`` says. Rows with missing cells are dropped, or kept for
imputation on the training split (``training.data``), or an error (``data.missing``).

What was inferred is returned as ``Dataset.inference``: ``lossopt validate`` prints it and
the run's ``config.yaml`` records its ``resolved`` keys, so a run repeats exactly.
pandas is imported only when a table is read (never by ``--help``, ``list`` or ``report``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..schema import ConfigError, suggest
from .columns import column_levels, example, id_like, is_numeric, level_name, too_many
from .csv_text import read_frame

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".data", ".dat")
MISSING_MARKERS = ["?"]  # on top of pandas' own: "", NA, N/A, NaN, nan, null, NULL, None, #N/A, ...
DELIMITERS = ",;\t|"
ID_LIKE_MIN = 10  # a text column unique on more than half the rows (and > this many values) is an id

def is_table_file(path: str | Path) -> bool:
    """Whether ``data.dataset`` names a delimited text file (optionally gzip-compressed)."""
    name = str(path).lower()
    name = name[:-3] if name.endswith(".gz") else name
    return name.endswith(TABLE_SUFFIXES)


@dataclass
class TableOptions:
    """The ``data:`` keys that concern a CSV file (already checked by the config's schema)."""

    target: str | int | None = None
    features: list | None = None
    categorical: list = field(default_factory=list)
    exclude: list = field(default_factory=list)
    include: list = field(default_factory=list)
    task: str = "auto"
    missing: str = "drop"
    header: bool = True
    comment: str | None = "#"
    delimiter: str | None = None
    max_categories: int = 50
    regression_loss: bool = False  # the config's loss is a regression loss: a numeric target is regressed



def _describe_columns(header: bool, columns: list[str]) -> str:
    if header:
        return ", ".join(columns)
    return f"0..{len(columns) - 1} (data.header: false: columns are numbered from 0)"


def _resolve(ref, columns: list[str], key: str, path: Path, header: bool) -> str:
    name = str(ref).strip()
    if name not in columns:
        raise ConfigError(f"{key} {ref!r} is not a column of {path}.{suggest(name, columns) if header else ''} "
                          f"Columns: {_describe_columns(header, columns)}.", key=key)
    return name


def _infer_task(series, options: TableOptions, target: str, path: Path) -> str:
    numeric = is_numeric(series)
    levels = series.dropna().nunique()
    if options.task == "regression":
        if not numeric:
            raise ConfigError(f"data.task is regression but the target column {target!r} of {path} holds text "
                              f"({example(series)}). Use data.task: classification, or another target.",
                              key="data.task")
        return "regression"
    if options.task == "classification":
        return "classification"
    if not numeric:
        return "classification"
    if options.regression_loss:
        return "regression"
    values = series.dropna().to_numpy(dtype="float64")
    integers = bool(np.all(np.equal(np.mod(values, 1), 0)))
    return "classification" if integers and levels <= max(20, len(values) // 20) else "regression"


def _check_missing(frame, rows, used: list[str], options: TableOptions, target: str, path: Path):
    """Apply data.missing: returns (kept row mask, notes, imputed cell count)."""
    notes: list[str] = []
    keep = np.ones(len(frame), dtype=bool)
    target_missing = frame[target].isna().to_numpy()
    features = [c for c in used if c != target]
    feature_missing = frame[features].isna().to_numpy() if features else np.zeros((len(frame), 0), bool)
    counts = {c: int(n) for c, n in zip(features, feature_missing.sum(axis=0)) if n}
    if options.missing == "error" and (target_missing.any() or counts):
        column = target if target_missing.any() else next(iter(counts))
        first = int(np.flatnonzero(frame[column].isna().to_numpy())[0])
        where = f"line {rows[first]}" if rows[first] is not None else f"data row {first + 1}"
        total = int(target_missing.sum()) if column == target else counts[column]
        raise ConfigError(f"data.missing is error and column {column!r} of {path} has {total} missing cell(s), the "
                          f"first at {where}. Use data.missing: drop (drop those rows) or impute (median / most "
                          f"frequent value, fitted on the training split), or data.exclude the column.",
                          key="data.missing")
    if target_missing.any():
        keep &= ~target_missing
        notes.append(f"dropped {int(target_missing.sum())} of {len(frame)} rows without a target value "
                     f"({target!r} missing).")
    imputed = 0
    if counts:
        detail = ", ".join(f"{c} {n}" for c, n in counts.items())
        if options.missing == "drop":
            row_missing = feature_missing.any(axis=1) & keep
            keep &= ~row_missing
            notes.append(f"dropped {int(row_missing.sum())} of {len(frame)} rows with missing cells (missing per "
                         f"column: {detail}); data.missing: impute keeps them.")
        else:
            imputed = int(feature_missing[keep].sum())
            notes.append(f"{imputed} missing cells (per column: {detail}) are imputed with the training split's "
                         f"median (numbers) or most frequent value (categories).")
    if not keep.any():
        raise ConfigError(f"data.missing: every row of {path} has a missing cell, so none is left. Use data.missing: "
                          f"impute, or data.exclude the emptiest columns.", key="data.missing")
    return keep, notes, imputed


def read_table(path: Path, options: TableOptions, name_key: str = "data.dataset"):
    """Read a CSV file into a ``Dataset`` (features encoded, labels as class indices or values)."""
    import pandas as pd

    from .dataset import Dataset

    frame, rows, delimiter, notes = read_frame(path, options)
    if options.delimiter is None and delimiter != ",":
        named = {"\t": "tabs", ";": "semicolons", "|": "bars"}.get(delimiter, repr(delimiter))
        notes.append(f"{path.name}'s fields are separated by {named} (sniffed from the file; data.delimiter sets "
                     f"it).")
    columns = list(frame.columns)
    header = options.header
    if options.target is None:
        raise ConfigError(f"data.target is required for a CSV dataset: the label column of {path} (columns: "
                          f"{_describe_columns(header, columns)}).", key="data.target")
    target = _resolve(options.target, columns, "data.target", path, header)
    chosen = [_resolve(c, columns, "data.features", path, header) for c in options.features or []]
    categorical = [_resolve(c, columns, "data.categorical", path, header) for c in options.categorical]
    excluded = [_resolve(c, columns, "data.exclude", path, header) for c in options.exclude]
    included = [_resolve(c, columns, "data.include", path, header) for c in options.include]
    if set(included) & set(excluded):
        both = sorted(set(included) & set(excluded), key=str)[0]
        raise ConfigError(f"column {both!r} is in both data.include and data.exclude. Keep it in one of them.",
                          key="data.include")
    if target in excluded:
        raise ConfigError(f"data.exclude lists the target {target!r}.", key="data.exclude")
    candidates = [c for c in (chosen or columns) if c != target and c not in excluded]
    if not candidates:
        raise ConfigError(f"data.features and data.exclude leave no feature column in {path} (columns: "
                          f"{_describe_columns(header, columns)}).", key="data.features")

    described: list[dict] = []
    kinds: dict[str, str] = {}
    dropped: list[str] = []
    for column in columns:
        series = frame[column]
        entry = {"name": column, "type": "number" if is_numeric(series) else "text",
                 "missing": int(series.isna().sum())}
        described.append(entry)
        if column == target:
            entry["use"] = "target"
        elif column not in candidates:
            entry["use"] = "excluded" if column in excluded else "not a feature"
        elif column in categorical or entry["type"] == "text":
            levels = series.dropna().nunique()
            keep = column in categorical or column in included
            reason = None if keep else too_many(levels, len(series), options.max_categories)
            if reason:
                entry["use"] = f"dropped: {reason}"
                dropped.append(column)
                notes.append(f"column {column!r} ({reason}, e.g. {example(series)}) is left out: one-hot encoding "
                             f"it would not generalize. List it in data.categorical to encode it anyway, or in "
                             f"data.exclude to silence this note.")
            else:
                entry["use"] = f"one-hot, {levels} values"
                kinds[column] = "category"
                if column not in categorical:  # a decision lossopt made: say it once
                    notes.append(f"text column {column!r} is one-hot encoded: {levels} values ({example(series)}, "
                                 f"...) become {levels} 0/1 inputs. List it in data.exclude to leave it out.")
        elif column not in chosen and column not in included and (why := id_like(column, series)):
            entry["use"] = f"dropped: a row id, {why}"
            dropped.append(column)
            notes.append(f"column {column!r} is left out: it looks like a row id ({why}), and a row's number says "
                         f"nothing about its label. List it in data.include to use it as a feature, or in "
                         f"data.exclude to silence this note.")
        else:
            entry["use"] = "feature"
            kinds[column] = "number"
    used = [c for c in candidates if c in kinds]
    if not used:
        reasons = "; ".join(f"{e['name']!r} {e['use']}" for e in described if e["name"] in dropped)
        raise ConfigError(f"no usable feature column is left in {path}: {reasons}. List a column in data.include "
                          f"to use it anyway (or in data.categorical to one-hot encode it).", key="data.features")

    task = _infer_task(frame[target], options, target, path)
    keep, missing_notes, imputed = _check_missing(frame, rows, used + [target], options, target, path)
    notes += missing_notes
    frame = frame[keep]

    blocks, names, groups = [], [], []
    for column in used:
        series = frame[column]
        start = len(names)
        if kinds[column] == "category":
            levels = column_levels(series)
            codes = pd.Categorical(series, categories=levels).codes  # -1: a missing cell
            block = np.zeros((len(series), len(levels)), dtype="float32")
            block[np.flatnonzero(codes >= 0), codes[codes >= 0]] = 1.0
            block[codes < 0] = np.nan  # imputed on the training split (data.missing: impute)
            blocks.append(block)
            names += [f"{column}={level_name(v)}" for v in levels]
        else:
            blocks.append(series.to_numpy(dtype="float32", na_value=np.nan).reshape(-1, 1))
            names.append(column)
        groups.append((kinds[column], start, len(names)))
    x = np.concatenate(blocks, axis=1)

    labels = frame[target]
    class_names = None
    if task == "classification":
        levels = column_levels(labels)
        if len(levels) < 2:
            raise ConfigError(f"data.target {target!r} of {path} has {len(levels)} class(es) after dropping rows; "
                              f"classification needs two or more.", key="data.target")
        limit = max(options.max_categories, 2)
        if not is_numeric(labels) and len(levels) > limit and options.task == "auto":
            raise ConfigError(f"data.target {target!r} of {path} holds text with {len(levels)} distinct values, "
                              f"more than data.max_categories ({limit}) classes: is it the right column? Raise "
                              f"data.max_categories or set data.task: classification to train on them all.",
                              key="data.target")
        if len(levels) == 2 and not is_numeric(labels):
            counts = labels.value_counts()
            if counts[levels[1]] > 1.5 * counts[levels[0]]:  # the rarer class is the positive one (class 1)
                levels = levels[::-1]
                notes.append(f"the positive class (1) of {target!r} is {level_name(levels[1])!r}, the rarer one "
                             f"({counts[levels[1]]} of {int(counts.sum())} rows): binary cross-entropy's output, "
                             f"precision, recall and the AUCs are about it.")
        y = pd.Categorical(labels, categories=levels).codes.astype("int64")
        class_names = [level_name(v) for v in levels]
    else:
        y = labels.to_numpy(dtype="float32")

    columns_key = (lambda c: int(c)) if not header else (lambda c: c)
    user_categorical = [columns_key(c) for c in categorical]
    resolved = {
        "target": columns_key(target),
        "task": task,
        "features": [columns_key(c) for c in used],
        "categorical": user_categorical + [columns_key(c) for c in used
                                           if kinds[c] == "category" and columns_key(c) not in user_categorical],
        "exclude": [columns_key(c) for c in excluded] + [columns_key(c) for c in dropped],
        "include": [columns_key(c) for c in included],
        "delimiter": delimiter,
    }
    inference = {"file": str(path), "rows": int(len(keep)), "rows_used": int(keep.sum()),
                 "rows_dropped": int((~keep).sum()), "imputed_cells": imputed, "delimiter": delimiter,
                 "columns": described, "target": target, "task": task, "classes": class_names,
                 "inputs": len(names), "resolved": resolved}
    return Dataset(path.name, x, y, task, n_classes=len(class_names) if class_names else None, feature_names=names,
                   class_names=class_names, feature_groups=groups, notes=notes, inference=inference)


def inference_lines(inference: dict) -> list[str]:
    """What was inferred from a CSV file, for ``lossopt validate``."""
    delimiter = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "bar"}.get(inference["delimiter"],
                                                                              repr(inference["delimiter"]))
    lines = [f"rows: {inference['rows']} read, {inference['rows_dropped']} dropped, {inference['rows_used']} used"
             + (f", {inference['imputed_cells']} cells to impute" if inference["imputed_cells"] else "")
             + f" (delimiter: {delimiter})"]
    classes = inference.get("classes")
    target = f"target: {inference['target']} -> {inference['task']}"
    if classes:
        shown = ", ".join(classes[:12]) + (f", ... ({len(classes)} in all)" if len(classes) > 12 else "")
        target += f", {len(classes)} classes: {shown}"
    lines.append(target)
    lines.append(f"columns ({len(inference['columns'])}, {inference['inputs']} model inputs):")
    width = max(len(c["name"]) for c in inference["columns"])
    for c in inference["columns"]:
        missing = f", {c['missing']} missing" if c["missing"] else ""
        lines.append(f"  {c['name']:<{width}}  {c['type']:<6}  {c['use']}{missing}")
    return lines
