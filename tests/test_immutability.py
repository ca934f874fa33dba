"""Every builder method returns a new Query and leaves the one it was called on unchanged."""

from __future__ import annotations

import copy
import pickle

import pytest
from helpers import Order, User

from activeq import (
    ArgumentTypeError,
    BindParam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    text,
    update,
)
from activeq import ast as a
from activeq import sources as src

U = User.c
O = Order.c  # noqa: E741 - mirrors U
M = User.alias("m")


def base():
    """A query using every clause, so each derivation has something to disturb."""
    return User.query().select("id", "name").where(U.age > 18).order_by(U.name).limit(10).offset(2)


DERIVATIONS = {
    "select": lambda q: q.select("email"),
    "select_none": lambda q: q.select(),
    "where": lambda q: q.where(U.status == "active"),
    "where_keywords": lambda q: q.where(name="Ann"),
    "filter": lambda q: q.filter(U.id.is_in([1, 2])),
    "order_by": lambda q: q.order_by(U.id.desc()),
    "order_by_clear": lambda q: q.order_by(),
    "limit": lambda q: q.limit(1),
    "limit_none": lambda q: q.limit(None),
    "offset": lambda q: q.offset(5),
    "offset_none": lambda q: q.offset(None),
    "distinct": lambda q: q.distinct(),
    "group_by": lambda q: q.group_by(U.status),
    "having": lambda q: q.group_by(U.status).having(func.count() > 1),
    "join": lambda q: q.join(Order, U.id == O.user_id),
    "left_join": lambda q: q.left_join(Order, U.id == O.user_id),
    "options": lambda q: q.options(fetch_mode="raise"),
    "fetch_mode": lambda q: q.fetch_mode("peers"),
    "includes": lambda q: q.includes("orders"),
    "join_alias": lambda q: q.join(M, U.id == M.c.id),
    "join_subquery": lambda q: q.join(
        Order.query().select(O.user_id).subquery("s"), U.id == O.user_id),
    "join_cte": lambda q: q.join(Order.query().select(O.user_id).cte("c"), U.id == O.user_id),
    "cross_join": lambda q: q.cross_join(Order),
    "order_by_name": lambda q: q.order_by("-name"),
    "order_by_position": lambda q: q.order_by(2),
    "group_by_name": lambda q: q.group_by("name"),
    "group_by_position": lambda q: q.group_by(1),
    "subquery_query": lambda q: q.subquery("s").query(),
    "cte_query": lambda q: q.cte("c").query(),
    "union": lambda q: q.union(User.query().select("id", "name")),
    "union_all": lambda q: q.union_all(User.query().select("id", "name")),
    "intersect": lambda q: q.intersect(User.query().select("id", "name")),
    "except_": lambda q: q.except_(User.query().select("id", "name")),
    "set_operation_order_by": lambda q: q.union(User.query().select("id", "name")).order_by(1),
    "set_operation_limit": lambda q: q.union(User.query().select("id", "name")).limit(3),
    "select_window_case_cast": lambda q: q.select(
        func.row_number().over(order_by=U.id), case((U.age > 1, "a"), else_="b"), cast(U.age, str)
    ),
    "where_text": lambda q: q.where(text("age > :n", n=3)),
    "where_scalar_subquery": lambda q: q.where(
        U.age < Order.query().select(func.max(O.total)).scalar_subquery()
    ),
}

# Builder methods whose SQL differs from the base only where PostgreSQL renders them.
POSTGRES_DERIVATIONS = {
    "distinct_on": lambda q: q.distinct_on(U.name),
    "for_update": lambda q: q.for_update(),
    "for_update_skip_locked": lambda q: q.for_update(skip_locked=True),
    "for_update_nowait": lambda q: q.for_update(nowait=True),
}


@pytest.mark.parametrize("name", list(POSTGRES_DERIVATIONS))
def test_postgres_builder_method_leaves_the_original_unchanged(name):
    original = base()
    before = snapshot(original)
    derived = POSTGRES_DERIVATIONS[name](original)
    assert derived is not original
    assert snapshot(original) == before
    again = POSTGRES_DERIVATIONS[name](original)
    assert again is not derived
    assert again.to_sql("postgres") == derived.to_sql("postgres") != original.to_sql("postgres")


def test_set_operation_builders_leave_both_queries_unchanged():
    left, right = base(), User.query().select("id", "name").where(U.id > 5)
    before = snapshot(left), snapshot(right)
    combined = left.union(right).order_by("-name").limit(2)
    assert (snapshot(left), snapshot(right)) == before
    assert combined.to_sql()[1] == [18, 10, 2, 5, 2]


@pytest.mark.parametrize("op", ["union_all", "union"])
def test_cte_union_all_returns_a_new_cte_and_leaves_the_anchor_unchanged(op):
    anchor = User.query().select(U.id).where(U.id == 1).cte("t", recursive=True)
    key, sql = anchor.key, anchor.query().to_sql()
    full = getattr(anchor, op)(User.query().select(U.id).join(anchor, U.age == anchor.c.id))
    assert full is not anchor
    assert (anchor.key, anchor.query().to_sql()) == (key, sql)
    assert full.query().to_sql() != sql
    assert ("UNION ALL" in full.query().to_sql()[0]) == (op == "union_all")


def snapshot(q):
    return q.to_sql(), q.to_sql("postgres"), q.key, q.params, dict(q._s)


@pytest.mark.parametrize("name", list(DERIVATIONS))
def test_builder_method_leaves_the_original_unchanged(name):
    original = base()
    before = snapshot(original)
    derived = DERIVATIONS[name](original)
    assert derived is not original
    assert snapshot(original) == before
    # Deriving twice from the same original gives equal, independent queries.
    again = DERIVATIONS[name](original)
    assert again is not derived
    assert again.to_sql() == derived.to_sql()


@pytest.mark.parametrize(
    "name", [n for n in DERIVATIONS if n not in ("options", "fetch_mode", "includes")]
)
def test_builder_method_changes_the_derived_sql(name):
    original = base()
    derived = DERIVATIONS[name](original)
    assert derived.to_sql() != original.to_sql()


@pytest.mark.parametrize("name", ["options", "fetch_mode", "includes"])
def test_options_do_not_change_the_sql_or_the_shape(name):
    original = base()
    derived = DERIVATIONS[name](original)
    assert derived.to_sql() == original.to_sql()
    assert derived.key == original.key
    assert derived._s != original._s


def test_where_accumulates_without_touching_earlier_queries():
    q1 = User.query().where(U.id > 1)
    q2 = q1.where(U.id < 10)
    q3 = q1.where(U.name == "x")
    assert q1.to_sql()[1] == [1]
    assert q2.to_sql()[1] == [1, 10]
    assert q3.to_sql()[1] == [1, "x"]


def test_queries_reject_attribute_assignment():
    q = User.query()
    with pytest.raises(AttributeError, match="immutable"):
        q.limit_ = 5
    with pytest.raises(AttributeError):
        q._s = {}


NODES = [
    U.id,
    a.Param(1),
    BindParam("p"),
    a.Star(),
    U.id == 1,
    U.age + 1,
    (U.id == 1) & (U.age == 2),
    ~(U.id == 1),
    U.age == None,  # noqa: E711
    U.id.is_in([1]),
    U.id.is_in(Order.query().select(O.user_id)),
    U.name.like("a"),
    U.age.between(1, 2),
    func.count(),
    U.name.as_("n"),
    U.id.desc(),
    exists(Order.query()),
    a.SubqueryExpr(Order.query().select(func.count())),
    a.OutputColumn("n"),
    M,
    Order.query().subquery("s"),
    Order.query().cte("c"),
    src.SetOperation("UNION", User.query().select("id"), Order.query().select("id")),
    func.sum(U.age).over(partition_by=U.status, order_by=U.id, rows=(None, 0)),
    case((U.age > 1, "a"), else_="b"),
    cast(U.age, str),
    func.date_trunc("month", U.name).args[0],
    text("age > :n", n=1),
]


def test_scalar_subquery_leaves_the_query_unchanged():
    q = Order.query().select(func.max(O.total)).where(O.user_id == 3)
    before = snapshot(q)
    sub = q.scalar_subquery()
    assert snapshot(q) == before
    assert sub.query is q
    assert q.scalar_subquery() is not sub


def test_over_builds_a_new_node_and_leaves_the_function_unchanged():
    f = func.sum(U.age)
    key, params = f.key, f.params
    w1 = f.over(order_by=U.id)
    w2 = f.over(partition_by=U.status)
    assert (f.key, f.params) == (key, params)
    assert w1 is not w2 and w1.func is f and w2.func is f
    assert w1.key != w2.key


@pytest.mark.parametrize("node", NODES, ids=lambda n: type(n).__name__)
def test_nodes_reject_attribute_assignment(node):
    key, params = node.key, node.params
    with pytest.raises(AttributeError):
        node.key = ("changed",)
    with pytest.raises(AttributeError):
        node.params = ()
    with pytest.raises(AttributeError):
        node.brand_new_attribute = 1
    with pytest.raises(AttributeError):
        del node.key
    assert (node.key, node.params) == (key, params)


def test_node_fields_are_read_only():
    cmp = U.age > 3
    for field in ("op", "left", "right"):
        with pytest.raises(AttributeError):
            setattr(cmp, field, None)
    assert cmp.op == ">"
    assert cmp.right.value == 3


def test_operators_build_new_nodes():
    col = U.age
    cmp = col > 1
    combined = cmp & (col < 5)
    assert cmp.key == ("cmp", ">", col.key, "?")
    assert combined is not cmp
    assert User.c.age is col  # column references are shared, never copied or changed


# --- statements as values ------------------------------------------------------------------------

STATEMENT_DERIVATIONS = {
    "insert.values": lambda: (insert(User).values(name="a", email="a@x"), lambda s: s.values(name="b", email="b@x")),
    "insert.values_rows": lambda: (insert(User).values(name="a", email="a@x"), lambda s: s.values([{"name": "c", "email": "c@x"}])),
    "insert.from_select": lambda: (insert(User).values(name="a", email="a@x"), lambda s: s.from_select(("name", "email"), User.query().select(U.name, U.email))),
    "insert.on_conflict": lambda: (insert(User).values(name="a", email="a@x"), lambda s: s.on_conflict("ignore")),
    "insert.returning": lambda: (insert(User).values(name="a", email="a@x"), lambda s: s.returning("id")),
    "update.values": lambda: (update(User).where(U.id == 1).values(name="a"), lambda s: s.values(age=3)),
    "update.where": lambda: (update(User).where(U.id == 1).values(name="a"), lambda s: s.where(U.age > 2)),
    "update.returning": lambda: (update(User).where(U.id == 1).values(name="a"), lambda s: s.returning()),
    "delete.where": lambda: (delete(User).where(U.id == 1), lambda s: s.where(name="x")),
    "delete.returning": lambda: (delete(User).where(U.id == 1), lambda s: s.returning("id", "name")),
}


@pytest.mark.parametrize("name", list(STATEMENT_DERIVATIONS))
def test_statement_builder_methods_leave_the_original_unchanged(name):
    original, derive = STATEMENT_DERIVATIONS[name]()
    before = (original.to_sql(), original.to_sql("postgres"), original.key, original.params)
    derived = derive(original)
    assert derived is not original and type(derived) is type(original)
    assert (original.to_sql(), original.to_sql("postgres"), original.key, original.params) == before
    assert derived.to_sql() != original.to_sql()
    assert derive(original).to_sql() == derived.to_sql()


def test_query_returning_leaves_the_query_unchanged():
    original = base()
    before = snapshot(original)
    derived = original.returning("id")
    assert snapshot(original) == before
    assert derived._s["extra"].returning == (U.id,) and original._s["extra"] is None
    assert derived.key != original.key


def _report_base():
    """A query off the common shape (it reads a CTE and an alias), like a report's."""
    spend = Order.query().select(O.user_id, func.sum(O.total).as_("spent")).group_by(O.user_id)
    cte = spend.cte("spend")
    return User.query().join(cte, cte.c.user_id == U.id).select(U.id, cte.c.spent)


KEYED_DERIVATIONS = {
    "join_alias": lambda q: q.join(M, M.c.id == U.id),
    "left_join_alias": lambda q: q.left_join(M, (M.c.age == U.age) & (M.c.id == U.id + 1)),
    "select_expressions": lambda q: q.select(U.id, U.email),
    "where_expression": lambda q: q.where(U.status == "idle"),
    "group_by_expressions": lambda q: q.group_by(U.id),
    "order_by_expression": lambda q: q.order_by(U.id.desc()),
    "limit": lambda q: q.limit(3),
}


@pytest.mark.parametrize("start", [base, _report_base], ids=["common", "report"])
@pytest.mark.parametrize("name", list(KEYED_DERIVATIONS))
def test_query_derived_after_its_original_was_keyed_renders_its_own_shape(start, name):
    derive = KEYED_DERIVATIONS[name]
    keyed = start()
    original = (keyed.to_sql(), keyed.key, keyed.params)
    derived = derive(keyed)
    # The same derivation of a twin never keyed: the derived query knows nothing of the
    # original's key and values.
    fresh = derive(start())
    assert (derived.to_sql(), derived.key, derived.params) == (
        fresh.to_sql(), fresh.key, fresh.params)
    assert (derived.to_sql(), derived.key, derived.params) != original


def test_values_asked_before_the_key_of_a_query_grouping_by_a_value():
    grouped = User.query().select((U.age + 1).as_("a")).group_by(U.age + 1).where(U.age > 1)
    twin = User.query().select((U.age + 1).as_("a")).group_by(U.age + 1).where(U.age > 1)
    assert grouped.params == (1, 1, 1)
    assert grouped.key == twin.key
    sql, values = grouped.to_sql()
    assert (sql, values) == twin.to_sql()


# --- copying and pickling --------------------------------------------------------------------------

COPYABLE = {
    "query": base,
    "report query": lambda: _report_base(),
    "insert": lambda: insert(User).values(name="a", email="a@x"),
    "update": lambda: update(User).where(U.id == 1).values(name="a"),
    "delete": lambda: delete(User).where(U.id == 1),
    **{f"node {i} {type(n).__name__}": (lambda n=n: n) for i, n in enumerate(NODES)},
}


@pytest.mark.parametrize("name", list(COPYABLE))
def test_a_copy_of_an_immutable_object_is_the_object_itself(name):
    obj = COPYABLE[name]()
    assert copy.copy(obj) is obj
    assert copy.deepcopy(obj) is obj
    holder = {"kept": [obj], "twice": (obj, obj)}
    copied = copy.deepcopy(holder)
    assert copied is not holder and copied["kept"] is not holder["kept"]
    assert copied["kept"][0] is obj and copied["twice"][1] is obj


def test_a_deep_copied_query_renders_and_derives_as_the_original():
    q = base()
    copied = copy.deepcopy({"q": q})["q"]
    assert copied.to_sql() == q.to_sql()
    assert copied.where(U.id > 3).to_sql()[1] == [18, 3, 10, 2]


@pytest.mark.parametrize("name", list(COPYABLE))
def test_pickling_an_immutable_object_is_refused_with_a_typed_error(name):
    obj = COPYABLE[name]()
    with pytest.raises(ArgumentTypeError, match=rf"^a {type(obj).__name__} cannot be pickled: .*to_sql\(\)"):
        pickle.dumps(obj)
    with pytest.raises(TypeError):  # what pickle's callers catch
        pickle.dumps([obj], protocol=pickle.HIGHEST_PROTOCOL)
