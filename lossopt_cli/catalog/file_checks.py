"""Checks on a user's data file (NPZ; CSV files are read by ``tables``) and the arrays read from it: one clear ``ConfigError``
naming the file, what is wrong and where, instead of a NumPy traceback or a silent NaN run.

- an NPZ must be a zip of plain numeric arrays (no pickled objects, no strings as features);
- x and y must have the same number of samples, at least ``MIN_SAMPLES``; no NaN or infinite
  values; a classification target needs two classes or more.

Every problem found in one file is reported at once.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..schema import ConfigError, Problems

MIN_SAMPLES = 2
SHOWN = 5  # line numbers or cells listed in a message


def read_npz(p: Path, key: str) -> dict:
    """The arrays of an .npz written by ``numpy.savez``: a zip of numeric (or label) arrays, nothing pickled."""
    if not zipfile.is_zipfile(p):
        raise ConfigError(f"{key}: {p} is not an .npz file (an .npz is a zip archive written by numpy.savez). "
                          f"Save the arrays with numpy.savez({p.name!r}, x=..., y=...).", key=key)
    try:
        with np.load(p, allow_pickle=False) as f:
            names = list(f.files)
            missing = [k for k in ("x", "y") if k not in names]
            if missing:
                raise ConfigError(f"{key}: {p} must hold arrays 'x' and 'y' (optional x_val/y_val, "
                                  f"x_test/y_test); it has {', '.join(names) or 'none'}.", key=key)
            arrays, problems = {}, Problems()
            for name in names:
                try:
                    arrays[name] = f[name]
                except ValueError:
                    problems.add(ConfigError(f"{key}: array {name!r} of {p} holds Python objects (dtype=object, e.g. "
                                             f"rows of different lengths); lossopt never unpickles a data file. Save "
                                             f"a numeric array of one shape.", key=key))
            problems.raise_if_any()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ConfigError(f"{key}: {p} could not be read as an .npz file: {type(exc).__name__}: {exc}.", key=key) from None
    problems = Problems()
    for name, array in arrays.items():
        if name.startswith("x") and array.dtype.kind not in "biuf":
            problems.add(ConfigError(f"{key}: array {name!r} of {p} has dtype {array.dtype}, but features must be "
                                     f"numbers. Encode the text as numbers before saving.", key=key))
    problems.raise_if_any()
    return arrays


def check_arrays(x, y, source: Path, key: str, task: str | None = None, feature_names=None,
                 part: str = "", missing_ok: bool = False) -> None:
    """Every problem of one (x, y) pair: lengths, too few samples, NaN/inf (inf only with ``missing_ok``:
    a table's missing cells are ``data.missing``'s to drop or impute), one class."""
    problems = Problems()
    what = f"{part} " if part else ""
    nx, ny = len(x), len(y)
    if nx != ny:
        problems.add(ConfigError(f"{key}: {source}: x{part and '_' + part} has {nx} samples but "
                                 f"y{part and '_' + part} has {ny}; they must have one label per sample.", key=key))
    elif not part and nx < MIN_SAMPLES:
        problems.add(ConfigError(f"{key}: {source} has {nx} sample(s); training and validation need at least "
                                 f"{MIN_SAMPLES} (in practice hundreds).", key=key))
    for label, array in (("features", x), ("targets", y)):
        array = np.asarray(array)
        if array.dtype.kind not in "fc":
            continue
        bad = np.isinf(array) if missing_ok else ~np.isfinite(array)
        if bad.any():
            cells = np.argwhere(bad.reshape(len(array), -1))
            where = []
            for row, col in cells[:SHOWN]:
                column = (repr(feature_names[col]) if label == "features" and feature_names and col < len(feature_names)
                          else str(col))
                where.append(f"sample {row + 1} column {column}" if array.ndim > 1 else f"sample {row + 1}")
            rows = len(np.unique(cells[:, 0]))
            problems.add(ConfigError(
                f"{key}: {source}: the {what}{label} hold {int(bad.sum())} NaN or infinite value(s) in {rows} "
                f"sample(s) ({', '.join(where)}{' ...' if len(cells) > SHOWN else ''}). Training on them gives a NaN "
                f"loss: remove or fill those samples (empty CSV cells are read as NaN).", key=key))
    if task == "classification" and not part and nx == ny and nx >= MIN_SAMPLES and len(np.unique(y)) < 2:
        problems.add(ConfigError(f"{key}: {source}: the target has one class only ({np.unique(y)[0].item()!r}); a classifier "
                                 f"has nothing to learn. Check data.target, or use data with two classes or more.",
                                 key="data.target"))
    problems.raise_if_any()


def check_dataset(ds, source: Path, key: str, missing_ok: bool = False) -> None:
    """``check_arrays`` on the dataset and its own validation/test parts; every problem at once."""
    problems = Problems()
    problems.attempt(check_arrays, ds.x, ds.y, source, key, ds.task, ds.feature_names, missing_ok=missing_ok)
    for part in ("val", "test"):
        x, y = getattr(ds, f"x_{part}"), getattr(ds, f"y_{part}")
        if (x is None) != (y is None):
            problems.add(ConfigError(f"{key}: {source} has {'x' if y is None else 'y'}_{part} without "
                                     f"{'y' if y is None else 'x'}_{part}; give both or neither.", key=key))
        elif x is not None:
            problems.attempt(check_arrays, x, y, source, key, ds.task, ds.feature_names, part)
    problems.raise_if_any()
