"""The run directory: its layout, atomic writes, the per-epoch history and the status.

``outputs/<name>-<YYYYmmdd-HHMMSS>/`` (``-2``, ``-3`` where taken; never overwritten) holds
``config.yaml``, ``history.csv``, ``summary.json``, ``diagnosis.json``, ``curves.png``,
``model.keras`` and ``report.html``. Every file is written whole to a temporary name and
renamed into place, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

CONFIG = "config.yaml"
HISTORY = "history.csv"
SUMMARY = "summary.json"
DIAGNOSIS = "diagnosis.json"
CURVES = "curves.png"
MODEL = "model.keras"
REPORT = "report.html"

STATUSES = ("running", "completed", "early_stopped", "diverged", "interrupted", "failed")


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: str | Path, data: str | bytes) -> None:
    path = Path(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are for sharing like any file
        with os.fdopen(fd, mode) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)


def _json_default(value: Any):
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as strings so the file stays standard JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(path: str | Path, data: Mapping) -> None:
    atomic_write(path, json.dumps(_finite(data), indent=2, default=_json_default) + "\n")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def create_run_dir(root: str | Path, name: str, now: float | None = None, stamp: bool = True) -> Path:
    """Make a new, empty ``root/<name>-<YYYYmmdd-HHMMSS>`` (without the time when ``stamp`` is false,
    as for a sweep's runs), or the same with ``-2``, ``-3``... where taken: never reused."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    base = f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}" if stamp else name
    for n in range(1, 10_000):
        candidate = root / (base if n == 1 else f"{base}-{n}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run directory for {name} under {root}")


# --- history.csv ------------------------------------------------------------------------


def format_number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    return str(value)


class HistoryWriter:
    """Keeps the rows of ``history.csv`` and rewrites the file atomically after each epoch.

    Columns: ``epoch`` (1-based), then the metrics in the order they first appear
    (``loss``, ``accuracy``, ..., then ``val_*``), then ``learning_rate``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []
        self.columns: list[str] = ["epoch"]

    def append(self, epoch: int, logs: Mapping[str, Any]) -> None:
        row = {"epoch": int(epoch), **{k: float(v) for k, v in logs.items()}}
        for key in _ordered(row):
            if key not in self.columns:
                self.columns.append(key)
        self.columns = ["epoch"] + _ordered({k: None for k in self.columns if k != "epoch"})
        self.rows.append(row)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        for r in self.rows:
            writer.writerow([format_number(r.get(c)) for c in self.columns])
        atomic_write(self.path, buf.getvalue())


def _ordered(keys: Iterable[str]) -> list[str]:
    keys = [k for k in keys if k != "epoch"]
    train = [k for k in keys if not k.startswith("val_") and k != "learning_rate"]
    train.sort(key=lambda k: k != "loss")  # loss first, then the metrics in Keras' order
    val = [k for k in keys if k.startswith("val_")]
    order = {k: i for i, k in enumerate(train)}
    val.sort(key=lambda k: order.get(k[4:], len(order)))
    return train + val + (["learning_rate"] if "learning_rate" in keys else [])


def read_history(path: str | Path) -> dict[str, list[float]]:
    """Read ``history.csv`` or any Keras ``CSVLogger`` file into columns of floats.

    Epochs are made 1-based: a file whose first epoch is 0 (as CSVLogger writes) is shifted.
    Empty cells become NaN.
    """
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns: dict[str, list[float]] = {}
    if not rows:
        return columns
    for key in rows[0]:
        if key is None:
            continue
        values = []
        for r in rows:
            text = (r.get(key) or "").strip()
            try:
                values.append(float(text) if text else math.nan)
            except ValueError:
                values.append(math.nan)
        columns[key.strip()] = values
    if "epoch" in columns:
        epochs = columns["epoch"]
        shift = 1 if epochs and epochs[0] == 0 else 0
        columns["epoch"] = [int(e) + shift if math.isfinite(e) else i + 1 for i, e in enumerate(epochs)]
    else:
        columns = {"epoch": list(range(1, len(rows) + 1)), **columns}
    return columns


def find_history(target: str | Path) -> Path:
    """A run directory or a CSV file -> the history file."""
    p = Path(target)
    if p.is_dir():
        return p / HISTORY
    return p
