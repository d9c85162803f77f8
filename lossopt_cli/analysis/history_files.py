"""Plain Keras histories (``keras.callbacks.CSVLogger`` files): their epoch convention.

CSVLogger writes Keras' 0-based epoch index (the first epoch is ``0``); lossopt counts epochs from
1 everywhere (``history.csv``, findings, plots), as Keras' progress bar does ("Epoch 1/10").
``rundir.read_history`` shifts such a file by one; ``epoch_note`` says so to the user, in every
message about the file. Pure Python.
"""

from __future__ import annotations

import csv
from pathlib import Path


def first_epoch(path: str | Path) -> float | None:
    """The ``epoch`` cell of the file's first row, as written (None without an epoch column)."""
    with open(path, newline="") as f:
        row = next(csv.DictReader(f), None)
    try:
        return float((row or {}).get("epoch") or "")
    except ValueError:
        return None


def epoch_note(*paths: str | Path) -> str | None:
    """How epochs of history files are numbered in lossopt's messages (None for lossopt's own history.csv)."""
    zero = [Path(p).name for p in paths if first_epoch(p) == 0]
    none = [Path(p).name for p in paths if first_epoch(p) is None]
    notes = []
    if zero:
        notes.append(f"epochs are counted from 1, as in Keras' progress bar: epoch N here is the row with epoch N-1 "
                     f"in {', '.join(zero)} (CSVLogger counts from 0).")
    if none:
        notes.append(f"{', '.join(none)} {'has' if len(none) == 1 else 'have'} no epoch column: rows are numbered "
                     f"from 1.")
    return " ".join(notes) or None
