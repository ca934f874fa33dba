"""Engines: one module per driver (apsw, psycopg, duckdb) behind one narrow interface.

Everything above this package speaks to a database through :class:`Engine` and
:class:`Connection` (see :mod:`activeq.engines.base`) and imports no driver. Each engine
module is imported when a URL first asks for it, so psycopg and duckdb stay optional.

>>> from activeq.engines import open_engine
>>> engine = open_engine("sqlite:///:memory:")
>>> conn = engine.connect()
>>> conn.execute("CREATE TABLE t (x)").rowcount
-1
>>> conn.execute("INSERT INTO t VALUES (?), (?)", (1, 2)).rowcount
2
>>> conn.fetch("SELECT x FROM t ORDER BY x")
[(1,), (2,)]
>>> conn.close(); engine.close()
"""

from .base import (
    AsyncConnection,
    AsyncEngine,
    CommitWatch,
    Connection,
    Engine,
    PlanData,
    Result,
    quote_identifier,
)
from .urls import async_engine_for, dialect_of, engine_for, open_engine, redact

__all__ = [
    "AsyncConnection",
    "AsyncEngine",
    "CommitWatch",
    "Connection",
    "Engine",
    "PlanData",
    "Result",
    "async_engine_for",
    "dialect_of",
    "engine_for",
    "open_engine",
    "quote_identifier",
    "redact",
]
