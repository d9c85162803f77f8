"""Where the time of one `lossopt train` goes: wall time of each phase, measured in one process.

    python benchmarks/profile_run.py [configs/quickstart.yaml] [--runs 3]

Phases: importing TensorFlow/Keras, loading and preparing the data (pre-flight), building and
compiling the model with its checked step, `fit` (with the per-epoch history writes), and the
finalize step (diagnosis, curves.png, report.html), then the same phases for further runs in
the same process (what each run of a serial sweep pays once TensorFlow is loaded).
Output directories go to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "configs/quickstart.yaml"))
    parser.add_argument("--runs", type=int, default=3, help="runs in this process (the 2nd on are warm)")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    t0 = time.perf_counter()
    from lossopt_cli import config as config_module
    from lossopt_cli.training import import_tensorflow, preflight, recorder, runner

    t_cli = time.perf_counter() - t0
    t = time.perf_counter()
    import_tensorflow()
    t_import = time.perf_counter() - t
    print(f"python + lossopt modules: {t_cli:.2f} s; import TensorFlow + Keras: {t_import:.2f} s")
    with tempfile.TemporaryDirectory() as out:
        for i in range(args.runs):
            cfg = config_module.load(args.config, {**config_module.parse_overrides(args.overrides), "output.dir": out})
            phases = {}
            t = time.perf_counter()
            checked = preflight.check_data(cfg)
            phases["data + pre-flight"] = time.perf_counter() - t
            real_check = preflight.check_data
            preflight.check_data = lambda c, offline=False: checked
            try:
                t = time.perf_counter()
                prepared = runner.prepare_run(cfg)
                phases["build + compile + checked step"] = time.perf_counter() - t
            finally:
                preflight.check_data = real_check
            real_finalize = recorder.RunRecorder.finalize
            timing = {}

            def timed_finalize(self):
                s = time.perf_counter()
                real_finalize(self)
                timing["finalize"] = time.perf_counter() - s

            recorder.RunRecorder.finalize = timed_finalize
            try:
                t = time.perf_counter()
                result = runner.execute(prepared, verbose=0)
                total = time.perf_counter() - t
            finally:
                recorder.RunRecorder.finalize = real_finalize
            phases["fit + history writes + save"] = total - timing["finalize"]
            phases["finalize (diagnosis, curves.png, report.html)"] = timing["finalize"]
            epochs = result.summary["epochs_run"]
            steps = epochs * -(-result.summary["data"]["train"] // prepared.batch_size)
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
                  + f" | {steps} steps, {1000 * phases['fit + history writes + save'] / steps:.2f} ms/step")


if __name__ == "__main__":
    main()
