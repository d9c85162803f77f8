"""The sweep's report.html as a person sees it, in headless Chromium (Playwright): at 1280 px the page has
no horizontal overflow, every leaderboard row links to its runs' reports, and the columns are explained.
Skipped where Playwright or a Chromium binary is missing (.ci/run installs both)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli.cli import cli
from lossopt_cli.sweeps.executors import base

sys.path.insert(0, str(Path(__file__).parent))
from sweep_fakes import FakeTrainer  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the browser extra)")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no Chromium binary on this machine")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def wide_sweep(tmp_path, monkeypatch) -> Path:
    """Long configuration names and every column: the widest leaderboard the examples make."""
    monkeypatch.chdir(tmp_path)
    spec = {"name": "wide", "base": {"data": {"dataset": "iris"}, "loss": "categorical_crossentropy",
                                     "training": {"epochs": 4}},
            "vary": {"optimizer.name": ["sgd", "rmsprop", "adam"], "optimizer.learning_rate": [0.1, 0.01],
                     "model.hidden_units": [[128, 128, 64], [32]]},
            "seeds": [0, 1]}
    (tmp_path / "wide.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    monkeypatch.setattr(base, "run_job", FakeTrainer(interrupt=()))
    result = CliRunner().invoke(cli, ["sweep", "wide.yaml", "--executor", "serial", "-q"])
    assert result.exit_code == 0, result.output
    (sweep_dir,) = (tmp_path / "outputs").iterdir()
    assert CliRunner().invoke(cli, ["report", str(sweep_dir)]).exit_code == 0  # every run's report.html
    return sweep_dir


def test_the_sweep_report_fits_1280_px_and_every_row_links_to_its_runs(tmp_path, monkeypatch):
    sweep_dir = wide_sweep(tmp_path, monkeypatch)
    page_path = sweep_dir / "report.html"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_path.as_uri())
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            table = page.evaluate("""() => { const t = document.querySelector('table.leaderboard');
                const r = t.getBoundingClientRect(); return [r.right, t.scrollWidth, t.clientWidth]; }""")
            rows = page.evaluate("""() => [...document.querySelectorAll('table.leaderboard tr')].slice(1)
                .map(tr => [...tr.querySelectorAll('a')].map(a => a.getAttribute('href')))""")
            titles = page.evaluate("""() => [...document.querySelectorAll('table.leaderboard th')]
                .map(th => [th.textContent, th.getAttribute('title')])""")
            page.screenshot(path=str(tmp_path / "sweep-report.png"), full_page=True)
        finally:
            browser.close()
    assert scroll_width <= 1280, f"the page is {scroll_width} px wide at a 1280 px window"
    assert table[0] <= 1280 and table[1] <= table[2] + 1, table  # no column clipped or scrolled away
    assert len(rows) == 12 and all(len(links) == 2 for links in rows), rows  # each configuration: its 2 seeds
    for links in rows:
        for href in links:
            assert (sweep_dir / href).is_file(), href
    vs = dict(titles)["vs #1"]
    assert "behind?" in vs and "P =" in vs
