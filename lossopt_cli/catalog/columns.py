"""What a CSV column is: numeric or text, its levels, whether it is a row id or has too many values to
one-hot encode. Pure pandas/NumPy helpers for ``tables.read_table``."""

from __future__ import annotations

import re

import numpy as np

ID_LIKE_MIN = 10  # a text column unique on more than half the rows (and > this many values) is an id
# names that tools give a row-number column: R's write.csv (rownames, "" -> Unnamed: 0, X after read.csv), pandas'
# to_csv (Unnamed: 0), readr (...1), and id columns (id, index, row_id, customer_id, ...)
ID_NAMES = re.compile(r"^(?:|id|idx|index|row|rownames?|row[ _.]?names?|row[ _.]?(?:id|num|number|no)|unnamed: ?\d+"
                      r"|\.\.\.\d+|.*[ _.]id)$", re.IGNORECASE)
ID_NAMES_EXACT = ("X", "ID", "Id")  # R's read.csv names an unnamed first column X; a lower-case x is a feature



def is_numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def column_levels(series) -> list:
    """The distinct values of a column, sorted (numbers numerically), missing cells left out."""
    values = series.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def level_name(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def example(series) -> str:
    values = [v for v in series.dropna().unique().tolist()[:3]]
    return ", ".join(repr(level_name(v)) for v in values)


def too_many(levels: int, rows: int, limit: int) -> str | None:
    if levels > limit:
        return f"{levels} distinct values, more than data.max_categories ({limit})"
    if levels > ID_LIKE_MIN and levels > rows / 2:
        return f"{levels} distinct values in {rows} rows, like an id or free text"
    return None


def id_like(name: str, series) -> str | None:
    """Why a numeric column is a row id rather than a feature, or None: all its values distinct integers,
    and either in increasing order (a row number) or under a name tools give an id column."""
    values = series.dropna()
    n = len(values)
    if n < ID_LIKE_MIN or n != len(series) or series.dtype.kind not in "iuf":
        return None
    numbers = values.to_numpy(dtype="float64")
    if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)) or len(np.unique(numbers)) != n:
        return None
    if np.all(np.diff(numbers) > 0):
        return (f"distinct integers in increasing order ({level_name(numbers[0])}, {level_name(numbers[1])}, ... "
                f"{level_name(numbers[-1])}): a row number")
    if ID_NAMES.match(str(name).strip()) or str(name).strip() in ID_NAMES_EXACT or str(name).endswith(("ID", "Id")):
        return f"named like an id, {n} distinct integers"
    return None
