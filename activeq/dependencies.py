"""The dependency versions activeq is tested with, checked once at import.

activeq's models subclass pydantic's model metaclass, recognise its validator proxies and fill
its per-instance slots directly when they build instances from rows. None of that is public
pydantic API, so it is imported here, in one place, and only from the pydantic versions the
test suite has run against (``make test-deps-min`` runs it at every lower bound). An older apsw
lacks ``Connection.convert_binding``, and an older sqlglot renders some queries differently.

An installed version outside a range raises ``UnsupportedDependencyError`` at ``import activeq``
instead of an ``AttributeError`` deep inside ``Database()``, or wrong SQL.

>>> check_version("apsw", "3.50.4.0", (3, 51, 0, 0), None)
Traceback (most recent call last):
...
activeq.dependencies.UnsupportedDependencyError: activeq needs apsw>=3.51.0.0 (found 3.50.4.0); upgrade it with: pip install -U 'apsw>=3.51.0.0'
"""

from __future__ import annotations

import re

import apsw
import pydantic
import sqlglot

__all__ = [
    "APSW_RANGE",
    "PYDANTIC_RANGE",
    "SQLGLOT_RANGE",
    "ModelMetaclass",
    "PydanticDescriptorProxy",
    "UnsupportedDependencyError",
    "check_version",
    "init_private_attributes",
    "set_fields_set",
    "set_private",
]

Version = tuple[int, ...]

# Lowest version tested (inclusive) and first version not allowed (exclusive; None: open).
# pyproject.toml declares the same ranges; tests/test_packaging.py keeps the two equal.
APSW_RANGE: tuple[Version, Version | None] = ((3, 51, 0, 0), None)
"""apsw 3.51 added ``Connection.convert_binding``, which binds dates, decimals and UUIDs."""
PYDANTIC_RANGE: tuple[Version, Version | None] = ((2, 8), (3,))
"""The pydantic 2 releases whose internals (below) activeq has been tested against; before 2.8,
``Decimal | None = Field(max_digits=...)`` fails when the model class is created."""
SQLGLOT_RANGE: tuple[Version, Version | None] = ((30, 19, 0), (31,))
"""sqlglot before 30.19 renders some MySQL and dialect-only functions differently (conditional
functions, functions one dialect lacks); 31 may change its API."""


class UnsupportedDependencyError(ImportError):
    """An installed dependency is outside the version range activeq works with."""


def _parse(version: str) -> Version:
    parts = []
    for piece in version.split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() != len(piece):
            break  # a pre-release or dev tail ("0rc1") ends the release number
    return tuple(parts)


def _spell(version: Version) -> str:
    return ".".join(map(str, version))


def check_version(name: str, installed: str, lowest: Version, below: Version | None) -> None:
    """Raise ``UnsupportedDependencyError`` unless ``lowest <= installed < below``."""
    found = _parse(installed)
    spec = f"{name}>={_spell(lowest)}" + (f",<{_spell(below)}" if below is not None else "")
    if found < lowest:
        raise UnsupportedDependencyError(
            f"activeq needs {spec} (found {installed}); upgrade it with: pip install -U '{spec}'")
    if below is not None and found >= below:
        raise UnsupportedDependencyError(
            f"activeq needs {spec} (found {installed}), the versions it is tested with; "
            f"install one with: pip install '{spec}'")


check_version("apsw", apsw.apsw_version(), *APSW_RANGE)
check_version("pydantic", pydantic.VERSION, *PYDANTIC_RANGE)
check_version("sqlglot", sqlglot.__version__, *SQLGLOT_RANGE)

try:
    from pydantic._internal._decorators import PydanticDescriptorProxy
    from pydantic._internal._model_construction import ModelMetaclass, init_private_attributes

    set_fields_set = pydantic.BaseModel.__dict__["__pydantic_fields_set__"].__set__
    """Sets an instance's changed-field set without going through ``__setattr__``."""
    set_private = pydantic.BaseModel.__dict__["__pydantic_private__"].__set__
    """Sets an instance's private-attribute dict (``PrivateAttr`` values)."""
except (ImportError, KeyError, AttributeError) as e:  # pragma: no cover - depends on pydantic
    raise UnsupportedDependencyError(
        f"pydantic {pydantic.VERSION} lacks an internal activeq relies on ({e}); "
        f"install pydantic>={_spell(PYDANTIC_RANGE[0])},<3"
    ) from e
