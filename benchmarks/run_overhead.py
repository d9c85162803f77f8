"""The cost of a run outside its training arithmetic (issue 23 item 2), before and after, side by side:

1. the per-run report: ``recorder.finalize`` on a trained 20-epoch quickstart run directory
   (``diagnosis.json``, ``curves.png``, ``report.html``), the first call of the process and the next ones;
2. the scores after training: the test loss and metrics and the per-class scores of a freshly built
   model (each run of a sweep has its own), on the quickstart with ``data.test_split: 0.2``;
3. the per-epoch bookkeeping on the training thread: ``history.csv``, ``summary.json`` and
   ``checkpoint.npz`` after each of 20 epochs (``record_epoch`` + the checkpoint), and what is left to
   wait for at the run's end.

    python benchmarks/run_overhead.py --before-root /tmp/before [--rounds 3] [--repeats 5]

``--before-root`` is a checkout of lossopt before the change (``git archive <commit> | tar -x -C
/tmp/before``). Each side runs as its own process (``--side ROOT``, lossopt imported from ROOT), the
two alternating round after round so that a shared machine's load falls on both alike; the table
gives the medians and the ratio before / after, with the load average. The 12-run sweep's wall time
against plain Keras scripts and Keras Tuner is ``sweep_vs_keras.py``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import ROOT, env, load, machine, median

QUICKSTART = str(ROOT / "configs/quickstart.yaml")


def side(repeats: int) -> dict:
    """Timed in this process, with the lossopt on sys.path (PYTHONPATH): medians in seconds."""
    import numpy as np

    from lossopt_cli import config as config_module
    from lossopt_cli import rundir
    from lossopt_cli.training import checkpoint, lifecycle
    from lossopt_cli.training.recorder import RunRecorder, finalize
    from lossopt_cli.training.runner import execute, prepare_run

    out = tempfile.mkdtemp(prefix="run_overhead-")
    base = {"output.dir": out, "training.epochs": 20}
    trained = execute(prepare_run(config_module.load(QUICKSTART, base)), verbose=0)
    figures = {}

    started = time.perf_counter()
    finalize(trained.run_dir)
    figures["report, first in the process"] = time.perf_counter() - started
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        finalize(trained.run_dir)
        times.append(time.perf_counter() - started)
    figures["report"] = statistics.median(times)

    with_test = config_module.load(QUICKSTART, {**base, "data.test_split": 0.2})
    times = []
    for _ in range(repeats):
        prepared = prepare_run(with_test)  # a new model, as each run of a sweep builds its own
        started = time.perf_counter()
        try:
            from lossopt_cli.training.predictions import Predictions
        except ImportError:  # before: model.evaluate and model.predict
            test, per_class = lifecycle.evaluate_test(prepared), lifecycle._per_class(prepared)
        else:
            predictions = Predictions(prepared)
            test, per_class = predictions.test_scores(), predictions.per_class()
        times.append(time.perf_counter() - started)
        assert test["loss"] > 0 and sum(per_class["support"]) == len(prepared.data.x_val)
    figures["test + per-class scores"] = statistics.median(times)

    prepared = prepare_run(config_module.load(QUICKSTART, base))
    queued = getattr(rundir, "QUEUED", None)
    per_epoch, waits = [], []
    for _ in range(repeats):
        run_dir = Path(tempfile.mkdtemp(dir=out))
        kwargs = {"write": queued} if queued is not None else {}
        recorder = RunRecorder.create(prepared.config, run_dir=run_dir, **kwargs)
        write = kwargs.get("write", rundir.atomic_write)
        epochs = []
        for epoch in range(1, 21):
            logs = {"loss": 1.0 / epoch, "accuracy": 0.9, "val_loss": 1.1 / epoch, "val_accuracy": 0.88,
                    "learning_rate": 0.001}
            started = time.perf_counter()
            recorder.record_epoch(epoch, logs)
            if queued is not None:
                checkpoint.save(run_dir, prepared.model, epoch, [], write)
            else:
                checkpoint.save(run_dir, prepared.model, epoch, [])
            epochs.append(time.perf_counter() - started)
            time.sleep(0.03)  # the next epoch's training (a quickstart epoch is about 30 ms)
        started = time.perf_counter()
        if queued is not None:
            recorder.flush()
        waits.append(time.perf_counter() - started)
        per_epoch.append(statistics.median(epochs))
        saved = np.load(run_dir / checkpoint.CHECKPOINT)
        assert json.loads(str(saved["meta"]))["epoch"] == 20
    figures["per-epoch files, per epoch"] = statistics.median(per_epoch)
    figures["per-epoch files, left at the run's end"] = statistics.median(waits)
    return figures


def run_side(root: str, repeats: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--side", root, "--repeats", str(repeats)], cwd=root,
                            env=env(root), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"side {root} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-root", required=False, help="a checkout of lossopt before the change")
    parser.add_argument("--after-root", default=str(ROOT))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.repeats)))
        return
    roots = {"after": args.after_root, **({"before": args.before_root} if args.before_root else {})}
    results: dict[str, list[dict]] = {name: [] for name in roots}
    loads = [load()]
    for round_ in range(args.rounds):
        for name, root in roots.items():
            results[name].append(run_side(root, args.repeats))
            print(f"round {round_ + 1}: {name}: {results[name][-1]} (load {load()})", file=sys.stderr, flush=True)
        loads.append(load())
    print(f"\n{machine()}; {args.rounds} round(s) of {args.repeats} repeats; load average (1/5/15 min) at the "
          f"start and after each round: {', '.join(loads)}\n")
    print("| per run | " + " | ".join(roots) + (" | before / after |" if "before" in roots else ""))
    print("| --- | " + " | ".join("---" for _ in roots) + (" | --- |" if "before" in roots else ""))
    for key in results["after"][0]:
        values = {name: median([r[key] for r in results[name]]) for name in roots}
        ratio = f" | {values['before'] / values['after']:.1f}x" if "before" in roots and values["after"] > 0 else ""
        print(f"| {key} | " + " | ".join(f"{values[name] * 1000:.1f} ms" for name in roots) + ratio + " |")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
