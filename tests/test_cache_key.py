"""Shape keys: the compile cache's key must change exactly when the SQL text would.

Three kinds, as in statement-cache test suites: shapes whose keys must differ, the same shape
with random values (equal keys, equal SQL), and a meta-test that every node class has a fixture
here and a lowering handler in the compiler.
"""

from __future__ import annotations

import pytest
from helpers import Doc, Order, Reserved, User
from hypothesis import given, settings
from hypothesis import strategies as st

from activeq import (
    BindParam,
    Column,
    Table,
    UnknownDialectError,
    UnsupportedError,
    case,
    cast,
    exists,
    extract,
    func,
    text,
)
from activeq import ast as a
from activeq import expressions as x
from activeq import sources as src
from activeq.compiler import LOWER, Compiler, compiler
from activeq.query import Delete, Insert, Update

U = User.c
O = Order.c  # noqa: E741 - mirrors U
Q = User.query
M = User.alias("m")
N = User.alias("n")


def _totals(name="t", minimum=1):
    return Order.query().select(O.user_id, func.sum(O.total).as_("s")).where(
        O.total > minimum).group_by("user_id").subquery(name)


def _cte(name="c", recursive=False):
    return Order.query().select(O.user_id).cte(name, recursive)


def _names():
    return Q().select("name")


def _events(schema=None, kind=str, name="events", column="kind"):
    # A Table is built anew each time: equal shapes must share a key, different ones never.
    return Table(name, Column("id", int, primary_key=True), Column(column, kind), schema=schema)


EV = _events()


# --- 1. shapes that must differ --------------------------------------------------------------

DIFFERENT = {
    "operator": (Q().where(U.age > 1), Q().where(U.age < 1)),
    "equal vs not equal": (Q().where(U.age == 1), Q().where(U.age != 1)),
    "column": (Q().where(U.age > 1), Q().where(U.id > 1)),
    "table": (Q().where(U.id == 1), Order.query().where(O.id == 1)),
    "== None vs == value": (Q().where(U.age == None), Q().where(U.age == 1)),  # noqa: E711
    "is null vs is not null": (Q().where(U.age.is_null()), Q().where(U.age.is_not_null())),
    "and vs or": (Q().where((U.id == 1) & (U.age == 2)), Q().where((U.id == 1) | (U.age == 2))),
    "not": (Q().where(U.id == 1), Q().where(~(U.id == 1))),
    "grouping": (
        Q().where(((U.id == 1) | (U.id == 2)) & (U.id == 3)),
        Q().where((U.id == 1) | ((U.id == 2) & (U.id == 3))),
    ),
    "two wheres vs one": (Q().where(U.id == 1, U.age == 2), Q().where(U.id == 1)),
    "value vs column on the right": (Q().where(U.age > 1), Q().where(U.age > U.id)),
    "in vs not in": (Q().where(U.id.is_in([1])), Q().where(U.id.not_in([1]))),
    "in list vs in subquery": (
        Q().where(U.id.is_in([1])),
        Q().where(U.id.is_in(Order.query().select(O.user_id))),
    ),
    "subquery content": (
        Q().where(U.id.is_in(Order.query().select(O.user_id))),
        Q().where(U.id.is_in(Order.query().select(O.id))),
    ),
    "like vs ilike": (Q().where(U.name.like("a")), Q().where(U.name.ilike("a"))),
    "like vs not like": (Q().where(U.name.like("a")), Q().where(U.name.not_like("a"))),
    "between vs not between": (Q().where(U.age.between(1, 2)), Q().where(U.age.not_between(1, 2))),
    "arithmetic operator": (Q().where(U.age + 1 > 2), Q().where(U.age - 1 > 2)),
    "function name": (Q().select(func.lower(U.name)), Q().select(func.upper(U.name))),
    "count distinct": (Q().select(func.count(U.age)), Q().select(func.count(U.age, distinct=True))),
    "alias name": (Q().select(U.name.as_("a")), Q().select(U.name.as_("b"))),
    "select list": (Q().select("id"), Q().select("id", "name")),
    "select order": (Q().select("id", "name"), Q().select("name", "id")),
    "all columns vs explicit": (Q(), Q().select("id")),
    "direction": (Q().order_by(U.id.asc()), Q().order_by(U.id.desc())),
    "nulls placement": (Q().order_by(U.id.desc()), Q().order_by(U.id.desc().nulls_first())),
    "nulls first vs last": (
        Q().order_by(U.id.asc().nulls_first()),
        Q().order_by(U.id.asc().nulls_last_()),
    ),
    "order by vs none": (Q().order_by(U.id), Q()),
    "limit None vs set": (Q(), Q().limit(5)),
    "offset None vs set": (Q().limit(5), Q().limit(5).offset(1)),
    "distinct": (Q().select("status"), Q().select("status").distinct()),
    "group by": (Q().select("status"), Q().select("status").group_by(U.status)),
    "having": (
        Q().select("status").group_by(U.status),
        Q().select("status").group_by(U.status).having(func.count() > 1),
    ),
    "join kind": (
        Q().join(Order, U.id == O.user_id),
        Q().left_join(Order, U.id == O.user_id),
    ),
    "join condition": (
        Q().join(Order, U.id == O.user_id),
        Q().join(Order, U.id == O.id),
    ),
    "join target": (
        Q().join(Order, U.id == O.user_id),
        Q().join(Reserved, U.id == Reserved.c.id),
    ),
    "exists vs not exists": (
        Q().where(exists(Order.query().where(O.user_id == U.id))),
        Q().where(~exists(Order.query().where(O.user_id == U.id))),
    ),
    "bind name": (Q().where(U.id == BindParam("a")), Q().where(U.id == BindParam("b"))),
    "bind vs value": (Q().where(U.id == BindParam("a")), Q().where(U.id == 1)),
    "update columns": (
        Update.build(Q().where(U.id == 1), {"name": "x"}, False),
        Update.build(Q().where(U.id == 1), {"email": "x"}, False),
    ),
    "update value vs expression": (
        Update.build(Q().where(U.id == 1), {"age": 1}, False),
        Update.build(Q().where(U.id == 1), {"age": U.age + 1}, False),
    ),
    "delete where": (
        Delete.build(Q().where(U.id == 1), False),
        Delete.build(Q().where(U.id > 1), False),
    ),
    "insert columns": (Insert(User, ("name", "email")), Insert(User, ("name", "email", "age"))),
    "update vs delete": (
        Update.build(Q().where(U.id == 1), {"name": "x"}, False),
        Delete.build(Q().where(U.id == 1), False),
    ),
    # FROM items, set operations and the rarer clauses
    "table alias name": (M.query(), N.query()),
    "alias vs table": (M.query().select(M.c.id), Q().select(U.id)),
    "alias of another model": (M.query(), Order.alias("m").query()),
    "self-join alias": (Q().join(M, U.id == M.c.id), Q().join(N, U.id == N.c.id)),
    "subquery name": (_totals("t").query(), _totals("u").query()),
    "derived table content": (
        _totals().query(),
        Order.query().select(O.user_id, func.max(O.total).as_("s")).group_by("user_id")
        .subquery("t").query(),
    ),
    "subquery vs cte": (
        Order.query().select(O.user_id).subquery("c").query(), _cte("c").query(),
    ),
    "cte name": (_cte("c").query(), _cte("d").query()),
    "cte recursive": (_cte("c").query(), _cte("c", True).query()),
    "join target subquery vs cte": (
        Q().join(Order.query().select(O.user_id).subquery("c"), U.id == _cte("c").c.user_id),
        Q().join(_cte("c"), U.id == _cte("c").c.user_id),
    ),
    "cross join vs inner join": (Q().cross_join(M), Q().join(M, U.id == M.c.id)),
    "union vs union all": (_names().union(_names()), _names().union_all(_names())),
    "intersect vs except": (_names().intersect(_names()), _names().except_(_names())),
    "set operation member": (
        _names().union(_names()), _names().union(Q().select("email")),
    ),
    "set operation order": (
        _names().union(_names()).order_by("name"), _names().union(_names()).order_by("-name"),
    ),
    "order by alias vs column": (
        Q().select(func.lower(U.name).as_("name")).order_by("name"),
        Q().select(func.lower(U.name).as_("x")).order_by(U.name),
    ),
    "ordinal": (Q().select("id", "name").order_by(1), Q().select("id", "name").order_by(2)),
    "group by position vs alias": (
        Q().select(func.lower(U.name).as_("l")).group_by(1),
        Q().select(func.lower(U.name).as_("l")).group_by("l"),
    ),
    "for update vs none": (Q().where(U.id == 1), Q().where(U.id == 1).for_update()),
    "for update skip locked vs nowait": (
        Q().for_update(skip_locked=True), Q().for_update(nowait=True),
    ),
    "distinct on columns": (Q().distinct_on(U.status), Q().distinct_on(U.name)),
    "case branches": (
        Q().select(case((U.age > 1, "a"), else_="b")),
        Q().select(case((U.age > 1, "a"), (U.age > 2, "c"), else_="b")),
    ),
    "case with vs without else": (
        Q().select(case((U.age > 1, "a"), else_="b")),
        Q().select(case((U.age > 1, "a"))),
    ),
    "case value vs column": (
        Q().select(case((U.age > 1, "a"))),
        Q().select(case((U.age > 1, U.name))),
    ),
    "cast type": (Q().select(cast(U.age, str)), Q().select(cast(U.age, float))),
    "cast vs plain": (Q().select(cast(U.age, int)), Q().select(U.age)),
    "date unit": (
        Q().select(func.date_trunc("month", U.name)),
        Q().select(func.date_trunc("year", U.name)),
    ),
    "text fragment": (
        Q().where(text("age > :n", n=1)),
        Q().where(text("age < :n", n=1)),
    ),
    "text marker position": (
        Q().where(text("age > :n + 1", n=1)),
        Q().where(text("age > 1 + :n", n=1)),
    ),
    "window partition": (
        Q().select(func.row_number().over(partition_by=U.status, order_by=U.id)),
        Q().select(func.row_number().over(order_by=U.id)),
    ),
    "window order": (
        Q().select(func.row_number().over(order_by=U.id)),
        Q().select(func.row_number().over(order_by=U.id.desc())),
    ),
    "window frame rows vs range": (
        Q().select(func.sum(U.age).over(order_by=U.id, rows=(None, 0))),
        Q().select(func.sum(U.age).over(order_by=U.id, range_=(None, 0))),
    ),
    "window frame bounds": (
        Q().select(func.sum(U.age).over(order_by=U.id, rows=(-1, 0))),
        Q().select(func.sum(U.age).over(order_by=U.id, rows=(-2, 0))),
    ),
    "window vs aggregate": (
        Q().select(func.sum(U.age).over()),
        Q().select(func.sum(U.age)),
    ),
    "grouped values equal vs different": (
        Q().select(U.name + "x").group_by(U.name + "x"),
        Q().select(U.name + "x").group_by(U.name + "y"),
    ),
    "table vs model of the same name": (
        _events(name="users").query().where(_events(name="users").c.id == 1), Q().where(U.id == 1),
    ),
    "table schema": (_events().query(), _events(schema="analytics").query()),
    "table column type": (
        _events().query().where(EV.c.id == 1),
        _events(kind=int).query().where(_events(kind=int).c.id == 1),
    ),
    "table column name": (_events().query(), _events(column="sort").query()),
    "joined table schema": (
        Q().join(EV, EV.c.id == U.id), Q().join(_events(schema="a"), EV.c.id == U.id),
    ),
    "scalar subquery content": (
        Q().where(U.age == Order.query().select(func.max(O.total)).scalar_subquery()),
        Q().where(U.age == Order.query().select(func.min(O.total)).scalar_subquery()),
    ),
}


def _sql(stmt, dialect="sqlite"):
    return compiler.compile(stmt, dialect)[0].sql


# A BindParam's name is in the key (a compiled statement binds by name) but not in the text.
# SQLite renders no FOR UPDATE clause at all (see Query.for_update).
# Equal grouped values share one numbered placeholder where the dialect numbers them (DuckDB,
# PostgreSQL); SQLite's "?" repeats either way.
# A Table column's type is in the key (results are converted by it) but not in the text.
SAME_TEXT = {"bind name", "bind vs value", "for update vs none", "grouped values equal vs different",
             "table column type"}
# Shapes only PostgreSQL renders.
POSTGRES_ONLY = {"for update skip locked vs nowait", "distinct on columns"}


def test_grouped_values_equal_or_not_render_differently_where_placeholders_are_numbered():
    left, right = DIFFERENT["grouped values equal vs different"]
    assert _sql(left, "duckdb").count("$1") == 2
    assert _sql(right, "duckdb").count("?") == 2


@pytest.mark.parametrize("name", list(DIFFERENT))
def test_different_shapes_have_different_keys_and_sql(name):
    left, right = DIFFERENT[name]
    assert left.key != right.key
    dialect = "postgres" if name in POSTGRES_ONLY else "sqlite"
    assert (_sql(left, dialect) == _sql(right, dialect)) is (name in SAME_TEXT)


def test_every_pair_of_different_shapes_is_distinct():
    stmts = [s for pair in DIFFERENT.values() for s in pair]
    by_key = {}
    for stmt in stmts:
        by_key.setdefault(stmt.key, set()).add(_sql(stmt, "postgres"))
    # Equal keys must always mean equal SQL (a collision would serve the wrong statement).
    assert all(len(sqls) == 1 for sqls in by_key.values())


def test_dialect_is_part_of_the_cache_key():
    fresh = Compiler()
    q = Q().where(U.id == 1)
    sqlite_entry, _ = fresh.compile(q, "sqlite")
    postgres_entry, hit = fresh.compile(q, "postgres")
    assert not hit
    assert sqlite_entry.sql != postgres_entry.sql
    assert fresh.misses == 2


# --- 2. same shape, random values ------------------------------------------------------------

# Values of the column's type: a value of another type is refused when the comparison is built.
numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
scalars = st.one_of(numbers, st.text(max_size=20), st.booleans())


@settings(max_examples=60, deadline=None)
@given(
    a1=numbers,
    a2=numbers,
    b1=st.text(max_size=10),
    b2=st.text(max_size=10),
    ids1=st.lists(st.integers(0, 10**6), max_size=30),
    ids2=st.lists(st.integers(0, 10**6), max_size=30),
    off1=st.integers(0, 10**6),
    off2=st.integers(0, 10**6),
)
def test_same_shape_with_random_values_has_equal_keys_and_sql(
    a1, a2, b1, b2, ids1, ids2, off1, off2
):
    def build(a_, b_, ids, off):
        return (
            Q()
            .select(U.id, (U.age + a_).as_("x"))
            .where((U.age > a_) | U.name.like(b_), U.id.is_in(ids), U.email.between(b_, b_))
            .order_by(U.id.desc())
            .limit(10)
            .offset(off)
        )

    q1, q2 = build(a1, b1, ids1, off1), build(a2, b2, ids2, off2)
    assert q1.key == q2.key
    assert hash(q1.key) == hash(q2.key)
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        sql1, params1 = q1.to_sql(dialect)
        sql2, params2 = q2.to_sql(dialect)
        assert sql1 == sql2
        assert len(params1) == len(params2)
    assert q1.params == (a1, a1, b1, tuple(ids1), b1, b1, 10, off1)


@settings(max_examples=40, deadline=None)
@given(n1=st.integers(0, 2**63 - 1), n2=st.integers(0, 2**63 - 1), off=st.integers(0, 10**6))
def test_the_limit_count_is_part_of_the_shape_and_postgres_writes_it_in_the_text(n1, n2, off):
    # A bound LIMIT makes PostgreSQL plan a prepared statement on every run: its text holds the
    # count, so the count is part of the shape; OFFSET stays bound.
    q1, q2 = Q().where(U.age > 1).limit(n1).offset(off), Q().where(U.age > 1).limit(n2).offset(off)
    assert (q1.key == q2.key) is (n1 == n2)
    assert Q().where(U.age > 2).limit(n1).key == Q().where(U.age > 3).limit(n1).key
    sql, params = q1.to_sql("postgres")
    assert sql.endswith(f'WHERE "users"."age" > %s LIMIT {n1} OFFSET %s') and params == [1, off]
    for dialect in ("sqlite", "mysql", "duckdb"):
        sql1, params1 = q1.to_sql(dialect)
        sql2, params2 = q2.to_sql(dialect)
        assert sql1 == sql2 and str(n1) not in sql1.split("LIMIT")[1].replace(str(off), "")
        assert params1 == [1, n1, off] and params2 == [1, n2, off]


@pytest.mark.parametrize("dialect", ["sqlite", "mysql", "duckdb"])
def test_counts_a_dialect_binds_share_one_rendering(dialect, monkeypatch):
    # The count is in the shape for PostgreSQL's sake; where it is bound, a query that
    # differs by its count alone takes the rendering of the first, and is a hit.
    fresh = Compiler()
    renders = []
    render = fresh.render
    monkeypatch.setattr(fresh, "render", lambda *args: renders.append(args) or render(*args))
    shapes = [Q().where(U.age > 1).order_by(U.id).limit(n) for n in (5, 6, 7)]
    shapes += [Q().select(U.id, U.name).where(U.age > 1).limit(n) for n in (5, 6)]
    entries = [fresh.compile(q, dialect) for q in shapes]
    assert len(renders) == 2
    assert [hit for _, hit in entries] == [False, True, True, False, True]
    assert (fresh.hits, fresh.misses) == (3, 2)
    assert entries[0][0] is entries[1][0] is entries[2][0]
    assert list(entries[0][0].values(shapes[2].params)) == [1, 7]
    # Each count is then a key of its own: the next query of that count is a plain hit.
    assert fresh.lookup((dialect, shapes[1].key)) is entries[0][0]
    # Without a limit, or with another paramstyle, nothing is shared.
    fresh.compile(Q().where(U.age > 1).order_by(U.id), dialect)
    fresh.compile(shapes[0], dialect, "named")
    assert len(renders) == 4


def test_postgres_renders_each_count_of_its_own():
    fresh = Compiler()
    first, _ = fresh.compile(Q().where(U.age > 1).limit(5), "postgres")
    second, hit = fresh.compile(Q().where(U.age > 1).limit(6), "postgres")
    assert not hit and fresh.misses == 2
    assert first.sql.endswith("LIMIT 5") and second.sql == first.sql[:-1] + "6"


def test_the_count_free_key_leaves_out_the_count_only():
    assert Q().limit(3).count_free_key == Q().limit(4).count_free_key != Q().limit(3).key
    assert Q().where(U.age > 1).limit(3).count_free_key != Q().where(U.age < 1).limit(3).count_free_key
    assert Q().limit(3).count_free_key != Q().limit(3).offset(2).count_free_key
    assert Q().where(U.age > 1).count_free_key is None
    assert Q().select(U.id).limit(2).count_free_key == Q().select(U.id).limit(9).count_free_key


@settings(max_examples=40, deadline=None)
@given(v1=numbers, v2=numbers, k1=int64, k2=int64, t1=st.text(max_size=20),
       t2=st.text(max_size=20))
def test_write_statements_with_random_values_share_a_shape(v1, v2, k1, k2, t1, t2):
    u1 = Update.build(Q().where(U.id == k1), {"age": U.age + v1}, False)
    u2 = Update.build(Q().where(U.id == k2), {"age": U.age + v2}, False)
    assert u1.key == u2.key and _sql(u1) == _sql(u2)
    assert u1.params == (v1, k1)
    d1, d2 = (
        Delete.build(Q().where(U.name == t1), False),
        Delete.build(Q().where(U.name == t2), False),
    )
    assert d1.key == d2.key and _sql(d1) == _sql(d2)


@settings(max_examples=40, deadline=None)
@given(v1=numbers, v2=numbers, n1=int64, n2=int64, t1=st.text(max_size=8),
       t2=st.text(max_size=8))
def test_from_items_and_set_operations_with_random_values_share_a_shape(v1, v2, n1, n2, t1, t2):
    def build(v, n, t):
        totals = _totals("t", v)
        recent = Order.query().select(O.user_id, O.total).where(O.note == t).cte("recent")
        counter = Q().select(func.min(U.id).as_("k")).cte("k", recursive=True)
        counter = counter.union_all(counter.query().select((counter.c.k + n).as_("k")))
        return (
            Q()
            .join(M, (M.c.id == U.id) & (M.c.age > n))
            .join(totals, totals.c.user_id == U.id)
            .join(recent, recent.c.user_id == U.id)
            .where(U.id.is_in(counter.query().select(counter.c.k).limit(5)))
            .select(U.name.as_("who"), totals.c.s, recent.c.total)
            .union_all(Q().select(U.name, U.age, U.id).where(U.name == t))
            .order_by("-who", 2)
            .limit(3)
        )

    q1, q2 = build(v1, n1, t1), build(v2, n2, t2)
    assert q1.key == q2.key
    assert hash(q1.key) == hash(q2.key)
    assert q1.params == (n1, v1, t1, n1, 5, t1, 3)
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        sql1, params1 = q1.to_sql(dialect)
        sql2, params2 = q2.to_sql(dialect)
        assert sql1 == sql2
        # One value per placeholder, in text order: the CTE definitions come first. PostgreSQL
        # writes the LIMIT counts in the text.
        limits = [] if dialect == "postgres" else [5, t1, 3]
        assert params1 == [t1, n1, n1, v1, *limits] if limits else params1 == [t1, n1, n1, v1, t1]


@settings(max_examples=60, deadline=None)
@given(v1=numbers, v2=numbers, w1=scalars, w2=scalars, n1=int64, n2=int64)
def test_expression_nodes_with_random_values_share_a_shape(v1, v2, w1, w2, n1, n2):
    def build(v, w, n):
        return (
            Q()
            .select(
                case((U.age > v, w), else_=v).as_("c"),
                cast(v, str),
                func.date_trunc("day", U.name),
                func.lag(U.age, n).over(partition_by=U.age + v, order_by=U.id, rows=(-2, 0)),
            )
            .where(text("age > :a AND name <> :b", a=v, b=w))
            .where(U.age == Order.query().select(func.max(O.total)).where(O.id > n).scalar_subquery())
        )

    q1, q2 = build(v1, w1, n1), build(v2, w2, n2)
    assert q1.key == q2.key and hash(q1.key) == hash(q2.key)
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        assert q1.to_sql(dialect)[0] == q2.to_sql(dialect)[0]
    assert q1.params == (v1, w1, v1, v1, n1, v1, v1, w1, n1)


@settings(max_examples=60, deadline=None)
@given(v1=st.text(max_size=5), v2=st.text(max_size=5), n1=int64, n2=int64)
def test_grouped_queries_with_random_values_share_a_shape(v1, v2, n1, n2):
    def build(v, n):
        label = U.name + v
        return Q().select(label, func.count()).where(U.age > n).group_by(label).order_by(label)

    q1, q2 = build(v1, n1), build(v2, n2)
    assert q1.key == q2.key
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        assert q1.to_sql(dialect)[0] == q2.to_sql(dialect)[0]
    assert q1.to_sql("duckdb")[1] == [v1, n1]


@settings(max_examples=40, deadline=None)
@given(k1=int64, k2=int64, t1=st.text(max_size=8), t2=st.text(max_size=8))
def test_tables_of_one_shape_share_keys_and_statements_with_random_values(k1, k2, t1, t2):
    def build(k, t):
        # A Table declared again (as a reflection would) is the same shape.
        ev = _events()
        return (Q().join(ev, ev.c.id == U.id).where(ev.c.kind == t, U.id > k)
                .select(U.name, ev.c.kind))

    q1, q2 = build(k1, t1), build(k2, t2)
    assert q1.key == q2.key and hash(q1.key) == hash(q2.key)
    assert q1.params == (t1, k1)
    ev1, ev2 = _events(), _events()
    w1 = Update.build(ev1.query().where(ev1.c.id == k1), {"kind": t1}, False)
    w2 = Update.build(ev2.query().where(ev2.c.id == k2), {"kind": t2}, False)
    assert w1.key == w2.key
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        assert q1.to_sql(dialect)[0] == q2.to_sql(dialect)[0]
        assert _sql(w1, dialect) == _sql(w2, dialect)


def test_in_list_length_is_not_part_of_the_shape():
    keys = {Q().where(U.id.is_in(range(n))).key for n in (0, 1, 2, 1000)}
    assert len(keys) == 1


# --- 3. meta: every node class has a fixture and a handler ------------------------------------

FIXTURES: dict[type, a.Node] = {
    a.ColumnRef: U.id,
    a.Param: a.Param(1),
    a.BindParam: BindParam("p"),
    a.Star: a.Star(),
    a.Compare: U.id == U.age,
    a.CompareValue: U.id == 1,
    a.Arith: U.age + 1,
    a.BoolOp: (U.id == 1) & (U.age == 2),
    a.Not: ~(U.id == 1),
    a.IsNull: U.age == None,  # noqa: E711
    a.InList: U.id.is_in([1, 2]),
    a.InQuery: U.id.is_in(Order.query().select(O.user_id)),
    a.Like: U.name.like("a%"),
    a.Between: U.age.between(1, 2),
    a.Func: func.lower(U.name),
    a.Alias: U.name.as_("n"),
    a.Ordering: U.id.desc(),
    a.OutputColumn: a.OutputColumn("n"),
    a.Exists: exists(Order.query()),
    a.SubqueryExpr: Order.query().select(func.count()).scalar_subquery(),
    a.Window: func.row_number().over(partition_by=U.status, order_by=U.id, rows=(None, 0)),
    a.JsonColumn: Doc.c.meta,
    a.JsonPath: Doc.c.meta["a"]["b"],
    a.Extract: extract("dow", Doc.c.created_at),
    x.Case: case((U.age > 1, "a"), else_=U.name),
    x.Cast: cast(U.age, str),
    x.Keyword: x.Keyword("month"),
    x.Text: text("length(name) > :n", n=3),
}

SOURCE_FIXTURES: dict[type, a.Node] = {
    src.TableAlias: User.alias("m"),
    src.Subquery: Order.query().select(O.id).where(O.total > 424242).subquery("s"),
    src.CTE: Order.query().select(O.id).where(O.total > 424242).cte("c"),
    src.SetOperation: src.SetOperation(
        "UNION", Q().select("id").where(U.age > 424242), Order.query().select(O.id)),
}

#: Every node class, wherever activeq defines it.
ALL_NODE_TYPES = set(a.NODE_TYPES) | set(x.EXPRESSION_NODES) | set(src.SOURCE_TYPES)
#: Bases that only share code between node classes and never appear in a tree.
ABSTRACT_NODES = (a.Node, a.Expr, src.FromItem, src._Derived)


def _defined_node_classes() -> set[type]:
    found = set()
    todo = [a.Node]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("activeq.") and sub not in ABSTRACT_NODES:
                found.add(sub)
    return found


def test_node_type_lists_name_every_node_class_activeq_defines():
    assert ALL_NODE_TYPES == _defined_node_classes()


def test_every_node_type_has_a_fixture_and_a_lowering_handler():
    assert set(FIXTURES) | set(SOURCE_FIXTURES) == ALL_NODE_TYPES
    assert ALL_NODE_TYPES <= set(LOWER)
    for cls, node in {**FIXTURES, **SOURCE_FIXTURES}.items():
        assert type(node) is cls


def _query_using(cls, node):
    if cls is a.Ordering:
        return Q().order_by(node)
    if cls is a.OutputColumn:
        return Q().select(U.name.as_("n")).order_by(node)
    if cls is src.SetOperation:
        return node.left.union(node.right)
    if issubclass(cls, src.FromItem):
        return Q().cross_join(node)
    return Q().select(node)


@pytest.mark.parametrize("cls", list(FIXTURES) + list(SOURCE_FIXTURES), ids=lambda c: c.__name__)
def test_every_fixture_renders_in_every_dialect(cls):
    node = {**FIXTURES, **SOURCE_FIXTURES}[cls]
    q = _query_using(cls, node)
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        sql, params = q.to_sql(dialect)
        assert sql.startswith("WITH " if cls is src.CTE else "SELECT ")
        assert len(params) == len(q.params)


@pytest.mark.parametrize("cls", list(FIXTURES), ids=lambda c: c.__name__)
def test_every_fixture_has_a_hashable_value_free_key(cls):
    node = FIXTURES[cls]
    hash(node.key)
    assert isinstance(node.params, tuple)
    assert repr(1) not in repr(node.key) or cls is a.Func  # values never enter the shape


@pytest.mark.parametrize("cls", list(SOURCE_FIXTURES), ids=lambda c: c.__name__)
def test_every_source_fixture_has_a_hashable_value_free_key(cls):
    node = SOURCE_FIXTURES[cls]
    hash(node.key)
    assert isinstance(node.params, tuple)
    assert node.params == (() if cls is src.TableAlias else (424242,))
    assert "424242" not in repr(node.key)


# --- compile cache counters, LRU and errors ---------------------------------------------------


def test_cache_counts_hits_and_misses():
    fresh = Compiler()
    q = Q().where(U.id == 1)
    entry, hit = fresh.compile(q, "sqlite")
    assert (hit, fresh.hits, fresh.misses) == (False, 0, 1)
    again, hit = fresh.compile(Q().where(U.id == 2), "sqlite")
    assert (hit, fresh.hits, fresh.misses) == (True, 1, 1)
    assert again is entry
    fresh.compile(Q().where(U.id > 2), "sqlite")
    assert (fresh.hits, fresh.misses, len(fresh)) == (1, 2, 2)


def test_lru_is_bounded_and_evicts_the_least_recently_used():
    fresh = Compiler(maxsize=2)
    first, second, third = Q().where(U.id == 1), Q().where(U.id > 1), Q().where(U.id < 1)
    fresh.compile(first)
    fresh.compile(second)
    assert fresh.compile(first)[1] is True  # first is now the most recently used
    fresh.compile(third)  # evicts second
    assert len(fresh) == 2
    assert fresh.compile(first)[1] is True
    assert fresh.compile(second)[1] is False  # evicts third, the least recently used
    assert fresh.compile(third)[1] is False
    assert fresh.compile(second)[1] is True
    assert len(fresh) == 2


def test_overflow_evicts_the_least_recently_used_eighth_at_once():
    fresh = Compiler(maxsize=16)

    def shape(n: int):  # n conditions: a distinct shape per n
        q = Q()
        for _ in range(n):
            q = q.where(U.id == 1)
        return q

    for n in range(1, 17):
        fresh.compile(shape(n))
    for n in (1, 2, 3, 4):
        assert fresh.compile(shape(n))[1] is True  # now the most recently used
    fresh.compile(shape(17))  # overflows: 17 - 16 + 16 // 8 = 3 entries go
    assert len(fresh) == 14
    kept = {n for n in range(1, 18) if fresh.lookup(("sqlite", shape(n).key)) is not None}
    assert kept == set(range(1, 18)) - {5, 6, 7}


def test_clear_empties_the_cache():
    fresh = Compiler()
    fresh.compile(Q())
    fresh.clear()
    assert len(fresh) == 0
    assert fresh.compile(Q())[1] is False


def test_unknown_dialect_raises_unsupported_error_naming_it():
    with pytest.raises(UnsupportedError) as info:
        Compiler().compile(Q(), "oracle")
    assert isinstance(info.value, UnknownDialectError)
    assert info.value.dialect == "oracle"
    assert str(info.value) == "unknown dialect 'oracle': activeq renders sqlite, postgres, mysql, duckdb"


@pytest.mark.parametrize(("name", "placeholder"), [
    ("SQLite", "?"), ("Postgres", "%s"), ("POSTGRESQL", "%s"), ("MySQL", "%s"), ("DuckDB", "?")])
def test_dialect_names_are_case_insensitive(name, placeholder):
    sql, params = Q().where(U.age > 3).to_sql(name)
    assert sql.endswith(f'WHERE "users"."age" > {placeholder}') or sql.endswith(
        f"WHERE `users`.`age` > {placeholder}")
    assert params == [3]


def test_node_without_handler_raises_unsupported_error_naming_node_and_dialect():
    class Spaceship(a.Compare):
        __slots__ = ()

    node = Spaceship("<=>", U.age, a.Param(1))
    assert type(node) is Spaceship
    with pytest.raises(UnsupportedError) as info:
        Compiler().compile(Q().where(node), "postgres")
    assert (info.value.node, info.value.dialect) == ("Spaceship", "postgres")
    assert str(info.value).startswith("Spaceship is not supported by the postgres dialect")


def test_forgotten_from_item_shapes_cost_a_miss_never_a_wrong_statement():
    def big():
        return Order.query().select(O.user_id).where(O.total > 5).cte("big")

    first = big()
    src._SHAPES.clear()  # as when the table of known shapes overflows
    second = big()
    assert first.key != second.key  # a new number: the compile cache misses once
    assert first.c.user_id.key == second.c.user_id.key
    # Both stand for one definition: a statement using both defines it once.
    q = first.query().where(first.c.user_id.is_in(second.query()))
    assert q.to_sql() == (
        'WITH "big" AS (SELECT "orders"."user_id" FROM "orders" WHERE "orders"."total" > ?) '
        'SELECT "big"."user_id" FROM "big" WHERE "big"."user_id" IN (SELECT "big"."user_id" '
        'FROM "big")', [5])


def test_equal_values_in_unrelated_expressions_leave_a_grouped_shape_alone():
    def build(where_age, having_count):
        return (
            Q().select(U.status, func.count()).where(U.age > where_age)
            .group_by(U.status).having(func.count() > having_count)
        )

    assert build(5, 5).key == build(5, 6).key
    assert build(5, 5).to_sql("duckdb") == (
        'SELECT "users"."status", COUNT(*) FROM "users" WHERE "users"."age" > ? GROUP BY'
        ' "users"."status" HAVING COUNT(*) > ?', [5, 5])
