"""NaN is refused before anything is written; infinities round-trip.

SQLite stores NULL in place of a NaN, so a NaN accepted would silently come back as None (or
fail a NOT NULL constraint with a misleading message).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from activeq import ActiveRecord, Database, Field, ValidationError, insert, update

NAN = float("nan")
INF = float("inf")


class Reading(ActiveRecord):
    __table_name__ = "readings"
    id: int = Field(primary_key=True)
    value: float
    spare: float | None = None


@pytest.fixture
def rdb(tmp_path: Any) -> Any:
    database = Database(str(tmp_path / "floats.db"))
    database.bind(Reading)
    database.create_tables(Reading)
    Reading.create(value=1.5)
    yield database
    database.close()


def _stored(db: Any) -> list[tuple[Any, ...]]:
    return db.execute("SELECT id, value, spare FROM readings ORDER BY id").fetchall()


def _refused(db: Any, write: Any, field: str, index: int | None = None) -> ValidationError:
    before = _stored(db)
    with db.track_queries() as t, pytest.raises(ValidationError) as info:
        write()
    where = f"row {index}: " if index is not None else ""
    assert str(info.value) == (
        f"{where}Reading.{field} is NaN, which activeq stores on no engine (SQLite would keep "
        "NULL in its place); write None for a missing value")
    assert (info.value.field, info.value.index) == (field, index)
    assert [q.sql for q in t.queries] == []  # refused before any statement, BEGIN included
    assert _stored(db) == before
    return info.value


def test_create_refuses_nan_in_a_required_and_an_optional_float(rdb):
    _refused(rdb, lambda: Reading.create(value=NAN), "value")
    _refused(rdb, lambda: Reading.create(value=2.0, spare=NAN), "spare")
    _refused(rdb, lambda: Reading.create(value="nan"), "value")  # pydantic parses it to NaN


def test_save_refuses_nan_assigned_to_a_new_or_a_loaded_record(rdb):
    fresh = Reading(value=2.0)
    fresh.spare = NAN
    _refused(rdb, fresh.save, "spare")
    assert fresh.id is None and not fresh.is_persisted
    loaded = Reading.find_by_id(1)
    loaded.value = NAN
    _refused(rdb, loaded.save, "value")
    assert loaded.model_fields_set == {"value"}


def test_insert_many_names_the_row_holding_nan(rdb):
    rows = [{"value": 2.0}, {"value": 3.0, "spare": 0.0}, {"value": 4.0, "spare": NAN}]
    _refused(rdb, lambda: Reading.insert_many(rows), "spare", index=2)
    records = [Reading(value=5.0), Reading(value=NAN)]
    _refused(rdb, lambda: Reading.insert_many(records), "value", index=1)
    # Chunks number rows across the whole batch.
    _refused(rdb, lambda: Reading.insert_many([{"value": 1.0}] * 3 + [{"value": NAN}],
                                              chunk_size=2), "value", index=3)


def test_update_and_update_many_refuse_nan(rdb):
    _refused(rdb, lambda: Reading.query().where(Reading.c.id == 1).update({"value": NAN}),
             "value")
    _refused(rdb, lambda: Reading.query().where(Reading.c.id == 1).update(spare=NAN), "spare")
    _refused(rdb, lambda: Reading.update_many([{"id": 1, "spare": NAN}]), "spare", index=0)


def test_statements_refuse_nan_when_given_values(rdb):
    _refused(rdb, lambda: insert(Reading).values(value=NAN).execute(), "value")
    _refused(rdb, lambda: insert(Reading).values({"value": 1.0, "spare": 0.5},
                                                 {"value": 2.0, "spare": NAN}),
             "spare")
    _refused(rdb, lambda: update(Reading).where(Reading.c.id == 1).values(spare=NAN), "spare")
    assert insert(Reading).values(value=INF).execute() == 1


def test_comparisons_with_nan_are_refused_when_built(rdb):
    for build in (lambda: Reading.c.value == NAN, lambda: Reading.c.spare > NAN,
                  lambda: Reading.c.value.is_in([1.0, NAN]),
                  lambda: Reading.c.value.between(NAN, 2.0),
                  lambda: Reading.c.value + NAN):
        with pytest.raises(ValidationError, match=r"Reading\.(value|spare): NaN compares with "
                                                  r"nothing; use is_null\(\) or a number"):
            build()
    # A float that is not NaN still compares as before.
    assert Reading.query().where(Reading.c.value == 1.5).pluck("id") == [1]


def test_infinities_round_trip_through_every_write(rdb):
    made = Reading.create(value=INF, spare=-INF)
    Reading.insert_many([{"value": -INF}, {"value": 2.0, "spare": INF}])
    Reading.query().where(Reading.c.id == 1).update({"spare": INF})
    Reading.update_many([{"id": 4, "value": INF}])
    assert _stored(rdb) == [(1, 1.5, INF), (2, INF, -INF), (3, -INF, None), (4, INF, INF)]
    again = Reading.find_by_id(made.id)
    assert (again.value, again.spare) == (INF, -INF)
    assert Reading.query().where(Reading.c.value == INF).order_by(Reading.c.id).pluck("id") == [2, 4]
    assert Reading.query().where(Reading.c.value < -1e308).pluck("id") == [3]
    assert Reading.query().order_by(Reading.c.value, Reading.c.id).pluck("id") == [3, 1, 2, 4]
    assert math.isinf(Reading.query().where(Reading.c.id == 1).first().spare)
    # +inf and -inf in one column of a batch (their sum is NaN) are still both written.
    assert Reading.insert_many([{"value": INF, "spare": 1.0}, {"value": -INF, "spare": 2.0}],
                               returning=True) == [5, 6]
    assert _stored(rdb)[-2:] == [(5, INF, 1.0), (6, -INF, 2.0)]
