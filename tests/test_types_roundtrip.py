"""Every supported type round-trips exactly and sorts in SQL as in Python, on SQLite and DuckDB.

For each type a model with one column of it is written through ``create``, ``insert_many`` and
``update``, read back, filtered with ``==`` and sorted with ``order_by``. SQLite runs through
activeq on a real file. DuckDB runs activeq's own DDL and compiled statements on an in-process
connection, with activeq's bind conversions (``Compiled.values``) and its result conversions
(the compiled row mapper), as the DuckDB engine will.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import duckdb
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing_extensions import TypedDict

from activeq import ActiveRecord, Database, Field, func
from activeq.compiler import compiler
from activeq.ddl import create_table_statements
from activeq.query import Insert, Update

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Level(enum.IntEnum):
    LOW = 1
    MID = 5
    HIGH = 10


class Shade(enum.StrEnum):
    DARK = "dark"
    LIGHT = "light"
    PALE = "pale"


class Point(pydantic.BaseModel):
    x: int
    label: str


class Span(TypedDict):
    start: int
    tags: list[str]


def _aware(draw_tz: Any) -> Any:
    return st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31),
                        timezones=draw_tz)


offsets = st.builds(lambda m: dt.timezone(dt.timedelta(minutes=m)), st.integers(-23 * 60, 23 * 60))
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
json_scalars = st.one_of(st.none(), st.booleans(), int64, st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=6)


@dataclass
class Case:
    name: str
    annotation: Any
    strategy: Any
    orderable: bool = True
    field: dict[str, Any] | None = None


CASES = [
    Case("int", int, int64),
    Case("bool", bool, st.booleans()),
    Case("float", float, st.floats(allow_nan=False)),
    Case("decimal", Decimal, st.decimals(min_value=Decimal("-99999999999999.9999"),
                                         max_value=Decimal("99999999999999.9999"), places=4,
                                         allow_nan=False, allow_infinity=False),
         field={"max_digits": 18, "decimal_places": 4}),
    Case("str", str, st.text(max_size=20), field={"max_length": 20}),
    Case("bytes", bytes, st.binary(max_size=20)),
    Case("date", dt.date, st.dates()),
    Case("time", dt.time, st.times()),
    Case("datetime", dt.datetime, st.datetimes()),
    Case("aware", pydantic.AwareDatetime, _aware(offsets)),
    Case("timedelta", dt.timedelta, st.timedeltas(min_value=dt.timedelta(days=-100_000),
                                                  max_value=dt.timedelta(days=100_000))),
    Case("uuid", uuid.UUID, st.uuids()),
    Case("intenum", Level, st.sampled_from(Level)),
    Case("strenum", Shade, st.sampled_from(Shade)),
    Case("literal", Literal["b", "a", "c"], st.sampled_from(["b", "a", "c"])),
    Case("dict", dict[str, Any], st.dictionaries(st.text(max_size=5), json_values, max_size=4),
         orderable=False),
    Case("list", list[int], st.lists(int64, max_size=4), orderable=False),
    Case("model", Point, st.builds(Point, x=int64, label=st.text(max_size=6)), orderable=False),
    Case("typeddict", Span, st.fixed_dictionaries({"start": int64, "tags": st.lists(st.text(max_size=3), max_size=2)}),
         orderable=False),
]


def _model(case: Case) -> type[ActiveRecord]:
    field = Field(default=None, **(case.field or {}))
    namespace = {
        "__module__": __name__,
        "__table_name__": f"rt_{case.name}",
        "__annotations__": {"id": int, "v": case.annotation | None},
        "id": Field(primary_key=True),
        "v": field,
    }
    return type(f"RoundTrip_{case.name}", (ActiveRecord,), namespace)  # type: ignore[return-value]


MODELS = {case.name: _model(case) for case in CASES}


def _sort_key(value: Any) -> Any:
    # bytes, enums and the rest sort as Python sorts them; a str enum by its text.
    return value.value if isinstance(value, Shade) else value


def _python_order(values: list[Any]) -> list[Any]:
    return sorted(values, key=_sort_key)


# --- SQLite, through activeq ------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_round_trip_and_order_on_sqlite(case: Case, tmp_path: Any) -> None:
    model = MODELS[case.name]
    db = Database(str(tmp_path / "types.db"))
    db.bind(model)
    db.create_tables(model)
    col = model.c.v

    @SETTINGS
    @given(values=st.lists(case.strategy, min_size=1, max_size=6), new=case.strategy)
    def check(values: list[Any], new: Any) -> None:
        model.query().delete(all_rows=True)
        first = model.create(v=values[0])
        model.insert_many([{"v": v} for v in values[1:]])
        rows = model.query().order_by(model.c.id).all()
        assert [r.v for r in rows] == values
        assert model.find_by_id(first.id).v == values[0]
        # tuples() and dicts() convert as the models do
        assert [r[0] for r in model.query().select(col).order_by(model.c.id).tuples()] == values
        assert [d["v"] for d in model.query().order_by(model.c.id).dicts()] == values
        for value in values:
            assert model.query().where(col == value).count() == values.count(value)
        if case.orderable:
            assert [r.v for r in model.query().order_by(col, model.c.id).all()] == _python_order(values)
            pivot = values[0]
            assert model.query().where(col < pivot).count() == sum(1 for v in values if _sort_key(v) < _sort_key(pivot))
            assert model.query().where(col >= pivot).count() == sum(1 for v in values if _sort_key(v) >= _sort_key(pivot))
        assert model.query().where(model.c.id == first.id).update({"v": new}) == 1
        assert model.find_by_id(first.id).v == new
        first.v = values[0]
        first.save()
        assert model.find_by_id(first.id).v == values[0]

    check()
    db.close()


# --- DuckDB, activeq's DDL and compiled statements on the duckdb module -------------------------

def _duck_run(con: Any, stmt: Any) -> list[Any]:
    entry, _ = compiler.compile(stmt, "duckdb")
    return con.execute(entry.sql, entry.values(stmt.params)).fetchall()


def _duck_models(con: Any, query: Any) -> list[Any]:
    entry, _ = compiler.compile(query, "duckdb")
    rows = con.execute(entry.sql, entry.values(query.params)).fetchall()
    return entry.mapper(rows, None)  # type: ignore[no-any-return]


def _duck_count(con: Any, query: Any) -> int:
    sql, params = query.select(func.count()).to_sql("duckdb")
    return int(con.execute(sql, params).fetchall()[0][0])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_round_trip_and_order_on_duckdb(case: Case) -> None:
    model = MODELS[case.name]
    con = duckdb.connect()
    for sql in create_table_statements(model, "duckdb"):
        con.execute(sql)
    insert = Insert(model, ("v",), returning=True)
    entry, _ = compiler.compile(insert, "duckdb")
    col = model.c.v

    @SETTINGS
    @given(values=st.lists(case.strategy, min_size=1, max_size=6), new=case.strategy)
    def check(values: list[Any], new: Any) -> None:
        con.execute(f'DELETE FROM "rt_{case.name}"')
        ids = [con.execute(entry.sql, entry.values([v])).fetchall()[0][0] for v in values]
        rows = _duck_models(con, model.query().order_by(model.c.id))
        assert [r.v for r in rows] == values
        converted = compiler.compile(model.query().select(col).order_by(model.c.id), "duckdb")[0]
        raw = con.execute(converted.sql).fetchall()
        assert [r[0] for r in converted.convert_rows(raw)] == values
        for value in values:
            assert _duck_count(con, model.query().where(col == value)) == values.count(value)
        if case.orderable:
            ordered = _duck_models(con, model.query().order_by(col, model.c.id))
            assert [r.v for r in ordered] == _python_order(values)
            pivot = values[0]
            assert _duck_count(con, model.query().where(col < pivot)) == sum(
                1 for v in values if _sort_key(v) < _sort_key(pivot))
        update = Update.build(model.query().where(model.c.id == ids[0]), {"v": new}, False)
        _duck_run(con, update)
        (found,) = _duck_models(con, model.query().where(model.c.id == ids[0]))
        assert found.v == new

    check()
    con.close()


# --- JSON paths compare and sort by value on both engines ---------------------------------------

class PathDoc(ActiveRecord):
    __table_name__ = "path_docs"
    id: int = Field(primary_key=True)
    meta: dict[str, Any] = Field(default_factory=dict)


safe_ints = st.integers(-(2**53), 2**53)


@SETTINGS
@given(numbers=st.lists(safe_ints, min_size=1, max_size=6), pivot=safe_ints)
def test_json_path_where_and_order_by_on_sqlite_and_duckdb(numbers: list[int], pivot: int) -> None:
    docs = [{"a": {"b": n}, "k": str(n)} for n in numbers]
    db = Database(":memory:")
    db.bind(PathDoc)
    db.create_tables(PathDoc)
    PathDoc.insert_many([{"meta": d} for d in docs])
    con = duckdb.connect()
    for sql in create_table_statements(PathDoc, "duckdb"):
        con.execute(sql)
    entry, _ = compiler.compile(Insert(PathDoc, ("meta",)), "duckdb")
    for d in docs:
        con.execute(entry.sql, entry.values([d]))
    path = PathDoc.c.meta["a"]["b"]
    expected = sorted(numbers)
    by_path = PathDoc.query().order_by(path, PathDoc.c.id)
    assert [r.meta["a"]["b"] for r in by_path.all()] == expected
    assert [r.meta["a"]["b"] for r in _duck_models(con, by_path)] == expected
    for op, test in (("==", lambda n: n == pivot), ("<", lambda n: n < pivot), (">=", lambda n: n >= pivot)):
        cond = {"==": path == pivot, "<": path < pivot, ">=": path >= pivot}[op]
        want = sum(1 for n in numbers if test(n))
        assert PathDoc.query().where(cond).count() == want
        assert _duck_count(con, PathDoc.query().where(cond)) == want
    text_path = PathDoc.c.meta["k"]
    assert PathDoc.query().where(text_path == str(pivot)).count() == numbers.count(pivot)
    assert _duck_count(con, PathDoc.query().where(text_path == str(pivot))) == numbers.count(pivot)
    db.close()
    con.close()

