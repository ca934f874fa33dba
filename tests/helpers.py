"""Shared test models and the SQL golden-pair helper.

Models are plain module-level classes so every test file can import them; the ``db`` fixture in
``conftest.py`` binds them to a fresh database file per test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from activeq import ActiveRecord, Field, belongs_to, has_many
from activeq.compiler import compiler

__all__ = ["Doc", "Order", "Reserved", "User", "assert_sql", "render"]


class User(ActiveRecord):
    __table_name__ = "users"
    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=255, unique=True)
    age: int | None = None
    status: str = Field(default="active", index=True)

    orders = has_many("Order", foreign_key="user_id")


class Order(ActiveRecord):
    __table_name__ = "orders"
    id: int = Field(primary_key=True)
    user_id: int
    total: float = 0.0
    note: str | None = None

    user = belongs_to("User", foreign_key="user_id")


class Reserved(ActiveRecord):
    """Reserved words as table and column names: every identifier must be quoted."""

    __table_name__ = "order"
    id: int = Field(primary_key=True)
    group: str
    select: int = 0


class Doc(ActiveRecord):
    """A JSON document with a timestamp: JSON paths, date arithmetic and date parts."""

    __table_name__ = "docs"
    id: int = Field(primary_key=True)
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: dt.datetime = dt.datetime(2024, 1, 1)


def render(stmt: Any, dialect: str) -> tuple[str, list[Any]]:
    """SQL text and bound values of a query or write statement (Update/Delete/Insert)."""
    if hasattr(stmt, "to_sql"):
        return stmt.to_sql(dialect)
    entry, _ = compiler.compile(stmt, dialect)
    return entry.sql, list(entry.values(stmt.params))


def assert_sql(
    query: Any, dialect: str, sql: str, params: list[Any] | tuple[Any, ...] = ()
) -> None:
    """Check the rendered SQL text and its bound values together."""
    got_sql, got_params = render(query, dialect)
    assert (got_sql, list(got_params)) == (sql, list(params))
