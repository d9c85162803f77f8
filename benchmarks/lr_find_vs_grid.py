"""Does the rate `lossopt lr-find` recommends train as well as the best rate of a log grid?

For each example config, one `lossopt sweep` whose `optimizer.learning_rate` takes `lr_find` (the
range test runs once, its recommended rate is trained) and the grid 1e-4, 3e-4, ..., 1 (half
decades), every run with the config's own model, data, epochs and seed. The figure is the best
validation loss of the lr_find run divided by the best of the grid's runs: within 10% (<= 1.10)
passes. Prints one Markdown row per config for benchmarks/README.md.

    python benchmarks/lr_find_vs_grid.py [--workers 2] [--configs configs/quickstart.yaml ...]

Reads only the sweep's own files (leaderboard.csv, lr_find/<configuration>/lr_find.json).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CONFIGS = ["configs/quickstart.yaml", "configs/optimizer_momentum.yaml", "configs/optimizer_rmsprop.yaml",
           "configs/moons_minibatch.yaml", "configs/breast_cancer_crossentropy.yaml"]
GRID = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
TOLERANCE = 1.10


def run_one(config: str, workers: int, root: Path) -> dict:
    cfg = yaml.safe_load((REPO / config).read_text())
    sweep = {"name": f"lrbench-{Path(config).stem}", "base": str(REPO / config),
             "set": {"output.dir": str(root), "output.save_model": False},
             "vary": {"optimizer.learning_rate": ["lr_find", *GRID]}}
    sweep_file = root / f"{Path(config).stem}-sweep.yaml"
    sweep_file.write_text(yaml.safe_dump(sweep, sort_keys=False))
    started = time.time()
    out = subprocess.run([sys.executable, "-m", "lossopt_cli", "sweep", str(sweep_file), "--quiet",
                          "--workers", str(workers)], capture_output=True, text=True, cwd=REPO)
    wall = time.time() - started
    sweep_dir = sorted(root.glob(f"{sweep['name']}-*"))[-1]
    rows = list(csv.DictReader(open(sweep_dir / "leaderboard.csv")))
    best = {r["config"]: float(r["best_val_loss_mean"]) if r["best_val_loss_mean"] else math.nan for r in rows}
    found = json.loads(next((sweep_dir / "lr_find").glob("*/lr_find.json")).read_text())
    lr_key = next(k for k in best if "lr_find" in k)
    grid = {k: v for k, v in best.items() if k != lr_key and math.isfinite(v)}
    best_grid = min(grid, key=grid.get)
    ratio = best[lr_key] / grid[best_grid]
    opt = cfg["optimizer"] if isinstance(cfg["optimizer"], dict) else {"name": cfg["optimizer"]}
    return {"config": config, "optimizer": opt["name"], "dataset": cfg["data"]["dataset"],
            "epochs": cfg.get("training", {}).get("epochs"), "suggested": found["learning_rate"],
            "method": found["recommended"], "suggestions": {m: s["learning_rate"] for m, s in found["suggestions"].items()},
            "suggested_val_loss": best[lr_key], "best_grid": best_grid, "best_grid_val_loss": grid[best_grid],
            "ratio": ratio, "passed": ratio <= TOLERANCE, "grid": grid, "exit_code": out.returncode,
            "wall_time_seconds": round(wall, 1), "sweep_dir": str(sweep_dir)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--configs", nargs="*", default=CONFIGS)
    parser.add_argument("--keep", help="write the sweeps here instead of a temporary directory")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        root.mkdir(parents=True, exist_ok=True)
        for config in args.configs:
            result = run_one(config, args.workers, root)
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "grid"}), file=sys.stderr, flush=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}")
    print("| config | optimizer, data | epochs | suggested rate (method) | val_loss at it | best grid rate | "
          "its val_loss | ratio | within 10% |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| `{r['config']}` | {r['optimizer']}, {r['dataset']} | {r['epochs']} | {r['suggested']:g} ({r['method']}) "
              f"| {r['suggested_val_loss']:.4g} | {r['best_grid'].replace('lr', '')} | {r['best_grid_val_loss']:.4g} | "
              f"{r['ratio']:.3f} | {'yes' if r['passed'] else '**no**'} |")
    print()
    for r in results:
        print(f"{r['config']}: grid " + ", ".join(f"{k.replace('lr', '')}: {v:.4g}" for k, v in r["grid"].items())
              + f"; suggestions {r['suggestions']}; sweep {r['wall_time_seconds']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
