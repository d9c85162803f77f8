"""Measure lossopt's diagnosis on the labelled corpus: recall and precision per verdict, against issue 18's targets.

    python benchmarks/diagnosis/evaluate.py                   # the tuning part (corpus/)
    python benchmarks/diagnosis/evaluate.py --holdout         # the held-out third (corpus-holdout/): never tune on it
    python benchmarks/diagnosis/evaluate.py --holdout --misses       # and each run whose verdict is not its label
    python benchmarks/diagnosis/evaluate.py --fresh           # the fresh held-out set (corpus-fresh/, seed 100)
    python benchmarks/diagnosis/evaluate.py --fresh2          # the second fresh held-out set (corpus-fresh2/, seed 101)
    PYTHONPATH=/path/to/lossopt python benchmarks/diagnosis/evaluate.py --holdout   # another checkout's detector

The detector is whatever ``lossopt_cli`` imports first (PYTHONPATH, else the installed one, else this
checkout); the first line printed says which. Each run goes through ``analysis.diagnose.diagnose_path``
exactly as ``lossopt diagnose RUN`` reads it: a run directory (history.csv, summary.json, config.yaml) or a
plain CSVLogger file. Labels come from ``label_rule.py`` (written down before the detector ran, README);
``unclear`` runs are not scored. Recall of a label: the share of its runs whose verdict is the expected one;
precision of a verdict: the share of the runs given that verdict whose label expects it; healthy with no
warning: healthy runs without any warning- or error-level finding.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:  # the lossopt on PYTHONPATH (any checkout), else the installed one, else this checkout
    import lossopt_cli
except ImportError:
    sys.path.insert(0, str(HERE.parents[1]))
    import lossopt_cli

from lossopt_cli.analysis.diagnose import diagnose_path  # noqa: E402

VERDICT = {"overfitting": "overfitting", "healthy": "healthy", "unstable": "unstable", "stalled": "stalled",
           "underfitting": "underfitting", "imbalance": "imbalanced", "diverged": "diverged"}
IMBALANCE_CODES = ("minority_missed", "class_imbalance")
# issue 18's "Done when": (label, measured as, goal)
TARGETS = [("overfitting", "recall", 0.95), ("overfitting", "precision", 0.95), ("healthy", "no warning", 0.95),
           ("unstable", "recall", 0.9), ("stalled", "recall", 0.9), ("underfitting", "recall", 0.8),
           ("imbalance", "recall", 0.9), ("imbalance", "recall, history-only files", 0.9), ("diverged", "recall", 1.0)]


def checkout() -> str:
    root = Path(lossopt_cli.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{root}" + (f" at {commit}" if commit else "")


def diagnose_all(labels_file: str) -> list[dict]:
    rows = [r for r in csv.DictReader(open(HERE / labels_file)) if r["label"] != "unclear"]
    for row in rows:
        result = diagnose_path(HERE / row["file"])
        row["verdict"] = result["verdict"]
        row["warned"] = sorted({f["code"] for f in result["findings"] if f["severity"] != "info"})
    return rows


def measure(rows: list[dict]) -> dict:
    """{(label, measured as): (value, runs)} for every label, and the targets' figures."""
    out = {}
    for lbl, verdict in VERDICT.items():
        pos = [r for r in rows if r["label"] == lbl]
        called = [r for r in rows if r["verdict"] == verdict]
        out[(lbl, "recall")] = (sum(r["verdict"] == verdict for r in pos) / len(pos) if pos else None, len(pos))
        out[(lbl, "precision")] = (sum(r["label"] == lbl for r in called) / len(called) if called else None, len(called))
    healthy = [r for r in rows if r["label"] == "healthy"]
    out[("healthy", "no warning")] = (sum(not r["warned"] for r in healthy) / len(healthy) if healthy else None,
                                      len(healthy))
    plain = [r for r in rows if r["label"] == "imbalance" and r["history_only"] == "1"]
    out[("imbalance", "recall, history-only files")] = (
        sum(r["verdict"] == "imbalanced" for r in plain) / len(plain) if plain else None, len(plain))
    imb = [r for r in rows if r["label"] == "imbalance"]
    out[("imbalance", "warned (verdict or a warning-level imbalance finding)")] = (
        sum(r["verdict"] == "imbalanced" or bool(set(r["warned"]) & set(IMBALANCE_CODES)) for r in imb) / len(imb)
        if imb else None, len(imb))
    return out


def main(argv: list[str]) -> int:
    holdout = "--holdout" in argv
    fresh = next((a[2:] for a in argv if a in ("--fresh", "--fresh2")), None)
    labels_file = (f"corpus-labels-{fresh}.csv" if fresh else "corpus-labels-holdout.csv" if holdout
                   else "corpus-labels.csv")
    rows = diagnose_all(labels_file)
    all_rows = list(csv.DictReader(open(HERE / labels_file)))
    m = measure(rows)
    print(f"detector: {checkout()}")
    part = f"fresh held-out set {fresh}" if fresh else "held-out third" if holdout else "tuning part"
    print(f"{part} ({labels_file}): {len(rows)} scored runs of "
          f"{len(all_rows)} ({len(all_rows) - len(rows)} unclear by the label rule, not scored); "
          f"load {os.getloadavg()[0]:.1f}")
    print()
    print("| label | runs | recall (verdict) | runs given the verdict | precision |")
    print("| --- | --- | --- | --- | --- |")
    for lbl, verdict in VERDICT.items():
        (rec, n), (prec, k) = m[(lbl, "recall")], m[(lbl, "precision")]
        print(f"| {lbl} (`{verdict}`) | {n} | {_f(rec)} | {k} | {_f(prec)} |")
    print()
    print("| target (issue 18) | runs | measured | goal | met |")
    print("| --- | --- | --- | --- | --- |")
    for lbl, how, goal in TARGETS:
        value, n = m[(lbl, how)]
        met = "-" if value is None else ("yes" if value >= goal - 1e-9 else "**missed**")
        print(f"| {lbl} {how} | {n} | {_f(value)} | >= {goal:.2f} | {met} |")
    value, n = m[("imbalance", "warned (verdict or a warning-level imbalance finding)")]
    print(f"| imbalance warned (verdict, or a warning-level {'/'.join(IMBALANCE_CODES)}) | {n} | {_f(value)} | | |")
    verdicts = sorted({r["verdict"] for r in rows})
    print()
    print("| label \\ verdict | " + " | ".join(verdicts) + " |")
    print("| --- |" + " --- |" * len(verdicts))
    for lbl in VERDICT:
        print(f"| {lbl} | " + " | ".join(str(sum(1 for r in rows if r["label"] == lbl and r["verdict"] == v) or "")
                                         for v in verdicts) + " |")
    if "--misses" in argv:
        print()
        for r in rows:
            if r["verdict"] != VERDICT[r["label"]] or (r["label"] == "healthy" and r["warned"]):
                print(f"{r['file']}: label {r['label']} ({r['rule']}); verdict {r['verdict']}, warned {r['warned']}")
    return 0


def _f(x) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
