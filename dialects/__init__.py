"""SQL dialects: small declarative modules read by the compiler.

Each module defines:

* ``NAME`` / ``SQLGLOT``: activeq's name and the sqlglot dialect used to render.
* ``PLACEHOLDER``: the bound-parameter marker of the dialect's usual driver.
* ``PARAMSTYLE``: the DB-API paramstyle of that marker (``qmark`` or ``format``).
* ``SHARED_PARAMSTYLE``: the numbered or named style used instead when one value must appear
  at several places (a grouped expression), or None when the usual one serves.
* ``IN_LIST``: how a list bound as one parameter is tested for membership.
* ``OFFSET_WITHOUT_LIMIT``: the LIMIT literal a dialect needs before a bare OFFSET, or None.
* ``LIMIT_IN_TEXT``: whether a query's LIMIT is written as a number rather than bound
  (PostgreSQL: a bound LIMIT makes it plan a prepared statement on every run).
* ``RETURNING``: whether ``INSERT ... RETURNING`` is available.
* ``RETURNING_PARAMS``: whether a RETURNING clause may hold bound values.
* ``DEFAULT_VALUES``: whether a row of defaults is ``INSERT INTO t DEFAULT VALUES`` (else
  ``INSERT INTO t () VALUES ()``, MySQL).
* ``UPSERT``: ``"on_conflict"`` (SQLite, PostgreSQL, DuckDB) or ``"on_duplicate_key"`` (MySQL).
* ``DISTINCT_ON``: whether ``SELECT DISTINCT ON`` is rendered.
* ``FOR_UPDATE``: ``"render"``, ``"noop"`` or None (refused).
* ``FOREIGN_KEY_ACTIONS``: the ``ON DELETE`` actions a FOREIGN KEY may use.
* ``INDEX_IF_NOT_EXISTS``: whether ``CREATE INDEX IF NOT EXISTS`` exists (not on MySQL 8).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import UnknownDialectError

NAMES = ("sqlite", "postgres", "mysql", "duckdb")
_ALIASES = {"postgresql": "postgres", "sqlite3": "sqlite"}


def get(name: str) -> ModuleType:
    """The dialect module for ``name``: ``'sqlite'``, ``'postgres'``, ``'mysql'``, ``'duckdb'``.

    Names are case-insensitive (``'SQLite'``, ``'PostgreSQL'``); an unknown one raises
    ``UnknownDialectError`` listing the known ones.
    """
    key = name.lower() if isinstance(name, str) else name
    key = _ALIASES.get(key, key)
    if key not in NAMES:
        raise UnknownDialectError(name, NAMES)
    return importlib.import_module(f"activeq.dialects.{key}")
