"""Differential property test: random predicate trees give the same rows on SQLite (through
activeq), on DuckDB (the duckdb rendering of the same query) and in a pure-Python evaluation
with SQL's three-valued logic. Leaves include CASE, CAST, string and date functions."""

from __future__ import annotations

import datetime as dt
import operator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activeq import ActiveRecord, Database, Field, case, cast, func


class Item(ActiveRecord):
    __table_name__ = "prop_items"
    id: int = Field(primary_key=True)
    a: int | None = None
    b: int | None = None
    s: str | None = None
    d: dt.date | None = None


ROWS: list[dict[str, Any]] = [
    {"id": 1, "a": 1, "b": 1, "s": "abc", "d": dt.date(2024, 2, 29)},
    {"id": 2, "a": 2, "b": None, "s": "bcd", "d": dt.date(2024, 1, 1)},
    {"id": 3, "a": None, "b": 3, "s": None, "d": None},
    {"id": 4, "a": None, "b": None, "s": "a_c", "d": dt.date(2023, 12, 31)},
    {"id": 5, "a": 5, "b": 2, "s": "", "d": dt.date(2024, 3, 4)},
    {"id": 6, "a": -1, "b": 0, "s": "ccc", "d": dt.date(2024, 3, 10)},
    {"id": 7, "a": 0, "b": 7, "s": "%x", "d": dt.date(2023, 5, 17)},
    {"id": 8, "a": 3, "b": 3, "s": "abd", "d": None},
    {"id": 9, "a": 2, "b": -2, "s": None, "d": dt.date(2024, 6, 30)},
    {"id": 10, "a": 4, "b": 1, "s": "b", "d": dt.date(2024, 7, 1)},
]

Value = int | None
Tri = bool | None


# --- SQL three-valued logic in Python --------------------------------------------------------
def tri_and(x: Tri, y: Tri) -> Tri:
    if x is False or y is False:
        return False
    if x is None or y is None:
        return None
    return True


def tri_or(x: Tri, y: Tri) -> Tri:
    if x is True or y is True:
        return True
    if x is None or y is None:
        return None
    return False


def tri_not(x: Tri) -> Tri:
    return None if x is None else not x


def like(value: str, pattern: str) -> bool:
    # Patterns used here are lower case, so SQLite's ASCII case folding cannot matter.
    import re

    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.S) is not None


OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}


class P:
    """A predicate: builds the activeq expression and evaluates itself on a row."""

    def expr(self) -> Any:
        raise NotImplementedError

    def eval(self, row: dict[str, Any]) -> Tri:
        raise NotImplementedError


class Cmp(P):
    def __init__(self, col: str, op: str, value: Value | str) -> None:
        self.col, self.op, self.value = col, op, value

    def expr(self) -> Any:
        left = getattr(Item.c, self.col)
        right = getattr(Item.c, self.value) if isinstance(self.value, str) else self.value
        return OPS[self.op](left, right)

    def eval(self, row: dict[str, Any]) -> Tri:
        x = row[self.col]
        if isinstance(self.value, str):
            y = row[self.value]
        else:
            y = self.value
            if y is None and self.op in ("==", "!="):
                # == None is IS NULL, != None is IS NOT NULL
                return (x is None) if self.op == "==" else (x is not None)
        if x is None or y is None:
            return None
        return OPS[self.op](x, y)

    def __repr__(self) -> str:
        return f"({self.col} {self.op} {self.value!r})"


class In(P):
    def __init__(self, col: str, values: list[Value], negated: bool) -> None:
        self.col, self.values, self.negated = col, values, negated

    def expr(self) -> Any:
        col = getattr(Item.c, self.col)
        return col.not_in(self.values) if self.negated else col.is_in(self.values)

    def eval(self, row: dict[str, Any]) -> Tri:
        x = row[self.col]
        if not self.values:
            found: Tri = False
        elif x is None:
            found = None
        elif x in [v for v in self.values if v is not None]:
            found = True
        elif None in self.values:
            found = None
        else:
            found = False
        return tri_not(found) if self.negated else found

    def __repr__(self) -> str:
        return f"({self.col} {'NOT ' if self.negated else ''}IN {self.values})"


class Like(P):
    def __init__(self, pattern: str, negated: bool) -> None:
        self.pattern, self.negated = pattern, negated

    def expr(self) -> Any:
        return Item.c.s.not_like(self.pattern) if self.negated else Item.c.s.like(self.pattern)

    def eval(self, row: dict[str, Any]) -> Tri:
        if row["s"] is None:
            return None
        hit = like(row["s"], self.pattern)
        return (not hit) if self.negated else hit

    def __repr__(self) -> str:
        return f"(s {'NOT ' if self.negated else ''}LIKE {self.pattern!r})"


class Between(P):
    def __init__(self, col: str, low: Value, high: Value, negated: bool) -> None:
        self.col, self.low, self.high, self.negated = col, low, high, negated

    def expr(self) -> Any:
        col = getattr(Item.c, self.col)
        return col.not_between(self.low, self.high) if self.negated else col.between(self.low, self.high)

    def eval(self, row: dict[str, Any]) -> Tri:
        x = row[self.col]
        ge = None if x is None or self.low is None else x >= self.low
        le = None if x is None or self.high is None else x <= self.high
        inside = tri_and(ge, le)
        return tri_not(inside) if self.negated else inside

    def __repr__(self) -> str:
        return f"({self.col} {'NOT ' if self.negated else ''}BETWEEN {self.low} AND {self.high})"


class IsNull(P):
    def __init__(self, col: str, negated: bool) -> None:
        self.col, self.negated = col, negated

    def expr(self) -> Any:
        col = getattr(Item.c, self.col)
        return col.is_not_null() if self.negated else col.is_null()

    def eval(self, row: dict[str, Any]) -> Tri:
        return (row[self.col] is not None) if self.negated else (row[self.col] is None)

    def __repr__(self) -> str:
        return f"({self.col} IS {'NOT ' if self.negated else ''}NULL)"


class And(P):
    def __init__(self, x: P, y: P) -> None:
        self.x, self.y = x, y

    def expr(self) -> Any:
        return self.x.expr() & self.y.expr()

    def eval(self, row: dict[str, Any]) -> Tri:
        return tri_and(self.x.eval(row), self.y.eval(row))

    def __repr__(self) -> str:
        return f"({self.x!r} & {self.y!r})"


class Or(P):
    def __init__(self, x: P, y: P) -> None:
        self.x, self.y = x, y

    def expr(self) -> Any:
        return self.x.expr() | self.y.expr()

    def eval(self, row: dict[str, Any]) -> Tri:
        return tri_or(self.x.eval(row), self.y.eval(row))

    def __repr__(self) -> str:
        return f"({self.x!r} | {self.y!r})"


class Not(P):
    def __init__(self, x: P) -> None:
        self.x = x

    def expr(self) -> Any:
        return ~self.x.expr()

    def eval(self, row: dict[str, Any]) -> Tri:
        return tri_not(self.x.eval(row))

    def __repr__(self) -> str:
        return f"~{self.x!r}"


def compare(x: Any, op: str, y: Any) -> Tri:
    if x is None or y is None:
        return None
    return OPS[op](x, y)


class CaseCmp(P):
    """``CASE WHEN col > k THEN col ELSE other END <op> value``."""

    def __init__(self, col: str, k: int, other: str, op: str, value: int) -> None:
        self.col, self.k, self.other, self.op, self.value = col, k, other, op, value

    def expr(self) -> Any:
        col = getattr(Item.c, self.col)
        chosen = case((col > self.k, col), else_=getattr(Item.c, self.other))
        return OPS[self.op](chosen, self.value)

    def eval(self, row: dict[str, Any]) -> Tri:
        chosen = row[self.col] if compare(row[self.col], ">", self.k) is True else row[self.other]
        return compare(chosen, self.op, self.value)

    def __repr__(self) -> str:
        return f"(CASE WHEN {self.col} > {self.k} THEN {self.col} ELSE {self.other} END {self.op} {self.value})"


class CastCmp(P):
    """``CAST(col AS TEXT) = 'n'`` or ``CAST(col AS REAL) <op> n``."""

    def __init__(self, col: str, to_text: bool, op: str, value: int) -> None:
        self.col, self.to_text, self.op, self.value = col, to_text, op, value

    def expr(self) -> Any:
        col = getattr(Item.c, self.col)
        if self.to_text:
            return cast(col, str) == str(self.value)
        return OPS[self.op](cast(col, float), self.value + 0.5)

    def eval(self, row: dict[str, Any]) -> Tri:
        x = row[self.col]
        if self.to_text:
            return None if x is None else str(x) == str(self.value)
        return compare(None if x is None else float(x), self.op, self.value + 0.5)

    def __repr__(self) -> str:
        return f"(CAST({self.col}) {'text' if self.to_text else self.op} {self.value})"


def _substring(s: str, start: int, length: int) -> str:
    return s[start - 1:start - 1 + length]


STRING_FUNCTIONS: dict[str, tuple[Any, Any]] = {
    "length": (lambda c: func.length(c), len),
    "upper": (lambda c: func.upper(c), str.upper),
    "substring": (lambda c: func.substring(c, 2, 2), lambda s: _substring(s, 2, 2)),
    "position": (lambda c: func.position("b", c), lambda s: s.find("b") + 1),
    "replace": (lambda c: func.replace(c, "b", "xy"), lambda s: s.replace("b", "xy")),
    "concat": (lambda c: func.concat(c, "!"), lambda s: s + "!"),
    "trim": (lambda c: func.trim(func.concat(" ", c, " ")), lambda s: s.strip(" ")),
}


class StrCmp(P):
    """A string function of ``s`` compared with a value of its result type."""

    def __init__(self, name: str, op: str, value: Any) -> None:
        self.name, self.op, self.value = name, op, value

    def _value(self) -> Any:
        if self.name in ("length", "position"):
            return self.value if isinstance(self.value, int) else len(self.value)
        return self.value if isinstance(self.value, str) else "b" * self.value

    def expr(self) -> Any:
        return OPS[self.op](STRING_FUNCTIONS[self.name][0](Item.c.s), self._value())

    def eval(self, row: dict[str, Any]) -> Tri:
        s = row["s"]
        return compare(None if s is None else STRING_FUNCTIONS[self.name][1](s), self.op,
                       self._value())

    def __repr__(self) -> str:
        return f"({self.name}(s) {self.op} {self._value()!r})"


def _trunc(d: dt.date, unit: str) -> dt.datetime:
    if unit == "year":
        d = d.replace(month=1, day=1)
    elif unit == "quarter":
        d = d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    elif unit == "month":
        d = d.replace(day=1)
    elif unit == "week":
        d = d - dt.timedelta(days=d.weekday())
    return dt.datetime(d.year, d.month, d.day)


class DateCmp(P):
    """``date_trunc(unit, d) = value`` or ``date_diff('day', d, pivot) <op> n``."""

    PIVOT = dt.date(2024, 3, 1)

    def __init__(self, unit: str, trunc: bool, op: str, n: int, pick: int) -> None:
        self.unit, self.trunc, self.op, self.n, self.pick = unit, trunc, op, n, pick

    def _target(self) -> dt.datetime:
        base = [r["d"] for r in ROWS if r["d"] is not None][self.pick % 8]
        return _trunc(base, self.unit)

    def expr(self) -> Any:
        if self.trunc:
            return func.date_trunc(self.unit, Item.c.d) == self._target()
        return OPS[self.op](func.date_diff("day", Item.c.d, self.PIVOT), self.n * 20)

    def eval(self, row: dict[str, Any]) -> Tri:
        d = row["d"]
        if d is None:
            return None
        if self.trunc:
            return _trunc(d, self.unit) == self._target()
        return OPS[self.op]((self.PIVOT - d).days, self.n * 20)

    def __repr__(self) -> str:
        if self.trunc:
            return f"(date_trunc({self.unit!r}, d) = {self._target()})"
        return f"(date_diff(day, d, {self.PIVOT}) {self.op} {self.n * 20})"


cols = st.sampled_from(["a", "b"])
values = st.one_of(st.none(), st.integers(-2, 6))
leaves = st.one_of(
    st.builds(Cmp, cols, st.sampled_from(list(OPS)), st.one_of(values, cols)),
    st.builds(In, cols, st.lists(values, max_size=4), st.booleans()),
    st.builds(Like, st.sampled_from(["a%", "%c", "_b%", "%", "", "a\\_c", "%x", "b"]), st.booleans()),
    st.builds(Between, cols, values, values, st.booleans()),
    st.builds(IsNull, cols, st.booleans()),
    st.builds(CaseCmp, cols, st.integers(-1, 4), cols, st.sampled_from(list(OPS)),
              st.integers(-2, 6)),
    st.builds(CastCmp, cols, st.booleans(), st.sampled_from(list(OPS)), st.integers(-2, 6)),
    st.builds(StrCmp, st.sampled_from(list(STRING_FUNCTIONS)), st.sampled_from(list(OPS)),
              st.one_of(st.integers(0, 4), st.sampled_from(["", "b", "bc", "BCD", "axyc", "abc!"]))),
    st.builds(DateCmp, st.sampled_from(["year", "quarter", "month", "week", "day"]),
              st.booleans(), st.sampled_from(list(OPS)), st.integers(-12, 12), st.integers(0, 7)),
)
predicates = st.recursive(
    leaves,
    lambda inner: st.one_of(st.builds(And, inner, inner), st.builds(Or, inner, inner),
                            st.builds(Not, inner)),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = Path(tmp_path_factory.mktemp("prop")) / "items.db"
    db = Database(str(path))
    db.bind(Item)
    db.create_tables(Item)
    for row in ROWS:
        Item.create(**row)
    duck = duckdb.connect()
    duck.execute('CREATE TABLE "prop_items" ("id" BIGINT PRIMARY KEY, "a" BIGINT, "b" BIGINT, '
                 '"s" TEXT, "d" DATE)')
    duck.executemany('INSERT INTO "prop_items" VALUES (?, ?, ?, ?, ?)',
                     [(r["id"], r["a"], r["b"], r["s"], r["d"]) for r in ROWS])
    yield db, duck
    duck.close()
    db.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pred=predicates)
def test_sqlite_duckdb_and_python_agree(engines: Any, pred: P) -> None:
    db, duck = engines
    expected = [r["id"] for r in ROWS if pred.eval(r) is True]
    query = Item.query().where(pred.expr()).order_by(Item.c.id)
    got_sqlite = [item.id for item in query.all()]
    assert got_sqlite == expected, (pred, query.to_sql())
    sql, params = query.select(Item.c.id).to_sql("duckdb")
    got_duck = [r[0] for r in duck.execute(sql, params).fetchall()]
    assert got_duck == expected, (pred, sql, params)
