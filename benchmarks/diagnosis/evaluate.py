"""Measure the diagnosis on the labelled runs: precision and recall per code, and the verdicts.

    /work/venv/bin/python benchmarks/diagnosis/evaluate.py            # the table of the README
    /work/venv/bin/python benchmarks/diagnosis/evaluate.py --misses   # also list each wrong call
    /work/venv/bin/python benchmarks/diagnosis/evaluate.py --holdout  # the held-out runs (other seeds)

Reads ``labels.csv`` and the committed ``runs/*.csv`` (Keras CSVLogger files) through
``rundir.read_history`` and runs ``diagnose_history`` with the default thresholds.
A run labelled L is a positive for the codes in ``EXPECTED[L]``; a code is *found* when the
detector reports it (any severity). Recall: the share of a label's runs where its code is found;
precision: the share of runs where the code is found whose label makes it right (``CODES``);
healthy runs flagged: the share of healthy runs where the code is found.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from lossopt_cli import rundir  # noqa: E402
from lossopt_cli.analysis.diagnose import diagnose_history  # noqa: E402

# label -> the codes a correct detector reports (any one of a tuple is enough), and the verdict
EXPECTED = {
    "overfitting": (("overfitting",), "overfitting"),
    "diverged": (("diverged",), "diverged"),
    "stalled": (("stalled", "lr_too_low"), "stalled"),
    "oscillation": (("oscillation",), "unstable"),
    "exploding": (("exploding_loss",), "unstable"),
    "underfitting": (("underfitting",), "underfitting"),
    "healthy": ((), "healthy"),
}
# code -> (the label whose runs are its positives, the labels on which finding it is right)
CODES = {
    "overfitting": ("overfitting", {"overfitting"}),
    "diverged": ("diverged", {"diverged"}),
    "exploding_loss": ("exploding", {"exploding", "diverged", "oscillation"}),  # a blow-up is part of those too
    "stalled": ("stalled", {"stalled"}),
    "oscillation": ("oscillation", {"oscillation", "exploding"}),
    "underfitting": ("underfitting", {"underfitting"}),
}
# a healthy run still improving at its last epoch is not a fault: not_converged is a right verdict for it
ACCEPTED = {"healthy": ("healthy", "not_converged")}


def evaluate(show_misses: bool = False, labels: str = "labels.csv") -> dict:
    rows = list(csv.DictReader(open(HERE / labels)))
    results = []
    for row in rows:
        diagnosis = diagnose_history(rundir.read_history(HERE / row["file"]))
        found = {f["code"] for f in diagnosis["findings"]}
        results.append((row, found, diagnosis["verdict"]))
    table = {}
    healthy = [r for r in results if r[0]["label"] == "healthy"]
    for code, (label, right_labels) in CODES.items():
        alternatives = set(EXPECTED[label][0])
        pos = [r for r in results if r[0]["label"] == label]
        flagged = [r for r in results if r[1] & alternatives]
        table[code] = {
            "runs": len(pos),
            "recall": sum(1 for r in pos if r[1] & alternatives) / len(pos) if pos else None,
            "precision": sum(1 for r in flagged if r[0]["label"] in right_labels) / len(flagged) if flagged else None,
            "healthy_flagged": sum(1 for r in healthy if r[1] & alternatives) / len(healthy) if healthy else None,
        }
    verdict_ok = sum(1 for row, _, verdict in results if _verdict_ok(row["label"], verdict))
    counts = ", ".join(f"{lbl} {sum(1 for r in rows if r['label'] == lbl)}" for lbl in EXPECTED)
    print(f"{len(results)} labelled runs ({counts})")
    print()
    print("| code | labelled runs | recall | precision | healthy runs flagged |")
    print("| --- | --- | --- | --- | --- |")
    for code, t in table.items():
        name = code + (" (or lr_too_low)" if code == "stalled" else "")
        print(f"| `{name}` | {t['runs']} | {_pct(t['recall'])} | {_pct(t['precision'])} | {_pct(t['healthy_flagged'])} |")
    print()
    print(f"verdict equal to the label: {verdict_ok}/{len(results)} ({verdict_ok / len(results):.0%})")
    if show_misses:
        print()
        for row, found, verdict in results:
            if not _verdict_ok(row["label"], verdict):
                print(f"{row['file']}: label {row['label']}, verdict {verdict}, found {sorted(found)}")
    return {"codes": table, "verdict_accuracy": verdict_ok / len(results)}


def _verdict_ok(label: str, verdict: str) -> bool:
    return verdict in ACCEPTED.get(label, (EXPECTED[label][1],))


def _pct(x) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    evaluate(show_misses="--misses" in sys.argv, labels="labels-holdout.csv" if "--holdout" in sys.argv else "labels.csv")
