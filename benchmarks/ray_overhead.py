"""The Ray executor's cost on one machine: the same sweep with the local executors and ray, side by side.

    python benchmarks/ray_overhead.py                       # the 12-run sweep: auto, ray, processes, serial
    python benchmarks/ray_overhead.py SWEEP --executors processes ray --workers 2

The sweep is `configs/sweeps/optimizers_fused.yaml` when it exists, else the same 12 runs written
inline (sgd 0.1, momentum 0.05, rmsprop 1e-3, adam 1e-3 x 3 seeds x 20 epochs of the quickstart).
`ray` runs what `auto` runs (fused groups and single runs) as Ray tasks on a local instance. Each
executor runs `python -m lossopt_cli sweep SWEEP --quiet` into a temporary directory (deleted
afterwards), one after another; then a local Ray instance alone is started and stopped to time its
start-up and sum the memory of its processes. Prints Markdown rows and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FUSED_SWEEP = ROOT / "configs" / "sweeps" / "optimizers_fused.yaml"
TWELVE_RUNS = {
    "name": "optimizers-fused", "base": str(ROOT / "configs" / "quickstart.yaml"), "set": {"training.epochs": 20},
    "mode": "zip", "vary": {"optimizer.name": ["sgd", "momentum", "rmsprop", "adam"],
                            "optimizer.learning_rate": [0.1, 0.05, 0.001, 0.001]},
    "seeds": [0, 1, 2],
}


def sweep_seconds(sweep: str, executor: str, workers: int, out: str) -> tuple[float, int, int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "lossopt_cli", "sweep", sweep, "--executor", executor, "--workers",
                           str(workers), "--set", f"output.dir={out}", "--quiet"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    runs = len(list(Path(out).glob("*/runs/*/summary.json")))
    return time.time() - started, runs, done.returncode


def descendants_rss_bytes(root: int) -> int:
    """The resident memory of every process descended from ``root`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


def ray_instance(cpus: int) -> tuple[float, float, float]:
    """Seconds to start a local Ray instance, MB of memory its processes hold when idle, seconds to stop it."""
    import logging

    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = time.time()
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    startup = time.time() - started
    ray.get([ray.remote(lambda: None).remote() for _ in range(cpus)])  # the idle workers exist
    rss = descendants_rss_bytes(os.getpid()) / 2**20
    started = time.time()
    ray.shutdown()
    return startup, rss, time.time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", nargs="?")
    parser.add_argument("--executors", nargs="*", default=["auto", "ray", "processes", "serial"],
                        help="the executors to time, in this order (none: only the Ray instance)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        sweep = args.sweep or (str(FUSED_SWEEP) if FUSED_SWEEP.is_file() else None)
        if sweep is None:
            sweep = str(Path(work) / "optimizers_fused.yaml")
            Path(sweep).write_text(yaml.safe_dump(TWELVE_RUNS, sort_keys=False))
        name = args.sweep or (f"{FUSED_SWEEP.relative_to(ROOT)}" if FUSED_SWEEP.is_file() else "12 runs (inline)")
        if args.executors:
            print(f"| sweep | executor | workers | runs | wall time | vs {args.executors[0]} | load average before |")
            print("| --- | --- | --- | --- | --- | --- | --- |")
        times = {}
        for executor in args.executors:
            load = os.getloadavg()[0]
            workers = 1 if executor == "serial" else args.workers
            wall, runs, code = sweep_seconds(sweep, executor, workers, str(Path(work) / executor))
            times[executor] = wall
            ratio = f"{wall / times[args.executors[0]]:.2f}x"
            print(f"| `{name}` | {executor} | {workers} | {runs} (exit {code}) | {wall:.0f} s | {ratio} | {load:.1f} |",
                  flush=True)
    if "ray" in args.executors or not args.executors:
        startup, rss, stop = ray_instance(args.workers)
        print(f"\nlocal Ray instance ({args.workers} CPUs): start {startup:.1f} s, {rss:.0f} MB in its processes "
              f"when idle (with {args.workers} idle workers), stop {stop:.1f} s; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
