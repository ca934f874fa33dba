"""``insert_many`` with rows that give their primary key next to rows that leave it to the
database, on SQLite (a file), DuckDB and a real PostgreSQL server: every row goes in, the
keyless ones get generated keys, and returned keys stay in the caller's row order."""

from __future__ import annotations

import pytest

from activeq import ActiveRecord, Database, Field
from activeq.errors import IntegrityError


class Gadget(ActiveRecord):
    __table_name__ = "gadgets"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=40, unique=True)
    status: str = Field(default="active")
    weight: int = 1


@pytest.fixture
def gadgets(database: Database) -> Database:
    database.bind(Gadget)
    database.create_tables(Gadget)
    return database


def _rows(database: Database) -> list[tuple]:
    return sorted(database.execute("SELECT id, name, status, weight FROM gadgets").fetchall())


def _inserts(t) -> list[str]:
    return [q.sql for q in t.queries if q.sql.startswith(("INSERT", "COPY"))]


def test_a_row_with_its_key_and_a_row_without_both_go_in(gadgets: Database) -> None:
    with gadgets.track_queries() as t:
        assert Gadget.insert_many([{"id": 9, "name": "a"}, {"name": "b"}]) == 2
    rows = _rows(gadgets)
    assert len(rows) == 2
    assert (9, "a", "active", 1) in rows
    (generated,) = [r for r in rows if r[1] == "b"]
    assert generated[0] not in (None, 9)
    # The keyless row is written without the key column, so the database numbers it.
    first, second = _inserts(t)
    assert '"id"' in first
    assert '"id"' not in second


def test_the_brief_example_of_an_id_and_an_empty_row(gadgets: Database) -> None:
    class Bare(ActiveRecord):
        __table_name__ = "bare"
        id: int = Field(primary_key=True)
        note: str = "n"

    gadgets.bind(Bare)
    gadgets.create_tables(Bare)
    assert Bare.insert_many([{"id": 9}, {}]) == 2
    ids = sorted(r[0] for r in gadgets.execute("SELECT id FROM bare").fetchall())
    assert len(ids) == 2 and 9 in ids and None not in ids


def test_returned_keys_and_instances_keep_the_callers_order(gadgets: Database) -> None:
    rows = [{"name": "a"}, {"id": 50, "name": "b"}, {"id": 60, "name": "c"},
            {"name": "d"}, {"name": "e"}, {"id": 70, "name": "f"}]
    ids = Gadget.insert_many(rows, returning=True)
    assert len(ids) == 6 and len(set(ids)) == 6
    assert [ids[1], ids[2], ids[5]] == [50, 60, 70]
    by_id = {r[0]: r[1] for r in _rows(gadgets)}
    assert [by_id[i] for i in ids] == ["a", "b", "c", "d", "e", "f"]

    records = [Gadget(name="g"), Gadget(id=80, name="h"), Gadget(name="i")]
    assert Gadget.insert_many(records) == 3
    assert records[1].id == 80
    assert records[0].id is not None and records[2].id is not None
    for record in records:
        assert Gadget.find_by_id(record.id).name == record.name


def test_rows_naming_different_non_key_columns_get_the_model_defaults(gadgets: Database) -> None:
    rows = [{"name": "a", "status": "x"}, {"name": "b"}, {"name": "c", "weight": 5},
            {"id": 40, "name": "d", "weight": 7}]
    assert Gadget.insert_many(rows) == 4
    got = {r[1]: r[2:] for r in _rows(gadgets)}
    assert got == {"a": ("x", 1), "b": ("active", 1), "c": ("active", 5), "d": ("active", 7)}


def test_a_failing_later_run_leaves_nothing_written(gadgets: Database) -> None:
    Gadget.insert_many([{"id": 9, "name": "a"}])
    with pytest.raises(IntegrityError) as info:
        Gadget.insert_many([{"name": "b"}, {"name": "c"}, {"id": 9, "name": "d"}, {"name": "e"}])
    if gadgets.dialect == "sqlite":
        # The runs keep the caller's order, so the failing row is still named by its index.
        assert info.value.index == 2
        assert str(info.value).startswith("row 2: UNIQUE constraint failed: gadgets.id")
    assert [r[1] for r in _rows(gadgets)] == ["a"]
