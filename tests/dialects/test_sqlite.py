"""SQL golden pairs for SQLite (the dialect activeq runs), and every rendering run on SQLite."""

from __future__ import annotations

from typing import Any

import pytest
from dialect_cases import CASES
from helpers import Order, Reserved, User, assert_sql, render

from activeq import func

DIALECT = "sqlite"

EXPECTED: dict[str, tuple[str, list[Any]]] = {
    "select_all": (
        'SELECT "users"."id", "users"."name", "users"."email", "users"."age", "users"."status" FROM "users"',
        [],
    ),
    "select_names": (
        'SELECT "users"."id", "users"."name" FROM "users"',
        [],
    ),
    "select_columns_alias": (
        'SELECT "users"."id", "users"."name" AS "who", LOWER("users"."email") AS "mail" FROM "users"',
        [],
    ),
    "select_functions": (
        'SELECT COUNT(*) AS "n", COUNT(DISTINCT "users"."age") AS "ages", SUM("users"."age"), AVG("users"."age"), MIN("users"."age"), MAX("users"."age"), COALESCE("users"."age", ?) AS "age0", UPPER("users"."name"), LENGTH("users"."name") FROM "users"',
        [0],
    ),
    "where_operators": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" = ? AND "users"."age" <> ? AND "users"."age" < ? AND "users"."age" <= ? AND "users"."age" > ? AND "users"."age" >= ?',
        [1, 2, 3, 4, 5, 6],
    ),
    "where_keyword_equals": (
        'SELECT "users"."id" FROM "users" WHERE "users"."name" = ? AND "users"."age" = ?',
        ["Ann", 30],
    ),
    "where_null": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" IS NULL AND "users"."name" IS NOT NULL',
        [],
    ),
    "where_is_null_methods": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" IS NULL OR "users"."email" IS NOT NULL',
        [],
    ),
    "where_and_or_not": (
        'SELECT "users"."id" FROM "users" WHERE ("users"."age" > ? OR "users"."age" < ?) AND NOT ("users"."name" = ? OR "users"."status" = ?)',
        [1, 0, "a", "b"],
    ),
    "where_or_of_and": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" > ? OR ("users"."age" < ? AND "users"."name" = ?)',
        [1, 0, "x"],
    ),
    "where_not_of_and": (
        'SELECT "users"."id" FROM "users" WHERE NOT ("users"."age" > ? AND "users"."name" = ?)',
        [1, "a"],
    ),
    "where_two_calls_or": (
        'SELECT "users"."id" FROM "users" WHERE ("users"."age" = ? OR "users"."age" = ?) AND "users"."name" = ?',
        [1, 2, "z"],
    ),
    "where_deep_nesting": (
        'SELECT "users"."id" FROM "users" WHERE ("users"."id" = ? AND ("users"."id" = ? OR ("users"."id" = ? AND NOT ("users"."id" = ?)))) OR "users"."id" = ?',
        [1, 2, 3, 4, 5],
    ),
    "in_list": (
        'SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "value" FROM JSON_EACH(?))',
        ["[1, 2, 3]"],
    ),
    "in_empty_list": (
        'SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "value" FROM JSON_EACH(?))',
        ["[]"],
    ),
    "not_in_list": (
        'SELECT "users"."id" FROM "users" WHERE NOT ("users"."id" IN (SELECT "value" FROM JSON_EACH(?)))',
        ["[4, 5]"],
    ),
    "in_subquery": (
        'SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "orders"."user_id" FROM "orders" WHERE "orders"."total" > ?)',
        [10],
    ),
    "not_in_subquery": (
        'SELECT "users"."id" FROM "users" WHERE NOT ("users"."id" IN (SELECT "orders"."user_id" FROM "orders"))',
        [],
    ),
    "like_ilike": (
        'SELECT "users"."id" FROM "users" WHERE "users"."name" LIKE ? AND LOWER("users"."email") LIKE LOWER(?) AND NOT ("users"."name" LIKE ?)',
        ["A%", "%@EXAMPLE.COM", "z%"],
    ),
    "between": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" BETWEEN ? AND ? AND NOT ("users"."id" BETWEEN ? AND ?)',
        [18, 65, 10, 20],
    ),
    "arithmetic": (
        'SELECT ("users"."age" + ?) * ? AS "a", "users"."age" - ("users"."id" - ?) AS "b", (CAST("users"."age" AS REAL) / ?) % ? AS "c" FROM "users" WHERE "users"."age" * ? > "users"."id" + ?',
        [1, 2, 1, 2, 3, 2, 10],
    ),
    "order_by": (
        'SELECT "users"."id" FROM "users" ORDER BY "users"."name", "users"."age" DESC, "users"."email" DESC',
        [],
    ),
    "order_by_nulls": (
        'SELECT "users"."id" FROM "users" ORDER BY "users"."age" NULLS LAST, "users"."name" DESC NULLS FIRST',
        [],
    ),
    "limit": (
        'SELECT "users"."id" FROM "users" LIMIT ?',
        [10],
    ),
    "limit_offset": (
        'SELECT "users"."id" FROM "users" ORDER BY "users"."id" LIMIT ? OFFSET ?',
        [10, 20],
    ),
    "offset_without_limit": (
        'SELECT "users"."id" FROM "users" LIMIT -1 OFFSET ?',
        [5],
    ),
    "distinct": (
        'SELECT DISTINCT "users"."status" FROM "users"',
        [],
    ),
    "group_by_having": (
        'SELECT "users"."status", COUNT(*) AS "n" FROM "users" GROUP BY "users"."status" HAVING COUNT(*) > ?',
        [1],
    ),
    "join": (
        'SELECT "users"."name", "orders"."id", "orders"."total" FROM "users" JOIN "orders" ON "users"."id" = "orders"."user_id" WHERE "orders"."total" > ?',
        [5],
    ),
    "left_join": (
        'SELECT "users"."id", "orders"."id" AS "order_id" FROM "users" LEFT JOIN "orders" ON "users"."id" = "orders"."user_id" WHERE "orders"."id" IS NULL',
        [],
    ),
    "count": (
        'SELECT COUNT(*) FROM "users" WHERE "users"."status" = ?',
        ["active"],
    ),
    "exists": (
        'SELECT "users"."id" FROM "users" WHERE EXISTS(SELECT "orders"."id" FROM "orders" WHERE "orders"."user_id" = "users"."id")',
        [],
    ),
    "not_exists": (
        'SELECT "users"."id" FROM "users" WHERE NOT EXISTS(SELECT "orders"."id" FROM "orders" WHERE "orders"."user_id" = "users"."id")',
        [],
    ),
    "update": (
        'UPDATE "users" SET "name" = ?, "age" = ? WHERE "users"."id" = ?',
        ["Zed", 7, 3],
    ),
    "update_expression": (
        'UPDATE "users" SET "age" = "users"."age" + ? WHERE "users"."status" = ?',
        [1, "active"],
    ),
    "delete": (
        'DELETE FROM "users" WHERE "users"."age" < ?',
        [18],
    ),
    "insert": (
        'INSERT INTO "users" ("name", "email", "age", "status") VALUES (?, ?, ?, ?)',
        [],
    ),
    "reserved_select": (
        'SELECT "order"."id", "order"."group", "order"."select" FROM "order" WHERE "order"."group" = ? ORDER BY "order"."group"',
        ["g"],
    ),
    "reserved_update": (
        'UPDATE "order" SET "group" = ? WHERE "order"."select" > ?',
        ["h", 1],
    ),
    "reserved_insert": (
        'INSERT INTO "order" ("group", "select") VALUES (?, ?)',
        [],
    ),
    # FROM items, set operations, output-column references
    "alias_self_join": (
        'SELECT "users"."name", "peer"."name" AS "peer" FROM "users" JOIN "users" AS "peer" ON "users"."status" = "peer"."status" AND "users"."id" < "peer"."id"',
        [],
    ),
    "alias_query": (
        'SELECT "peer"."id", "peer"."name" FROM "users" AS "peer" WHERE "peer"."age" > ?',
        [30],
    ),
    "alias_exists": (
        'SELECT "users"."id" FROM "users" WHERE EXISTS(SELECT "peer"."id" FROM "users" AS "peer" WHERE "peer"."age" > "users"."age")',
        [],
    ),
    "subquery_select": (
        'SELECT "spent"."user_id", "spent"."spent" FROM (SELECT "orders"."user_id", SUM("orders"."total") AS "spent" FROM "orders" GROUP BY "orders"."user_id") AS "spent" WHERE "spent"."spent" > ? ORDER BY "spent"."spent" DESC',
        [10],
    ),
    "subquery_join": (
        'SELECT "users"."name", "spent"."spent" FROM "users" JOIN (SELECT "orders"."user_id", SUM("orders"."total") AS "spent" FROM "orders" GROUP BY "orders"."user_id") AS "spent" ON "spent"."user_id" = "users"."id" WHERE "users"."status" = ?',
        ["active"],
    ),
    "cross_join": (
        'SELECT "users"."id", "orders"."id" AS "order_id" FROM "users" CROSS JOIN "orders" WHERE "orders"."total" > ?',
        [20],
    ),
    "cte_select": (
        'WITH "big" AS (SELECT "orders"."id", "orders"."user_id", "orders"."total" FROM "orders" WHERE "orders"."total" > ?) SELECT DISTINCT "big"."user_id" FROM "big"',
        [8],
    ),
    "cte_join_and_subquery": (
        'WITH "big" AS (SELECT "orders"."id", "orders"."user_id", "orders"."total" FROM "orders" WHERE "orders"."total" > ?) SELECT "users"."name", "big"."total" FROM "users" JOIN "big" ON "big"."user_id" = "users"."id" WHERE "users"."id" IN (SELECT "big"."user_id" FROM "big" WHERE "big"."total" < ?)',
        [8, 20],
    ),
    "cte_recursive": (
        'WITH RECURSIVE "n" AS (SELECT MIN("users"."id") AS "n" FROM "users" UNION ALL SELECT "n"."n" + ? AS "n" FROM "n" WHERE "n"."n" < ?) SELECT "n"."n" FROM "n"',
        [1, 5],
    ),
    "union": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > ? UNION SELECT "users"."name" FROM "users" WHERE "users"."status" = ?',
        [35, "active"],
    ),
    "union_all_order_limit": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > ? UNION ALL SELECT "users"."name" FROM "users" WHERE "users"."status" = ? ORDER BY "name" DESC LIMIT ?',
        [35, 'active', 2],
    ),
    "intersect": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > ? INTERSECT SELECT "users"."name" FROM "users" WHERE "users"."status" = ?',
        [20, "active"],
    ),
    "except": (
        'SELECT "users"."name" FROM "users" WHERE "users"."id" > ? EXCEPT SELECT "users"."name" FROM "users" WHERE "users"."status" = ? ORDER BY "name"',
        [0, "inactive"],
    ),
    "set_member_with_limit": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > ? UNION SELECT * FROM (SELECT "users"."name" FROM "users" ORDER BY "users"."id" LIMIT ?) AS "_set1"',
        [35, 1],
    ),
    "set_operation_nested": (
        'SELECT * FROM (SELECT "users"."name" FROM "users" WHERE "users"."id" > ? UNION SELECT "users"."name" FROM "users" WHERE "users"."id" > ?) AS "_set1" INTERSECT SELECT "users"."name" FROM "users" WHERE "users"."status" = ?',
        [1, 2, "active"],
    ),
    "order_by_alias_and_position": (
        'SELECT "orders"."user_id", SUM("orders"."total") AS "spent" FROM "orders" GROUP BY 1 ORDER BY "spent" DESC, 1',
        [],
    ),
    "group_by_alias": (
        'SELECT LOWER("users"."status") AS "state", COUNT(*) AS "n" FROM "users" GROUP BY "state" ORDER BY "state"',
        [],
    ),
    "group_by_alias_shadowing_a_column": (
        'SELECT UPPER("users"."status") AS "status", COUNT(*) AS "n" FROM "users" GROUP BY 1 ORDER BY "status"',
        [],
    ),
}


def test_every_case_has_an_expectation():
    assert set(EXPECTED) == set(CASES)


@pytest.mark.parametrize("name", list(CASES))
def test_golden(name):
    sql, params = EXPECTED[name]
    assert_sql(CASES[name](), DIALECT, sql, params)


_INSERT_VALUES = {
    "insert": ["Dee", "dee@example.com", 22, "active"],
    "reserved_insert": ["g", 2],
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_rendering_runs_on_sqlite(db, name):
    db.create_tables(Reserved)
    stmt = CASES[name]()
    sql, params = render(stmt, DIALECT)
    db.execute(sql, _INSERT_VALUES.get(name, params))


def test_terminals_render_count_exists_first_one(db, people):
    U = User.c
    base = User.query().where(U.status == "active")
    with db.track_queries() as t:
        assert base.count() == 2
        assert base.limit(1).count() == 1
        assert base.exists() is True
        assert base.first().name == "Ann"
        assert base.where(U.age == 30).one().name == "Ann"
    cols = '"users"."id", "users"."name", "users"."email", "users"."age", "users"."status"'
    where = 'WHERE "users"."status" = ?'
    assert [(q.sql, list(q.params)) for q in t.queries] == [
        (f'SELECT COUNT(*) FROM "users" {where}', ["active"]),
        (
            f'SELECT COUNT(*) FROM (SELECT {cols} FROM "users" {where} LIMIT ?) AS "counted"',
            ["active", 1],
        ),
        (f'SELECT "users"."id" FROM "users" {where} LIMIT ?', ["active", 1]),
        (f'SELECT {cols} FROM "users" {where} LIMIT ?', ["active", 1]),
        (f'SELECT {cols} FROM "users" {where} AND "users"."age" = ? LIMIT ?', ["active", 30, 2]),
    ]


def test_find_by_id_renders_a_primary_key_lookup(db, people):
    with db.track_queries() as t:
        assert User.find_by_id(people[1].id).name == "Bob"
    # One table: the columns go unqualified.
    assert t.queries[0].sql == (
        'SELECT "id", "name", "email", "age", "status" FROM "users" WHERE "id" = ?'
    )
    assert list(t.queries[0].params) == [people[1].id]


def test_in_list_is_one_json_parameter_on_sqlite():
    sql, params = User.query().select("id").where(User.c.email.is_in(["a'b", "é"])).to_sql()
    assert sql.endswith('WHERE "users"."email" IN (SELECT "value" FROM JSON_EACH(?))')
    assert params == ['["a\'b", "é"]']


def test_alias_in_order_by_refers_to_the_alias(db, people):
    q = (
        Order.query()
        .select(Order.c.user_id, func.sum(Order.c.total).as_("spent"))
        .group_by(Order.c.user_id)
        .order_by(func.sum(Order.c.total).as_("spent").desc())
    )
    assert_sql(
        q,
        DIALECT,
        'SELECT "orders"."user_id", SUM("orders"."total") AS "spent" FROM "orders" '
        'GROUP BY "orders"."user_id" ORDER BY "spent" DESC',
        [],
    )
    assert q.tuples() == [(people[0].id, 35.5), (people[1].id, 7.25)]
