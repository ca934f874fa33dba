"""Statements psycopg has prepared run on the reader's short path, with the same outcomes.

psycopg prepares a statement on the server after it ran five times on a connection. From
then on activeq sends the prepared statement itself instead of going through a cursor: the
rows, their Python types, write counts and errors must be those the cursor gives, and
psycopg's own cache of prepared statements (cleared by DEALLOCATE ALL, ROLLBACK, DROP, ...)
stays the one truth about what is prepared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from engine_urls import pg_url

from activeq import ActiveRecord, Database, Field
from activeq.errors import IntegrityError

RUNS = 9  # more than psycopg's threshold (5): the last runs use the prepared statement


class Gadget(ActiveRecord):
    __table_name__ = "gadgets"
    id: int = Field(primary_key=True)
    name: str = Field(unique=True)
    size: int
    price: Decimal = Field(max_digits=12, decimal_places=2)
    weight: float
    made: dt.date
    seen: dt.datetime
    active: bool
    blob: bytes
    tags: dict[str, Any]


def gadget(i: int) -> dict[str, Any]:
    return {"name": f"g{i}", "size": i, "price": Decimal(f"{i}.25"), "weight": i / 3,
            "made": dt.date(2024, 1, 1 + i), "seen": dt.datetime(2024, 2, 3, 4, 5, i, 678901),
            "active": i % 2 == 0, "blob": bytes([i, 0, 255]), "tags": {"n": i, "s": "x%s"}}


@pytest.fixture
def db(pg_conninfo: str) -> Iterator[Database]:
    database = Database(pg_url(pg_conninfo))
    database.bind(Gadget)
    database.create_tables(Gadget)
    Gadget.insert_many([gadget(i) for i in range(1, 9)])
    yield database
    database.close()


@pytest.fixture
def cursor_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every statement run through a psycopg cursor from now on."""
    seen: list[str] = []
    execute = psycopg.Cursor.execute

    def counted(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(query if isinstance(query, str) else repr(query))
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted)
    return seen


def bigger(n: int) -> list[Gadget]:
    return Gadget.query().where(Gadget.c.size > n).order_by(Gadget.c.id).limit(3).all()


def fields(g: Gadget) -> list[tuple[Any, type]]:
    return [(v, type(v)) for v in g.model_dump().values()]


def test_a_prepared_read_skips_the_cursor_and_gives_the_same_models(
        db: Database, cursor_runs: list[str]) -> None:
    sql, _ = Gadget.query().where(Gadget.c.size > 0).order_by(Gadget.c.id).limit(3).to_sql(
        "postgres")
    results = [bigger(n % 4) for n in range(RUNS)]
    through_cursor = [q for q in cursor_runs if q == sql]
    # Five runs before psycopg prepares, the sixth prepares it: the rest skip the cursor.
    assert len(through_cursor) == 6
    for n, models in enumerate(results):
        assert [g.size for g in models] == [n % 4 + 1, n % 4 + 2, n % 4 + 3]
    first, last = results[0][0], results[8][0]
    assert fields(last) == fields(first)
    assert fields(first) == [
        (1, int), ("g1", str), (1, int), (Decimal("1.25"), Decimal), (1 / 3, float),
        (dt.date(2024, 1, 2), dt.date), (dt.datetime(2024, 2, 3, 4, 5, 1, 678901), dt.datetime),
        (False, bool), (b"\x01\x00\xff", bytes), ({"n": 1, "s": "x%s"}, dict)]
    prepared = db.execute("SELECT statement FROM pg_prepared_statements").fetchall()
    assert [s.replace("$1", "%s").replace("$2", "%s") for (s,) in prepared] == [sql]


def test_finding_by_id_on_the_short_path_reads_every_row(db: Database,
                                                         cursor_runs: list[str]) -> None:
    found = [Gadget.find_by_id(i) for i in (1, 2, 3, 4, 5, 6, 7, 8, 99)]
    assert [g.name if g else None for g in found] == [f"g{i}" for i in range(1, 9)] + [None]
    assert len(cursor_runs) == 6


def test_writes_on_the_short_path_count_their_rows(db: Database) -> None:
    counts = [Gadget.query().where(Gadget.c.size == i).update({"weight": 0.5})
              for i in (1, 2, 3, 4, 5, 6, 7, 99, 8, 100)]
    assert counts == [1, 1, 1, 1, 1, 1, 1, 0, 1, 0]
    assert Gadget.query().where(Gadget.c.weight == 0.5).count() == 8
    deleted = [Gadget.query().where(Gadget.c.size == i).delete() for i in (1, 2, 3, 4, 5, 6, 7)]
    assert deleted == [1] * 7
    assert [g.size for g in Gadget.query().all()] == [8]


def test_an_error_on_the_short_path_is_the_drivers_error_translated(db: Database) -> None:
    for i in range(10, 17):
        Gadget.create(**gadget(i))
    with pytest.raises(IntegrityError) as raised:
        Gadget.create(**gadget(3))
    assert raised.value.sqlstate == "23505"
    assert 'duplicate key value violates unique constraint "gadgets_name_key"' in str(
        raised.value)
    assert Gadget.query().count() == 15


def test_deallocate_all_and_rollback_leave_reads_working(db: Database,
                                                         cursor_runs: list[str]) -> None:
    for n in range(RUNS):
        assert len(bigger(n % 3)) == 3
    db.execute("DEALLOCATE ALL")
    assert db.execute("SELECT count(*) FROM pg_prepared_statements").fetchall() == [(0,)]
    for n in range(RUNS):
        assert [g.size for g in bigger(n % 3)] == [n % 3 + 1, n % 3 + 2, n % 3 + 3]
    # One statement deallocated by name: psycopg itself would go on running it by that name.
    [(name,)] = db.execute("SELECT name FROM pg_prepared_statements").fetchall()
    db.execute(f'DEALLOCATE "{name}"')
    for n in range(RUNS):
        assert [g.size for g in bigger(n % 3)] == [n % 3 + 1, n % 3 + 2, n % 3 + 3]
    with pytest.raises(ZeroDivisionError), db.transaction():
        Gadget.query().where(Gadget.c.size == 1).update({"size": 50})
        assert [g.size for g in bigger(0)] == [50, 2, 3]
        raise ZeroDivisionError
    for n in range(RUNS):
        assert [g.size for g in bigger(n % 3)] == [n % 3 + 1, n % 3 + 2, n % 3 + 3]


class Reading(ActiveRecord):
    __table_name__ = "readings"
    __mapping__ = {"ratio": "REAL", "wide": "DOUBLE PRECISION"}
    id: int = Field(primary_key=True)
    ratio: float
    wide: float
    label: str


def test_values_stay_the_same_from_run_to_run_float4_included(pg_conninfo: str) -> None:
    database = Database(pg_url(pg_conninfo))
    try:
        database.bind(Reading)
        database.create_tables(Reading)
        Reading.insert_many([{"ratio": 0.1, "wide": 0.1, "label": "é ü"},
                             {"ratio": -0.0, "wide": float("inf"), "label": ""}])
        runs = [[(r.id, r.ratio, r.wide, r.label) for r in
                 Reading.query().where(Reading.c.id > n).order_by(Reading.c.id).all()]
                for n in (0,) * RUNS]
        assert all(run == runs[0] for run in runs)
        # REAL's text form is rounded to a float4's digits: 0.1, not 0.10000000149011612.
        assert runs[-1] == [(1, 0.1, 0.1, "é ü"), (2, -0.0, float("inf"), "")]
        assert str(runs[-1][1][1]) == "-0.0"
    finally:
        database.close()


def test_one_statement_run_with_values_of_changing_types_reads_the_right_rows(
        db: Database) -> None:
    # psycopg dumps an int as int2, int4 or int8 by its size: the same SQL text is then
    # prepared once per set of types, and each run must use the statement of its own values.
    bounds = [1, 70_000, 5_000_000_000, 3, -40_000, 6] * 3
    got = [[g.size for g in Gadget.query().where(Gadget.c.size > n).where(Gadget.c.id < m)
            .order_by(Gadget.c.id).all()] for n, m in zip(bounds, reversed(bounds), strict=True)]
    want = [[s for s in range(1, 9) if s > n and s < m]
            for n, m in zip(bounds, reversed(bounds), strict=True)]
    assert got == want
    assert any(got) and not all(got)
    prepared = db.execute("SELECT parameter_types FROM pg_prepared_statements "
                          "WHERE statement LIKE '%size%'").fetchall()
    assert len(prepared) > 1
