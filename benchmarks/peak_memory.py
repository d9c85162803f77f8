"""Peak resident memory (``/usr/bin/time -v``, "Maximum resident set size") of a single run, of a sweep
worker, and of a fused group of 16 runs.

    python benchmarks/peak_memory.py

- single run: `lossopt train configs/quickstart.yaml`;
- a worker: `lossopt sweep configs/sweeps/optimizers_fused.yaml --executor processes --workers 1`
  (the largest process is the worker, which imports TensorFlow and trains one run after another);
- a fused group of 16: `lossopt sweep ... --executor fused` on the 16-run sweep below (4 optimizers x
  4 seeds of the quickstart), all 16 trained in the command's own process.
``/usr/bin/time -v`` reports the largest of the command's processes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from timing import ROOT, load, lossopt, machine, peak_rss_mb


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as out:
        sixteen = Path(out) / "sixteen.yaml"
        sixteen.write_text(yaml.safe_dump({"name": "sixteen", "base": str(ROOT / "configs/quickstart.yaml"),
                                           "mode": "zip", "vary": {"optimizer.name": ["sgd", "momentum", "rmsprop", "adam"],
                                                                   "optimizer.learning_rate": [0.1, 0.05, 0.001, 0.001]},
                                           "seeds": [0, 1, 2, 3]}))
        commands = {
            "single run (`lossopt train configs/quickstart.yaml`)":
                lossopt("train", "configs/quickstart.yaml", "--quiet", "--set", f"output.dir={out}"),
            "a sweep worker (`--executor processes --workers 1`, 12 runs one after another)":
                lossopt("sweep", "configs/sweeps/optimizers_fused.yaml", "--quiet", "--executor", "processes",
                        "--workers", "1", "--set", f"output.dir={out}", "--set", "training.epochs=10"),
            "a fused group of 16 (`--executor fused`, 16 quickstart runs together)":
                lossopt("sweep", str(sixteen), "--quiet", "--executor", "fused", "--set", f"output.dir={out}"),
        }
        for name, cmd in commands.items():
            before = load()
            mb, seconds = peak_rss_mb(cmd)
            rows.append((name, mb, seconds, before))
    print(f"\n{machine()}\n")
    print("| what | peak resident memory | wall time | load before |")
    print("| --- | --- | --- | --- |")
    for name, mb, seconds, before in rows:
        print(f"| {name} | {mb:.0f} MB | {seconds:.0f} s | {before} |")


if __name__ == "__main__":
    main()
