"""``lossopt report training_log.csv``: the whole treatment for a plain Keras history.

A ``keras.callbacks.CSVLogger`` file gets what a run directory gets: ``diagnosis.json``,
``curves.png`` (best epoch, over-fitting onset) and a self-contained ``report.html``. They are
written beside the file as ``<stem>-diagnosis.json``, ``<stem>-curves.png`` and
``<stem>-report.html``, or into the ``--output`` directory as ``diagnosis.json``, ``curves.png``
and ``report.html``. The CSV file itself is never written. No TensorFlow.
"""

from __future__ import annotations

import html
from pathlib import Path

from .. import rundir
from ..schema import ConfigError
from .text import fmt


def output_paths(history_file: Path, output: str | Path | None) -> dict[str, Path]:
    if output is not None:
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        return {"diagnosis": out / rundir.DIAGNOSIS, "curves": out / rundir.CURVES, "report": out / rundir.REPORT}
    stem = history_file.with_suffix("").name
    folder = history_file.parent
    return {"diagnosis": folder / f"{stem}-diagnosis.json", "curves": folder / f"{stem}-curves.png",
            "report": folder / f"{stem}-report.html"}


def best_epoch(history: dict) -> int | None:
    from ..analysis.stats import finite

    key = "val_loss" if finite(history.get("val_loss", [])) else "loss"
    pairs = [(v, e) for e, v in zip(history.get("epoch", []), history.get(key, [])) if finite([v])]
    return min(pairs)[1] if pairs else None


def report_history_file(path: str | Path, output: str | Path | None = None) -> list[str]:
    """Diagnose, draw and report a CSVLogger file; the lines to print (where each file went, the verdict)."""
    from ..analysis.diagnose import diagnose_path
    from .html import BAD, GOOD, _findings_table, embedded_png, page
    from .plots import plot_curves
    from .text import finding_lines

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".log", ".txt"):
        raise ConfigError(f"{path} is not a run directory, a sweep directory or a Keras CSVLogger file (.csv).",
                          key=str(path))
    diagnosis = diagnose_path(path)
    history = rundir.read_history(path)
    paths = output_paths(path, output)
    rundir.write_json(paths["diagnosis"], diagnosis)
    onset = next((f["epoch"] for f in diagnosis["findings"] if f["code"] == "overfitting"), None)
    best = best_epoch(history)
    plot_curves(history, paths["curves"], best_epoch=best, title=path.name, onset_epoch=onset,
                verdict=diagnosis["verdict"])
    note = diagnosis.get("epoch_note")
    css = "healthy" if diagnosis["verdict"] in GOOD else "bad" if diagnosis["verdict"] in BAD else "warn"
    final = {k: v[-1] for k, v in history.items() if k != "epoch" and v}
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(fmt(v))}</td></tr>" for k, v in final.items())
    rundir.atomic_write(paths["report"], page(f"{path.name}: lossopt report", [
        f"<h1>{html.escape(path.name)}</h1>",
        f"<p><span class='verdict {css}'>verdict: {html.escape(diagnosis['verdict'])}</span></p>",
        f"<p>{len(history.get('epoch', []))} epochs from <code>{html.escape(str(path))}</code>"
        + (f"; best epoch {best}" if best is not None else "") + "</p>",
        f"<p class='info'>{html.escape(note)}</p>" if note else "",
        "<h2>Curves</h2>" + embedded_png(paths["curves"], "loss and metric curves"),
        "<h2>Findings</h2>", _findings_table(diagnosis),
        f"<h2>Last epoch</h2><table><tr><th>column</th><th>value</th></tr>{rows}</table>",
    ]))
    return (finding_lines(diagnosis, limit=3)
            + [f"diagnosis: {paths['diagnosis']}", f"curves: {paths['curves']}", f"report: {paths['report']}"])
