"""The documentation site in docs/ covers the product: every command, every config and sweep key,
every catalog kind; the README stays short and its set-up commands stay the ones CI runs.

The reference tables are generated at build time (tools/docs_reference.py, a MkDocs hook) from the
committed JSON Schemas, which tests/test_json_schema.py keeps equal to the validator's own tables.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lossopt_cli.cli import cli
from tools import docs_reference

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def site_text() -> str:
    """Every page of the site as MkDocs renders its Markdown (markers expanded)."""
    return "\n".join(docs_reference.expand(p.read_text()) for p in sorted(DOCS.glob("*.md")))


def nav_pages() -> list[str]:
    def walk(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from walk(v)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v)

    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    return list(walk(config["nav"]))


def test_every_command_is_documented_in_the_site_and_listed_in_the_readme():
    text, readme = site_text(), (REPO / "README.md").read_text()
    for name in cli.commands:
        assert f"lossopt {name}" in text, f"`lossopt {name}` appears nowhere in docs/"
        assert f"`lossopt {name}" in readme, f"`lossopt {name}` is missing from the README's table of commands"


@pytest.mark.parametrize("kind", ["config", "sweep"])
def test_every_key_is_in_the_generated_reference(kind):
    from lossopt_cli import commands

    schema = commands.config_schema() if kind == "config" else commands.sweep_schema()
    keys = {row[0] for row in docs_reference._rows(schema["properties"])}
    text = site_text()
    assert f"<!-- lossopt:{kind}-reference -->" in "".join(p.read_text() for p in DOCS.glob("*.md"))
    missing = [k for k in sorted(keys) if f"`{k}`" not in text]
    assert not missing, f"keys not in the docs: {missing}"
    assert len(keys) > (60 if kind == "config" else 8)


def test_every_catalog_kind_is_generated_on_the_catalog_page():
    from lossopt_cli.catalog.listing import KINDS

    page = (DOCS / "catalog.md").read_text()
    for kind in KINDS:
        assert f"<!-- lossopt:catalog:{kind} -->" in page
    assert "binary_crossentropy (also: bce)" in docs_reference.expand(page)


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    pages = nav_pages()
    assert sorted(pages) == sorted(p.name for p in DOCS.glob("*.md"))


def test_the_readme_is_short_and_keeps_the_two_set_up_commands():
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) <= 15_000
    assert "pip install -e . && lossopt train configs/quickstart.yaml" in readme
    test_command = "pip install -e '.[test,ray]' && python -m pytest -q"
    ci = (REPO / ".ci" / "run").read_text().replace("pip install -q ", "pip install ")
    assert test_command in readme and test_command in ci
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / link).is_file(), link


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mkdocs") is None and not (Path(sys.executable).parent / "mkdocs").exists(),
                    reason="mkdocs not installed (pip install -e '.[docs]'); .ci/run installs it")
def test_the_site_builds_strict(tmp_path):
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    result = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "binary_crossentropy" in (tmp_path / "site" / "catalog" / "index.html").read_text()
