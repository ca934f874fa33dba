"""A model whose only field is its primary key: every insert is a row of column defaults."""

from __future__ import annotations

import pytest
from engine_models import ENGINES, models_on
from helpers import render

from activeq import ActiveRecord, Field
from activeq.query import Insert


class Ticket(ActiveRecord):
    __table_name__ = "tickets"
    id: int | None = Field(default=None, primary_key=True)


def test_a_row_of_defaults_per_dialect():
    assert render(Insert(Ticket, ()), "sqlite") == ('INSERT INTO "tickets" DEFAULT VALUES', [])
    assert render(Insert(Ticket, (), returning=True), "postgres")[0] == (
        'INSERT INTO "tickets" DEFAULT VALUES RETURNING "id"')
    assert render(Insert(Ticket, (), returning=True), "duckdb")[0] == (
        'INSERT INTO "tickets" DEFAULT VALUES RETURNING "id"')
    # MySQL has no DEFAULT VALUES: an empty column list and an empty row.
    assert render(Insert(Ticket, ()), "mysql") == ("INSERT INTO `tickets` () VALUES ()", [])


@pytest.mark.parametrize("kind", ENGINES)
def test_create_and_insert_many_return_the_new_ids(kind, request, tmp_path):
    with models_on(kind, request, tmp_path) as m:
        m.create_tables(Ticket)
        first = Ticket.create()
        assert first.id == 1
        assert Ticket.insert_many([{}, {}], returning=True) == [2, 3]
        assert Ticket.insert_many([{}]) == 1
        fresh = [Ticket(), Ticket()]
        assert Ticket.insert_many(fresh) == 2
        assert [t.id for t in fresh] == [5, 6]
        assert m.raw("SELECT id FROM tickets ORDER BY id") == [(1,), (2,), (3,), (4,), (5,), (6,)]


def test_a_row_of_defaults_with_on_conflict_renders_valid_sql():
    # SQLite allows no upsert clause after DEFAULT VALUES: the key is named, given NULL
    # (a new rowid); the others take DEFAULT VALUES' equivalent, the key's DEFAULT.
    assert render(Insert(Ticket, (), on_conflict=("ignore",)), "sqlite") == (
        'INSERT INTO "tickets" ("id") VALUES (NULL) ON CONFLICT DO NOTHING', [])
    assert render(Insert(Ticket, (), on_conflict=("ignore",), returning=True), "postgres")[0] == (
        'INSERT INTO "tickets" ("id") VALUES (DEFAULT) ON CONFLICT DO NOTHING RETURNING "id"')
    assert render(Insert(Ticket, (), on_conflict=("update", ("id",))), "duckdb")[0] == (
        'INSERT INTO "tickets" ("id") VALUES (DEFAULT) ON CONFLICT("id") DO NOTHING')
    assert render(Insert(Ticket, (), on_conflict=("replace",)), "sqlite")[0] == (
        'INSERT OR REPLACE INTO "tickets" DEFAULT VALUES')
    assert render(Insert(Ticket, (), on_conflict=("ignore",)), "mysql")[0] == (
        "INSERT IGNORE INTO `tickets` () VALUES ()")


@pytest.mark.parametrize("kind", ENGINES)
def test_insert_many_of_defaults_with_on_conflict_inserts_the_rows(kind, request, tmp_path):
    with models_on(kind, request, tmp_path) as m:
        m.create_tables(Ticket)
        assert Ticket.insert_many([{}, {}], on_conflict="ignore") == 2
        assert Ticket.insert_many([{}], on_conflict="ignore", returning=True) == [3]
        assert Ticket.insert_many([{}], on_conflict="update", conflict_columns=["id"],
                                  returning=True) == [4]
        assert Ticket.insert_many([{"id": 4}], on_conflict="ignore") == 0
        assert m.raw("SELECT id FROM tickets ORDER BY id") == [(1,), (2,), (3,), (4,)]
