"""The installed layout: dialects ship inside the package, typed, with no top-level module."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import apsw
import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

import activeq
from activeq import ActiveqError, RedisCache, dependencies


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)


def test_dialects_are_a_subpackage_and_not_top_level(tmp_path: Path) -> None:
    ok = _run("import activeq.dialects.sqlite as d; print(d.PLACEHOLDER)", tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "?"
    missing = _run("import dialects", tmp_path)
    assert missing.returncode != 0
    assert "No module named 'dialects'" in missing.stderr


def test_py_typed_is_shipped() -> None:
    assert (Path(activeq.__file__).parent / "py.typed").exists()


def test_public_api_is_sorted_and_importable() -> None:
    assert activeq.__all__ == sorted(activeq.__all__)
    for name in activeq.__all__:
        assert hasattr(activeq, name), name


# dependency ranges ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
RUNTIME = {"apsw": dependencies.APSW_RANGE, "pydantic": dependencies.PYDANTIC_RANGE,
           "sqlglot": dependencies.SQLGLOT_RANGE}


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {re.match(r"[\w.-]+", r).group(): r for r in project["dependencies"]}  # type: ignore[union-attr]


def _spell(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def test_declared_ranges_are_the_ranges_checked_at_import() -> None:
    declared = _declared()
    assert set(declared) == set(RUNTIME)
    for name, (lowest, below) in RUNTIME.items():
        spec = SpecifierSet(declared[name][len(name):])
        assert {(s.operator, s.version) for s in spec} == (
            {(">=", _spell(lowest))} | ({("<", _spell(below))} if below else set())), name


def test_apsw_lower_bound_is_where_connection_binding_starts() -> None:
    # apsw 3.45-3.50 have no Connection.convert_binding, which Database() sets on every
    # connection: those releases crashed in Database() while the metadata allowed them.
    assert Version(_spell(dependencies.APSW_RANGE[0])) >= Version("3.51.0.0")
    assert hasattr(apsw.Connection, "convert_binding")


def test_installed_versions_satisfy_the_installed_metadata() -> None:
    requires = [Requirement(r) for r in importlib.metadata.requires("activeq") or []]
    runtime = [r for r in requires if r.marker is None]
    assert sorted(r.name for r in runtime) == sorted(RUNTIME)
    for req in runtime:
        installed = importlib.metadata.version(req.name)
        assert req.specifier.contains(installed, prereleases=True), (req, installed)
        assert str(req.specifier) == str(SpecifierSet(_declared()[req.name][len(req.name):]))


@pytest.mark.parametrize(("name", "version", "message"), [
    ("apsw", "3.50.4.0", "activeq needs apsw>=3.51.0.0 (found 3.50.4.0); "
                         "upgrade it with: pip install -U 'apsw>=3.51.0.0'"),
    ("apsw", "3.45.0.0", "activeq needs apsw>=3.51.0.0 (found 3.45.0.0)"),
    ("pydantic", "2.7.4", "activeq needs pydantic>=2.8,<3 (found 2.7.4)"),
    ("pydantic", "3.0.0", "activeq needs pydantic>=2.8,<3 (found 3.0.0), the versions it is "
                          "tested with; install one with: pip install 'pydantic>=2.8,<3'"),
    ("sqlglot", "30.18.0", "activeq needs sqlglot>=30.19.0,<31 (found 30.18.0)"),
    ("sqlglot", "31.0.0", "activeq needs sqlglot>=30.19.0,<31 (found 31.0.0)"),
])
def test_versions_outside_a_range_are_refused(name: str, version: str, message: str) -> None:
    with pytest.raises(dependencies.UnsupportedDependencyError) as info:
        dependencies.check_version(name, version, *RUNTIME[name])
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ImportError)


@pytest.mark.parametrize(("name", "version"), [
    ("apsw", "3.51.0.0"), ("apsw", "3.54.1.0"), ("pydantic", "2.8.0"), ("pydantic", "2.14.4"),
    ("sqlglot", "30.19.0"), ("sqlglot", "30.30.0"), ("sqlglot", "30.31.0.dev4"),
])
def test_versions_inside_a_range_are_accepted(name: str, version: str) -> None:
    dependencies.check_version(name, version, *RUNTIME[name])


@pytest.mark.parametrize(("patch", "message"), [
    ("import apsw; apsw.apsw_version = lambda: '3.50.4.0'",
     "activeq needs apsw>=3.51.0.0 (found 3.50.4.0)"),
    ("import pydantic; pydantic.VERSION = '2.5.0'", "activeq needs pydantic>=2.8,<3 (found 2.5.0)"),
    ("import sqlglot; sqlglot.__version__ = '27.0.0'",
     "activeq needs sqlglot>=30.19.0,<31 (found 27.0.0)"),
])
def test_import_refuses_an_unsupported_dependency(tmp_path: Path, patch: str, message: str) -> None:
    proc = _run(f"{patch}\nimport activeq", tmp_path)
    assert proc.returncode == 1
    assert f"activeq.dependencies.UnsupportedDependencyError: {message}" in proc.stderr


def test_pydantic_internals_are_imported_only_behind_the_version_check() -> None:
    package = Path(activeq.__file__).parent
    users = sorted(p.name for p in package.glob("*.py") if "pydantic._internal" in p.read_text())
    assert users == ["dependencies.py"]


# The lowest release each extra's driver passes the suite on (`make test-deps-min`).
EXTRA_FLOORS = {
    # psycopg 3.2.0[binary] asks for psycopg-binary==3.2.0.dev1, which was never released.
    "psycopg": "3.2.1", "psycopg-pool": "3.2.0", "greenlet": "3.0.0",
    # DuckDB 1.x leaves rowcount at -1; 2.0.0 needs the undeclared pytz for TIMESTAMPTZ.
    "duckdb": "2.0.1",
    "redis": "5.0.0", "SQLAlchemy": "2.0.0",
}


def _tools() -> Any:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import lowest_requirements
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return lowest_requirements


def test_lowest_requirements_pin_every_dependency_and_extra_at_its_lower_bound() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "lowest_requirements.py")],
                          capture_output=True, text=True, check=True)
    lines = proc.stdout.split()
    pins = dict(line.split("==") for line in lines if "==" in line)
    assert pins == {**{name: _spell(lowest) for name, (lowest, _) in RUNTIME.items()},
                    **EXTRA_FLOORS}
    assert [line for line in lines if "==" not in line] == ["pdoc<16"]
    makefile = (ROOT / "Makefile").read_text()
    target = makefile[makefile.index("\ntest-deps-min:"):].split("\n\n")[0]
    assert "tools/lowest_requirements.py > $(VENV_MIN)/lowest.txt" in target
    assert "pip install -q -c $(VENV_MIN)/lowest.txt -e '.[dev]'" in target
    assert "$(VENV_MIN)/bin/python tools/typing_path.py" in target  # tests/test_typing.py
    assert "$(VENV_MIN)/bin/python tools/lowest_requirements.py --installed" in target
    assert "$(VENV_MIN)/bin/python -m pytest tests" in target


def test_every_extra_but_speedups_is_tested_at_its_lower_bound() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert sorted(_tools().TESTED_EXTRAS) == sorted(set(extras) - {"dev", "speedups"})
    # The dev extra installs every tested extra's packages, over the same range: a constraint
    # on a package nothing installs would pin nothing.
    for name in _tools().TESTED_EXTRAS:
        for requirement in extras[name]:
            assert requirement in extras["dev"], (name, requirement)


def test_a_dependency_without_a_lower_bound_is_refused() -> None:
    lowest_requirements = _tools().lowest_requirements
    assert lowest_requirements(["apsw>=3.51.0.0", "sqlglot>=28.0.0,<31"]) == [
        "apsw==3.51.0.0", "sqlglot==28.0.0"]
    assert lowest_requirements(["psycopg[binary]>=3.2.1"]) == ["psycopg==3.2.1"]
    with pytest.raises(ValueError, match="'redis<6' declares no lower bound"):
        lowest_requirements(["redis<6"])


def test_pins_the_venv_does_not_hold_are_named() -> None:
    pins_not_installed = _tools().pins_not_installed
    apsw_version = importlib.metadata.version("apsw")
    assert pins_not_installed([f"apsw=={apsw_version}"]) == []
    assert pins_not_installed(["pydantic==0.1", "activeq-no-such-package==1.0"]) == [
        f"pydantic==0.1: {importlib.metadata.version('pydantic')} installed",
        "activeq-no-such-package==1.0: not installed"]
    # "2.8" pins what pip installs as 2.8.0.
    pydantic_version = importlib.metadata.version("pydantic")
    assert pins_not_installed([f"pydantic=={pydantic_version}.0"]) == []


# license and extras ---------------------------------------------------------------------------
def test_license_file_matches_the_metadata() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) ")
    assert "the activeq authors" in text.splitlines()[2]
    assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    meta = importlib.metadata.metadata("activeq")
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]


def test_redis_extra_installs_the_client_redis_cache_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    requires = [Requirement(r) for r in importlib.metadata.requires("activeq") or []]
    redis_extra = [r for r in requires if r.marker is not None
                   and r.marker.evaluate({"extra": "redis"})
                   and not r.marker.evaluate({"extra": ""})]
    assert [(r.name, str(r.specifier)) for r in redis_extra] == [("redis", ">=5.0.0")]
    monkeypatch.setitem(sys.modules, "redis", None)  # as if the client were not installed
    with pytest.raises(ActiveqError) as info:
        RedisCache()
    assert str(info.value) == "RedisCache needs the 'redis' package: pip install 'activeq[redis]'"


# metadata, changelog and the API reference --------------------------------------------------
def _project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def test_version_is_one_in_the_package_the_metadata_and_the_changelog() -> None:
    declared = _project()["version"]
    assert activeq.__version__ == declared
    assert importlib.metadata.version("activeq") == declared
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{declared}]" in changelog
    assert changelog.index("## [Unreleased]") < changelog.index(f"## [{declared}]")


def test_classifiers_and_urls_describe_the_package() -> None:
    project = _project()
    classifiers = project["classifiers"]
    assert isinstance(classifiers, list)
    assert "Typing :: Typed" in classifiers
    assert "Framework :: Pydantic :: 2" in classifiers
    # Every Python version classified is one requires-python allows, and 3.11 (the lowest) is.
    allowed = SpecifierSet(str(project["requires-python"]))
    versions = [c.rsplit(" ", 1)[1] for c in classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert "3.11" in versions and all(Version(v) in allowed for v in versions)
    urls = project["urls"]
    assert isinstance(urls, dict) and {"Homepage", "Documentation", "Changelog"} <= set(urls)
    assert all(str(u).startswith("https://") for u in urls.values())
    installed = importlib.metadata.metadata("activeq")
    assert "Typing :: Typed" in (installed.get_all("Classifier") or [])


def test_make_docs_builds_a_reference_of_every_public_name(tmp_path: Path) -> None:
    # The command `make docs` runs, into a temporary folder.
    makefile = (ROOT / "Makefile").read_text()
    command = re.search(r"^docs:.*\n(?:\t.*\n)*?\t\$\(BIN\)/pdoc (.*)$", makefile, re.M)
    assert command, "make docs runs no pdoc"
    args = command.group(1).split()
    assert args[:2] == ["-o", "site"]
    run = subprocess.run([str(Path(sys.executable).parent / "pdoc"), "-o", str(tmp_path), *args[2:]],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    page = (tmp_path / "activeq.html").read_text()
    for name in activeq.__all__:
        assert f'id="{name}"' in page, name
    # Docstrings made it in, not only names.
    assert "Declare a one-to-many relation" in page
    assert (tmp_path / "activeq" / "mypy.html").exists()
