"""``where()`` (and ``having()``, ``join()``, statement ``where()``) takes conditions only.

A number, a str or a Python bool, and an expression that is plainly not a condition (an int
column, arithmetic), are refused with ArgumentTypeError when the query is built: SQLite would
take ``WHERE age`` as a truth test and PostgreSQL would refuse it. Every valid kind of
condition still runs, with the same rows, on SQLite, DuckDB and a real PostgreSQL server."""

from __future__ import annotations

import pytest

from activeq import (
    ActiveRecord,
    ArgumentTypeError,
    CompileError,
    Database,
    Field,
    case,
    cast,
    delete,
    exists,
    func,
    text,
    update,
)


class Lamp(ActiveRecord):
    __table_name__ = "lamps"
    id: int = Field(primary_key=True)
    watts: int = 0
    lit: bool = False
    room: str = ""


L = Lamp.c
NOT_A_CONDITION = ("where() takes a condition (a comparison, a bool column, a combination with "
                   "& | ~); {} is not one: compare it first (== != < > is_null() ...)")


@pytest.mark.parametrize(("value", "message"), [
    (5, "where() takes a condition expression such as Model.c.x == 1, not int 5"),
    (2.5, "where() takes a condition expression such as Model.c.x == 1, not float 2.5"),
    (None, "where() takes a condition expression such as Model.c.x == 1, not NoneType None"),
    ("watts > 3", "where() takes a condition expression, not the str 'watts > 3': compare a "
                  "column (Model.c.name == value), or mark raw SQL as such with "
                  "text('watts > 3')"),
    (True, "where() got the Python bool True: a comparison was evaluated by Python instead of "
           "building SQL (use & | ~ instead of and/or/not, and == on columns)"),
])
def test_plain_python_values_are_refused(value, message) -> None:
    with pytest.raises(ArgumentTypeError) as info:
        Lamp.query().where(value)
    assert str(info.value) == message
    # Still the error callers caught before: a CompileError, and a TypeError.
    assert isinstance(info.value, CompileError)
    assert isinstance(info.value, TypeError)
    with pytest.raises(ArgumentTypeError, match="where"):
        Lamp.query().where(L.lit, value)
    with pytest.raises(ArgumentTypeError):
        Lamp.find_one(value)


def test_an_expression_that_is_not_a_condition_is_refused() -> None:
    with pytest.raises(ArgumentTypeError) as info:
        Lamp.query().where(L.watts)
    assert str(info.value) == NOT_A_CONDITION.format("Lamp.watts (int)")
    with pytest.raises(ArgumentTypeError) as info:
        Lamp.query().where(L.room)
    assert str(info.value) == NOT_A_CONDITION.format("Lamp.room (str)")
    with pytest.raises(ArgumentTypeError, match=r"Arith\(op='\+'"):
        Lamp.query().where(L.watts + 1)
    with pytest.raises(ArgumentTypeError, match="Lamp.watts"):
        Lamp.query().where(L.watts > 1, L.watts)
    with pytest.raises(ArgumentTypeError, match=r"Cast\("):
        Lamp.query().where(cast(L.room, int))


def test_having_join_and_statements_refuse_the_same() -> None:
    grouped = Lamp.query().group_by(L.room).select(L.room)
    with pytest.raises(ArgumentTypeError, match=r"^having\(\) takes a condition .*Lamp.watts"):
        grouped.having(L.watts)
    with pytest.raises(ArgumentTypeError, match=r"^having\(\) takes .* not int 1"):
        grouped.having(1)
    with pytest.raises(ArgumentTypeError, match=r"^join\(\) takes .* not the str 'x'"):
        Lamp.query().join(Lamp.alias("other"), "x")
    with pytest.raises(ArgumentTypeError, match="Lamp.watts"):
        update(Lamp).where(L.watts)
    with pytest.raises(ArgumentTypeError, match=r"not int 3"):
        delete(Lamp).where(3)


@pytest.fixture
def lamps(database: Database) -> Database:
    database.bind(Lamp)
    database.create_tables(Lamp)
    Lamp.insert_many([
        {"watts": 40, "lit": True, "room": "hall"},
        {"watts": 60, "lit": False, "room": "hall"},
        {"watts": 100, "lit": True, "room": "desk"},
    ])
    return database


def _watts(query) -> list[int]:
    return sorted(lamp.watts for lamp in query.all())


def test_every_kind_of_condition_still_runs(lamps: Database) -> None:
    q = Lamp.query()
    assert _watts(q.where(L.lit)) == [40, 100]
    assert _watts(q.where(~L.lit)) == [60]
    assert _watts(q.where(L.lit == True)) == [40, 100]  # noqa: E712 - the seed's spelling
    assert _watts(q.where(L.lit & (L.watts > 50))) == [100]
    assert _watts(q.where((L.watts < 50) | ~L.lit)) == [40, 60]
    assert _watts(q.where(L.lit, L.watts > 50)) == [100]
    assert _watts(q.where(text("watts > :n", n=50))) == [60, 100]
    assert _watts(q.where(cast(L.watts - 60, bool))) == [40, 100]
    assert _watts(q.where(func.lower(L.room) == "hall")) == [40, 60]
    assert _watts(q.where(case((L.watts > 50, True), else_=False))) == [60, 100]
    other = Lamp.alias("other")
    brighter = other.query().where(other.c.watts > L.watts)
    assert _watts(q.where(exists(brighter))) == [40, 60]
    assert _watts(q.where(~exists(brighter))) == [100]
    biggest = Lamp.query().select(func.max(L.watts)).scalar_subquery()
    assert _watts(q.where(biggest == L.watts)) == [100]
    assert _watts(q.where(L.watts == biggest)) == [100]
    assert _watts(q.where(room="hall")) == [40, 60]
    counts = (Lamp.query().select(L.room, func.count().as_("n")).group_by(L.room)
              .having(func.count() > 1).tuples())
    assert counts == [("hall", 2)]
    assert update(Lamp).where(L.lit).values(watts=L.watts + 1).execute() == 2
    assert _watts(q) == [41, 60, 101]
