"""An int beyond 64 bits compared with an expression that is not a plain column is refused
with ValueOutOfRangeError when the expression is built (or bound), as a column comparison is,
on SQLite (a file), DuckDB and a real PostgreSQL server: never a raw OverflowError from the
driver, and never a comparison that one engine runs and another cannot bind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from activeq import (
    ActiveRecord,
    BindParam,
    Database,
    Field,
    ValidationError,
    ValueOutOfRangeError,
    func,
    text,
)


class Gauge(ActiveRecord):
    __table_name__ = "gauges"
    id: int = Field(primary_key=True)
    level: int = 0
    ratio: float = 0.0


G = Gauge.c
BIG = 2**70
MAX = 2**63 - 1
MIN = -(2**63)


def _message(value: int) -> str:
    return (f"the int {value} is out of the signed 64-bit range a value is bound in "
            f"(-9223372036854775808 to 9223372036854775807); pass a float if an approximate "
            "value will do")


CASES: dict[str, tuple[Callable[[], Any], int]] = {
    "arith > big": (lambda: (G.level + 1) > BIG, BIG),
    "func == 2**64": (lambda: func.abs(G.level) == 2**64, 2**64),
    "func != big": (lambda: func.abs(G.level) != BIG, BIG),
    "func < big": (lambda: func.abs(G.level) < BIG, BIG),
    "func <= -big": (lambda: func.abs(G.level) <= -BIG, -BIG),
    "func >= one below min": (lambda: func.abs(G.level) >= MIN - 1, MIN - 1),
    "reflected": (lambda: BIG < func.abs(G.level), BIG),
    "float arith": (lambda: (G.ratio * 2) > BIG, BIG),
    "between": (lambda: (G.level + 1).between(0, BIG), BIG),
    "is_in": (lambda: (G.level + 1).is_in([1, BIG]), BIG),
    "not_in": (lambda: func.abs(G.level).not_in([BIG]), BIG),
    "arith operand": (lambda: (G.level + 1) + BIG, BIG),
    "function argument": (lambda: func.abs(BIG), BIG),
    "aggregate": (lambda: func.count() > BIG, BIG),
    "text value": (lambda: text("level > :n", n=BIG), BIG),
}


@pytest.mark.parametrize("build", list(CASES))
def test_building_the_expression_refuses_the_int(build: str) -> None:
    make, value = CASES[build]
    with pytest.raises(ValueOutOfRangeError) as info:
        make()
    assert str(info.value) == _message(value)
    # The same error a column comparison raises: a ValidationError, and an OverflowError.
    assert isinstance(info.value, ValidationError)
    assert isinstance(info.value, OverflowError)


def test_a_column_comparison_raises_the_same_type() -> None:
    with pytest.raises(ValueOutOfRangeError, match="Gauge.level holds 64-bit integers"):
        G.level > BIG  # noqa: B015


@pytest.fixture
def gauges(database: Database) -> Database:
    database.bind(Gauge)
    database.create_tables(Gauge)
    Gauge.insert_many([{"level": 3}, {"level": -5}])
    return database


def test_the_ends_of_the_range_still_run(gauges: Database) -> None:
    query = Gauge.query().where(func.abs(G.level) < MAX, (G.level + 0) > MIN)
    assert sorted(g.level for g in query.all()) == [-5, 3]
    assert Gauge.query().where((G.level * 1).is_in([MAX, MIN, 3])).pluck("level") == [3]


def test_nothing_reaches_the_database(gauges: Database) -> None:
    with gauges.track_queries() as t:
        with pytest.raises(ValueOutOfRangeError, match="the int 1180591620717411303424 is out"):
            Gauge.query().where((G.level + 1) > BIG).all()
        with pytest.raises(ValueOutOfRangeError, match="the int 18446744073709551616 is out"):
            Gauge.query().where(func.abs(G.level) == 2**64).count()
        with pytest.raises(ValueOutOfRangeError, match="the int -1180591620717411303424 is out"):
            Gauge.query().where((G.level - 1) < -BIG).delete()
    assert len(t) == 0
    assert sorted(Gauge.query().pluck("level")) == [-5, 3]


def test_a_bound_parameter_beyond_64_bits_is_refused_before_running(gauges: Database) -> None:
    compiled = Gauge.query().where(func.abs(G.level) > BindParam("n")).compile()
    with gauges.track_queries() as t:
        with pytest.raises(ValueOutOfRangeError) as info:
            compiled.execute(n=BIG)
    assert str(info.value) == _message(BIG)
    assert len(t) == 0
    assert [g.level for g in compiled.execute(n=4)] == [-5]


@pytest.mark.parametrize("page", ["limit", "offset"])
def test_a_limit_or_offset_beyond_64_bits_is_refused_when_built(gauges: Database, page: str) -> None:
    with gauges.track_queries() as t:
        with pytest.raises(ValueOutOfRangeError) as info:
            getattr(Gauge.query(), page)(BIG)
    assert str(info.value) == _message(BIG)
    assert len(t) == 0
    # The largest 64-bit value still runs as a limit or offset.
    expected = [-5, 3] if page == "limit" else []
    assert sorted(getattr(Gauge.query(), page)(MAX).pluck("level")) == expected
