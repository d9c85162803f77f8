"""The 12-run optimizer sweep (4 optimizers x 3 seeds x 20 epochs, quickstart) three ways, side by side:
12 plain Keras scripts one after another, Keras Tuner's GridSearch (executions_per_trial=3), and
`lossopt sweep configs/sweeps/optimizers_fused.yaml` (leaderboard, every run's files and plots).

    python benchmarks/sweep_vs_keras.py --rounds 3
    python benchmarks/sweep_vs_keras.py --rounds 3 --executor auto --executor serial --executor processes
    python benchmarks/sweep_vs_keras.py --rounds 1 --before-root /tmp/before --before-executor serial --executor auto

The sides run alternately, round after round, so that the load of a shared machine falls on all of
them alike; the table gives the median of the rounds and the ratios. ``--lossopt-root`` times
another checkout of lossopt; ``--before-root`` adds the sides of a second checkout (the code before
a change, e.g. ``git archive <commit> | tar -x -C /tmp/before``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from timing import ROOT, load, lossopt, machine, median, timed

GRID = [("sgd", 0.1), ("momentum", 0.05), ("rmsprop", 0.001), ("adam", 0.001)]
SEEDS = (0, 1, 2)
SWEEP = str(ROOT / "configs/sweeps/optimizers_fused.yaml")


def plain_scripts(epochs: int) -> float:
    return sum(timed([sys.executable, "benchmarks/plain/keras_script.py", "--optimizer", name, "--learning-rate",
                      str(lr), "--seed", str(seed), "--epochs", str(epochs)])
               for name, lr in GRID for seed in SEEDS)


def keras_tuner(epochs: int) -> float:
    with tempfile.TemporaryDirectory() as directory:
        return timed([sys.executable, "benchmarks/plain/keras_tuner_grid.py", "--epochs", str(epochs),
                      "--directory", directory])


def lossopt_sweep(executor: str | None, root: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        args = [SWEEP, "--quiet", "--set", f"output.dir={out}"] + (["--executor", executor] if executor else [])
        # run from the checkout timed: `python -m` puts the working directory first on sys.path
        return timed(lossopt("sweep", *args), cwd=root, lossopt_root=root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--executor", action="append", help="lossopt executor(s) to time (default: lossopt's default)")
    parser.add_argument("--lossopt-root", default=str(ROOT))
    parser.add_argument("--before-root", help="a checkout of lossopt before this work, timed as well")
    parser.add_argument("--before-executor", action="append", default=[], help="executor(s) of --before-root to time")
    parser.add_argument("--skip", action="append", default=[], choices=["plain", "tuner"])
    args = parser.parse_args()
    sides = {}
    if "plain" not in args.skip:
        sides["12 plain Keras scripts"] = lambda: plain_scripts(args.epochs)
    if "tuner" not in args.skip:
        sides["Keras Tuner GridSearch"] = lambda: keras_tuner(args.epochs)
    for executor in args.executor or [None]:
        sides[f"lossopt sweep ({executor or 'default executor'})"] = (lambda e=executor: lossopt_sweep(e, args.lossopt_root))
    for executor in args.before_executor:
        sides[f"lossopt sweep before ({executor})"] = (lambda e=executor: lossopt_sweep(e, args.before_root))
    times: dict[str, list[float]] = {name: [] for name in sides}
    loads = [load()]
    for round_ in range(args.rounds):
        for name, side in sides.items():
            times[name].append(side())
            print(f"round {round_ + 1}: {name}: {times[name][-1]:.1f} s (load {load()})", file=sys.stderr, flush=True)
        loads.append(load())
        table(times, loads, round_ + 1)  # after every round: what is measured so far is never lost


def table(times: dict, loads: list, rounds: int) -> None:
    print(f"\n{machine()}; {rounds} round(s); load average (1/5/15 min) at the start and after each round: "
          f"{', '.join(loads)}\n")
    print("| side | runs (s) | median | plain scripts / this | Keras Tuner / this |")
    print("| --- | --- | --- | --- | --- |")
    plain = median(times["12 plain Keras scripts"]) if "12 plain Keras scripts" in times else None
    tuner = median(times["Keras Tuner GridSearch"]) if "Keras Tuner GridSearch" in times else None
    for name, values in times.items():
        m = median(values)
        ratio = lambda ref: f"{ref / m:.2f}x" if ref else "-"  # noqa: E731
        print(f"| {name} | {', '.join(f'{v:.1f}' for v in values)} | {m:.1f} s | {ratio(plain)} | {ratio(tuner)} |",
              flush=True)

if __name__ == "__main__":
    main()
