"""Time a sweep and compare it with the `--dry-run` estimate: one Markdown table row on stdout.

    python benchmarks/sweep_time.py configs/sweeps/optimizers.yaml --executor serial
    python benchmarks/sweep_time.py configs/sweeps/optimizers.yaml --executor processes --workers 2

Runs the sweep into a temporary directory (deleted afterwards) with `python -m lossopt_cli`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lossopt(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lossopt_cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True)


def seconds(text: str) -> int:
    h, m, s = (re.search(rf"(\d+){u}", text) for u in ("h", "m", "s"))
    return sum(int(x.group(1)) * k for x, k in ((h, 3600), (m, 60), (s, 1)) if x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep")
    parser.add_argument("--executor", default="auto", choices=["auto", "processes", "serial", "fused"])
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        common = [args.sweep, "--executor", args.executor, "--workers", str(args.workers), "--set", f"output.dir={out}"]
        dry = lossopt("sweep", *common, "--dry-run")
        estimate = seconds(re.search(r"estimated time: about (\S+)", dry.stdout).group(1))
        runs = int(re.search(r": (\d+) runs", dry.stdout).group(1))
        started = time.time()
        result = lossopt("sweep", *common, "--quiet")
        wall = time.time() - started
    print(f"| `{args.sweep}` | {args.executor} | {args.workers} | {runs} | {estimate} s | {wall:.0f} s | "
          f"{wall / runs:.1f} s | exit {result.returncode} |")


if __name__ == "__main__":
    main()
