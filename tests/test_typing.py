"""tests/typing/ is checked by mypy --strict and pyright (strict) as a user's project would be.

``check_*.py`` files must type-check cleanly (and run: their values are of the types the
checkers infer); in ``errors_*.py`` every line marked ``# error: mypy[code] pyright[rule]``
must be reported by those checkers with those codes, and no unmarked line may be. Files
ending in ``_mypy.py`` rely on the activeq.mypy plugin and are checked by mypy only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

TYPING = Path(__file__).resolve().parent / "typing"
FILES = sorted(p.name for p in TYPING.glob("*.py"))
BIN = Path(sys.executable).parent
MARK = re.compile(r"#\s*error:(.*)$")
CHECK = re.compile(r"(mypy|pyright)\[([\w-]+)\]")

Reports = dict[str, set[tuple[int, str]]]


def _expected(checker: str) -> Reports:
    expected: Reports = defaultdict(set)
    for name in FILES:
        if checker == "pyright" and name.endswith("_mypy.py"):
            continue
        for number, line in enumerate((TYPING / name).read_text().splitlines(), 1):
            mark = MARK.search(line)
            if mark:
                for tool, code in CHECK.findall(mark.group(1)):
                    if tool == checker:
                        expected[name].add((number, code))
    return expected


def _mypy(config: str, cache: Path) -> Reports:
    run = subprocess.run(
        [str(BIN / "mypy"), "--config-file", config, "--cache-dir", str(cache),
         "--no-error-summary", "--show-error-codes", *FILES],
        cwd=TYPING, capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr + run.stdout
    reported: Reports = defaultdict(set)
    for line in run.stdout.splitlines():
        found = re.match(r"([\w.]+\.py):(\d+): error: .*\[([\w-]+)\]$", line)
        if found:
            reported[found.group(1)].add((int(found.group(2)), found.group(3)))
        else:
            assert ": note:" in line, f"unexpected mypy output: {line}"
    return reported


def _pyright() -> Reports:
    files = [name for name in FILES if not name.endswith("_mypy.py") and name != "models.py"]
    run = subprocess.run(
        [str(BIN / "pyright"), "--outputjson", "--pythonpath", sys.executable, *files],
        cwd=TYPING, capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr + run.stdout
    reported: Reports = defaultdict(set)
    for diagnostic in json.loads(run.stdout)["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            name = Path(diagnostic["file"]).name
            reported[name].add((diagnostic["range"]["start"]["line"] + 1, diagnostic["rule"]))
    return reported


@pytest.mark.parametrize("config", ["mypy.ini", "mypy-pydantic.ini"])
def test_mypy_strict_reports_exactly_the_marked_lines(config: str) -> None:
    assert _mypy(config, TYPING / ".mypy_cache" / config) == _expected("mypy")


def test_pyright_strict_reports_exactly_the_marked_lines() -> None:
    assert _pyright() == _expected("pyright")


def test_every_error_file_marks_errors_for_its_checkers() -> None:
    # A marker file that names no error would pass vacuously.
    mypy, pyright = _expected("mypy"), _expected("pyright")
    for name in FILES:
        if name.startswith("errors_"):
            assert mypy[name], name
            if not name.endswith("_mypy.py"):
                assert pyright[name], name
                assert {n for n, _ in mypy[name]} == {n for n, _ in pyright[name]}, name


@pytest.mark.parametrize("script", ["check_models.py", "check_async.py"])
def test_checked_code_runs_with_the_types_inferred(script: str) -> None:
    run = subprocess.run([sys.executable, script], cwd=TYPING, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "ok"
