"""Fused scaling: K runs of the quickstart trained together (``fit_fused``) against the same K runs one
after another in the same process (``model.fit`` each), for K = 2, 4, 8, 16, 32.

    python benchmarks/fused_scaling.py --k 2 --k 4 --k 8 --k 16 --k 32

Both sides prepare every run (data, model, compile, the checked step) and train it; neither writes
a run directory (that cost is the same per run on both sides and is measured by sweep_vs_keras.py).
The runs cycle through sgd 0.1, momentum 0.05, rmsprop 1e-3 and adam 1e-3 with seeds 0, 1, ...
The sides alternate for each K, so the load of a shared machine falls on both alike.
TensorFlow is imported once, before the first timing.
"""

from __future__ import annotations

import argparse
import sys
import time

from timing import ROOT, load, machine

sys.path.insert(0, str(ROOT))

OPTIMIZERS = [("sgd", 0.1), ("momentum", 0.05), ("rmsprop", 0.001), ("adam", 0.001)]


def configs(k: int, epochs: int):
    from lossopt_cli import config as config_module

    return [config_module.load(ROOT / "configs/quickstart.yaml",
                               {"optimizer.name": OPTIMIZERS[i % 4][0], "optimizer.learning_rate": OPTIMIZERS[i % 4][1],
                                "seed": i // 4, "training.epochs": epochs}) for i in range(k)]


def solo(cfgs) -> float:
    from lossopt_cli.training.batches import fit_in_order
    from lossopt_cli.training.runner import prepare_run

    started = time.perf_counter()
    for cfg in cfgs:
        p = prepare_run(cfg)
        fit_in_order(p.model, p.data, batch_size=p.batch_size, epochs=cfg.training["epochs"], seed=cfg.seed,
                     shuffle=cfg.training["shuffle"], callbacks=[], verbose=0)
    return time.perf_counter() - started


def fused(cfgs) -> tuple[float, float]:
    """(total seconds, seconds of the epochs after the first: the steady state)."""
    from lossopt_cli.training.fused import FusedMember, fit_fused
    from lossopt_cli.training.runner import prepare_run

    started = time.perf_counter()
    prepared = [prepare_run(cfg) for cfg in cfgs]
    members = [FusedMember(p.model, p.data.x_train, p.data.y_train, p.data.x_val, p.data.y_val, p.data.sample_weight,
                           seed=p.config.seed) for p in prepared]
    ends = []
    fit_fused(members, batch_size=prepared[0].batch_size, epochs=cfgs[0].training["epochs"],
              on_epoch_end=lambda epoch, active: ends.append(time.perf_counter()))
    return time.perf_counter() - started, ends[-1] - ends[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, action="append")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    from lossopt_cli.training import import_tensorflow

    import_tensorflow()
    rows = []
    for k in args.k or [2, 4, 8, 16, 32]:
        cfgs = configs(k, args.epochs)
        before = load()
        one_by_one = solo(cfgs)
        together, steady = fused(cfgs)
        steps = k * (args.epochs - 1) * 45
        rows.append((k, one_by_one, together, steady, steps, before))
        print(f"K={k}: one after another {one_by_one:.1f} s, fused {together:.1f} s ({one_by_one / together:.2f}x), "
              f"steady {1000 * steady / steps:.3f} ms per member-step (load {before})", file=sys.stderr, flush=True)
    print(f"\n{machine()}; {args.epochs} epochs of 45 steps per run\n")
    print("| K | one after another | fused | speed-up | fused, per member-step after epoch 1 | load before |")
    print("| --- | --- | --- | --- | --- | --- |")
    for k, one_by_one, together, steady, steps, before in rows:
        print(f"| {k} | {one_by_one:.1f} s | {together:.1f} s | {one_by_one / together:.2f}x | "
              f"{1000 * steady / steps:.3f} ms | {before} |")


if __name__ == "__main__":
    main()
