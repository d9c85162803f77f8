"""The bad-input corpus (tests/bad_inputs/cases.yaml): every bad config, sweep file and data file
gets exit code 2 and one message that names the file and every problem in it, with no traceback
and nothing written, from `lossopt validate` and from `lossopt train` / `lossopt sweep`. The few
inputs lossopt handles itself (``handled: true``: missing CSV cells dropped, Latin-1 read) pass
`lossopt validate` with a note saying what it did."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lossopt_cli.cli import cli

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES: dict = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def _params():
    for path, entry in CASES.items():
        commands = ("validate",) if entry.get("handled") else ("validate", "sweep" if path.startswith("sweeps/") else "train")
        for command in commands:
            marks = [pytest.mark.slow] if entry.get("slow") and command != "validate" else []
            yield pytest.param(path, command, id=f"{command}:{path}", marks=marks)


def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1) for p in sorted(root.rglob("*"))}


def _generate(kind: str, path: Path) -> None:
    if kind == "oversize":  # 20 MB of valid YAML: refused by size before it is parsed
        line = "  - [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]\n"
        with open(path, "w") as f:
            f.write("data: {dataset: iris}\nloss: mse\nvalues:\n")
            f.write(line * (20_000_000 // len(line)))
    else:
        raise ValueError(kind)


def test_the_corpus_is_large_and_every_file_is_listed():
    assert sum(not e.get("handled") for e in CASES.values()) >= 70
    on_disk = {str(p.relative_to(CORPUS)) for folder in ("configs", "sweeps") for p in (CORPUS / folder).iterdir()}
    generated = {p for p, e in CASES.items() if e.get("generate")}
    assert on_disk == set(CASES) - generated  # no orphan file, no case without its file


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory) -> Path:
    """One copy of the corpus to run in (each case checks that it leaves the copy as it found it)."""
    work = tmp_path_factory.mktemp("bad_inputs") / "corpus"
    shutil.copytree(CORPUS, work, ignore=shutil.ignore_patterns("__pycache__", "data"))
    spec = importlib.util.spec_from_file_location("make_data_files", CORPUS / "make_data_files.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(work / "data")  # the data files are made, not committed
    return work


@pytest.mark.parametrize("path,command", list(_params()))
def test_bad_input_is_refused_clearly(path, command, corpus_copy, monkeypatch):
    entry = CASES[path]
    work = corpus_copy
    if entry.get("generate") and not (work / path).exists():
        _generate(entry["generate"], work / path)
    monkeypatch.chdir(work)
    before = _tree(work)
    args = [command, path] + (["--executor", "serial"] if command == "sweep" else [])
    result = CliRunner().invoke(cli, args)
    output = result.output
    assert _tree(work) == before, "nothing may be created or changed"
    assert not (work / "outputs").exists()
    assert "Traceback" not in output
    if command == "validate" and entry.get("validate") == "ok":  # only training finds it (user code runs there)
        assert result.exit_code == 0, output
        return
    if entry.get("handled"):  # lossopt handles it and says what it did
        assert result.exit_code == 0, output
        for text in entry["expect"]:
            assert text in output, f"{text!r} not in:\n{output}"
        return
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert output.startswith(f"Error: {path}: "), output  # the file, named once
    assert output.count(f"{path}: ") == 1 or path.startswith("sweeps/sweep_base"), output
    for text in entry["expect"]:
        assert text in output, f"{text!r} not in:\n{output}"
    if entry.get("problems"):
        assert f"{entry['problems']} problems:" in output, output
        assert output.count("\n  - ") == entry["problems"], output
