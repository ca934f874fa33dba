"""The import direction of the layers (DESIGN.md 3b), as `make lint` checks it."""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from activeq import persistence
from activeq.database import Database

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
    assert "The layers of DESIGN.md 3b, each importing only those below it KEPT" in proc.stdout
    assert " 0 broken" in proc.stdout


def _layers() -> list[list[str]]:
    """The layers contract of .importlinter, top first: the modules of each layer."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    lines = config["importlinter:contract:layers"]["layers"].split("\n")
    return [[m.strip() for m in line.replace("|", ":").split(":")] for line in lines if line.strip()]


def test_the_layers_follow_the_design_order() -> None:
    position = {module: i for i, layer in enumerate(_layers()) for module in layer}
    # DESIGN.md 3b, bottom up: ast, types, compiler, engines, database, the user's API, aio.
    order = ["activeq.ast", "activeq.types", "activeq.compiler", "activeq.engines",
             "activeq.database", "activeq.query", "activeq.model", "activeq.aio"]
    assert [position[m] for m in order] == sorted((position[m] for m in order), reverse=True)
    user_api = ["activeq.model", "activeq.query", "activeq.relations", "activeq.loading",
                "activeq.batch", "activeq.paging", "activeq.persistence"]
    assert min(position[m] for m in user_api) > position["activeq.aio"]
    assert max(position[m] for m in user_api) < position["activeq.database"]
    for session in ("activeq.cache", "activeq.monitor", "activeq.nplusone", "activeq.retry",
                    "activeq.pool", "activeq.connections"):
        assert position["activeq.database"] < position[session] < position["activeq.engines"]


def test_every_module_has_a_place_in_the_layers() -> None:
    """A new module is placed in a layer, so the contract speaks about it."""
    placed = [module for layer in _layers() for module in layer]
    assert len(placed) == len(set(placed))
    modules = {f"activeq.{p.stem}" for p in PACKAGE.glob("*.py")} | {"activeq.engines"}
    # The package itself re-exports every layer; __main__ only runs the command line; the
    # mypy plugin is loaded by mypy, never imported by activeq.
    outside = {"activeq.__init__", "activeq.__main__", "activeq.mypy"}
    assert sorted(modules - outside - set(placed)) == []
    assert sorted(set(placed) - modules) == []


def test_the_dialects_import_nothing_above_the_errors() -> None:
    """activeq.dialects is installed from ./dialects, where import-linter does not look."""
    imported = set()
    for path in (ROOT / "dialects").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                imported.add("." * node.level + (node.module or ""))
            elif isinstance(node, ast.ImportFrom | ast.Import) and "activeq" in ast.unparse(node):
                imported.add(ast.unparse(node))
    assert imported <= {"..errors", "."}


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


def test_no_import_cycle() -> None:
    assert _import_cycles() == []


def _function_local_imports(source: str, name: str) -> list[str]:
    """The imports of activeq modules made inside a function or method of ``source``."""
    found = []
    tree = ast.parse(source, name)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("activeq")):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
            elif isinstance(node, ast.Import) and any(a.name.startswith("activeq") for a in node.names):
                found.append(f"{name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_of_activeq_is_imported_inside_a_function() -> None:
    """Every import of an activeq module runs when its importer is imported: an import hidden
    in a function would hide an upward dependency (or a cycle) from the contracts.

    (The engines import their optional drivers inside functions; those are not activeq
    modules.)
    """
    found = [line for path in sorted(PACKAGE.rglob("*.py"))
             for line in _function_local_imports(path.read_text(), str(path.relative_to(ROOT)))]
    # One engine may borrow from another (SQLAlchemy on PostgreSQL uses the psycopg engine's
    # error translation); that engine module imports its driver at the top, and the driver is
    # optional, so it is imported only when that path runs.
    optional = {f"from .{p.stem} import" for p in (PACKAGE / "engines").glob("*.py")
                if _imported(p) & DRIVERS}
    assert [line for line in found
            if not (line.startswith("activeq/engines/") and line.split(": ", 1)[1].startswith(tuple(optional)))
            ] == []


def test_the_local_import_check_sees_one() -> None:
    source = ("import activeq\n"
              "class A:\n    def f(self):\n        from .model import ActiveRecord\n"
              "        import json\n        import activeq.query\n")
    assert _function_local_imports(source, "sample.py") == [
        "sample.py:4: from .model import ActiveRecord", "sample.py:6: import activeq.query"]


def test_the_session_saves_no_records() -> None:
    """Saving, deleting and reloading a record live with the model layer (activeq.persistence)."""
    assert {"_save", "_save_locked", "_delete", "_refresh"} & set(vars(Database)) == set()
    assert {"save", "delete", "refresh"} <= set(vars(persistence))
