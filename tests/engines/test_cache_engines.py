"""Cached rows equal uncached ones on every engine: values keep their Python types."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from activeq import ActiveRecord, Database, Field


class Invoice(ActiveRecord):
    __table_name__ = "invoices"
    id: int = Field(primary_key=True)
    total: Decimal = Field(max_digits=12, decimal_places=2)
    issued: datetime
    ref: uuid.UUID
    meta: dict


ROW = {"total": Decimal("1234.50"), "issued": datetime(2024, 5, 6, 7, 8, 9, 123456),
       "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"), "meta": {"a": [1, "x"], "b": None}}


@pytest.fixture
def invoices(database: Database) -> Database:
    database.bind(Invoice)
    database.create_tables(Invoice)
    Invoice.create(**ROW)
    Invoice.create(**{**ROW, "total": Decimal("0.01"), "meta": {"n": 2}})
    return database


def _values(models: list[Invoice]) -> list[tuple]:
    return [(m.id, m.total, m.issued, m.ref, m.meta) for m in models]


def test_query_cache_gives_the_rows_of_the_database(invoices: Database) -> None:
    query = Invoice.query().order_by(Invoice.c.id)
    fresh = query.all()
    assert type(fresh[0].total) is Decimal and type(fresh[0].ref) is uuid.UUID
    first = query.cache(ttl=300).all()
    with invoices.track_queries() as t:
        cached = query.cache(ttl=300).all()
    assert len(t) == 0  # from the cache
    assert _values(cached) == _values(first) == _values(fresh)
    assert [type(v) for v in _values(cached)[0]] == [int, Decimal, datetime, uuid.UUID, dict]
    assert cached[0].issued == ROW["issued"] and cached[0].meta == ROW["meta"]


def test_model_cache_gives_the_row_of_the_database(invoices: Database) -> None:
    fresh = Invoice.find_by_id(1)
    invoices.enable_cache(Invoice)
    Invoice.find_by_id(1)  # stored
    with invoices.track_queries() as t:
        cached = Invoice.find_by_id(1)
    assert len(t) == 0
    assert _values([cached]) == _values([fresh])
    assert cached.total == Decimal("1234.50") and cached.ref == ROW["ref"]


def test_cached_function_result_keeps_models_exact(invoices: Database) -> None:
    @invoices.cached(ttl=300, tables=[Invoice])
    def big() -> list[Invoice]:
        return Invoice.query().where(Invoice.c.total > Decimal("1")).all()

    fresh = Invoice.query().where(Invoice.c.total > Decimal("1")).all()
    big()
    with invoices.track_queries() as t:
        cached = big()
    assert len(t) == 0
    assert _values(cached) == _values(fresh)
    assert cached[0].issued.tzinfo is None or cached[0].issued.tzinfo == UTC
