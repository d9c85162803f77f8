"""``report.html``: one self-contained page per run (curves embedded as base64 PNG, the config,
the findings and the metrics), and ``report_run``, which redraws everything from saved files.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Callable

from .. import rundir
from ..analysis.runs import read_json_or_empty
from .text import fmt

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; margin: 2em auto; max-width: 1320px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ddd; padding: .3em .6em;
       text-align: left; vertical-align: top; font-size: .92em; }
th { background: #f4f4f4; } pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .85em; }
img { max-width: 100%; } figure { margin: 1em 0; } .verdict { font-size: 1.2em; font-weight: 600; padding: .3em .7em; border-radius: 4px; }
.healthy { background: #e3f4e1; } .bad { background: #fde2e1; } .warn { background: #fff3d6; }
.error { color: #b00020; font-weight: 600; } .warning { color: #a05a00; } .info { color: #555; }
.evidence { font-size: .85em; color: #444; }
table.numbers td { white-space: nowrap; } .scroll { overflow-x: auto; }
table.leaderboard { width: 100%; font-size: .82em; } table.leaderboard td.config { overflow-wrap: anywhere; }
table.leaderboard .short { white-space: nowrap; }
table.leaderboard th { cursor: help; } .runs { font-size: .9em; } .legend { font-size: .9em; }
"""

GOOD, BAD = ("healthy",), ("diverged", "overfitting", "unstable")


def _e(value) -> str:
    return html.escape(str(value))


def embedded_png(path: str | Path, alt: str, caption: str | None = None) -> str:
    """A PNG file as an <img> that carries its own bytes, so the page is one self-contained file."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    img = f"<img alt='{_e(alt)}' src='data:image/png;base64,{data}'>"
    return f"<figure>{img}<figcaption>{_e(caption)}</figcaption></figure>" if caption else img


def page(title: str, body: list[str]) -> str:
    """The HTML page shared by the run and sweep reports: one style, no outside files."""
    return "\n".join(["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
                      f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>", *body, "</body></html>\n"])


def _metrics_table(summary: dict) -> str:
    best, final, test = summary.get("best") or {}, summary.get("final") or {}, summary.get("test") or {}
    keys = list(dict.fromkeys(list(final) + list(best) + list(test)))
    if not keys:
        return "<p>No finished epoch.</p>"
    head = "<tr><th>metric</th><th>best epoch" + (f" ({_e(summary.get('best_epoch'))})" if summary.get("best_epoch")
                                                  else "") + "</th><th>final</th>" + ("<th>test</th>" if test else "")
    rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(fmt(best.get(k)))}</td><td>{_e(fmt(final.get(k)))}</td>"
                   + (f"<td>{_e(fmt(test.get(k)))}</td>" if test else "") + "</tr>" for k in keys)
    return f"<table>{head}</tr>{rows}</table>"


def _data_section(summary: dict) -> list[str]:
    """The task, the split sizes, and each class by name with its training samples."""
    data = summary.get("data") or {}
    if not data:
        return []
    sizes = ", ".join(f"{data[k]} {k}" for k in ("train", "validation", "test") if data.get(k))
    parts = ["<h2>Data</h2>", f"<p>{_e(data.get('dataset', '?'))}: {_e(data.get('task', '?'))}; {_e(sizes)}</p>"]
    names, counts = data.get("class_names"), data.get("class_counts")
    if counts:
        names = names or [str(i) for i in range(len(counts))]
        rows = "".join(f"<tr><td>{i}</td><td>{_e(n)}</td><td>{_e(c)}</td></tr>" for i, (n, c) in enumerate(zip(names, counts)))
        parts.append(f"<table><tr><th>class</th><th>name</th><th>training samples</th></tr>{rows}</table>")
    parts += _per_class_section(summary.get("per_class"))
    return parts


def _per_class_section(per_class: dict | None) -> list[str]:
    """Precision, recall and support per class by name, and the confusion matrix (rows: true class)."""
    if not per_class:
        return []
    names = per_class["classes"]
    rows = "".join(f"<tr><td>{_e(n)}</td><td>{_e(fmt(p))}</td><td>{_e(fmt(r))}</td><td>{_e(s)}</td></tr>"
                   for n, p, r, s in zip(names, per_class["precision"], per_class["recall"], per_class["support"]))
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    matrix = "".join(f"<tr><th>{_e(n)}</th>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>"
                     for n, row in zip(names, per_class["confusion"]))
    return [f"<h3>Per class, on the {_e(per_class['split'])} split (the model as saved)</h3>",
            f"<table class='numbers'><tr><th>class</th><th>precision</th><th>recall</th><th>support</th></tr>{rows}"
            "</table>",
            f"<p>Confusion (rows: true class, columns: predicted)</p><table class='numbers'><tr><th></th>{head}</tr>"
            f"{matrix}</table>"]


def _findings_table(diagnosis: dict) -> str:
    rows = []
    for f in diagnosis.get("findings", []):
        evidence = ", ".join(f"{k} {fmt(v)}" for k, v in (f.get("evidence") or {}).items() if v is not None)
        rows.append(f"<tr><td class='{_e(f['severity'])}'>{_e(f['severity'])}</td><td><code>{_e(f['code'])}</code></td>"
                    f"<td>{_e(f['epoch'] if f.get('epoch') is not None else '-')}</td>"
                    f"<td>{_e(f['message'])}<div class='evidence'>{_e(evidence)}</div></td>"
                    f"<td>{_e(f.get('suggestion', ''))}</td></tr>")
    return ("<table><tr><th>severity</th><th>code</th><th>epoch</th><th>what and evidence</th><th>suggestion</th></tr>"
            + "".join(rows) + "</table>")


def render_report(run_dir: str | Path) -> str:
    from ..liveness import effective_status

    """The HTML of a run's report, from the files in its directory."""
    run_dir = Path(run_dir)
    summary = read_json_or_empty(run_dir / rundir.SUMMARY)
    diagnosis = read_json_or_empty(run_dir / rundir.DIAGNOSIS)
    config = (run_dir / rundir.CONFIG).read_text() if (run_dir / rundir.CONFIG).exists() else ""
    curves = run_dir / rundir.CURVES
    name = summary.get("name", run_dir.name)
    verdict = diagnosis.get("verdict", "?")
    css = "healthy" if verdict in GOOD else "bad" if verdict in BAD else "warn"
    parts = [
        f"<h1>{_e(name)}</h1>",
        f"<p><span class='verdict {css}'>verdict: {_e(verdict)}</span></p>",
        f"<p>status <b>{_e(effective_status(summary))}</b> after {_e(summary.get('epochs_run', '?'))} of "
        f"{_e(summary.get('epochs_requested', '?'))} epochs; wall time {_e(fmt(summary.get('wall_time_seconds')))} s; "
        f"seed {_e(summary.get('seed', '-'))}; directory <code>{_e(run_dir)}</code></p>",
    ]
    if summary.get("error"):
        parts.append(f"<p class='error'>error: {_e(summary['error'])}</p>")
    if curves.exists():
        parts.append("<h2>Curves</h2>" + embedded_png(curves, "loss and metric curves"))
    parts += ["<h2>Findings</h2>", _findings_table(diagnosis), "<h2>Metrics</h2>", _metrics_table(summary)]
    parts += _data_section(summary)
    if config:
        parts += ["<h2>Config</h2>", f"<pre>{_e(config)}</pre>"]
    versions = summary.get("versions") or {}
    if versions:
        parts.append("<p class='info'>" + _e(", ".join(f"{k} {v}" for k, v in versions.items())) + "</p>")
    return page(f"{name}: lossopt report", parts)


def write_report(run_dir: str | Path) -> Path:
    path = Path(run_dir) / rundir.REPORT
    rundir.atomic_write(path, render_report(run_dir))
    return path


def report_run(run_dir: str | Path, on_error: Callable[[str, Exception], None] | None = None) -> dict:
    """Rewrite ``diagnosis.json`` (and the verdict in ``summary.json``), redraw ``curves.png`` and
    write ``report.html``. With ``on_error``, a failing step is reported there and the next runs."""
    from ..analysis.diagnose import write_diagnosis
    from .plots import plot_run

    run_dir = Path(run_dir)
    diagnosis: dict = {}

    def diagnose():
        diagnosis.update(write_diagnosis(run_dir))

    for what, step in ((rundir.DIAGNOSIS, diagnose), (rundir.CURVES, lambda: plot_run(run_dir, diagnosis or None)),
                       (rundir.REPORT, lambda: write_report(run_dir))):
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - the caller decides: warn (after training) or raise
            if on_error is None:
                raise
            on_error(what, exc)
    return diagnosis
