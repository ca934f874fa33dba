"""insert_many on PostgreSQL: COPY for plain batches, INSERT where rows must come back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from engine_urls import pg_url

from activeq import ActiveRecord, Database, Field
from activeq.errors import IntegrityError


class Parcel(ActiveRecord):
    __table_name__ = "parcels"
    id: int = Field(primary_key=True)
    code: str = Field(unique=True)
    note: str | None = None
    weight: Decimal = Field(default=Decimal("0"), max_digits=10, decimal_places=3)
    fragile: bool = False
    sent: dt.datetime | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    blob: bytes | None = None


@pytest.fixture
def db(pg_conninfo: str) -> Iterator[Database]:
    database = Database(pg_url(pg_conninfo))
    database.bind(Parcel)
    database.create_tables(Parcel)
    yield database
    database.close()


def _statements(tracker: Any) -> list[str]:
    return [q.sql for q in tracker.queries
            if not q.sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]


# Text that COPY's text format must escape: tabs, newlines, backslashes, "\N", quotes.
AWKWARD = ["tab\there", "line\nbreak", "back\\slash", "\\N", "it's \"quoted\"", "", "é ☃"]


def test_a_plain_batch_is_one_copy_per_chunk_and_stores_every_value_exactly(db: Database) -> None:
    rows = [
        {"code": f"p{i}", "note": AWKWARD[i % len(AWKWARD)] if i % 5 else None,
         "weight": Decimal(i) / 8, "fragile": i % 2 == 0,
         "sent": dt.datetime(2024, 1, 1, 12, 0, i % 60, 250_000) if i % 3 else None,
         "meta": {"i": i, "tags": ["a\tb", "\\"], "deep": {"x": None}},
         "blob": bytes([i % 256, 0, 92, 10]) if i % 4 else None}
        for i in range(250)
    ]
    with db.track_queries() as t:
        assert Parcel.insert_many(rows, chunk_size=100) == 250
    copy = 'COPY "parcels" ("code", "note", "weight", "fragile", "sent", "meta", "blob") FROM STDIN'
    assert _statements(t) == [copy, copy, copy]
    stored = Parcel.query().order_by(Parcel.c.id).all()
    assert [p.id for p in stored] == list(range(1, 251))
    assert [p.model_dump(exclude={"id"}) for p in stored] == rows


def test_rows_that_must_give_their_keys_back_are_inserted_with_returning(db: Database) -> None:
    with db.track_queries() as t:
        ids = Parcel.insert_many([{"code": "a"}, {"code": "b"}], returning=True)
        records = [Parcel(code="c"), Parcel(code="d")]
        Parcel.insert_many(records)
    assert ids == [1, 2]
    assert [r.id for r in records] == [3, 4]
    statements = _statements(t)
    assert len(statements) == 2
    assert all(s.startswith('INSERT INTO "parcels"') and s.endswith('RETURNING "id"')
               for s in statements)


def test_a_conflict_clause_keeps_insert(db: Database) -> None:
    Parcel.insert_many([{"code": "a", "note": "old"}])
    with db.track_queries() as t:
        Parcel.insert_many([{"code": "a", "note": "new"}, {"code": "b"}], on_conflict="ignore")
    assert [s.split(" (")[0] for s in _statements(t)] == ['INSERT INTO "parcels"']
    assert Parcel.query().order_by(Parcel.c.id).pluck(Parcel.c.code, Parcel.c.note) == [
        ("a", "old"), ("b", None)]


def test_a_duplicate_in_a_copied_batch_writes_nothing(db: Database) -> None:
    Parcel.insert_many([{"code": "taken"}])
    with pytest.raises(IntegrityError, match="parcels_code_key"):
        Parcel.insert_many([{"code": "new1"}, {"code": "taken"}, {"code": "new2"}])
    assert Parcel.query().pluck(Parcel.c.code) == ["taken"]


def test_a_database_routing_its_statements_through_execute_keeps_insert(
        pg_conninfo: str) -> None:
    seen: list[str] = []

    class Logged(Database):
        def execute(self, sql: str, params: Any = None) -> Any:
            seen.append(str(sql))
            return super().execute(sql, params)

    database = Logged(pg_url(pg_conninfo))
    try:
        database.bind(Parcel)
        database.create_tables(Parcel)
        seen.clear()
        Parcel.insert_many([{"code": "a"}, {"code": "b"}])
        assert Parcel.query().order_by(Parcel.c.id).pluck(Parcel.c.code) == ["a", "b"]
    finally:
        database.close()
    # One INSERT per row: the override's execute() has no executemany, and never sees COPY.
    assert [s.split(" (")[0] for s in seen if s.startswith(("INSERT", "COPY"))] == [
        'INSERT INTO "parcels"', 'INSERT INTO "parcels"']
