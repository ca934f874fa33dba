"""Every operator on every type of the type table, on SQLite, DuckDB and PostgreSQL.

Comparisons (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``between``, ``not_between``,
``is_in``, ``not_in``, ``is_null``, ``is_not_null``) count the same rows as SQL's three-valued
logic evaluated in Python over each type's edge values and a NULL. Arithmetic on numbers and
boolean logic give Python's answers. The operators a type does not take are refused with a
ValidationError naming the column when the expression is built.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from engine_models import ENGINES, DatabaseModels, models_on
from type_cases import CASES, MODELS, Case, sort_key

from activeq import ActiveRecord, ArgumentTypeError, Field, ValidationError, cast, extract

ORDERED_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _count(values: list[Any], test: Any) -> int:
    """Rows a condition holds for: NULL rows never (SQL's unknown), others as ``test`` says."""
    return sum(1 for v in values if v is not None and test(v))


def _conditions(case: Case, col: Any, values: list[Any], probe: Any, other: Any) -> list[tuple[str, Any, int]]:
    """(name, condition, expected count) for every comparison the type takes."""
    k = sort_key
    found = [
        ("==", col == probe, _count(values, lambda v: v == probe)),
        ("!=", col != probe, _count(values, lambda v: v != probe)),
        ("is_in", col.is_in([probe, other]), _count(values, lambda v: v in (probe, other))),
        ("not_in", col.not_in([probe, other]), _count(values, lambda v: v not in (probe, other))),
        ("is_null", col.is_null(), sum(1 for v in values if v is None)),
        ("is_not_null", col.is_not_null(), sum(1 for v in values if v is not None)),
    ]
    if case.orderable:
        low, high = sorted((probe, other), key=k)
        found += [(op, test(col, probe), _count(values, lambda v, t=test: t(k(v), k(probe))))
                  for op, test in ORDERED_OPS.items()]
        found += [
            ("between", col.between(low, high), _count(values, lambda v: k(low) <= k(v) <= k(high))),
            ("not_between", col.not_between(low, high),
             _count(values, lambda v: not k(low) <= k(v) <= k(high))),
        ]
    return found


@pytest.mark.parametrize("kind", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_comparison_counts_the_rows_python_counts(case: Case, kind: str, request: pytest.FixtureRequest,
                                                       tmp_path: Any) -> None:
    model = MODELS[case.name]
    col = model.c.v
    values = [*case.edges, None]
    with models_on(kind, request, tmp_path) as m:
        m.create_tables(model)
        m.insert_many(model, [{"v": v} for v in values])
        for i, probe in enumerate(case.edges):
            other = case.edges[(i + 1) % len(case.edges)]
            for name, cond, want in _conditions(case, col, values, probe, other):
                assert m.count(model.query().where(cond)) == want, (name, probe, other)


# --- operators a type does not take ---------------------------------------------------------

ARITH = ("+", "-", "*", "/", "%")
TAKES_ARITH = {"int": set(ARITH), "float": {"+", "-", "*", "/"}, "decimal": {"+", "-"}, "str": {"+"}}
SIGNED = {"int", "float", "decimal", "timedelta"}
TEXTUAL = {"str", "strenum", "literal"}
UNORDERED = {"dict", "list", "model", "typeddict"}
ARITH_FN = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "%": operator.mod}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_operators_a_type_does_not_take_are_refused_when_built(case: Case) -> None:
    model = MODELS[case.name]
    col = model.c.v
    where = f"{model.__name__}\\.v"
    sample = case.edges[0]
    for op, fn in ARITH_FN.items():
        if op in TAKES_ARITH.get(case.name, ()) or case.name in ("date", "time", "datetime", "aware",
                                                                    "datetime_given_aware", "timedelta"):
            continue  # date and duration arithmetic has its own tests (test_operators.py)
        with pytest.raises(ValidationError, match=where):
            fn(col, sample)
    if case.name not in SIGNED:
        with pytest.raises(ValidationError, match=f"{where} .* takes no unary minus"):
            -col  # noqa: B018
    else:
        assert (-col).op == "-"
    for method in ("like", "not_like", "ilike", "contains", "startswith", "endswith"):
        if case.name in TEXTUAL:
            getattr(col, method)("a")
        else:
            with pytest.raises(ValidationError, match=rf"{method}\(\) needs a text column"):
                getattr(col, method)("a")
    if case.name in UNORDERED:
        for build in (lambda: col < sample, lambda: col <= sample, lambda: col > sample,
                      lambda: col >= sample, lambda: col.between(sample, sample),
                      lambda: col.not_between(sample, sample)):
            with pytest.raises(ValidationError, match=f"{where} is JSON: documents have no order"):
                build()
        # A value inside still compares (its order is tested in test_types_roundtrip.py).
        assert model.query().where(col["key"] < 1).to_sql()[1][-1] == 1


# --- arithmetic, boolean logic and LIKE run the same everywhere -------------------------------

class Num(ActiveRecord):
    __table_name__ = "op_nums"
    id: int = Field(primary_key=True)
    i: int
    f: float
    d: Decimal = Field(max_digits=18, decimal_places=4)
    ok: bool | None = None
    s: str = ""


NUMS = [
    {"i": 7, "f": 7.5, "d": Decimal("7.5"), "ok": True, "s": "Apple"},
    {"i": -7, "f": -7.5, "d": Decimal("-7.2500"), "ok": False, "s": "apple pie"},
    {"i": 0, "f": 0.0, "d": Decimal("0"), "ok": None, "s": "banana"},
    {"i": 2**40 + 3, "f": 1e300, "d": Decimal("9999999999999.9999"), "ok": True, "s": "A_b%"},
]


def _sql_mod(a: int, b: int) -> int:
    """SQL's remainder: the sign of the dividend (Python's % takes the divisor's)."""
    return int(math.copysign(abs(a) % abs(b), a)) if a else 0


@pytest.fixture(params=ENGINES)
def nums(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[DatabaseModels]:
    """The NUMS rows in a fresh database on each engine."""
    with models_on(request.param, request, tmp_path) as m:
        m.create_tables(Num)
        m.insert_many(Num, NUMS)
        yield m


def test_arithmetic_on_numbers_gives_python_values(nums: DatabaseModels) -> None:
    c, m = Num.c, nums
    exprs = [c.i + 5, c.i - 5, c.i * -3, c.i / 2, c.i % 3, c.i % -3, -c.i, 10 - c.i, c.i + c.id,
             c.f + 0.25, c.f - 0.25, c.f * -2.0, c.f / 4, c.i % (c.id + 1), -c.f, 1.5 - c.f,
             c.d + Decimal("0.0001"), c.d - 3, c.d * 3, -c.d, Decimal("1") - c.d]
    rows = m.tuples(Num.query().select(*exprs).order_by(c.id))
    for pk, (row, r) in enumerate(zip(rows, NUMS, strict=True), start=1):
        i, f, d = r["i"], r["f"], r["d"]
        want = (i + 5, i - 5, i * -3, i / 2, _sql_mod(i, 3), _sql_mod(i, -3), -i, 10 - i, i + pk,
                f + 0.25, f - 0.25, f * -2.0, f / 4, _sql_mod(i, pk + 1), -f, 1.5 - f,
                d + Decimal("0.0001"), d - 3, d * 3, -d, 1 - d)
        assert row == want
        assert [type(v) for v in row[16:]] == [Decimal] * 5


def test_remainder_takes_integers_only() -> None:
    # SQLite's % truncates floats to integers and PostgreSQL has no % for them.
    with pytest.raises(ValidationError, match=r"Num\.f is a float: % takes integer columns only"):
        Num.c.f % 2  # noqa: B018
    with pytest.raises(ValidationError, match=r"Num\.i % takes an integer, not 2\.5"):
        Num.c.i % 2.5  # noqa: B018
    with pytest.raises(ValidationError, match=r"Num\.i % takes an integer, not ColumnRef\(op_nums\.f\)"):
        Num.c.i % Num.c.f  # noqa: B018
    assert Num.query().select(Num.c.i % Num.c.id).to_sql()[0].startswith('SELECT "op_nums"."i" % "op_nums"."id"')


def test_boolean_logic_and_like_give_the_same_rows(nums: DatabaseModels) -> None:
    c, m = Num.c, nums

    def ids(cond: Any) -> list[int]:
        return [r.id for r in m.all(Num.query().where(cond).order_by(c.id))]

    assert ids(c.ok == True) == [1, 4]  # noqa: E712
    assert ids(~c.ok) == [2]  # NOT NULL is unknown: row 3 is in neither
    assert ids(c.ok & (c.i > 0)) == [1, 4]
    assert ids(c.ok | (c.i == 0)) == [1, 3, 4]
    assert ids(~(c.ok | (c.i < 0))) == []
    assert ids((c.i > 0) & ~(c.f > 10)) == [1]
    assert ids(c.s.ilike("a%")) == [1, 2, 4]
    assert ids(c.s.like("%e%")) == [1, 2]
    assert ids(c.s.not_like("%e%")) == [3, 4]
    assert ids(c.s.contains("_b%")) == [4]
    assert ids(c.s.startswith("A_")) == [4]
    assert ids(c.s.endswith("pie")) == [2]
    # LIKE's case follows the database: SQLite folds ASCII case, the others do not.
    assert ids(c.s.like("a%")) == ([1, 2, 4] if m.dialect == "sqlite" else [2])
    assert ids(c.s.startswith("a")) == ([1, 2, 4] if m.dialect == "sqlite" else [2])


def test_and_or_not_take_conditions_only() -> None:
    c = Num.c
    refused = [
        (lambda: (c.i + 1) & (c.s == "x"), "&", "Arith("),
        (lambda: c.i & 3, "&", "Num.i (int)"),
        (lambda: (c.i > 0) & 3, "&", "3"),
        (lambda: 3 & (c.i > 0), "&", "3"),
        (lambda: (c.i > 0) | c.s, "|", "Num.s (str)"),
        (lambda: c.f | (c.i > 0), "|", "Num.f (float)"),
        (lambda: "x" | (c.i > 0), "|", "'x'"),
        (lambda: ~c.i, "~", "Num.i (int)"),
        (lambda: ~(c.i * 2), "~", "Arith("),
        (lambda: (c.ok == True) & cast(c.i, int), "&", "Cast("),  # noqa: E712
        (lambda: (c.i > 0) & c.i.as_("n"), "&", "Alias("),
    ]
    for build, op, named in refused:
        with pytest.raises(ArgumentTypeError) as info:
            build()
        message = str(info.value)
        assert message.startswith(f"{op} combines conditions (comparisons, bool columns, "
                                  "and their combinations); "), message
        assert named in message, message
    # Conditions of every kind, bool columns and bool values are taken as they are.
    both = (c.ok & (c.i > 0)) | ~c.ok | ((c.i > 0) & True) | ~c.s.like("a%") | c.i.is_in([1])
    assert Num.query().where(both).to_sql()[0].endswith(
        'WHERE ("op_nums"."ok" AND "op_nums"."i" > ?) OR NOT "op_nums"."ok" OR '
        '("op_nums"."i" > ? AND ?) OR NOT ("op_nums"."s" LIKE ?) OR "op_nums"."i" IN (SELECT '
        '"value" FROM JSON_EACH(?))')
    assert (cast(c.i, bool) & c.ok).key[0] == "AND"


class Moment(ActiveRecord):
    __table_name__ = "op_moments"
    id: int = Field(primary_key=True)
    at: dt.datetime
    day: dt.date
    took: dt.timedelta
    stamp: pydantic.AwareDatetime


MOMENTS = [
    (dt.datetime(2024, 2, 29, 23, 59, 59, 999999), dt.timedelta(microseconds=1)),
    (dt.datetime(1999, 12, 31, 0, 0), dt.timedelta(days=-1, seconds=5)),
    (dt.datetime(2023, 3, 26, 1, 30, 0, 500), dt.timedelta(days=400, hours=3)),
    (dt.datetime(3, 1, 2, 12), dt.timedelta(0)),
]
SHIFTS = [dt.timedelta(days=1, microseconds=-1), dt.timedelta(days=-365, hours=-25), dt.timedelta(hours=36)]


@pytest.mark.parametrize("kind", ENGINES)
def test_date_arithmetic_and_extract_give_python_values(kind: str, request: pytest.FixtureRequest,
                                                        tmp_path: Any) -> None:
    c = Moment.c
    plus3 = dt.timezone(dt.timedelta(hours=3))
    rows = [{"at": at, "day": at.date(), "took": took, "stamp": at.replace(tzinfo=plus3)}
            for at, took in MOMENTS]
    with models_on(kind, request, tmp_path) as m:
        m.create_tables(Moment)
        m.insert_many(Moment, rows)
        for shift in SHIFTS:
            got = m.tuples(Moment.query().select(c.at + shift, c.at - shift, c.day + shift, c.day - shift,
                                                 c.at + c.took, c.stamp - shift).order_by(c.id))
            assert got == [(r["at"] + shift, r["at"] - shift, r["day"] + shift, r["day"] - shift,
                            r["at"] + r["took"], r["stamp"] - shift) for r in rows], shift
            pivot = rows[0]["at"]
            assert m.count(Moment.query().where(c.at + shift > pivot)) == sum(
                1 for r in rows if r["at"] + shift > pivot)
        parts = ("year", "month", "day", "hour", "minute", "second", "dow")
        got = m.tuples(Moment.query().select(*[extract(p, c.at) for p in parts], extract("dow", c.day),
                                             extract("hour", c.stamp)).order_by(c.id))
        assert got == [tuple((r["at"].weekday() + 1) % 7 if p == "dow" else getattr(r["at"], p) for p in parts)
                       + ((r["day"].weekday() + 1) % 7, r["stamp"].astimezone(dt.UTC).hour) for r in rows]
