"""The quick paths that build nodes and shapes give what the general paths give.

Builders skip work on their usual arguments (a window with one sort item, a CTE made by
``Query.cte``, a query key found in one pass over its parts). Each quick path must build
the node the general one builds, and a query key listed in one flat run must still tell
apart every query whose parts differ, however the same items are spread over them.
"""

from __future__ import annotations

import pytest
from helpers import Order, User

from activeq import ValidationError, func
from activeq import ast as a
from activeq import query as src_query
from activeq import sources as src

U = User.c
O = Order.c  # noqa: E741 - mirrors U


def _same_node(left, right):
    assert type(left) is type(right)
    assert left.key == right.key
    assert left.params == right.params
    assert len(left) == len(right)
    for x, y in zip(left[2:], right[2:]):
        # Fields are the same children (by identity: == on an expression builds SQL) or equal
        # plain values.
        if isinstance(x, tuple):
            assert type(x) is type(y) and len(x) == len(y)
            assert all(i is j for i, j in zip(x, y))
        else:
            assert x == y


@pytest.mark.parametrize("order_by", [U.age.desc(), U.age, (U.age + 5).asc()],
                         ids=["ordering", "column", "ordering with a value"])
def test_window_with_one_sort_item_is_the_node_window_builds(order_by):
    rank = func.rank()
    quick = rank.over(order_by=order_by)
    general = a.Window(rank, (), (order_by,), None)
    _same_node(quick, general)
    assert quick.order_by[0] is order_by
    q = User.query().select(U.id, quick.as_("r"))
    assert q.to_sql() == User.query().select(U.id, general.as_("r")).to_sql()


def test_window_quick_path_keeps_values_in_order():
    w = func.sum(U.age + 1).over(order_by=(U.age * 3).desc())
    assert w.params == (1, 3)
    sql, params = User.query().select(w.as_("s")).to_sql()
    assert sql == ('SELECT SUM("users"."age" + ?) OVER (ORDER BY "users"."age" * ? DESC) AS "s" '
                   'FROM "users"')
    assert params == [1, 3]


def test_query_cte_and_subquery_build_what_their_classes_build():
    q = Order.query().select(O.user_id, func.sum(O.total).as_("spent")).where(
        O.note == "paid").group_by(O.user_id)
    for quick, general in ((q.cte("spend"), src.CTE(q, "spend")),
                           (q.cte("spend", recursive=True), src.CTE(q, "spend", True)),
                           (q.subquery("spend"), src.Subquery(q, "spend"))):
        assert type(quick) is type(general)
        assert quick.key == general.key
        assert quick.params == general.params == ("paid",)
        assert quick.c is general.c
        assert quick.name == general.name == "spend"
    assert q.cte("spend").recursive is False
    assert q.cte("spend", recursive=1).recursive is True


@pytest.mark.parametrize("select", [
    lambda: Order.query().select(O.user_id),
    lambda: (lambda m: m.query().select(m.c.user_id))(Order.alias("m")),
    lambda: Order.query().select(O.user_id).union(Order.query().select(O.id)),
], ids=["plain select", "select over an alias", "union"])
def test_query_over_a_cte_carries_its_models_token_and_reads_it(select):
    # The query over a derived table takes its model's token from the select's own state:
    # the select's token is the model's, or starts with it when the select reads something
    # else than the model's table.
    c = select().cte("c")
    over = c.query()
    assert over._s["model"] is Order
    assert over._s["token"] == (Order.__aq__.token, (c.key, None, (), None, ()))
    sql, params = over.where(c.c.user_id > 2).to_sql()
    assert sql.startswith('WITH "c" AS (SELECT ')
    assert sql.endswith('SELECT "c"."user_id" FROM "c" WHERE "c"."user_id" > ?')
    assert params == [2]
    alias_query = Order.alias("m").query()
    assert alias_query._s["token"][0] == Order.__aq__.token


@pytest.mark.parametrize("name", ["", None, 3])
def test_cte_and_subquery_names_are_still_checked(name):
    q = Order.query().select(O.user_id)
    with pytest.raises(Exception, match="needs a non-empty name"):
        q.cte(name)
    with pytest.raises(Exception, match="needs a non-empty name"):
        q.subquery(name)


def _grouped():
    return Order.query().select(O.user_id, func.count().as_("n"))


# Pairs whose items are the same but sit in different parts (or in different numbers): a flat
# key must still differ, and the SQL with it.
MOVED = {
    "where vs having": (
        _grouped().group_by(O.user_id).where(func.count() > 1),
        _grouped().group_by(O.user_id).having(func.count() > 1),
    ),
    "group by vs order by": (
        _grouped().group_by(O.user_id),
        _grouped().order_by(O.user_id),
    ),
    "two wheres vs where and having": (
        _grouped().group_by(O.user_id).where(O.total > 1, O.id > 2),
        _grouped().group_by(O.user_id).where(O.total > 1).having(O.id > 2),
    ),
    "grouped twice vs grouped and ordered": (
        _grouped().group_by(O.user_id, O.note),
        _grouped().group_by(O.user_id).order_by(O.note),
    ),
    "column vs group": (
        Order.query().select(O.user_id, O.note).group_by(O.user_id),
        Order.query().select(O.user_id).group_by(O.user_id, O.note),
    ),
    "join vs where": (
        User.query().select(U.id).join(Order, O.user_id == U.id).where(O.total > 1),
        User.query().select(U.id).join(Order, (O.user_id == U.id) & (O.total > 1)),
    ),
    "one join vs two": (
        User.query().select(U.id).join(Order, O.user_id == U.id),
        User.query().select(U.id).join(Order, O.user_id == U.id).join(
            User.alias("p"), User.alias("p").c.id == U.id),
    ),
    "all columns vs none listed": (
        Order.query().group_by(O.user_id),
        Order.query().select(*Order.c).group_by(O.user_id),
    ),
}


@pytest.mark.parametrize("name", list(MOVED))
def test_items_in_different_parts_give_different_keys(name):
    left, right = MOVED[name]
    assert left.key != right.key
    if name != "all columns vs none listed":
        assert left.to_sql()[0] != right.to_sql()[0]


def test_key_and_params_agree_whichever_is_asked_first():
    def build(status, n):
        spend = Order.query().select(O.user_id, func.sum(O.total).as_("spent")).where(
            O.note == status).group_by(O.user_id).cte("spend")
        return User.query().join(spend, spend.c.user_id == U.id).select(
            U.id, spend.c.spent).where(spend.c.spent > n, U.age + 1 > n).order_by(U.id).limit(5)

    first, second = build("paid", 3), build("new", 7)
    params = first.params
    assert first.key == second.key
    assert second.params == ("new", 7, 1, 7, 5)
    assert params == ("paid", 3, 1, 3, 5)
    assert first.to_sql()[1] == list(params)
    assert first.to_sql()[0] == second.to_sql()[0]


@pytest.mark.parametrize("column", [U.age, O.total], ids=["int column", "float column"])
def test_column_plus_int_is_the_node_arith_builds(column):
    quick = column + 7
    general = a.Arith("+", column, a.Param(7))
    assert type(quick) is a.Arith
    assert quick.key == general.key
    assert quick.params == general.params == (7,)
    assert quick.left is column and type(quick.right) is a.Param and quick.right.value == 7


def test_column_plus_a_value_it_refuses_still_raises():
    with pytest.raises(ValidationError, match="User.name is text: cannot compare it with 1"):
        U.name + 1
    with pytest.raises(ValidationError, match="a number"):
        U.age + True
    assert (U.age + 2.5).params == (2.5,)


def test_column_equals_expression_is_the_node_compare_builds():
    quick = O.user_id == U.id
    general = a.Compare("=", O.user_id, U.id)
    assert type(quick) is a.Compare
    assert quick.key == general.key and quick.params == general.params == ()
    assert quick.left is O.user_id and quick.right is U.id
    valued = O.user_id == U.id + 1
    assert valued.params == (1,)
    sql, params = User.query().select(U.id).join(Order, valued).to_sql()
    assert sql == ('SELECT "users"."id" FROM "users" JOIN "orders" ON "orders"."user_id" = '
                   '"users"."id" + ?')
    assert params == [1]


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_column_compared_with_a_value_is_the_node_compare_builds(op):
    quick = {"==": U.age == 3, "!=": U.age != 3, "<": U.age < 3, "<=": U.age <= 3,
             ">": U.age > 3, ">=": U.age >= 3}[op]
    sql_op = {"==": "=", "!=": "<>"}.get(op, op)
    general = a.Compare(sql_op, U.age, a.Param(3))
    _same_node(quick.left, general.left)
    # The value is held as it is; the Param a Compare holds is built when read.
    assert type(quick) is a.CompareValue and isinstance(quick, a.Compare) and quick.op == sql_op
    assert quick[4] == 3
    assert quick.key == general.key and quick.params == general.params == (3,)
    assert type(quick.right) is a.Param and quick.right.value == 3
    assert quick.right.key == "?" and quick.right.params == (3,)
    assert quick.right is not quick.right  # a fresh node on each read, nothing cached on it
    # Rebuilt from its fields (a copy, a rewrite), it is the Compare those fields make.
    rebuilt = type(quick)(quick.op, quick.left, quick.right)
    assert type(rebuilt) is a.Compare and rebuilt.key == quick.key and rebuilt.params == (3,)
    assert type(rebuilt.right) is a.Param and rebuilt.right.value == 3
    sql, params = User.query().select(U.id).where(quick).to_sql()
    assert sql == f'SELECT "users"."id" FROM "users" WHERE "users"."age" {sql_op} ?'
    assert params == [3]


@pytest.mark.parametrize("cte_values", [(), ("paid",), ("paid", 2.5)],
                         ids=["no value", "one value", "two values"])
def test_values_come_in_placeholder_order_when_a_cte_moves_them_first(cte_values):
    # A CTE's values are rendered first (in the WITH clause) though the statement lists
    # them where the CTE is joined: the cached rendering reorders them, whatever their count.
    conds = [O.note == cte_values[0]] if cte_values else []
    if len(cte_values) > 1:
        conds.append(O.total > cte_values[1])
    spend = Order.query().select(O.user_id).where(*conds).cte("spend") if conds else (
        Order.query().select(O.user_id).cte("spend"))
    q = (User.query().select(U.id).where(U.age > 30).join(spend, spend.c.user_id == U.id)
         .limit(5))
    first_sql, first = q.to_sql()
    assert first_sql.startswith('WITH "spend" AS (SELECT "orders"."user_id" FROM "orders"')
    assert first == [*cte_values, 30, 5]
    first.append("changed")
    assert q.to_sql() == (first_sql, [*cte_values, 30, 5])
    assert q.to_sql("postgres")[1] == [*cte_values, 30]  # PostgreSQL's text holds the LIMIT


def _grouped_by_value():
    return User.query().select((U.age + 1).as_("a"), func.count().as_("n")).group_by(U.age + 1)


def _plain_group():
    return User.query().select(U.age, func.count().as_("n")).group_by(U.age)


SHARING_CASES = {
    "no grouping": lambda: User.query().select(U.age).where(U.age > 3),
    "groups by a column": _plain_group,
    "groups by an expression with a value": _grouped_by_value,
    "groups by a field name": lambda: User.query().select(U.age).group_by("age"),
    "groups by a position": lambda: User.query().select(U.age).group_by(1),
    "joins a CTE grouping by a value": lambda: (
        lambda c: User.query().join(c, c.c.a == U.age))(_grouped_by_value().cte("g")),
    "joins a CTE grouping by a column": lambda: (
        lambda c: User.query().join(c, c.c.age == U.age))(_plain_group().cte("g")),
    "reads a subquery grouping by a value": lambda: _grouped_by_value().subquery("s").query(),
    "reads a subquery grouping by a column": lambda: _plain_group().subquery("s").query(),
    "a union whose member groups by a value": lambda: _grouped_by_value().union(
        User.query().select(U.age, U.id)),
    "a union of plain members": lambda: User.query().select(U.age).union(
        User.query().select(U.id)),
}


@pytest.mark.parametrize("build", SHARING_CASES.values(), ids=SHARING_CASES.keys())
def test_key_carries_the_sharing_signature_exactly_when_values_are_shared(build):
    # The one-pass key finds on its way whether values are shared; the general walk
    # (shares_values) must agree, and so must the rendering.
    query = build()
    signed = query.key[-1] is not src_query._PART_END
    assert signed == query.shares_values
    assert build().key == query.key


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql", "duckdb"])
def test_a_cte_named_twice_before_a_later_value_renders_where_the_text_holds_a_quote(dialect):
    # The CTE's value is numbered again where it is named again, but bound only in its
    # definition; a later LIKE (written with ESCAPE '' on PostgreSQL) then follows that gap.
    # The check that every bound value stands as a placeholder of its own knows the gap.
    spend = Order.query().select(O.user_id).where(O.total > 5).cte("spend")
    q = (User.query().select(U.id).join(spend, spend.c.user_id == U.id)
         .where(U.id.is_in(spend.query().select(spend.c.user_id)), U.name.like("a%")))
    sql, params = q.to_sql(dialect)
    assert params == [5, "a%"]
    assert sql.count("SELECT") == 3 and "LIKE" in sql
