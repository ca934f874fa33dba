"""A model with every column kind the expression tests need, its rows, and a DuckDB twin."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from activeq import ActiveRecord, Database, Field

__all__ = ["EVENT_ROWS", "Event", "duck_events", "pg_events", "sqlite_events"]


class Event(ActiveRecord):
    __table_name__ = "events"
    id: int = Field(primary_key=True)
    name: str
    kind: str
    qty: int
    price: float
    code: str
    at: dt.datetime
    day: dt.date
    note: str | None = None


_FIELDS = ("id", "name", "kind", "qty", "price", "code", "at", "day", "note")

EVENT_ROWS: list[tuple[Any, ...]] = [
    (1, "ab", "a", 3, 2.5, "42", dt.datetime(2024, 5, 17, 13, 45, 30), dt.date(2024, 2, 29), "x"),
    (2, " b c ", "b", 7, 10.0, "7", dt.datetime(2023, 12, 31, 23, 59, 59), dt.date(2024, 1, 1), None),
    (3, "xab", "a", 12, 0.75, "-3", dt.datetime(2024, 3, 3, 0, 0, 0), dt.date(2023, 3, 5), "y"),
    (4, "bb", "b", 7, 4.0, "0", dt.datetime(2024, 3, 4, 8, 30, 0), dt.date(2024, 3, 4), None),
    (5, "Abc", "c", 1, 1.25, "10", dt.datetime(2024, 7, 1, 12, 0, 0), dt.date(2024, 6, 30), "z"),
]

DUCK_DDL = (
    'CREATE TABLE "events" ("id" BIGINT PRIMARY KEY, "name" TEXT, "kind" TEXT, "qty" BIGINT, '
    '"price" DOUBLE, "code" TEXT, "at" TIMESTAMP, "day" DATE, "note" TEXT)'
)


def sqlite_events(path: str) -> Database:
    """A SQLite database file holding the events, written through activeq."""
    db = Database(path)
    db.bind(Event)
    db.create_tables(Event)
    for row in EVENT_ROWS:
        Event.create(**dict(zip(_FIELDS, row)))
    return db


def duck_events() -> Any:
    """An in-process DuckDB database holding the same events."""
    con = duckdb.connect()
    con.execute(DUCK_DDL)
    con.executemany('INSERT INTO "events" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', EVENT_ROWS)
    return con


PG_DDL = (
    'CREATE TABLE "events" ("id" BIGINT PRIMARY KEY, "name" TEXT, "kind" TEXT, "qty" BIGINT, '
    '"price" DOUBLE PRECISION, "code" TEXT, "at" TIMESTAMP, "day" DATE, "note" TEXT)'
)


def pg_events(conninfo: str) -> Any:
    """A psycopg connection to a PostgreSQL database holding the same events."""
    import psycopg

    con = psycopg.connect(conninfo, autocommit=True)
    con.execute(PG_DDL)
    with con.cursor() as cur:
        cur.executemany('INSERT INTO "events" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)',
                        EVENT_ROWS)
    return con
