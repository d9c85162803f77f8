"""Horizontal fusion: 12 seeds of the quickstart (20 epochs) trained as one stacked computation
(``training/stacked.py``) against the same 12 runs one after another in the same process (lossopt's
single-run loop, what ``--executor serial`` trains with) and against the per-member fused loop
(``fit_fused`` calling each member's ``train_step``: the fused executor before stacking).

    python benchmarks/stacked_seeds.py --repeats 3
    python benchmarks/stacked_seeds.py --model cnn --epochs 5 --repeats 1
    python benchmarks/stacked_seeds.py --vary learning_rate --k 6 --repeats 3

``--vary learning_rate``: K learning rates of Adam (log-spaced, 1e-3 to 3e-2, seed 0) instead of K seeds; adds the
side "one stack per rate", the stacked computation as it was before members kept their own rate in one stack.

``--model cnn``: the catalog CNN on the digits, stacked as lossopt stacks it (one convolution per member: bitwise the
run alone) against one grouped convolution per layer (faster, not bitwise: measured, not kept).

Each side prepares its runs and trains them; no run directory is written (that cost is the same per run on
every side). The serial side and the fused loop prepare each run alone (data, model, compile, the checked step);
the stacked sides prepare the group as a sweep does (``fused_runs.prepare_members``: the data read once, the
checked step once per configuration but for the seed). The sides alternate within each repeat, so a shared machine's
load falls on all alike; the load (``uptime``) is printed before each repeat. The final val_loss of every
member of each side is compared with the same run trained alone (largest relative difference).
"""

from __future__ import annotations

import argparse
import sys
import time

from timing import ROOT, load, machine

sys.path.insert(0, str(ROOT))


def configs(k: int, epochs: int, model: str = "mlp", vary: str = "seed"):
    from lossopt_cli import config as config_module

    base = config_module.read_yaml(ROOT / "configs/quickstart.yaml")
    if model == "cnn":
        base["model"] = {"type": "cnn"}
    if vary == "learning_rate":
        rates = [float(f"{1e-3 * 30 ** (i / max(1, k - 1)):.3g}") for i in range(k)]
        return [config_module.validate({**base, "seed": 0, "optimizer": {"name": "adam", "learning_rate": rate},
                                        "training": {**base["training"], "epochs": epochs}}) for rate in rates]
    return [config_module.validate({**base, "seed": i, "training": {**base["training"], "epochs": epochs}})
            for i in range(k)]


def serial(cfgs):
    from lossopt_cli.training.fused import fit_in_order
    from lossopt_cli.training.runner import prepare_run

    started, finals = time.perf_counter(), []
    for cfg in cfgs:
        p = prepare_run(cfg)
        fit_in_order(p.model, p.data, batch_size=p.batch_size, epochs=cfg.training["epochs"], seed=cfg.seed,
                     shuffle=cfg.training["shuffle"], callbacks=[], verbose=0)
        finals.append(float(p.model.evaluate(p.data.x_val, p.data.y_val, batch_size=p.batch_size, verbose=0)[0]))
    return time.perf_counter() - started, finals


def fused(cfgs, stacked: bool, forward: str = "matmul", convolution: str = "loop", stack_per_rate: bool = False):
    from lossopt_cli.training import stacked as stacked_module
    from lossopt_cli.training import stacked_group
    from lossopt_cli.training.fused import FusedMember, fit_fused
    from lossopt_cli.training.fused_runs import prepare_members
    from lossopt_cli.training.runner import prepare_run
    from lossopt_cli.training.stacked_group import StackedGroup

    original = stacked_module.stack_reason, StackedGroup.FORWARD, StackedGroup.CONVOLUTION, stacked_group.optimizer_key
    if stack_per_rate:  # as before members kept their own rate in one stack: the rate in the stack's key
        stacked_group.optimizer_key = lambda optimizer: (original[3](optimizer), optimizer.get_config()["learning_rate"])
    StackedGroup.FORWARD = forward
    StackedGroup.CONVOLUTION = convolution
    if not stacked:
        stacked_module.stack_reason = lambda members, initial_epoch=0: "disabled by the benchmark"
    try:
        started = time.perf_counter()
        if stacked:  # as a sweep's group is prepared: data read once, the checked step once per configuration
            by_index, errors = prepare_members(cfgs)
            assert not errors, errors
            prepared = [by_index[i] for i in sorted(by_index)]
        else:
            prepared = [prepare_run(cfg) for cfg in cfgs]
        members = [FusedMember(p.model, p.data.x_train, p.data.y_train, p.data.x_val, p.data.y_val,
                               p.data.sample_weight, seed=p.config.seed) for p in prepared]
        fit_fused(members, batch_size=prepared[0].batch_size, epochs=cfgs[0].training["epochs"])
        elapsed = time.perf_counter() - started
    finally:
        (stacked_module.stack_reason, StackedGroup.FORWARD, StackedGroup.CONVOLUTION,
         stacked_group.optimizer_key) = original
    finals = [float(p.model.evaluate(p.data.x_val, p.data.y_val, batch_size=p.batch_size, verbose=0)[0])
              for p in prepared]
    return elapsed, finals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--vary", choices=["seed", "learning_rate"], default="seed",
                        help="learning_rate: K rates of Adam, seed 0 (and the side 'one stack per rate')")
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp",
                        help="cnn: the catalog's CNN on the digits (8x8x1); stacked with one convolution per member "
                             "(lossopt's) and with one grouped convolution")
    args = parser.parse_args()
    from lossopt_cli.training import import_tensorflow

    import_tensorflow()
    cfgs = configs(args.k, args.epochs, args.model, args.vary)
    sides = {"serial (one process)": lambda: serial(cfgs), "stacked": lambda: fused(cfgs, stacked=True)}
    if args.vary == "learning_rate":
        sides["stacked, one stack per rate (before)"] = lambda: fused(cfgs, stacked=True, stack_per_rate=True)
    elif args.model == "mlp":
        sides["fused loop (per-member train_step)"] = lambda: fused(cfgs, stacked=False)
        sides["stacked, vectorized_map over stateless_call"] = lambda: fused(cfgs, stacked=True,
                                                                             forward="vectorized_map")
    else:
        sides["fused loop (per-member train_step)"] = lambda: fused(cfgs, stacked=False)
        sides["stacked, one grouped convolution (not kept)"] = lambda: fused(cfgs, stacked=True, convolution="grouped")
    rows = []
    for repeat in range(args.repeats):
        before = load()
        times, finals = {}, {}
        for name, side in sides.items():
            times[name], finals[name] = side()
        alone = finals["serial (one process)"]
        for name in sides:
            diffs = sorted(abs(a - b) / abs(a) for a, b in zip(alone, finals[name]))
            worst, median = diffs[-1], diffs[len(diffs) // 2]
            rows.append((repeat + 1, name, times[name], times["serial (one process)"] / times[name], worst, median,
                         before))
            print(f"repeat {repeat + 1}: {name} {times[name]:.1f} s, "
                  f"{times['serial (one process)'] / times[name]:.2f}x serial, worst final val_loss rel. diff "
                  f"{worst:.1e}, median {median:.1e} (load before {before})", file=sys.stderr, flush=True)
    what = "seeds" if args.vary == "seed" else "learning rates of Adam"
    print(f"\n{machine()}; {args.k} {what} of the quickstart ({args.model}), {args.epochs} epochs each\n")
    print("| repeat | side | time | serial / this | final val_loss rel. diff vs alone: worst, median | load before |")
    print("| --- | --- | --- | --- | --- | --- |")
    for repeat, name, seconds, ratio, worst, median, before in rows:
        diff = "0 (bitwise)" if worst == 0 else f"{worst:.1e}, {median:.1e}"
        print(f"| {repeat} | {name} | {seconds:.1f} s | {ratio:.2f}x | {diff} | {before} |")


if __name__ == "__main__":
    main()
