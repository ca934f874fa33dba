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
    assert query._derive is _speedups.derive
    assert query._derive_uncommon is _speedups.derive_uncommon


@pytest.mark.parametrize("uncommon", [False, True])
def test_the_c_step_equals_the_python_step(uncommon):
    base = User.query().where(U.id > 1).order_by(U.id).limit(3)
    assert base.key  # memoized: the step must not carry the memo over
    wheres = base._s["wheres"] + (U.age < 9,)
    by_c = (_speedups.derive_uncommon if uncommon else _speedups.derive)(base, "wheres", wheres)
    by_python = (query._py_derive_uncommon if uncommon else query._py_derive)(
        base, "wheres", wheres)
    assert type(by_c) is type(base) and by_c is not base and by_c._s is not base._s
    assert list(by_c._s) == list(by_python._s)
    assert all(by_c._s[part] is by_python._s[part] for part in by_c._s)
    assert by_c._s["wheres"] is wheres
    assert by_c._s["_memo"] is None and by_c._s["common"] is (not uncommon)
    # The step leaves the query it started from as it was.
    assert len(base._s["wheres"]) == 1 and base._s["_memo"] is not None
    assert by_c.to_sql() == by_python.to_sql()
    assert by_c.params == (1, 9, 3)


def test_the_c_step_keeps_the_query_class_of_an_async_query():
    from activeq.aio import AsyncQuery

    q = AsyncQuery.of(User)
    assert type(_speedups.derive(q, "limit", None)) is AsyncQuery
    assert type(q.where(U.id > 1).join(Order, O.user_id == U.id)) is AsyncQuery


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


def test_the_python_walk_and_steps_alone_render_the_same_statements(monkeypatch):
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
    monkeypatch.setattr(query, "_derive", query._py_derive)
    monkeypatch.setattr(query, "_derive_uncommon", query._py_derive_uncommon)
    assert [_render(_report("paid", 5, 3), d) for d in dialects] == expected[
        len(_queries()) - 5]


def _render(q, dialect):
    try:
        return q.to_sql(dialect)
    except Exception as error:  # noqa: BLE001 - the same refusal is the same outcome
        return (type(error), str(error))


def _query_with_state(state):
    q = type(User.query())()
    query._SET_STATE(q, state)
    return q


def test_a_query_state_that_is_not_a_dict_is_refused_not_read():
    broken = _query_with_state(["columns"])
    for walk in (_speedups.shape, _speedups.common_shape):
        with pytest.raises(TypeError, match="state must be a dict"):
            walk(broken)
    with pytest.raises(TypeError, match="state must be a dict"):
        _speedups.derive(broken, "wheres", ())


def test_an_object_that_is_not_a_query_is_refused():
    class Impostor:
        _s = {"columns": None}

    for walk in (_speedups.shape, _speedups.common_shape):
        with pytest.raises(TypeError, match="_s"):
            walk(Impostor())
    with pytest.raises(TypeError, match="_s"):
        _speedups.derive_uncommon(Impostor(), "joins", ())


def test_a_state_missing_a_part_raises_key_error_naming_it():
    with pytest.raises(KeyError, match="joins"):
        _speedups.shape(_query_with_state({"columns": None}))
    with pytest.raises(KeyError, match="token"):
        _speedups.common_shape(_query_with_state({"columns": None}))


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
