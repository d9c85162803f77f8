"""Guards that turn a late failure into an early, clear ``ConfigError`` (exit 2, nothing written).

- ``check_output_dir``: ``output.dir`` must be a directory lossopt can create and write in;
  a path that is a file, lies under a file, or is not writable is refused before training.
- ``confirm_sweep_size``: a sweep of more than ``MAX_RUNS`` runs starts only with ``--yes``
  (on a terminal lossopt asks), and the refusal says what ``--dry-run`` estimates.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .schema import ConfigError

MAX_RUNS = int(os.environ.get("LOSSOPT_MAX_RUNS", 1000))  # a sweep larger than this asks first


def check_output_dir(directory: str | Path, key: str = "output.dir") -> None:
    """Raise when runs cannot be written under ``directory``; creates nothing that stays."""
    path = Path(directory).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{key} {str(directory)!r} is a file, not a directory. Set {key} to a directory "
                          f"(it is created when missing), e.g. --set {key}=outputs.", key=key)
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise ConfigError(f"{key} {str(directory)!r} lies under {str(ancestor)!r}, which is a file, so the directory "
                          f"cannot be created. Choose another {key}.", key=key)
    try:  # the only sure test (root passes os.access everywhere): make a directory there, then remove it
        probe = tempfile.mkdtemp(prefix=".lossopt-write-test-", dir=ancestor)
        os.rmdir(probe)
    except OSError as exc:
        raise ConfigError(f"{key} {str(directory)!r} cannot be written: {exc.strerror or exc} in {str(ancestor)!r}. "
                          f"Choose a directory you can write to, e.g. --set {key}=outputs.", key=key) from None


def confirm_sweep_size(n_runs: int, yes: bool, estimate: str, stdin=None) -> None:
    """Above ``MAX_RUNS`` runs: go on with ``yes``; ask on a terminal; refuse otherwise."""
    if n_runs <= MAX_RUNS or yes:
        return
    message = (f"this sweep makes {n_runs:,} runs (more than {MAX_RUNS:,}); {estimate}. Check the plan with "
               f"--dry-run, then add --yes to start it (or narrow vary:, seeds: or samples:).")
    stdin = stdin or sys.stdin
    if not (hasattr(stdin, "isatty") and stdin.isatty()):
        raise ConfigError(message, key="vary")
    import click

    if not click.confirm(f"This sweep makes {n_runs:,} runs; {estimate}. Start it?", default=False, err=True):
        raise ConfigError(f"not started: {n_runs:,} runs were not confirmed. Narrow the sweep, or add --yes.",
                          key="vary")


HARD_MAX_RUNS = 100_000  # never expanded: 10^5 runs of even one second each is more than a day


def check_expansion_size(n_runs: int) -> None:
    """Refuse, before expanding it, a sweep whose plan alone would not fit in memory or time."""
    if n_runs > HARD_MAX_RUNS:
        raise ConfigError(f"this sweep would make {n_runs:,} runs; lossopt plans at most {HARD_MAX_RUNS:,}. Use "
                          f"mode: random with samples: N to draw a subset, or vary fewer values.", key="vary")
