"""A Database whose execute() is overridden runs batches one row at a time through it: the
counts insert_many and update_many report are the rows written, as without the override."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from activeq import ActiveRecord, Database, Field


class RoutedCrate(ActiveRecord):
    __table_name__ = "routed_crates"
    id: int = Field(primary_key=True)
    code: str = Field(unique=True)
    size: int = 0


class Logged(Database):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.seen: list[str] = []
        super().__init__(*args, **kwargs)

    def execute(self, sql: Any, params: Any = None) -> Any:
        self.seen.append(str(sql))
        return super().execute(sql, params)


@pytest.fixture
def logged(database_url: str) -> Iterator[Logged]:
    database = Logged(database_url)
    database.bind(RoutedCrate)
    database.create_tables(RoutedCrate)
    yield database
    database.close()


def _inserts(db: Logged) -> list[str]:
    return [s.split(" (")[0] for s in db.seen if s.startswith(("INSERT", "COPY"))]


def test_insert_many_counts_every_row(logged: Logged) -> None:
    logged.seen.clear()
    assert RoutedCrate.insert_many([{"code": "a"}, {"code": "b"}, {"code": "c"}]) == 3
    assert _inserts(logged) == ['INSERT INTO "routed_crates"'] * 3
    assert RoutedCrate.insert_many([{"code": "d"}, {"code": "e"}], returning=True) == [4, 5]
    assert RoutedCrate.query().order_by(RoutedCrate.c.id).pluck("code") == ["a", "b", "c", "d", "e"]


def test_an_ignored_row_is_not_counted(logged: Logged) -> None:
    RoutedCrate.insert_many([{"code": "taken"}])
    rows = [{"code": "x"}, {"code": "taken"}, {"code": "y"}]
    assert RoutedCrate.insert_many(rows, on_conflict="ignore") == 2
    assert sorted(RoutedCrate.query().pluck("code")) == ["taken", "x", "y"]


def test_update_many_counts_every_row(logged: Logged) -> None:
    RoutedCrate.insert_many([{"code": c} for c in "abcd"])
    assert RoutedCrate.update_many([{"id": 1, "size": 5}, {"id": 2, "size": 6},
                              {"id": 3, "size": 7}, {"id": 99, "size": 8}]) == 3
    assert RoutedCrate.query().order_by(RoutedCrate.c.id).pluck("size") == [5, 6, 7, 0]
