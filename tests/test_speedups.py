"""The shape walks in C (activeq/_speedups.c) against their definitions, activeq.query's
_py_shape and _py_common_shape.

The C walk is what every query takes where the extension is built, as in this suite's venv;
each test here compares its key, values and memo with the Python walk's on the same query, so
a difference in either shows as a failure, and checks that the Python fallback alone renders
the same statements.
"""

from __future__ import annotations

import pytest
from helpers import Order, User
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cache_key import DIFFERENT, FIXTURES, SOURCE_FIXTURES, _query_using

# The suite's venv builds the extension (make install): its absence fails here.
from activeq import _speedups, func, query
from activeq import sources as src

U = User.c
O = Order.c  # noqa: E741 - mirrors U


def _report(status: str, top: int, age: int):
    """A report query of the shapes the W12 benchmark builds: CTEs over groups, a window,
    joins of models, aliases and CTEs, a grouped value (the sharing-signature path)."""
    spend = (Order.query().select(O.user_id, func.sum(O.total).as_("spent"), func.count().as_("n"))
             .where(O.note == status).group_by(O.user_id).cte("spend"))
    ranked = (spend.query()
              .select(spend.c.user_id, spend.c.spent,
                      func.rank().over(order_by=spend.c.spent.desc()).as_("rnk"))
              .cte("ranked"))
    peer = User.alias("peer")
    return (User.query()
            .join(ranked, ranked.c.user_id == U.id)
            .join(spend, spend.c.user_id == U.id)
            .join(Order, O.user_id == U.id)
            .left_join(peer, (peer.c.age == U.age) & (peer.c.id == U.id + 1))
            .select(U.id, U.name, ranked.c.rnk, (U.age + age).as_("older"), peer.c.name.as_("p"))
            .where(ranked.c.rnk <= top, U.name != status)
            .group_by(U.id, U.name, ranked.c.rnk, U.age + age, peer.c.name)
            .having(func.count() > top)
            .order_by("-older", U.id)
            .limit(top)
            .offset(age))


def _queries():
    out = [q for pair in DIFFERENT.values() for q in pair if isinstance(q, query.Query)]
    for cls, node in {**FIXTURES, **SOURCE_FIXTURES}.items():
        out.append(_query_using(cls, node))
    out += [
        _report("paid", 5, 3),
        User.query().cross_join(Order).select(U.id, O.id),
        User.query().distinct_on(U.status).order_by(U.status, U.id),
        User.query().select(U.status).union_all(Order.query().select(O.note)).order_by(1),
        Order.query().select(O.user_id, func.count().as_("n")).group_by(O.user_id)
        .subquery("s").query().where(U.id > 0),
    ]
    return out


def _fresh(q):
    """``q`` with its memo cleared, as a builder leaves a new query."""
    return q._replace()


def test_the_suite_runs_the_c_walk():
    assert query._shape is _speedups.shape
    assert query._common_shape is _speedups.common_shape


def _common_queries():
    return [
        User.query(),
        User.query().where(U.id > 1),
        User.query().where(U.id > 1, U.name == "a").order_by(U.id.desc(), U.name).limit(5),
        User.query().where(U.id.is_in([1, 2, 3])).offset(4),
        User.query().order_by(U.name).limit(0).offset(0),
        User.query().where((U.id > 1) | (U.age == None)).distinct(),  # noqa: E711
        User.query().where(func.lower(U.name) == "x").order_by(func.length(U.name)),
        Order.query().where(O.total.between(1.5, 2.5)).limit(2**40),
    ]


@pytest.mark.parametrize("index", range(len(_common_queries())))
def test_the_c_walk_of_the_common_shape_equals_the_python_walk(index):
    q = _common_queries()[index]
    assert q._s["common"]
    by_python = query._py_common_shape(_fresh(q))
    fresh = _fresh(q)
    by_c = _speedups.common_shape(fresh)
    assert by_c == by_python
    assert fresh._s["_memo"] is by_c and fresh.key is by_c[0] and fresh.params is by_c[1]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=5), st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**63 - 1))
def test_the_common_shape_walks_agree_for_any_values(name, number, count):
    q = User.query().where(U.name == name, U.id > number).order_by(U.id).limit(count)
    assert _speedups.common_shape(_fresh(q)) == query._py_common_shape(_fresh(q))


@pytest.mark.parametrize("index", range(len(_queries())))
def test_the_c_walk_equals_the_python_walk(index):
    q = _queries()[index]
    by_python = query._py_shape(_fresh(q))
    fresh = _fresh(q)
    by_c = _speedups.shape(fresh)
    assert by_c == by_python
    assert type(by_c[0]) is tuple and type(by_c[1]) is tuple
    # The walk memoizes what it found, as the Python walk does.
    assert fresh._s["_memo"] is by_c
    assert fresh.key is by_c[0] and fresh.params is by_c[1]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["paid", "x", ""]), st.integers(0, 2**40), st.integers(0, 9))
def test_the_c_walk_equals_the_python_walk_for_any_values(status, top, age):
    q = _report(status, top, age)
    assert _speedups.shape(_fresh(q)) == query._py_shape(_fresh(q))


def test_a_grouped_value_repeated_takes_the_sharing_signature_in_both_walks():
    same = _report("paid", 5, 5)
    other = _report("paid", 5, 6)
    # The grouped U.age + age and the offset hold the same value, or not.
    c_same, c_other = _speedups.shape(_fresh(same)), _speedups.shape(_fresh(other))
    assert c_same[0][:-1] == c_other[0][:-1]
    assert c_same == query._py_shape(_fresh(same))
    assert c_other == query._py_shape(_fresh(other))


def test_the_python_walk_alone_renders_the_same_statements(monkeypatch):
    queries = _queries() + _common_queries()
    dialects = ("sqlite", "postgres", "mysql", "duckdb")
    expected = []
    for q in queries:
        fresh = _fresh(q)
        expected.append([_render(fresh, d) for d in dialects])
    monkeypatch.setattr(query, "_shape", query._py_shape)
    monkeypatch.setattr(query, "_common_shape", query._py_common_shape)
    for q, rendered in zip(queries, expected):
        fresh = _fresh(q)
        assert [_render(fresh, d) for d in dialects] == rendered


def _render(q, dialect):
    try:
        return q.to_sql(dialect)
    except Exception as error:  # noqa: BLE001 - the same refusal is the same outcome
        return (type(error), str(error))


def test_a_query_state_that_is_not_a_dict_is_refused_not_read():
    class Impostor:
        _s = ["columns"]

    with pytest.raises(TypeError, match="state must be a dict"):
        _speedups.shape(Impostor())
    with pytest.raises(TypeError, match="state must be a dict"):
        _speedups.common_shape(Impostor())


def test_a_state_missing_a_part_raises_key_error_naming_it():
    class Partial:
        _s = {"columns": None}

    with pytest.raises(KeyError, match="joins"):
        _speedups.shape(Partial())


def test_an_item_that_is_not_a_node_is_refused():
    q = User.query().where(U.id > 1)
    broken = q._replace(wheres=("not a node",))
    with pytest.raises(TypeError, match="not a node"):
        _speedups.shape(broken)
    with pytest.raises(TypeError, match="not a node"):
        _speedups.common_shape(broken)
    assert broken._s["_memo"] is None


def test_set_operation_and_derived_table_values_come_in_compiler_order():
    s = Order.query().select(O.user_id).where(O.total > 7).subquery("s")
    q = s.query().where(s.c.user_id == 3).limit(2)
    assert _speedups.shape(_fresh(q))[1] == (7, 3, 2)
    union = User.query().select(U.id).where(U.age > 1).union(
        Order.query().select(O.id).where(O.total > 2))
    assert _speedups.shape(_fresh(union.limit(4)))[1] == (1, 2, 4)
    assert isinstance(s, src.Subquery)
