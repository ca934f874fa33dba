"""Print activeq's runtime dependencies pinned at the lower bounds pyproject.toml declares.

The extras whose lower bounds the suite tests (:data:`TESTED_EXTRAS`) are pinned too, and the
dev tools that need it are held below the release that no longer works with those pins
(:data:`DEV_TOOL_LIMITS`).

``make test-deps-min`` installs activeq with this output as pip constraints, so the test suite
runs at the oldest versions the package metadata allows. A dependency without a lower bound is
an error: its oldest version would be untested. ``--installed`` then checks that every pin is
what the venv holds (a constraint on a package nothing asks for installs nothing).
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# Every extra but speedups: the suite runs on the pure-Python sqlglot, and the dev extra (which
# `make test-deps-min` installs) does not install sqlglotc.
TESTED_EXTRAS = ("duckdb", "postgres", "redis", "sqlalchemy")
# Dev tools whose newest release does not work with a lowest pin: pdoc 16 documents pydantic
# models through __pydantic_fields__, which pydantic has from 2.10 (activeq allows 2.8).
DEV_TOOL_LIMITS = ("pdoc<16",)


def lowest_requirements(requirements: list[str]) -> list[str]:
    """``name==lower`` for each requirement string, in the same order."""
    pins = []
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9_.\-]+", requirement)
        bound = re.search(r">=\s*([0-9][^,;\s]*)", requirement)
        if name is None or bound is None:
            raise ValueError(f"{requirement!r} declares no lower bound")
        pins.append(f"{name.group()}=={bound.group(1)}")
    return pins


def _release(version: str) -> tuple[int, ...]:
    """The release numbers of a version, trailing zeros dropped ("2.8" and "2.8.0" are one)."""
    found = re.match(r"\d+(?:\.\d+)*", version)
    parts = [int(p) for p in found.group().split(".")] if found else []
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def pins_not_installed(pins: list[str]) -> list[str]:
    """The pins this interpreter's environment does not hold, each with what it holds instead."""
    wrong = []
    for pin in pins:
        name, version = pin.split("==")
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            wrong.append(f"{pin}: not installed")
            continue
        if _release(installed) != _release(version):
            wrong.append(f"{pin}: {installed} installed")
    return wrong


def main(argv: list[str]) -> int:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = [r for name in TESTED_EXTRAS for r in project["optional-dependencies"][name]]
    pins = lowest_requirements(project["dependencies"] + extras)
    if argv == ["--installed"]:
        wrong = pins_not_installed(pins)
        print("\n".join(wrong or [f"installed at the lower bounds: {', '.join(pins)}"]))
        return 1 if wrong else 0
    print("\n".join(pins + list(DEV_TOOL_LIMITS)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
