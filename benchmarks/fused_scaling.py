"""Fused scaling: K runs of the quickstart trained together (``fit_fused``) against the same K runs one
after another in the same process (``model.fit`` each), for K = 2, 4, 8, 16, 32.

    python benchmarks/fused_scaling.py --k 2 --k 4 --k 8 --k 16 --k 32

"One after another" is each run prepared by lossopt (data, model, compile, the checked step) and
trained by Keras' own ``model.fit``; ``--with-single-loop`` adds lossopt's single-run loop (a fused
group of one) one after another. No side writes a run directory (that cost is the same per run on
every side and is measured by sweep_vs_keras.py).
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


def solo(cfgs, keras_fit: bool = True) -> float:
    """The runs one after another: Keras' ``model.fit`` each (``keras_fit``), or lossopt's single-run loop."""
    from lossopt_cli.training.fused import fit_in_order
    from lossopt_cli.training.runner import prepare_run

    started = time.perf_counter()
    for cfg in cfgs:
        p = prepare_run(cfg)
        if keras_fit:
            d = p.data
            p.model.fit(d.x_train, d.y_train, batch_size=p.batch_size, epochs=cfg.training["epochs"],
                        validation_data=(d.x_val, d.y_val), shuffle=True, verbose=0)
        else:
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
    parser.add_argument("--with-single-loop", action="store_true", help="also time lossopt's single-run loop")
    args = parser.parse_args()
    from lossopt_cli.training import import_tensorflow

    import_tensorflow()
    rows = []
    for k in args.k or [2, 4, 8, 16, 32]:
        cfgs = configs(k, args.epochs)
        before = load()
        one_by_one = solo(cfgs)
        together, steady = fused(cfgs)
        single_loop = solo(cfgs, keras_fit=False) if args.with_single_loop else None
        steps = k * (args.epochs - 1) * 45
        rows.append((k, one_by_one, together, steady, steps, before, single_loop))
        print(f"K={k}: model.fit one after another {one_by_one:.1f} s, fused {together:.1f} s "
              f"({one_by_one / together:.2f}x), steady {1000 * steady / steps:.3f} ms per member-step"
              + (f", lossopt's single-run loop one after another {single_loop:.1f} s" if single_loop else "")
              + f" (load {before})", file=sys.stderr, flush=True)
    print(f"\n{machine()}; {args.epochs} epochs of 45 steps per run\n")
    print("| K | `model.fit` one after another | fused | speed-up | fused, per member-step after epoch 1 | "
          "lossopt single-run loop one after another | load before |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for k, one_by_one, together, steady, steps, before, single_loop in rows:
        print(f"| {k} | {one_by_one:.1f} s | {together:.1f} s | {one_by_one / together:.2f}x | "
              f"{1000 * steady / steps:.3f} ms | {f'{single_loop:.1f} s' if single_loop else '-'} | {before} |")


if __name__ == "__main__":
    main()
