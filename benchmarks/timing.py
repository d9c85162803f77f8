"""Helpers shared by the benchmark scripts: run a command, time it, take medians, note the load.

Only public tools: ``subprocess``, ``time.perf_counter``, ``os.getloadavg`` and ``/usr/bin/time -v``.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env(lossopt_root: str | Path = ROOT) -> dict:
    """The environment of a timed command: lossopt's code from ``lossopt_root`` (a checkout), quiet TensorFlow."""
    return {**os.environ, "PYTHONPATH": str(lossopt_root), "TF_CPP_MIN_LOG_LEVEL": "3"}


def timed(cmd: list[str], *, cwd: str | Path = ROOT, lossopt_root: str | Path = ROOT, check: bool = True) -> float:
    """Wall seconds of one command (its output discarded)."""
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env(lossopt_root), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    seconds = time.perf_counter() - started
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return seconds


def peak_rss_mb(cmd: list[str], *, cwd: str | Path = ROOT, lossopt_root: str | Path = ROOT) -> tuple[float, float]:
    """(peak resident memory in MB of the largest process of the command, wall seconds), by ``/usr/bin/time -v``."""
    started = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, env=env(lossopt_root), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    if result.returncode != 0 or not match:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return int(match.group(1)) / 1024, seconds


def lossopt(*args: str) -> list[str]:
    return [sys.executable, "-m", "lossopt_cli", *args]


def median(values: list[float]) -> float:
    return statistics.median(values)


def load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d %H:%M %Z')}")
