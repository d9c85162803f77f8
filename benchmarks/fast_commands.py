"""Wall time of lossopt's commands that never train: `--help`, `validate`, `diagnose`, `list`, `compare`.

    python benchmarks/fast_commands.py --rounds 5

Each is a fresh process, as a user types it (Python's start-up included); the median of the rounds,
against the target of 0.3 s; and the CPU time (user + system) each used, which a loaded machine inflates
far less than the wall time. Trains one tiny run first (into a temporary directory) so that
`diagnose`, `list` and `compare` have something to read.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from pathlib import Path

from timing import load, lossopt, machine, median, timed


def cpu_seconds() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        for name in ("a", "b"):
            timed(lossopt("train", "configs/quickstart.yaml", "--quiet", "--set", f"output.dir={out}", "--set",
                          f"name={name}", "--set", "training.epochs=3"))
        a, b = sorted(str(p) for p in Path(out).iterdir())[:2]
        commands = {
            "lossopt --help": lossopt("--help"),
            "lossopt validate configs/quickstart.yaml": lossopt("validate", "configs/quickstart.yaml"),
            "lossopt diagnose RUN": lossopt("diagnose", a),
            "lossopt list OUTPUTS": lossopt("list", out),
            "lossopt compare RUN_A RUN_B": lossopt("compare", a, b, "--output", f"{out}/compare.png"),
        }
        times = {name: [] for name in commands}
        cpu = {name: [] for name in commands}
        before = load()
        for _ in range(args.rounds):
            for name, cmd in commands.items():
                start = cpu_seconds()
                times[name].append(timed(cmd, check=False))
                cpu[name].append(cpu_seconds() - start)
    print(f"\n{machine()}; load average before: {before}, after: {load()}\n")
    print("| command | wall, runs (s) | median wall | median CPU (user + sys) | target 0.3 s (wall) |")
    print("| --- | --- | --- | --- | --- |")
    for name, values in times.items():
        m = median(values)
        print(f"| `{name}` | {', '.join(f'{v:.2f}' for v in values)} | {m:.2f} s | {median(cpu[name]):.2f} s | "
              f"{'met' if m <= 0.3 else 'missed'} |")


if __name__ == "__main__":
    sys.exit(main())
