"""One run, reporting included: `lossopt train configs/quickstart.yaml` against the plain Keras script of
the same job (`fit`, a matplotlib figure of loss and accuracy, `model.save`), side by side.

    python benchmarks/single_run.py --rounds 5

The two commands alternate, round after round; the table gives each one's median and the ratio
lossopt / plain (the target is at most 0.8). Both run as fresh processes, as a user runs them,
TensorFlow's start-up included; output goes to a temporary directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from timing import ROOT, load, lossopt, machine, median, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lossopt-root", default=str(ROOT))
    args = parser.parse_args()
    times = {"lossopt": [], "plain": []}
    loads = [load()]
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.rounds):
            times["lossopt"].append(timed(lossopt("train", "configs/quickstart.yaml", "--set", f"output.dir={out}"),
                                          cwd=args.lossopt_root, lossopt_root=args.lossopt_root))  # python -m: the checkout timed
            times["plain"].append(timed([sys.executable, "benchmarks/plain/keras_script.py", "--epochs", "10",
                                         "--plot", f"{out}/plain-{i}.png", "--save", f"{out}/plain-{i}.keras"]))
            loads.append(load())
            print(f"round {i + 1}: lossopt {times['lossopt'][-1]:.1f} s, plain {times['plain'][-1]:.1f} s "
                  f"(load {loads[-1]})", file=sys.stderr, flush=True)
    ours, plain = median(times["lossopt"]), median(times["plain"])
    print(f"\n{machine()}; load average at the start and after each round: {', '.join(loads)}\n")
    print("| command | runs (s) | median |")
    print("| --- | --- | --- |")
    print(f"| `lossopt train configs/quickstart.yaml` | {', '.join(f'{t:.1f}' for t in times['lossopt'])} | {ours:.1f} s |")
    print(f"| `python benchmarks/plain/keras_script.py --epochs 10 --plot --save` | "
          f"{', '.join(f'{t:.1f}' for t in times['plain'])} | {plain:.1f} s |")
    print(f"\nratio lossopt / plain: {ours / plain:.2f} (target at most 0.8)")


if __name__ == "__main__":
    main()
