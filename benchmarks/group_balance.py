"""Stacked training time of the 12-run sweep's two groups of 6, for each way of pairing its four optimizers.

    python benchmarks/group_balance.py --repeats 5

One process, one thread (as each of a sweep's 2 workers on 2 cores), 20 epochs of the quickstart; the groups
train in parallel in a sweep, so the slower of a pairing is what the sweep waits for.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from timing import ROOT

PAIRS = [("adam", "rmsprop"), ("momentum", "sgd"), ("adam", "sgd"), ("rmsprop", "momentum"), ("adam", "momentum"),
         ("rmsprop", "sgd")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    from lossopt_cli.sweeps.run import open_sweep
    from lossopt_cli.sweeps.workers import init_worker
    from lossopt_cli.training.fused import FusedMember, fit_fused
    from lossopt_cli.training.fused_runs import prepare_members

    init_worker(1, None)
    sweep = open_sweep("configs/sweeps/optimizers_fused.yaml", {"output.dir": tempfile.mkdtemp()})
    by_optimizer: dict[str, list] = {}
    for run in sweep.runs:
        by_optimizer.setdefault(run.config.optimizer.name, []).append(run.config)
    times: dict[tuple, list[float]] = {pair: [] for pair in PAIRS}
    for _ in range(args.repeats):
        for pair in PAIRS:
            prepared, _ = prepare_members(by_optimizer[pair[0]] + by_optimizer[pair[1]])
            members = [FusedMember(p.model, p.data.x_train, p.data.y_train, p.data.x_val, p.data.y_val,
                                   p.data.sample_weight, seed=p.config.seed) for p in prepared.values()]
            started = time.perf_counter()
            fit_fused(members, batch_size=prepared[0].batch_size, epochs=20)
            times[pair].append(time.perf_counter() - started)
        print(f"load {os.getloadavg()[0]:.1f}: " + ", ".join(f"{'+'.join(p)} {v[-1]:.2f}" for p, v in times.items()),
              file=sys.stderr, flush=True)
    print("| group | runs (s) | median |\n| --- | --- | --- |")
    for pair, values in times.items():
        print(f"| {' + '.join(pair)} | {', '.join(f'{v:.2f}' for v in values)} | {statistics.median(values):.2f} s |")


if __name__ == "__main__":
    main()
