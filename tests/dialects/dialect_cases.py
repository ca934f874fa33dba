"""The builder side of the per-dialect SQL golden pairs: one entry per construct.

Each dialect file maps every case name here to its expected (sql, params); a test fails when a
case has no expectation, so adding a construct means writing its SQL for every dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from helpers import Order, Reserved, User

from activeq import exists, func
from activeq.query import Delete, Insert, Update

U = User.c
O = Order.c  # noqa: E741 - mirrors U
P = User.alias("peer")


def _update(query: Any, values: dict[str, Any]) -> Update:
    return Update.build(query, values, False)


def _spent() -> Any:
    """Each user's order total, as a derived table."""
    return (
        Order.query()
        .select(O.user_id, func.sum(O.total).as_("spent"))
        .group_by("user_id")
        .subquery("spent")
    )


def _big_orders() -> Any:
    return Order.query().select(O.id, O.user_id, O.total).where(O.total > 8).cte("big")


def _counter() -> Any:
    """WITH RECURSIVE counting from the smallest user id up to 5."""
    n = User.query().select(func.min(U.id).as_("n")).cte("n", recursive=True)
    return n.union_all(n.query().select((n.c.n + 1).as_("n")).where(n.c.n < 5))


def _names(*conditions: Any) -> Any:
    return User.query().select("name").where(*conditions)


CASES: dict[str, Callable[[], Any]] = {
    "select_all": lambda: User.query(),
    "select_names": lambda: User.query().select("id", "name"),
    "select_columns_alias": lambda: User.query().select(
        U.id, U.name.as_("who"), func.lower(U.email).as_("mail")
    ),
    "select_functions": lambda: User.query().select(
        func.count().as_("n"),
        func.count(U.age, distinct=True).as_("ages"),
        func.sum(U.age),
        func.avg(U.age),
        func.min(U.age),
        func.max(U.age),
        func.coalesce(U.age, 0).as_("age0"),
        func.upper(U.name),
        func.length(U.name),
    ),
    "where_operators": lambda: (
        User.query()
        .select("id")
        .where(U.age == 1, U.age != 2, U.age < 3, U.age <= 4, U.age > 5, U.age >= 6)
    ),
    "where_keyword_equals": lambda: User.query().select("id").where(name="Ann", age=30),
    "where_null": lambda: User.query().select("id").where(U.age == None, U.name != None),  # noqa: E711
    "where_is_null_methods": lambda: (
        User.query().select("id").where(U.age.is_null() | U.email.is_not_null())
    ),
    "where_and_or_not": lambda: (
        User.query()
        .select("id")
        .where(((U.age > 1) | (U.age < 0)) & ~((U.name == "a") | (U.status == "b")))
    ),
    "where_or_of_and": lambda: (
        User.query().select("id").where((U.age > 1) | ((U.age < 0) & (U.name == "x")))
    ),
    "where_not_of_and": lambda: User.query().select("id").where(~((U.age > 1) & (U.name == "a"))),
    "where_two_calls_or": lambda: (
        User.query().select("id").where((U.age == 1) | (U.age == 2)).where(U.name == "z")
    ),
    "where_deep_nesting": lambda: (
        User.query()
        .select("id")
        .where(((U.id == 1) & ((U.id == 2) | ((U.id == 3) & ~(U.id == 4)))) | (U.id == 5))
    ),
    "in_list": lambda: User.query().select("id").where(U.id.is_in([1, 2, 3])),
    "in_empty_list": lambda: User.query().select("id").where(U.id.is_in([])),
    "not_in_list": lambda: User.query().select("id").where(U.id.not_in([4, 5])),
    "in_subquery": lambda: (
        User.query()
        .select("id")
        .where(U.id.is_in(Order.query().select(O.user_id).where(O.total > 10)))
    ),
    "not_in_subquery": lambda: (
        User.query().select("id").where(U.id.not_in(Order.query().select(O.user_id)))
    ),
    "like_ilike": lambda: (
        User.query()
        .select("id")
        .where(U.name.like("A%"), U.email.ilike("%@EXAMPLE.COM"), U.name.not_like("z%"))
    ),
    "between": lambda: (
        User.query().select("id").where(U.age.between(18, 65), U.id.not_between(10, 20))
    ),
    "arithmetic": lambda: (
        User.query()
        .select(((U.age + 1) * 2).as_("a"), (U.age - (U.id - 1)).as_("b"), (U.age / 2 % 3).as_("c"))
        .where(U.age * 2 > U.id + 10)
    ),
    "order_by": lambda: User.query().select("id").order_by(U.name, U.age.desc(), "-email"),
    "order_by_nulls": lambda: (
        User.query().select("id").order_by(U.age.asc().nulls_last_(), U.name.desc().nulls_first())
    ),
    "limit": lambda: User.query().select("id").limit(10),
    "limit_offset": lambda: User.query().select("id").order_by(U.id).limit(10).offset(20),
    "offset_without_limit": lambda: User.query().select("id").offset(5),
    "distinct": lambda: User.query().select("status").distinct(),
    "group_by_having": lambda: (
        User.query()
        .select(U.status, func.count().as_("n"))
        .group_by(U.status)
        .having(func.count() > 1)
    ),
    "join": lambda: (
        User.query().join(Order, U.id == O.user_id).select(U.name, O.id, O.total).where(O.total > 5)
    ),
    "left_join": lambda: (
        User.query()
        .left_join(Order, U.id == O.user_id)
        .select(U.id, O.id.as_("order_id"))
        .where(O.id == None)  # noqa: E711
    ),
    "count": lambda: User.query().select(func.count()).where(U.status == "active"),
    "exists": lambda: (
        User.query().select("id").where(exists(Order.query().select(O.id).where(O.user_id == U.id)))
    ),
    "not_exists": lambda: (
        User.query()
        .select("id")
        .where(~exists(Order.query().select(O.id).where(O.user_id == U.id)))
    ),
    "update": lambda: _update(User.query().where(U.id == 3), {"name": "Zed", "age": 7}),
    "update_expression": lambda: _update(
        User.query().where(U.status == "active"), {"age": U.age + 1}
    ),
    "delete": lambda: Delete.build(User.query().where(U.age < 18), False),
    "insert": lambda: Insert(User, ("name", "email", "age", "status")),
    "reserved_select": lambda: (
        Reserved.query().where(Reserved.c.group == "g").order_by(Reserved.c.group)
    ),
    "reserved_update": lambda: _update(
        Reserved.query().where(Reserved.c.select > 1), {"group": "h"}
    ),
    "reserved_insert": lambda: Insert(Reserved, ("group", "select")),
    # FROM items: aliases, derived tables, CTEs, cross joins -------------------------------
    "alias_self_join": lambda: (
        User.query()
        .join(P, (U.status == P.c.status) & (U.id < P.c.id))
        .select(U.name, P.c.name.as_("peer"))
    ),
    "alias_query": lambda: P.query().select(P.c.id, P.c.name).where(P.c.age > 30),
    "alias_exists": lambda: (
        User.query().select("id").where(exists(P.query().select(P.c.id).where(P.c.age > U.age)))
    ),
    "subquery_select": lambda: (
        _spent().query().where(_spent().c.spent > 10).order_by("-spent")
    ),
    "subquery_join": lambda: (
        User.query()
        .join(_spent(), _spent().c.user_id == U.id)
        .select(U.name, _spent().c.spent)
        .where(U.status == "active")
    ),
    "cross_join": lambda: (
        User.query().cross_join(Order).select(U.id, O.id.as_("order_id")).where(O.total > 20)
    ),
    "cte_select": lambda: _big_orders().query().select(_big_orders().c.user_id).distinct(),
    "cte_join_and_subquery": lambda: (
        User.query()
        .join(_big_orders(), _big_orders().c.user_id == U.id)
        .select(U.name, _big_orders().c.total)
        .where(U.id.is_in(_big_orders().query().select(_big_orders().c.user_id).where(
            _big_orders().c.total < 20)))
    ),
    "cte_recursive": lambda: _counter().query(),
    # set operations ----------------------------------------------------------------------
    "union": lambda: _names(U.age > 35).union(_names(U.status == "active")),
    "union_all_order_limit": lambda: (
        _names(U.age > 35).union_all(_names(U.status == "active")).order_by("-name").limit(2)
    ),
    "intersect": lambda: _names(U.age > 20).intersect(_names(U.status == "active")),
    "except": lambda: _names(U.id > 0).except_(_names(U.status == "inactive")).order_by(U.name),
    "set_member_with_limit": lambda: (
        _names(U.age > 35).union(_names().order_by(U.id).limit(1))
    ),
    "set_operation_nested": lambda: (
        _names(U.id > 1).union(_names(U.id > 2)).intersect(_names(U.status == "active"))
    ),
    # ordering and grouping by output column ----------------------------------------------
    "order_by_alias_and_position": lambda: (
        Order.query()
        .select(O.user_id, func.sum(O.total).as_("spent"))
        .group_by(1)
        .order_by("-spent", 1)
    ),
    "group_by_alias": lambda: (
        User.query()
        .select(func.lower(U.status).as_("state"), func.count().as_("n"))
        .group_by("state")
        .order_by("state")
    ),
    "group_by_alias_shadowing_a_column": lambda: (
        User.query()
        .select(func.upper(U.status).as_("status"), func.count().as_("n"))
        .group_by("status")
        .order_by("status")
    ),
}
