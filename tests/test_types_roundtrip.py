"""Every supported type round-trips exactly and sorts in SQL as in Python, on every engine.

For each type a model with one column of it is written through ``create``, ``insert_many`` and
``update``, read back as models and as tuples, filtered with ``==``, ``<`` and ``>=`` and sorted
with ``order_by``: random values from Hypothesis, and first each type's edge values. Each run
goes through ``Database`` and the model API on a SQLite file, a DuckDB file (in-process) and a
real PostgreSQL server (``tests/engine_models.py``).

PostgreSQL stores no NUL character in text or JSON strings; its runs draw text without it, and
``test_postgres_refuses_nul_in_text_with_a_typed_error`` pins that difference.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from engine_models import ENGINES, models_on
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from type_cases import CASES, MODELS, Case, python_order, sort_key

from activeq import ActiveRecord, Database, Field, OperationalError, func
from activeq.compiler import compiler
from activeq.ddl import create_table_statements
from activeq.query import Insert

SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])



@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_round_trip_and_order(case: Case, kind: str, request: pytest.FixtureRequest, tmp_path: Any) -> None:
    model = MODELS[case.name]
    col, pk = model.c.v, model.c.id
    strategy = case.strategy(kind != "postgres")
    with models_on(kind, request, tmp_path) as m:
        m.create_tables(model)

        def check(values: list[Any], new: Any) -> None:
            m.run(f'DELETE FROM "rt_{case.name}"')
            first = m.create(model, v=values[0])
            if values[1:]:
                m.insert_many(model, [{"v": v} for v in values[1:]])
            read = [case.read(v) for v in values]
            assert [r.v for r in m.all(model.query().order_by(pk))] == read
            assert m.tuples(model.query().select(col).order_by(pk)) == [(v,) for v in read]
            assert model.find_by_id(first).v == read[0]
            assert [d["v"] for d in model.query().order_by(pk).dicts()] == read
            for value in values:
                assert m.count(model.query().where(col == value)) == values.count(value), value
            if case.orderable:
                ordered = [case.read(v) for v in python_order(values)]
                assert [r.v for r in m.all(model.query().order_by(col, pk))] == ordered
                pivot = values[-1]
                assert m.count(model.query().where(col < pivot)) == sum(
                    1 for v in values if sort_key(v) < sort_key(pivot))
                assert m.count(model.query().where(col >= pivot)) == sum(
                    1 for v in values if sort_key(v) >= sort_key(pivot))
            assert m.update(model.query().where(pk == first), {"v": new}) == 1
            (found,) = m.all(model.query().where(pk == first))
            assert found.v == case.read(new)
            record = model.find_by_id(first)
            record.v = values[0]
            record.save()
            assert model.find_by_id(first).v == read[0]

        run = SETTINGS(given(values=st.lists(strategy, min_size=1, max_size=6), new=strategy)(check))
        run = example(values=case.edges, new=case.edges[0])(run)
        run()


def test_postgres_refuses_nul_in_text_with_a_typed_error(request: pytest.FixtureRequest, tmp_path: Any) -> None:
    # PostgreSQL has no NUL in text or JSON strings (SQLite and DuckDB keep it): the write fails
    # with activeq's typed error and leaves nothing behind.
    with models_on("postgres", request, tmp_path) as m:
        m.create_tables(MODELS["str"], MODELS["dict"])
        with pytest.raises(OperationalError, match="NUL"):
            m.insert_many(MODELS["str"], [{"v": "ok"}, {"v": "a\x00b"}])
        with pytest.raises(OperationalError, match="u0000"):
            m.create(MODELS["dict"], v={"k": "a\x00b"})
        assert m.raw('SELECT count(*) FROM "rt_str"') == [(0,)]
        assert m.raw('SELECT count(*) FROM "rt_dict"') == [(0,)]


def _duck_models(con: Any, query: Any) -> list[Any]:
    entry, _ = compiler.compile(query, "duckdb")
    rows = con.execute(entry.sql, entry.values(query.params)).fetchall()
    return entry.mapper(rows, None)  # type: ignore[no-any-return]


def _duck_count(con: Any, query: Any) -> int:
    sql, params = query.select(func.count()).to_sql("duckdb")
    return int(con.execute(sql, params).fetchall()[0][0])


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

