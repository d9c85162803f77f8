"""Measure the diagnosis on the first corpus (81 + 81 CSVLogger runs, runs/ and runs-holdout/): precision and
recall per code, and the verdicts. The current corpus is measured by evaluate.py.

    python benchmarks/diagnosis/evaluate_legacy.py            # the table of the README's first corpus
    python benchmarks/diagnosis/evaluate_legacy.py --misses   # also list each wrong call
    python benchmarks/diagnosis/evaluate_legacy.py --holdout  # the held-out runs (other seeds)

Reads ``labels.csv`` and the committed ``runs/*.csv`` (Keras CSVLogger files) through
``rundir.read_history`` and runs ``diagnose_history`` with the default thresholds and what a
lossopt run directory would hold beside the history: the classes and the constant-model loss
(summary.json), early stopping and regularization (config.yaml) and, with ``--reference``, the best
validation loss of the runs on the same data and split (what a sweep knows). Only runs whose
label passed the numeric rule of ``make_runs.confirmed_label`` are scored.
A run labelled L is a positive for the codes in ``EXPECTED[L]``; a code is *found* when the
detector reports it as a warning or an error (an info finding is a note, not a detection). Recall: the share
of a label's runs where its code is found;
precision: the share of runs where the code is found whose label makes it right (``CODES``);
healthy runs flagged: the share of healthy runs where the code is found.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:  # the lossopt on PYTHONPATH (any checkout), else this one
    import lossopt_cli  # noqa: F401
except ImportError:
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
    "unstable": (("lr_too_high", "oscillation", "exploding_loss"), "unstable"),
    "imbalance": (("class_imbalance",), None),
    "healthy": ((), "healthy"),
}
# code -> (the label whose runs are its positives, the labels on which finding it is right)
CODES = {
    "overfitting": ("overfitting", {"overfitting"}),
    "diverged": ("diverged", {"diverged"}),
    "exploding_loss": ("exploding", {"exploding", "diverged", "oscillation"}),  # a blow-up is part of those too
    "stalled": ("stalled", {"stalled"}),
    "oscillation": ("oscillation", {"oscillation", "exploding", "unstable"}),
    "lr_too_high": ("unstable", {"unstable", "oscillation", "exploding", "diverged"}),
    "underfitting": ("underfitting", {"underfitting"}),
    "class_imbalance": ("imbalance", {"imbalance"}),
}
# the targets: (what, labels, measured as, goal). Recall and precision of over-fitting are
# read on the verdict (what the user acts on); a code found only as a note does not count.
TARGETS = [("over-fitting recall (verdict)", ("overfitting",), "recall", 0.95),
           ("over-fitting precision (verdict)", ("overfitting",), "precision", 0.9),
           ("healthy runs with no warning", ("healthy",), "clean", 0.9),
           ("divergence recall (verdict)", ("diverged",), "recall", 1.0),
           ("unstable recall (verdict; oscillating, exploding and lr-too-high runs)",
            ("oscillation", "exploding", "unstable"), "recall", 0.85),
           ("stalled recall (verdict)", ("stalled",), "recall", 0.85),
           ("under-fitting recall (verdict)", ("underfitting",), "recall", 0.85)]
ACCEPTED: dict = {}


def run_context(row: dict, use_reference: bool) -> tuple[dict, dict, dict | None]:
    """(summary, config, reference) as a lossopt run directory (in a sweep) would have them."""
    summary = {"data": {"n_classes": int(row["n_classes"]) or None,
                        "constant_model": {"loss": float(row["constant_loss"])}}}
    config = {"training": {"early_stopping": {"patience": int(row["patience"]), "restore_best_weights": True,
                                              "monitor": "val_loss"} if row["patience"] else None},
              "model": {"dropout": 0.1 if row["regularized"] == "1" else 0.0}}
    reference = {"val_loss": float(row["reference_val_loss"])} if use_reference and row["reference_val_loss"] else None
    return summary, config, reference


def evaluate(show_misses: bool = False, labels: str = "labels.csv", use_reference: bool = False,
             hard_only: bool = False) -> dict:
    all_rows = list(csv.DictReader(open(HERE / labels)))
    rows = [r for r in all_rows if r["confirmed"] == "1" and (r["hard"] == "1" or not hard_only)]
    results = []
    for row in rows:
        summary, config, reference = run_context(row, use_reference)
        diagnosis = diagnose_history(rundir.read_history(HERE / row["file"]), summary=summary, config=config,
                                     reference=reference)
        found = {f["code"] for f in diagnosis["findings"] if f["severity"] != "info"}
        warned = any(f["severity"] != "info" for f in diagnosis["findings"])
        results.append((row, found, diagnosis["verdict"], warned))
    unconfirmed = [r for r in all_rows if r["confirmed"] != "1" and (r["hard"] == "1" or not hard_only)]
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
    verdict_ok = sum(1 for row, _, verdict, _ in results if _verdict_ok(row["label"], verdict))
    judged = sum(1 for row, *_ in results if EXPECTED[row["label"]][1])
    counts = ", ".join(f"{lbl} {sum(1 for r in rows if r['label'] == lbl)}" for lbl in EXPECTED)
    print(f"{len(results)} labelled runs whose label passed the numeric rule ({counts}); "
          f"{len(unconfirmed)} runs failed it and are not scored"
          + (f" ({', '.join(Path(r['file']).stem for r in unconfirmed)})" if unconfirmed else ""))
    print()
    print("| code | labelled runs | recall | precision | healthy runs flagged |")
    print("| --- | --- | --- | --- | --- |")
    for code, t in table.items():
        name = code + (" (or lr_too_low)" if code == "stalled" else "")
        print(f"| `{name}` | {t['runs']} | {_pct(t['recall'])} | {_pct(t['precision'])} | {_pct(t['healthy_flagged'])} |")
    print()
    print(f"verdict equal to the label: {verdict_ok}/{judged} ({verdict_ok / max(judged, 1):.0%})")
    print()
    print("| target | runs | measured | goal | met |")
    print("| --- | --- | --- | --- | --- |")
    measured = {}
    for what, labels_, how, goal in TARGETS:
        pos = [r for r in results if r[0]["label"] in labels_]
        verdict = EXPECTED[labels_[0]][1]
        if how == "recall":
            value = sum(1 for r in pos if r[2] == verdict) / len(pos) if pos else None
        elif how == "precision":
            called = [r for r in results if r[2] == verdict]
            value = sum(1 for r in called if r[0]["label"] in labels_) / len(called) if called else None
        else:
            value = sum(1 for r in pos if not r[3]) / len(pos) if pos else None
        measured[what] = value
        met = "-" if value is None else ("yes" if value >= goal else "**missed**")
        print(f"| {what} | {len(pos)} | {_pct(value)} | >= {goal:.2f} | {met} |")
    if show_misses:
        print()
        for row, found, verdict, warned in results:
            if not _verdict_ok(row["label"], verdict) or (row["label"] == "healthy" and warned):
                print(f"{row['file']}: label {row['label']}, verdict {verdict}, found {sorted(found)}")
    return {"codes": table, "verdict_accuracy": verdict_ok / max(judged, 1), "targets": measured}


def _verdict_ok(label: str, verdict: str) -> bool:
    expected = EXPECTED[label][1]
    return expected is None or verdict in ACCEPTED.get(label, (expected,))


def _pct(x) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    evaluate(show_misses="--misses" in sys.argv, labels="labels-holdout.csv" if "--holdout" in sys.argv else "labels.csv",
             use_reference="--reference" in sys.argv, hard_only="--hard" in sys.argv)
