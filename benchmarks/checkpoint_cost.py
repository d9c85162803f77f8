"""What the per-epoch checkpoint costs: the same run trained with training.checkpoint every_epoch and
none, interleaved (A B A B ...) so both see the same machine load, in one process.

    python benchmarks/checkpoint_cost.py [--repeats 3] [--epochs 20] [--config configs/quickstart.yaml]

Prints the median seconds per epoch of each, their ratio, the time of one checkpoint.save alone
and the checkpoint's size. Writes nothing outside a temporary directory.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="configs/quickstart.yaml")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from lossopt_cli import config as config_module
    from lossopt_cli.training import checkpoint
    from lossopt_cli.training.runner import execute, prepare_run

    per_epoch: dict[str, list[float]] = {"every_epoch": [], "none": []}
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"training.epochs": args.epochs, "output.dir": tmp, "output.save_model": False}
        last_run = None
        for _ in range(args.repeats):
            for mode in ("every_epoch", "none"):
                cfg = config_module.load(args.config, {**overrides, "training.checkpoint": mode})
                prepared = prepare_run(cfg)
                times = []
                stamp = [time.perf_counter()]

                def on_epoch(epoch, row, times=times, stamp=stamp):
                    now = time.perf_counter()
                    times.append(now - stamp[0])
                    stamp[0] = now

                result = execute(prepared, verbose=0, on_epoch=on_epoch)
                per_epoch[mode].append(statistics.median(times[1:]))  # the first epoch traces the step
                if mode == "every_epoch":
                    last_run = (result.run_dir, prepared)
        run_dir, prepared = last_run
        saves = []
        for _ in range(20):
            started = time.perf_counter()
            checkpoint.save(run_dir, prepared.model, 1, [])
            saves.append(time.perf_counter() - started)
        size = (run_dir / checkpoint.CHECKPOINT).stat().st_size
    with_ckpt, without = statistics.median(per_epoch["every_epoch"]), statistics.median(per_epoch["none"])
    print(f"config {args.config}, {args.epochs} epochs x {args.repeats} repeats (median of per-epoch medians)")
    print(f"checkpoint every_epoch: {with_ckpt * 1000:.1f} ms per epoch")
    print(f"checkpoint none:        {without * 1000:.1f} ms per epoch")
    print(f"ratio: {with_ckpt / without:.3f}x; one checkpoint.save: {statistics.median(saves) * 1000:.1f} ms "
          f"(median of 20); checkpoint.npz {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
