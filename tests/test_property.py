"""Differential property test: random predicate trees give the same rows on SQLite (through
activeq), on DuckDB (the duckdb rendering of the same query) and in a pure-Python evaluation
with SQL's three-valued logic."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activeq import ActiveRecord, Database, Field


class Item(ActiveRecord):
    __table_name__ = "prop_items"
    id: int = Field(primary_key=True)
    a: int | None = None
    b: int | None = None
    s: str | None = None


ROWS: list[dict[str, Any]] = [
    {"id": 1, "a": 1, "b": 1, "s": "abc"},
    {"id": 2, "a": 2, "b": None, "s": "bcd"},
    {"id": 3, "a": None, "b": 3, "s": None},
    {"id": 4, "a": None, "b": None, "s": "a_c"},
    {"id": 5, "a": 5, "b": 2, "s": ""},
    {"id": 6, "a": -1, "b": 0, "s": "ccc"},
    {"id": 7, "a": 0, "b": 7, "s": "%x"},
    {"id": 8, "a": 3, "b": 3, "s": "abd"},
    {"id": 9, "a": 2, "b": -2, "s": None},
    {"id": 10, "a": 4, "b": 1, "s": "b"},
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


cols = st.sampled_from(["a", "b"])
values = st.one_of(st.none(), st.integers(-2, 6))
leaves = st.one_of(
    st.builds(Cmp, cols, st.sampled_from(list(OPS)), st.one_of(values, cols)),
    st.builds(In, cols, st.lists(values, max_size=4), st.booleans()),
    st.builds(Like, st.sampled_from(["a%", "%c", "_b%", "%", "", "a\\_c", "%x", "b"]), st.booleans()),
    st.builds(Between, cols, values, values, st.booleans()),
    st.builds(IsNull, cols, st.booleans()),
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
    duck.execute('CREATE TABLE "prop_items" ("id" BIGINT PRIMARY KEY, "a" BIGINT, "b" BIGINT, "s" TEXT)')
    duck.executemany('INSERT INTO "prop_items" VALUES (?, ?, ?, ?)',
                     [(r["id"], r["a"], r["b"], r["s"]) for r in ROWS])
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
