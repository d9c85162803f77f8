"""Seconds (wall and CPU) of importing Keras and TensorFlow as a sweep worker does, with modules kept out.

    python benchmarks/keras_import.py --rounds 3 sklearn,pandas sklearn,pandas,scipy

Each round runs every variant once, in a fresh process (alternating, so the load of a shared machine falls on all).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from timing import ROOT, env, load

CHILD = """
import sys, time
wall, cpu = time.perf_counter(), time.process_time()
from lossopt_cli.training.lean_import import without_optional_modules
with without_optional_modules(tuple(n for n in sys.argv[1].split(",") if n)):
    import keras, tensorflow
print(f"{time.perf_counter() - wall:.2f} {time.process_time() - cpu:.2f} {len(sys.modules)}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="comma-separated modules kept out while Keras loads")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| kept out | wall s | CPU s | modules loaded | load before |\n| --- | --- | --- | --- | --- |")
    for _ in range(args.rounds):
        for variant in args.variants:
            before = load()
            out = subprocess.run([sys.executable, "-c", CHILD, variant], cwd=ROOT, env=env(), capture_output=True,
                                 text=True, check=True).stdout.split()
            print(f"| {variant} | {out[0]} | {out[1]} | {out[2]} | {before} |", flush=True)


if __name__ == "__main__":
    main()
