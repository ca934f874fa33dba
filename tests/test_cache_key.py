"""Shape keys: the compile cache's key must change exactly when the SQL text would.

Three kinds, as in statement-cache test suites: shapes whose keys must differ, the same shape
with random values (equal keys, equal SQL), and a meta-test that every node class has a fixture
here and a lowering handler in the compiler.
"""

from __future__ import annotations

import inspect

import pytest
from helpers import Order, Reserved, User
from hypothesis import given, settings
from hypothesis import strategies as st

from activeq import BindParam, UnknownDialectError, UnsupportedError, exists, func
from activeq import ast as a
from activeq.compiler import LOWER, Compiler, compiler
from activeq.query import Delete, Insert, Update

U = User.c
O = Order.c  # noqa: E741 - mirrors U
Q = User.query


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
}


def _sql(stmt, dialect="sqlite"):
    return compiler.compile(stmt, dialect)[0].sql


# A BindParam's name is in the key (a compiled statement binds by name) but not in the text.
SAME_TEXT = {"bind name", "bind vs value"}


@pytest.mark.parametrize("name", list(DIFFERENT))
def test_different_shapes_have_different_keys_and_sql(name):
    left, right = DIFFERENT[name]
    assert left.key != right.key
    assert (_sql(left) == _sql(right)) is (name in SAME_TEXT)


def test_every_pair_of_different_shapes_is_distinct():
    stmts = [s for pair in DIFFERENT.values() for s in pair]
    by_key = {}
    for stmt in stmts:
        by_key.setdefault(stmt.key, set()).add(_sql(stmt))
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

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=20),
    st.floats(allow_nan=False),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(
    a1=scalars,
    a2=scalars,
    b1=st.text(max_size=10),
    b2=st.text(max_size=10),
    ids1=st.lists(st.integers(0, 10**6), max_size=30),
    ids2=st.lists(st.integers(0, 10**6), max_size=30),
    lim1=st.integers(0, 10**6),
    lim2=st.integers(0, 10**6),
)
def test_same_shape_with_random_values_has_equal_keys_and_sql(
    a1, a2, b1, b2, ids1, ids2, lim1, lim2
):
    def build(a_, b_, ids, lim):
        return (
            Q()
            .select(U.id, (U.age + a_).as_("x"))
            .where((U.age > a_) | U.name.like(b_), U.id.is_in(ids), U.email.between(b_, b_))
            .order_by(U.id.desc())
            .limit(lim)
            .offset(lim)
        )

    q1, q2 = build(a1, b1, ids1, lim1), build(a2, b2, ids2, lim2)
    assert q1.key == q2.key
    assert hash(q1.key) == hash(q2.key)
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        sql1, params1 = q1.to_sql(dialect)
        sql2, params2 = q2.to_sql(dialect)
        assert sql1 == sql2
        assert len(params1) == len(params2)
    assert q1.params == (a1, a1, b1, tuple(ids1), b1, b1, lim1, lim1)


@settings(max_examples=40, deadline=None)
@given(v1=scalars, v2=scalars, k1=st.integers(), k2=st.integers())
def test_write_statements_with_random_values_share_a_shape(v1, v2, k1, k2):
    u1 = Update.build(Q().where(U.id == k1), {"age": U.age + v1}, False)
    u2 = Update.build(Q().where(U.id == k2), {"age": U.age + v2}, False)
    assert u1.key == u2.key and _sql(u1) == _sql(u2)
    assert u1.params == (v1, k1)
    d1, d2 = (
        Delete.build(Q().where(U.name == v1), False),
        Delete.build(Q().where(U.name == v2), False),
    )
    assert d1.key == d2.key and _sql(d1) == _sql(d2)


def test_in_list_length_is_not_part_of_the_shape():
    keys = {Q().where(U.id.is_in(range(n))).key for n in (0, 1, 2, 1000)}
    assert len(keys) == 1


# --- 3. meta: every node class has a fixture and a handler ------------------------------------

FIXTURES: dict[type, a.Node] = {
    a.ColumnRef: U.id,
    a.Param: a.Param(1),
    a.BindParam: BindParam("p"),
    a.Star: a.Star(),
    a.Compare: U.id == 1,
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
    a.Exists: exists(Order.query()),
    a.SubqueryExpr: a.SubqueryExpr(Order.query().select(func.count())),
}


def _defined_node_classes() -> set[type]:
    return {
        obj
        for _, obj in inspect.getmembers(a, inspect.isclass)
        if issubclass(obj, a.Node) and obj.__module__ == a.__name__ and obj not in (a.Node, a.Expr)
    }


def test_node_types_lists_every_node_class_of_the_ast_module():
    assert set(a.NODE_TYPES) == _defined_node_classes()


def test_every_node_type_has_a_fixture_and_a_lowering_handler():
    assert set(FIXTURES) == set(a.NODE_TYPES)
    assert set(a.NODE_TYPES) <= set(LOWER)
    for cls, node in FIXTURES.items():
        assert type(node) is cls


@pytest.mark.parametrize("cls", list(FIXTURES), ids=lambda c: c.__name__)
def test_every_fixture_renders_in_every_dialect(cls):
    node = FIXTURES[cls]
    q = Q().order_by(node) if cls is a.Ordering else Q().select(node)
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        sql, params = q.to_sql(dialect)
        assert sql.startswith("SELECT ")
        assert len(params) == len(q.params)


@pytest.mark.parametrize("cls", list(FIXTURES), ids=lambda c: c.__name__)
def test_every_fixture_has_a_hashable_value_free_key(cls):
    node = FIXTURES[cls]
    hash(node.key)
    assert isinstance(node.params, tuple)
    assert repr(1) not in repr(node.key) or cls is a.Func  # values never enter the shape


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
