"""The run- and sweep-directory contract: file names, statuses, readers and the one atomic writer.

``outputs/<name>-<YYYYmmdd-HHMMSS>/`` (``-2``, ``-3`` where taken; never overwritten) holds
``config.yaml``, ``history.csv``, ``summary.json``, ``diagnosis.json``, ``curves.png``,
``model.keras`` and ``report.html``. A sweep directory holds ``sweep.yaml``, ``plan.json``,
``runs/<run>/`` (run directories), ``leaderboard.csv``, its plots, ``summary.json`` and
``report.html``. Every file is written whole to a temporary name and renamed into place
(``atomic_write`` for text and bytes, ``atomic_save`` for writers that want a path, such as
matplotlib and Keras; ``QueuedWriter`` makes the same writes in order on a background thread), so a
reader (or a crash) never sees half a file. Everything else in
lossopt names these files and statuses through this module.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

CONFIG = "config.yaml"
HISTORY = "history.csv"
SUMMARY = "summary.json"
DIAGNOSIS = "diagnosis.json"
CURVES = "curves.png"
MODEL = "model.keras"
REPORT = "report.html"
TENSORBOARD = "tensorboard"  # training.tensorboard's logs; in a sweep, also the HParams dashboard's summaries

# The sweep directory.
SWEEP_FILE = "sweep.yaml"
PLAN = "plan.json"
RUNS = "runs"
LEADERBOARD = "leaderboard.csv"

# A run's status in summary.json.
STATUSES = ("running", "completed", "early_stopped", "diverged", "pruned", "interrupted", "failed")
SUCCEEDED = ("completed", "early_stopped")  # the run did what was asked (exit code 0)
# a result: a sweep's --resume does not train it again (pruned: a tune sweep's trial stopped as hopeless)
FINISHED = ("completed", "early_stopped", "diverged", "pruned")
USABLE = ("completed", "early_stopped", "interrupted")  # curves that trained as asked, as far as they went: they count in statistics


def _temporary_name(path: Path, suffix: str = ".tmp") -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")


def atomic_write(path: str | Path, data: str | bytes | Callable[[], str | bytes]) -> None:
    """Write ``data`` whole to a temporary file beside ``path``, then rename it into place. ``data`` may be a
    function that makes it, called just before writing (a ``QueuedWriter`` calls it in the background)."""
    path = Path(path)
    if callable(data):
        data = data()
    tmp = _temporary_name(path)
    try:
        # O_EXCL on a fresh name; mode 0o666 less the umask, like any file the user creates
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class QueuedWriter:
    """``atomic_write`` done by one background thread, in the order the writes were asked for.

    A run rewrites ``history.csv``, ``summary.json`` and ``checkpoint.npz`` after every epoch, and each
    write waits for its ``fsync`` (a few milliseconds, as long as a small model's epoch); queued, the
    writes overlap the next epoch's training. In order, so whatever is on disk after a crash is a prefix
    of what was asked: a checkpoint is never more than one epoch behind ``history.csv``, and never ahead.
    A failed write is kept against its directory (one run's): the later writes into that directory are
    dropped until the failure is reported, while the other runs of the process (a fused group) go on.
    ``flush(directory)`` waits until everything asked is written and raises that directory's failure (any
    directory's without one), as does the next write into it: whoever ends a run flushes before reading
    its files or reporting it."""

    def __init__(self, limit: int = 64):
        import queue
        import threading

        self._queue: queue.Queue = queue.Queue(maxsize=limit)  # full: the caller waits (a disk slower than training)
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self._errors: dict[Path, BaseException] = {}

    def __call__(self, path: str | Path, data: str | bytes | Callable[[], str | bytes]) -> None:
        path = Path(path)
        self._raise(path.parent)
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                import threading

                if self._thread is None:
                    import atexit

                    atexit.register(self._flush_at_exit)  # a process that ends with writes queued still makes them
                self._thread = threading.Thread(target=self._work, name="lossopt-writer", daemon=True)
                self._thread.start()
        self._queue.put((path, data))

    def _work(self) -> None:
        while True:
            path, data = self._queue.get()
            try:
                if path.parent not in self._errors:  # after a failure, that run's later writes are dropped
                    atomic_write(path, data)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller by flush or the next write
                self._errors.setdefault(path.parent, exc)
            finally:
                self._queue.task_done()

    def flush(self, directory: str | Path | None = None) -> None:
        """Wait until every write asked so far is on disk; raise the error of one that failed in ``directory``
        (in any directory when None)."""
        self._queue.join()
        self._raise(None if directory is None else Path(directory))

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # noqa: BLE001 - at exit: say it, there is no caller left to raise to
            print(f"warning: could not write {exc}", file=sys.stderr)

    def _raise(self, directory: Path | None) -> None:
        if directory is None:
            key = next(iter(self._errors), None)
        else:
            key = directory if directory in self._errors else None
        if key is not None:
            raise self._errors.pop(key)


QUEUED = QueuedWriter()  # the process's one background writer (config-driven runs' per-epoch files)


def atomic_save(path: str | Path, save: Callable[[Path], Any]) -> Path:
    """``save(temporary_path)`` (``fig.savefig``, ``model.save``), then rename the file into place.
    The temporary name keeps the suffix, which matplotlib and Keras read to pick the format."""
    path = Path(path)
    tmp = _temporary_name(path, f".tmp{path.suffix}")
    try:
        save(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


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


def write_json(path: str | Path, data: Mapping, write: Callable[[Path, str], None] = atomic_write) -> None:
    """``data`` as standard JSON, written whole by ``write`` (``atomic_write``, or a ``QueuedWriter``)."""
    write(Path(path), json.dumps(_finite(data), indent=2, default=_json_default) + "\n")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())


def read_json_or_empty(path: str | Path) -> dict:
    """A JSON file's mapping, or {} when it is missing or unreadable (a run still being written)."""
    path = Path(path)
    try:
        return read_json(path) if path.is_file() else {}
    except (OSError, ValueError):
        return {}


def read_summary(run_dir: str | Path) -> dict:
    """A run's (or sweep's) ``summary.json``, or {} when there is none yet."""
    return read_json_or_empty(Path(run_dir) / SUMMARY)


def read_config(run_dir: str | Path) -> dict | None:
    """A run's resolved ``config.yaml`` as a mapping, or None when it is missing or unreadable."""
    import yaml

    path = Path(run_dir) / CONFIG
    try:
        # libyaml's loader where PyYAML has it: the same safe constructors and resolvers, ten times faster
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        value = yaml.load(path.read_text(), Loader=loader) if path.is_file() else None  # noqa: S506 - safe
    except (OSError, yaml.YAMLError):
        return None
    return value if isinstance(value, dict) else None


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

    def __init__(self, path: str | Path, rows: Iterable[Mapping[str, Any]] = (),
                 write: Callable[[Path, str], None] = atomic_write):
        """``rows``: the epochs already in the file, when a run is reopened (``read_history_rows``);
        ``write``: ``atomic_write``, or a ``QueuedWriter``."""
        self.path = Path(path)
        self.write = write
        self.rows: list[dict] = []
        self.columns: list[str] = ["epoch"]
        for row in rows:
            self._add(dict(row))

    def _add(self, row: dict) -> None:
        for key in _ordered(row):
            if key not in self.columns:
                self.columns.append(key)
        self.columns = ["epoch"] + _ordered({k: None for k in self.columns if k != "epoch"})
        self.rows.append(row)

    def append(self, epoch: int, logs: Mapping[str, Any]) -> None:
        self._add({"epoch": int(epoch), **{k: float(v) for k, v in logs.items()}})
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        for r in self.rows:
            writer.writerow([format_number(r.get(c)) for c in self.columns])
        self.write(self.path, buf.getvalue())


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


def read_history_rows(path: str | Path) -> list[dict]:
    """``history.csv`` as the rows ``HistoryWriter`` keeps: ``epoch`` an int, the other cells floats
    (an empty cell is left out, a ``nan`` stays NaN)."""
    rows = []
    with open(path, newline="") as f:
        for i, raw in enumerate(csv.DictReader(f), 1):
            row: dict = {}
            for key, text in raw.items():
                text = (text or "").strip() if key is not None else ""
                if not text:
                    continue
                try:
                    row[key.strip()] = float(text)
                except ValueError:
                    continue
            row["epoch"] = int(row.get("epoch", i))
            rows.append(row)
    return rows


def find_history(target: str | Path) -> Path:
    """A run directory or a CSV file -> the history file."""
    p = Path(target)
    if p.is_dir():
        return p / HISTORY
    return p
