"""CSV reading: what lossopt's checks cost over a bare pandas.read_csv, and what pandas costs `validate`.

1. ``read_table`` (comment lines skipped, delimiter sniffed, every row's field count checked with the
   csv module, columns typed, text one-hot encoded, missing cells handled) against ``pandas.read_csv``
   of the same file, side by side, on a generated real-world-shaped CSV of N rows.
2. ``lossopt validate`` wall time on ``configs/quickstart.yaml`` (no pandas) against
   ``configs/csv_field_survey.yaml`` (imports pandas to read the file), in fresh processes.

    python benchmarks/csv_reading.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import pandas as pd

    from lossopt_cli.catalog.tables import TableOptions, read_table

    spec = importlib.util.spec_from_file_location("survey", REPO / "configs/data/make_field_survey.py")
    survey = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(survey)
    with tempfile.TemporaryDirectory() as tmp:
        path = survey.write(Path(tmp) / "survey.csv", n=args.rows, seed=0)
        size = path.stat().st_size / 1e6
        bare = best_of(args.repeat, lambda: pd.read_csv(path, comment="#", na_values=["?"]))
        ours = best_of(args.repeat, lambda: read_table(path, TableOptions(target="species", missing="impute")))
    print(f"read {args.rows} rows ({size:.1f} MB): pandas.read_csv {bare:.2f} s, lossopt read_table {ours:.2f} s "
          f"({ours / bare:.2f}x)")

    def validate(config: str) -> float:
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lossopt_cli", "validate", config], cwd=REPO, check=True,
                           capture_output=True, env={"PYTHONPATH": str(REPO), "PATH": ""})
            runs.append(time.perf_counter() - start)
        return statistics.median(runs)

    plain, csv = validate("configs/quickstart.yaml"), validate("configs/csv_field_survey.yaml")
    print(f"lossopt validate: quickstart {plain:.2f} s, csv_field_survey {csv:.2f} s ({csv / plain:.2f}x)")


if __name__ == "__main__":
    main()
