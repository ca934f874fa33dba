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


def _import_cycles() -> list[set[str]]:
    """The groups of activeq modules that import each other at run time (type-only imports aside).

    Imports inside functions count: moving an import into a function hides a cycle from the
    reader but not from the interpreter.
    """
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("activeq", exclude_type_checking_imports=True)

    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("activeq.") and top(imported) != top(module):
                edges.setdefault(top(module), set()).add(top(imported))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(group)

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return cycles


def test_the_tree_compiler_and_session_are_in_no_import_cycle() -> None:
    lower = {"activeq.ast", "activeq.expressions", "activeq.types", "activeq.columns",
             "activeq.sources", "activeq.results", "activeq.compiler", "activeq.ddl",
             "activeq.statements", "activeq.engines", "activeq.database", "activeq.pool",
             "activeq.connections", "activeq.paging"}
    assert [sorted(group & lower) for group in _import_cycles() if group & lower] == []
