"""Exact decimals inside SQL expressions give the same values on SQLite, DuckDB and PostgreSQL.

SQLite stores a Decimal field as a scaled INTEGER (``value * 10**places``). Each expression
below combines such a column with another scale, an integer or float column, a function or a
bound value; the expected values are computed in Python from the stored rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from activeq import ActiveRecord, Database, Field, ValidationError, case, cast, func

D = Decimal


class Ledger(ActiveRecord):
    __table_name__ = "ledger"
    id: int = Field(primary_key=True)
    grp: str
    price: Decimal = Field(max_digits=10, decimal_places=2)
    rate: Decimal = Field(max_digits=10, decimal_places=3)
    qty: int
    weight: float
    spare: Decimal | None = Field(default=None, max_digits=10, decimal_places=2)


ROWS = [
    {"grp": "a", "price": D("2.50"), "rate": D("2.500"), "qty": 2, "weight": 0.25},
    {"grp": "a", "price": D("3.50"), "rate": D("-1.255"), "qty": -3, "weight": 1.5},
    {"grp": "b", "price": D("1.00"), "rate": D("1.000"), "qty": 1, "weight": 1.0},
]


@pytest.fixture
def ledger(database: Database) -> Database:
    database.bind(Ledger)
    database.create_tables(Ledger)
    Ledger.insert_many(ROWS)
    return database


def values(expr) -> list:
    return [row[0] for row in Ledger.query().select(expr.as_("v")).order_by(Ledger.c.id).tuples()]


def ids(*conditions) -> list[int]:
    return Ledger.query().where(*conditions).order_by(Ledger.c.id).pluck(Ledger.c.id)


def test_decimal_compared_with_columns_of_other_types(ledger: Database) -> None:
    c = Ledger.c
    assert ids(c.price == c.rate) == [1, 3]  # 2.50 = 2.500: the scales differ, the values agree
    assert ids(c.price == c.qty) == [3]  # 1.00 = 1
    assert ids(c.price > c.rate) == [2]
    assert ids(c.rate > c.qty) == [1, 2]
    assert ids(c.price > c.weight) == [1, 2]
    assert ids(c.rate == c.weight) == [3]
    assert ids(c.price.between(c.qty, c.rate)) == [1, 3]


def test_decimal_arithmetic_with_integer_and_float_columns(ledger: Database) -> None:
    c = Ledger.c
    assert values(c.price - c.qty) == [D("0.50"), D("6.50"), D("0.00")]
    assert values(c.qty - c.rate) == [D("-0.500"), D("-1.745"), D("0.000")]
    assert values(c.price + c.weight) == pytest.approx([2.75, 5.0, 2.0], rel=1e-12)
    assert values(c.weight * c.rate) == pytest.approx([0.625, -1.8825, 1.0], rel=1e-12)
    assert Ledger.query().order_by((c.price + c.qty).desc()).pluck(c.id) == [1, 3, 2]


def test_division_by_a_decimal_is_refused_like_division_of_one(ledger: Database) -> None:
    with pytest.raises(ValidationError, match=r"Ledger.qty / an exact Decimal: '/' has no exact result"):
        Ledger.c.qty / Ledger.c.price


def test_functions_read_the_decimal_value(ledger: Database) -> None:
    c = Ledger.c
    assert [float(v) for v in values(func.round(c.price, 0))] == [3.0, 4.0, 1.0]
    assert [float(v) for v in values(func.floor(c.rate))] == [2.0, -2.0, 1.0]
    assert values(func.max(c.price, c.rate)) == [D("2.500"), D("3.500"), D("1.000")]
    assert values(func.min(c.price, c.qty)) == [D("2.00"), D("-3.00"), D("1.00")]
    assert values(func.coalesce(c.spare, c.rate)) == [D("2.500"), D("-1.255"), D("1.000")]
    assert values(func.coalesce(c.spare, D("1.5"))) == [D("1.5")] * 3
    assert values(func.coalesce(c.spare, 7)) == [7] * 3
    assert values(func.nullif(c.rate, D("2.5"))) == [None, D("-1.255"), D("1.000")]
    lagged = func.lag(c.price, 1, D("9.99")).over(order_by=c.id)
    assert values(lagged) == [D("9.99"), D("2.50"), D("3.50")]


def test_case_branches_of_different_scales(ledger: Database) -> None:
    c = Ledger.c
    assert values(case((c.qty > 1, c.price), else_=c.rate)) == [D("2.50"), D("-1.255"), D("1.000")]
    assert values(case((c.qty > 1, c.price), else_=D("0.5"))) == [D("2.50"), D("0.5"), D("0.5")]
    assert values(case((c.qty > 1, c.price), else_=3)) == [D("2.50"), 3, 3]


def test_average_of_a_decimal_is_its_value(ledger: Database) -> None:
    c = Ledger.c
    rows = Ledger.query().select(c.grp, func.avg(c.price)).group_by(c.grp).order_by(c.grp).tuples()
    assert rows == [("a", 3.0), ("b", 1.0)]
    assert Ledger.query().select(c.grp).group_by(c.grp).having(func.avg(c.price) > 2).pluck(c.grp) == ["a"]
    mean = Ledger.query().select(func.avg(c.price)).scalar_subquery()
    assert ids(c.price > mean) == [1, 2]  # the mean is 2.333...
    assert values(func.avg(c.price).over(partition_by=c.grp)) == [3.0, 3.0, 1.0]


def test_update_stores_expressions_in_the_column_form(ledger: Database) -> None:
    c = Ledger.c
    everything = Ledger.query().where(c.id > 0)
    everything.update({"price": c.rate})  # NUMERIC(10, 2) rounds half away from zero
    assert Ledger.query().order_by(c.id).pluck(c.price) == [D("2.50"), D("-1.26"), D("1.00")]
    everything.update({"qty": c.price})
    assert Ledger.query().order_by(c.id).pluck(c.qty) == [3, -1, 1]
    everything.update({"price": c.weight})
    assert Ledger.query().order_by(c.id).pluck(c.price) == [D("0.25"), D("1.50"), D("1.00")]
    everything.update({"weight": c.rate, "rate": c.qty + 1})
    assert Ledger.query().order_by(c.id).pluck(c.weight) == [2.5, -1.255, 1.0]
    assert Ledger.query().order_by(c.id).pluck(c.rate) == [D("4.000"), D("0.000"), D("2.000")]


def test_sums_and_averages_of_integers_have_one_type_on_every_engine(ledger: Database) -> None:
    # PostgreSQL's SUM of a BIGINT and AVG of any integer are NUMERIC.
    c = Ledger.c
    [(total, mean)] = Ledger.query().select(func.sum(c.qty), func.avg(c.qty)).tuples()
    assert (total, type(total)) == (0, int)
    assert (mean, type(mean)) == (0.0, float)
    running = values(func.sum(c.qty).over(order_by=c.id))
    assert running == [2, -1, 0] and {type(v) for v in running} == {int}


def test_nan_is_refused_on_every_engine_before_anything_is_written(ledger: Database) -> None:
    with ledger.track_queries() as t, pytest.raises(ValidationError) as info:
        Ledger.create(grp="c", price=D("1"), rate=D("1"), qty=1, weight=float("nan"))
    assert str(info.value) == ("Ledger.weight is NaN, which activeq stores on no engine (SQLite "
                               "would keep NULL in its place); write None for a missing value")
    assert len(t) == 0
    assert Ledger.query().count() == 3


def test_rounded_numbers_have_one_type_and_compare_with_bound_values(ledger: Database) -> None:
    c = Ledger.c
    rounded = values(func.round(c.rate, 1))
    assert rounded == [D("2.5"), D("-1.3"), D("1.0")] and {type(v) for v in rounded} == {D}
    assert ids(func.round(c.rate, 1) == D("2.5")) == [1]
    assert ids(func.floor(c.price) == 3) == [2]
    assert ids(cast(c.weight, D) == D("1.5")) == [2]
    weights = values(func.round(c.weight, 1))
    assert weights == [0.3, 1.5, 1.0] and {type(v) for v in weights} == {float}


def test_current_timestamp_is_an_aware_utc_datetime(ledger: Database) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    [(now, also)] = Ledger.query().select(func.current_timestamp(), func.now()).limit(1).tuples()
    for value in (now, also):
        assert value.utcoffset() == timedelta(0)
        assert before <= value <= datetime.now(UTC) + timedelta(seconds=5)
    assert ids(func.now() > datetime(2020, 1, 1, tzinfo=UTC)) == [1, 2, 3]
