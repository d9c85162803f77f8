"""The layering the README draws is checked by import-linter (the contracts in pyproject.toml), and
lossopt_cli has no import cycle at all, between packages or between modules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import REPO


def _lint_imports() -> str:
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports is missing: pip install -e '.[test]' installs import-linter"
    return found


def test_the_import_contracts_hold():
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's lossopt_cli, whatever is installed
    out = subprocess.run([_lint_imports(), "--no-cache"], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_no_module_imports_itself_through_others():
    import grimp

    sys.path.insert(0, str(REPO))
    graph = grimp.build_graph("lossopt_cli", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            path = graph.find_shortest_chain(importer=imported, imported=module)
            if path:
                cycles.append(" -> ".join((module, *path)))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_every_module_sits_in_a_layer():
    """A module outside every layer escapes the contract (signals, naming, json_schema... once did)."""
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    listed = {name.strip() for layer in layers for name in layer.split("|")}
    package = REPO / "lossopt_cli"
    top = {f"lossopt_cli.{p.stem if p.is_file() else p.name}" for p in package.iterdir()
           if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert top - listed == set(), f"outside every layer: {sorted(top - listed)}"
