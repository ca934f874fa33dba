"""An application's own open connection, lent to a ``Database`` (``Database.from_connection``).

The connection is wrapped in its engine's ``Connection`` class, with ``close()`` left to the
application: closing the Database never closes it. The Database shares that one connection
between its threads, as it does an in-memory SQLite database. The driver's module is imported
only when a connection of it is lent, so activeq imports without psycopg or duckdb.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from ..errors import ArgumentTypeError
from .base import Connection, Engine

__all__ = ["LentEngine", "keep_open", "lend"]

# The module of the driver's connection class -> the engine module that wraps it.
_ENGINES = {"apsw": "apsw", "sqlite3": "sqlite3", "duckdb": "duckdb", "_duckdb": "duckdb",
            "psycopg": "psycopg", "sqlalchemy": "sqlalchemy"}


def _keep_open(self: Connection) -> None:
    """The application closes its own connection."""


@cache
def keep_open(cls: type[Connection]) -> type[Connection]:
    """``cls`` with a ``close()`` that leaves the driver's connection open."""
    return type(f"Lent{cls.__name__}", (cls,), {"__slots__": (), "close": _keep_open,
                                                 "__module__": cls.__module__})


class LentEngine(Engine):
    """Hands out the one connection an application lent; closing it closes nothing."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect  # type: ignore[misc]
        self.connection_class = type(conn)  # type: ignore[misc]
        self.url = f"<{conn.product} connection lent by the application>"

    @classmethod
    def open(cls, url: str, **options: Any) -> LentEngine:
        raise ArgumentTypeError("a lent connection is opened by the application: use "
                                "Database.from_connection(conn)")

    @property
    def private_memory(self) -> bool:
        # One connection, shared by the session's threads.
        return True

    def connect(self, configure: bool = True) -> Connection:
        return self._conn

    def close(self) -> None:
        pass


def lend(raw: Any) -> LentEngine:
    """An engine over ``raw``, an open apsw, sqlite3, psycopg or duckdb connection, or a
    SQLAlchemy ``Connection``."""
    # By the driver's own class, also for a subclass (sqlite3.connect(factory=...)).
    name = next((_ENGINES[m] for m in (c.__module__.split(".")[0] for c in type(raw).__mro__)
                 if m in _ENGINES), None)
    if name is None:
        raise ArgumentTypeError(
            f"Database.from_connection() takes an open apsw, sqlite3, psycopg or duckdb "
            f"connection, or a SQLAlchemy Connection, not {type(raw).__module__}.{type(raw).__qualname__}")
    module = importlib.import_module(f"{__package__}.{name}")
    return LentEngine(module.lend(raw))
