"""``lossopt train --resume RUN_DIR``: continue an interrupted run in its own directory, exactly.

The run's ``config.yaml`` is trained again from its ``checkpoint.npz`` (weights, optimizer state
with the schedule's step, callbacks' state, the epoch), with the batch order of every epoch a
function of (seed, epoch): the finished run's history equals an uninterrupted run's. Refused,
with a clear message: a directory that is not a run, a run that finished, a run whose process
still lives, a config changed since (``config.yaml`` edited, or a CONFIG/--set that differs).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Mapping

from .. import liveness, rundir
from ..schema import ConfigError


def check_resumable(run_dir: str | Path) -> dict:
    """The run's summary when ``run_dir`` can be resumed; a ``ConfigError`` saying why not otherwise."""
    run_dir = Path(run_dir)
    key = "--resume"
    if not run_dir.is_dir():
        raise ConfigError(f"--resume {run_dir}: no such directory. Give a run directory that `lossopt train` made, "
                          f"e.g. outputs/quickstart-20261123-150000.", key=key)
    if not (run_dir / rundir.CONFIG).is_file() or not (run_dir / rundir.SUMMARY).is_file():
        raise ConfigError(f"--resume {run_dir}: not a run directory (no {rundir.CONFIG} and {rundir.SUMMARY}). "
                          f"Give a directory that `lossopt train` made; a sweep resumes with `lossopt sweep --resume`.",
                          key=key)
    summary = rundir.read_summary(run_dir)
    status = liveness.effective_status(summary)
    if status in rundir.FINISHED:
        raise ConfigError(f"--resume {run_dir}: the run already finished (status {status} after "
                          f"{summary.get('epochs_run')} of {summary.get('epochs_requested')} epochs); there is nothing "
                          f"to resume. To train longer, start a new run: lossopt train {run_dir / rundir.CONFIG} "
                          f"--set training.epochs=N.", key=key)
    if status == "running":
        where = f"pid {summary.get('pid')} on {summary.get('host')}" if summary.get("pid") else "its process"
        raise ConfigError(f"--resume {run_dir}: the run is still running ({where}). Stop it first (Ctrl-C or "
                          f"kill -TERM), then resume it.", key=key)
    return summary


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out = []
        for k in list(dict.fromkeys([*a, *b])):
            out += _differences(a.get(k), b.get(k), f"{path}.{k}" if path else str(k))
        return out
    return [] if a == b else [path or "(the config)"]


def load_resumed_config(run_dir: Path, config_path: str | None = None, overrides: Mapping | None = None):
    """The run's config.yaml, validated; unchanged since its checkpoint, and equal to CONFIG when given."""
    from .. import config as config_module
    from . import checkpoint

    if overrides:
        raise ConfigError("--set cannot change a run being resumed: it continues with the config it started "
                          f"with ({run_dir / rundir.CONFIG}). Start a new run to change it.", key="--set")
    stored_path = run_dir / rundir.CONFIG
    saved = checkpoint.read(run_dir)
    if saved is not None and saved[0].get("config_sha256") != checkpoint.config_hash(run_dir):
        raise ConfigError(f"--resume {run_dir}: {rundir.CONFIG} changed after the checkpoint was written; the "
                          f"checkpoint belongs to the config the run started with. Restore that config, or start a new "
                          f"run with the new one.", key="--resume")
    stored = config_module.validate(config_module.read_yaml(stored_path), source=str(stored_path))
    if config_path:
        given = config_module.load(config_path)
        mine, theirs = stored.to_dict(), given.to_dict()
        for d in (mine, theirs):
            d.pop("name", None)
            d.get("output", {}).pop("dir", None)
        changed = _differences(mine, theirs)
        if changed:
            shown = ", ".join(changed[:8]) + (" ..." if len(changed) > 8 else "")
            raise ConfigError(f"--resume {run_dir}: {config_path} differs from the config the run started with "
                              f"({shown}). A run resumes with its own config: drop CONFIG (lossopt train --resume "
                              f"{run_dir}), or start a new run.", key="--resume")
    return stored


def clean_temporary_files(run_dir: Path) -> None:
    """Remove the temporary files a kill -9 may leave (``.<name>.<hex>.tmp``): never a finished file."""
    for path in run_dir.glob(".*.tmp*"):
        with contextlib.suppress(OSError):
            os.unlink(path)


def prepare_resumed(run_dir: str | Path, config_path: str | None = None, overrides: Mapping | None = None):
    """The checks, then the run's config prepared (pre-flight, model built) to continue; writes nothing but
    the removal of a kill's temporary files."""
    from .runner import prepare_run

    run_dir = Path(run_dir)
    check_resumable(run_dir)
    config = load_resumed_config(run_dir, config_path, overrides)
    try:
        prepared = prepare_run(config)
    except ConfigError as err:
        raise err.in_file(str(run_dir / rundir.CONFIG)) from None
    clean_temporary_files(run_dir)
    return prepared


def resume_run(run_dir: str | Path, config_path: str | None = None, overrides: Mapping | None = None, *,
               verbose: Any = 0, on_note=None, on_epoch=None):
    """Continue the run in ``run_dir`` from its checkpoint (or from the start when it stopped before its first
    epoch ended, or was made with ``training.checkpoint: none``). Returns the ``RunResult``."""
    from .runner import execute

    prepared = prepare_resumed(run_dir, config_path, overrides)
    for note in prepared.notes:
        if on_note:
            on_note(note)
    return execute(prepared, verbose=verbose, on_epoch=on_epoch, run_dir=Path(run_dir), resume=True)
