"""The import direction of the layers (DESIGN.md 3b), as `make lint` checks it."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "activeq"
DRIVERS = {"apsw", "psycopg", "psycopg_pool", "duckdb"}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_above_the_engines_imports_a_driver() -> None:
    offenders = {
        path.name: sorted(_imported(path) & DRIVERS)
        for path in PACKAGE.glob("*.py")
        # The version check reads apsw's version at import, before anything else runs.
        if path.name != "dependencies.py" and _imported(path) & DRIVERS
    }
    assert offenders == {}
    engines = {p.name for p in (PACKAGE / "engines").glob("*.py") if _imported(p) & DRIVERS}
    assert {"apsw.py", "psycopg.py", "duckdb.py"} <= engines


def test_import_linter_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint is None:
        pytest.skip("import-linter is not installed (dev extra)")
    proc = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Only activeq.engines imports a database driver KEPT" in proc.stdout
    assert " 0 broken" in proc.stdout
