"""A sweep's results: the leaderboard (CSV and printed table), the plots, summary.json and report.html,
written from its saved runs. No TensorFlow. (``lossopt compare`` and ``list`` are in ``commands.runs``.)
"""

from __future__ import annotations

import csv
import html
import io
import time
from pathlib import Path

from .. import rundir
from ..analysis import leaderboard, stats
from ..analysis.runs import RunRecord, sweep_runs
from . import sweep_plots
from .text import fmt

LEADERBOARD = rundir.LEADERBOARD
COMPARISON = "comparison.png"
LR_SENSITIVITY = "lr_sensitivity.png"
BOXPLOT = "final_metric_boxplot.png"


# --- the leaderboard -------------------------------------------------------------------------


def leaderboard_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: rundir.format_number(v) for k, v in row.items()})
    return buf.getvalue()


def _pm(mean, std) -> str:
    if mean is None:
        return "-"
    return fmt(mean) if not std else f"{fmt(mean)} ± {fmt(std)}"


def table_columns(notes: dict) -> list[tuple[str, callable]]:
    metric, target, rank_by = notes["final_metric"], notes["target"], notes["rank_by"]
    goal = f"ep to {target['metric']}{'<=' if stats.lower_is_better(target['metric']) else '>='}{fmt(target.get('value'))}"
    test_key = f"test_{rank_by.removeprefix('val_')}_mean"

    def interval(r):
        low, high = r.get(f"final_{rank_by}_ci95_low"), r.get(f"final_{rank_by}_ci95_high")
        return "-" if low is None else f"[{fmt(low)}, {fmt(high)}]"

    def flags(r):
        parts = [f"{r[k]} {k}" for k in ("diverged", "unstable", "failed", "interrupted") if r.get(k)]
        return ", ".join(parts) if parts else "-"

    def versus(r):
        if r["rank"] == 1 or not r.get("within_noise_of_best"):
            return "-"
        word = {"yes": "noise", "no": "behind", "probably not": "behind?"}[r["within_noise_of_best"]]
        p_imp = r.get("p_improvement_by_best")
        won = f" {r['seeds_won_by_best']}" if r.get("seeds_won_by_best") else ""
        return f"{word}{won}" + (f" P={fmt(p_imp)}" if p_imp is not None else "")

    columns = [
        ("#", lambda r: str(r["rank"])),
        ("config", lambda r: r["config"]),
        ("runs", lambda r: str(r["runs"])),
        (f"final {rank_by}", lambda r: _pm(r[f"final_{rank_by}_mean"], r[f"final_{rank_by}_std"])),
        ("95% CI", interval),
        (f"best {rank_by} (ep)", lambda r: f"{fmt(r[f'best_{rank_by}_mean'])} ({fmt(r['best_epoch_mean'])})"
         if r[f"best_{rank_by}_mean"] is not None else "-"),
    ]
    if notes.get("has_test"):
        columns.append((f"test {rank_by.removeprefix('val_')}", lambda r: fmt(r.get(test_key))))
    if metric != rank_by:
        columns.append((f"final {metric}", lambda r: _pm(r[f"final_{metric}_mean"], r[f"final_{metric}_std"])))
    columns += [
        (goal, lambda r: f"{fmt(r['epochs_to_target_mean'])} ({r['reached_target']})"),
        ("time s", lambda r: fmt(r["wall_time_mean"])),
        ("flags", flags),
        ("verdict", lambda r: r["verdict"] or "-"),
        ("vs #1", versus),
    ]
    if notes.get("fixed"):  # compare_fixed: the same configuration at the config's own values
        columns += [("fixed #", lambda r: fmt(r.get("fixed_rank"))),
                    (f"fixed final {rank_by}", lambda r: _pm(r.get(f"fixed_final_{rank_by}_mean"),
                                                             r.get(f"fixed_final_{rank_by}_std")))]
    return columns


def table_lines(rows: list[dict], notes: dict) -> list[str]:
    """The leaderboard as aligned plain text, then the seed-noise sentence."""
    if not rows:
        return ["no runs to compare."]
    columns = table_columns(notes)
    cells = [[name for name, _ in columns]] + [[cell(r) for _, cell in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append(notes["noise"])
    for key in ("fixed", "flagged", "optimism"):
        if notes.get(key):
            lines.append(notes[key])
    if notes.get("warning"):
        lines.append(f"warning: {notes['warning']}")
    if notes["target"].get("default"):
        lines.append(f"target: {notes['target']['metric']} within 10% of the best configuration "
                     f"({fmt(notes['target']['value'])}); set target: in the sweep file to choose it.")
    return lines


# --- the sweep directory's results ---------------------------------------------------------------


def warm_up() -> None:
    """Import matplotlib for the sweep's plots in a background thread, while this process waits for runs trained
    elsewhere (worker processes, Ray): 0.4 s that the sweep's end, where one core is idle, no longer waits for
    (benchmarks/README.md). Idempotent; the plots import what is missing themselves."""
    import threading

    threading.Thread(target=sweep_plots.import_matplotlib, name="lossopt-warm-up", daemon=True).start()


def write_sweep_results(sweep_dir: Path, sweep, results: dict, interrupted: bool = False,
                        call=None) -> tuple[list[dict], dict]:
    """leaderboard.csv, the plots, summary.json and report.html of a sweep, from its saved runs. ``call``: how the
    plots are drawn (``draw_plots``)."""
    records = sweep_runs(sweep_dir)
    on_disk = {r.name for r in records}
    groups = {run.name: run.group for run in sweep.runs}
    for name, result in results.items():  # runs that failed before they had a directory
        if name not in on_disk and result.status == "failed":
            records.append(RunRecord(name, sweep_dir, "failed", {}, {"error": result.error}, group=groups.get(name, name)))
    from ..analysis.reference import apply_references
    from .html import write_report

    for record in apply_references(records):  # under-fitting judged against the best run on the same data
        write_report(record.path)
    from . import fixed_vs_tuned

    records, fixed_records = fixed_vs_tuned.split(records, sweep)  # compare_fixed: ranked apart, then side by side
    rows, notes = leaderboard.leaderboard(records, sweep.target, sweep.spec.get("rank_by")) if records else (
        [], {"noise": "", "target": {}})
    fixed = fixed_vs_tuned.compare(rows, fixed_records, records, sweep, notes.get("rank_by"))
    notes["fixed"] = fixed["sentence"] if fixed else ""
    if rows:  # no run finished: no empty leaderboard.csv
        rundir.atomic_write(sweep_dir / LEADERBOARD, leaderboard_csv(rows))
    plots = draw_plots(records, sweep_dir, [r["config"] for r in rows], title=sweep.name,
                       rank_by=notes.get("rank_by"), call=call) if records else {}
    every = records + fixed_records
    statuses = {run.name: next((r.status for r in every if r.name == run.name), "not_run") for run in sweep.runs}
    summary = {
        "name": sweep.name, "sweep_file": sweep.source, "sweep_dir": str(sweep_dir),
        "status": "completed" if all(s in rundir.FINISHED for s in statuses.values())
        else ("interrupted" if interrupted else "incomplete"),
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs_total": len(sweep.runs), "notes": list(sweep.notes),
        "counts": {s: list(statuses.values()).count(s) for s in sorted(set(statuses.values()))},
        "runs": [{"name": run.name, "group": run.group, "values": run.values, "status": statuses[run.name],
                  "run_dir": next((str(r.path) for r in every if r.name == run.name and r.path != sweep_dir), None),
                  "error": (results.get(run.name).error if run.name in results else None)}
                 for run in sweep.runs],
        "final_metric": notes.get("final_metric"), "rank_by": notes.get("rank_by"), "target": notes.get("target"),
        "noise": notes.get("noise"), "warning": notes.get("warning"), "flagged": notes.get("flagged"),
        "optimism": notes.get("optimism"), "fixed_vs_tuned": fixed,
        "best": rows[0]["config"] if rows else None, "leaderboard": rows, "plots": sorted(plots),
    }
    rundir.write_json(sweep_dir / rundir.SUMMARY, summary)
    rundir.atomic_write(sweep_dir / rundir.REPORT, render_html(summary, rows, notes, sweep_dir, plots))
    return rows, notes


def draw_plots(records: list[RunRecord], out_dir: Path, order: list[str], title: str = "",
               comparison: Path | None = None, rank_by: str | None = None, call=None) -> dict[str, Path]:
    """The comparison, learning-rate and box plots: {file name: path} of those drawn. ``call(function, arguments)``
    runs ``draw_part`` on each argument: the comparison plot (the longest) and the other two, in parallel in a
    sweep's worker processes (``Executor.call``, default: here, one after the other)."""
    parts = [(part, records, out_dir, order, title, comparison, rank_by) for part in (COMPARISON, BOXPLOT)]
    drawn: dict[str, Path] = {}
    for paths in (call or _here)(draw_part, parts):
        drawn.update(paths)
    return {name: drawn[name] for name in (COMPARISON, LR_SENSITIVITY, BOXPLOT) if drawn.get(name) is not None}


def _here(function, arguments: list) -> list:
    return [function(argument) for argument in arguments]


def draw_part(arguments: tuple) -> dict[str, Path | None]:
    """One part of ``draw_plots`` (module-level: a worker process imports it): COMPARISON, or BOXPLOT (the box
    plot and the learning-rate plot)."""
    part, records, out_dir, order, title, comparison, rank_by = arguments
    if part == COMPARISON:
        return {COMPARISON: sweep_plots.plot_comparison(records, comparison or out_dir / COMPARISON, order,
                                                        title=title, rank_by=rank_by)}
    return {LR_SENSITIVITY: sweep_plots.plot_lr_sensitivity(records, out_dir / LR_SENSITIVITY),
            BOXPLOT: sweep_plots.plot_final_boxes(records, out_dir / BOXPLOT, order)}


COLUMN_HELP = {
    "#": "rank by the mean final value of the ranking metric over seeds",
    "runs": "runs (seeds) of this configuration",
    "95% CI": "percentile-bootstrap 95% interval of the mean final value (2 seeds or more)",
    "time s": "seconds of training per run",
    "flags": "seeds that diverged, were unstable, failed or were interrupted (an interrupted run counts as far as "
             "it went: --resume finishes it)",
    "verdict": "the most common diagnosis verdict among the runs",
    "vs #1": "how the first configuration compares with this one on the seeds both ran: noise = within seed "
             "noise; behind = #1 is ahead (sign-flip p <= 0.05); behind? = #1 won every paired seed or has P >= 0.9, "
             "but too few seeds to be sure; k/n = paired seeds #1 won; P = probability that a run of #1 beats a run "
             "of this one",
    "fixed #": "compare_fixed: the rank of the same compared configuration at its config's own values of the "
               "searched keys (the runs tagged fixed), over the same seeds",
}


SHORT = ("#", "runs", "time s", "verdict")  # columns kept on one line (the others wrap at spaces)


def render_html(summary: dict, rows: list[dict], notes: dict, sweep_dir: Path, plots: dict[str, Path]) -> str:
    """One self-contained page: the counts, the leaderboard (each configuration linking to its runs' reports,
    each column explained), the seed-noise note, the plots inlined. Fits a 1280 px window: cells wrap."""
    from .html import embedded_png, page

    esc = html.escape
    columns = table_columns(notes) if rows else []
    head = "".join(f"<th title='{esc(COLUMN_HELP.get(name, name))}'>{esc(name)}</th>" for name, _ in columns)
    links = _run_links(summary, sweep_dir)

    def cell(name, value, r):
        if name == "config":
            runs = " ".join(f"<a href='{esc(href)}'>{esc(label)}</a>" for label, href in links.get(r["config"], []))
            return f"<td class='config'><b>{esc(value)}</b><br><span class='runs'>{runs}</span></td>"
        return f"<td class='short'>{esc(value)}</td>" if name in SHORT else f"<td>{esc(value)}</td>"

    body = "".join("<tr>" + "".join(cell(name, fn(r), r) for name, fn in columns) + "</tr>" for r in rows)
    counts = ", ".join(f"{n} {s}" for s, n in summary["counts"].items())
    failed = "".join(f"<li>{esc(r['name'])}: {esc(str(r['error']))}</li>" for r in summary["runs"] if r.get("error"))
    legend = "".join(f"<li><b>{esc(name)}</b>: {esc(text)}</li>" for name, text in COLUMN_HELP.items()
                     if name in {c for c, _ in columns})
    return page(f"sweep {summary['name']}", [
        f"<h1>Sweep {esc(summary['name'])}</h1>",
        f"<p>{esc(str(sweep_dir))} &middot; status {esc(summary['status'])} &middot; {summary['runs_total']} runs: "
        f"{esc(counts)}</p>",
        "<h2>Leaderboard</h2>",
        f"<p>Ranked by the mean final {esc(str(notes.get('rank_by')))} over seeds (mean ± std, bootstrap 95% interval); "
        f"configurations whose runs all diverged or failed come last. {esc(notes.get('noise') or '')} "
        f"{esc(notes.get('flagged') or '')} {esc(notes.get('warning') or '')}</p>",
        f"<p>{esc(notes.get('optimism') or '')}</p>",
        f"<p class='fixed'><b>Fixed vs tuned.</b> {esc(notes['fixed'])}</p>" if notes.get("fixed") else "",
        f"<table class='leaderboard'><tr>{head}</tr>{body}</table>",
        f"<details><summary>What the columns mean</summary><ul class='legend'>{legend}</ul></details>",
        "".join(f"<p>note: {esc(n)}</p>" for n in summary.get("notes") or []),
        f"<h2>Errors</h2><ul>{failed}</ul>" if failed else "",
        "<h2>Plots</h2>" + "".join(embedded_png(path, name, caption=name) for name, path in plots.items()),
    ])


def _run_links(summary: dict, sweep_dir: Path) -> dict[str, list[tuple[str, str]]]:
    """{configuration: [(seed label, relative path of the run's report.html)]} for the runs that have one."""
    out: dict[str, list[tuple[str, str]]] = {}
    for run in summary.get("runs", []):
        run_dir = run.get("run_dir")
        if not run_dir or not (Path(run_dir) / rundir.REPORT).is_file():
            continue
        try:
            href = (Path(run_dir) / rundir.REPORT).relative_to(sweep_dir).as_posix()
        except ValueError:
            href = (Path(run_dir) / rundir.REPORT).as_uri()
        seed = run.get("values", {}).get("seed")
        label = f"seed {seed}" if seed is not None else Path(run_dir).name
        out.setdefault(run.get("group") or run["name"], []).append((label, href))
    return out


def single_run_lines(records: list[RunRecord]) -> list[str]:
    """Runs compared one by one (no seeds): each run's over-fitting onset, and how a CSVLogger file's
    epochs are numbered."""
    from ..analysis.history_files import epoch_note

    groups = {r.group for r in records}
    if len(groups) != len(records) or len(records) > 10:
        return []
    onsets = [(r.group, sweep_plots.overfitting_onset(r)) for r in records]
    lines = ["over-fitting onset: " + ", ".join(f"{g} epoch {e}" if e is not None else f"{g} none" for g, e in onsets)]
    note = epoch_note(*[r.path for r in records if r.path.is_file()])
    return lines + ([f"note: {note}"] if note else [])
