"""Print activeq's runtime dependencies pinned at the lower bounds pyproject.toml declares.

The extras whose lower bounds the suite tests (:data:`TESTED_EXTRAS`) are pinned too.

``make test-deps-min`` installs activeq with this output as pip constraints, so the test suite
runs at the oldest versions the package metadata allows. A dependency without a lower bound is
an error: its oldest version would be untested.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
TESTED_EXTRAS = ("sqlalchemy",)


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


def main() -> int:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = [r for name in TESTED_EXTRAS for r in project["optional-dependencies"][name]]
    print("\n".join(lowest_requirements(project["dependencies"] + extras)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
