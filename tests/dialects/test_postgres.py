"""SQL golden pairs for PostgreSQL (psycopg placeholders): text and bound values together."""

from __future__ import annotations

from typing import Any

import pytest
from dialect_cases import CASES
from helpers import Order, User, assert_sql, render

from activeq.ddl import create_table_statements
from activeq.query import Insert

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (dev extra)")

DIALECT = "postgres"

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
        'SELECT COUNT(*) AS "n", COUNT(DISTINCT "users"."age") AS "ages", SUM("users"."age"), AVG("users"."age"), MIN("users"."age"), MAX("users"."age"), COALESCE("users"."age", %s) AS "age0", UPPER("users"."name"), LENGTH("users"."name") FROM "users"',
        [0],
    ),
    "where_operators": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" = %s AND "users"."age" <> %s AND "users"."age" < %s AND "users"."age" <= %s AND "users"."age" > %s AND "users"."age" >= %s',
        [1, 2, 3, 4, 5, 6],
    ),
    "where_keyword_equals": (
        'SELECT "users"."id" FROM "users" WHERE "users"."name" = %s AND "users"."age" = %s',
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
        'SELECT "users"."id" FROM "users" WHERE ("users"."age" > %s OR "users"."age" < %s) AND NOT ("users"."name" = %s OR "users"."status" = %s)',
        [1, 0, "a", "b"],
    ),
    "where_or_of_and": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" > %s OR ("users"."age" < %s AND "users"."name" = %s)',
        [1, 0, "x"],
    ),
    "where_not_of_and": (
        'SELECT "users"."id" FROM "users" WHERE NOT ("users"."age" > %s AND "users"."name" = %s)',
        [1, "a"],
    ),
    "where_two_calls_or": (
        'SELECT "users"."id" FROM "users" WHERE ("users"."age" = %s OR "users"."age" = %s) AND "users"."name" = %s',
        [1, 2, "z"],
    ),
    "where_deep_nesting": (
        'SELECT "users"."id" FROM "users" WHERE ("users"."id" = %s AND ("users"."id" = %s OR ("users"."id" = %s AND NOT ("users"."id" = %s)))) OR "users"."id" = %s',
        [1, 2, 3, 4, 5],
    ),
    "in_list": (
        'SELECT "users"."id" FROM "users" WHERE "users"."id" = ANY(%s)',
        [[1, 2, 3]],
    ),
    "in_empty_list": (
        'SELECT "users"."id" FROM "users" WHERE "users"."id" = ANY(%s)',
        [[]],
    ),
    "not_in_list": (
        'SELECT "users"."id" FROM "users" WHERE NOT ("users"."id" = ANY(%s))',
        [[4, 5]],
    ),
    "in_subquery": (
        'SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "orders"."user_id" FROM "orders" WHERE "orders"."total" > %s)',
        [10],
    ),
    "not_in_subquery": (
        'SELECT "users"."id" FROM "users" WHERE NOT ("users"."id" IN (SELECT "orders"."user_id" FROM "orders"))',
        [],
    ),
    "like_ilike": (
        # ESCAPE '': a backslash in a pattern is literal, as on SQLite and DuckDB.
        'SELECT "users"."id" FROM "users" WHERE "users"."name" LIKE %s ESCAPE \'\' AND "users"."email" ILIKE %s ESCAPE \'\' AND NOT ("users"."name" LIKE %s ESCAPE \'\')',
        ["A%", "%@EXAMPLE.COM", "z%"],
    ),
    "between": (
        'SELECT "users"."id" FROM "users" WHERE "users"."age" BETWEEN %s AND %s AND NOT ("users"."id" BETWEEN %s AND %s)',
        [18, 65, 10, 20],
    ),
    "arithmetic": (
        'SELECT ("users"."age" + %s) * %s AS "a", "users"."age" - ("users"."id" - %s) AS "b", (CAST("users"."age" AS DOUBLE PRECISION) / %s) %% %s AS "c" FROM "users" WHERE "users"."age" * %s > "users"."id" + %s',
        [1, 2, 1, 2, 3, 2, 10],
    ),
    "order_by": (
        'SELECT "users"."id" FROM "users" ORDER BY "users"."name", "users"."age" DESC, "users"."email" DESC',
        [],
    ),
    "order_by_nulls": (
        'SELECT "users"."id" FROM "users" ORDER BY "users"."age", "users"."name" DESC',
        [],
    ),
    "limit": (
        'SELECT "users"."id" FROM "users" LIMIT 10',
        [],
    ),
    "limit_offset": (
        'SELECT "users"."id" FROM "users" ORDER BY "users"."id" LIMIT 10 OFFSET %s',
        [20],
    ),
    "offset_without_limit": (
        'SELECT "users"."id" FROM "users" OFFSET %s',
        [5],
    ),
    "distinct": (
        'SELECT DISTINCT "users"."status" FROM "users"',
        [],
    ),
    "group_by_having": (
        'SELECT "users"."status", COUNT(*) AS "n" FROM "users" GROUP BY "users"."status" HAVING COUNT(*) > %s',
        [1],
    ),
    "join": (
        'SELECT "users"."name", "orders"."id", "orders"."total" FROM "users" JOIN "orders" ON "users"."id" = "orders"."user_id" WHERE "orders"."total" > %s',
        [5],
    ),
    "left_join": (
        'SELECT "users"."id", "orders"."id" AS "order_id" FROM "users" LEFT JOIN "orders" ON "users"."id" = "orders"."user_id" WHERE "orders"."id" IS NULL',
        [],
    ),
    "count": (
        'SELECT COUNT(*) FROM "users" WHERE "users"."status" = %s',
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
        'UPDATE "users" SET "name" = %s, "age" = %s WHERE "users"."id" = %s',
        ["Zed", 7, 3],
    ),
    "update_expression": (
        'UPDATE "users" SET "age" = "users"."age" + %s WHERE "users"."status" = %s',
        [1, "active"],
    ),
    "delete": (
        'DELETE FROM "users" WHERE "users"."age" < %s',
        [18],
    ),
    "insert": (
        'INSERT INTO "users" ("name", "email", "age", "status") VALUES (%s, %s, %s, %s)',
        [],
    ),
    "reserved_select": (
        'SELECT "order"."id", "order"."group", "order"."select" FROM "order" WHERE "order"."group" = %s ORDER BY "order"."group"',
        ["g"],
    ),
    "reserved_update": (
        'UPDATE "order" SET "group" = %s WHERE "order"."select" > %s',
        ["h", 1],
    ),
    "reserved_insert": (
        'INSERT INTO "order" ("group", "select") VALUES (%s, %s)',
        [],
    ),
    # FROM items, set operations, output-column references
    "alias_self_join": (
        'SELECT "users"."name", "peer"."name" AS "peer" FROM "users" JOIN "users" AS "peer" ON "users"."status" = "peer"."status" AND "users"."id" < "peer"."id"',
        [],
    ),
    "alias_query": (
        'SELECT "peer"."id", "peer"."name" FROM "users" AS "peer" WHERE "peer"."age" > %s',
        [30],
    ),
    "alias_exists": (
        'SELECT "users"."id" FROM "users" WHERE EXISTS(SELECT "peer"."id" FROM "users" AS "peer" WHERE "peer"."age" > "users"."age")',
        [],
    ),
    "subquery_select": (
        'SELECT "spent"."user_id", "spent"."spent" FROM (SELECT "orders"."user_id", SUM("orders"."total") AS "spent" FROM "orders" GROUP BY "orders"."user_id") AS "spent" WHERE "spent"."spent" > %s ORDER BY "spent"."spent" DESC',
        [10],
    ),
    "subquery_join": (
        'SELECT "users"."name", "spent"."spent" FROM "users" JOIN (SELECT "orders"."user_id", SUM("orders"."total") AS "spent" FROM "orders" GROUP BY "orders"."user_id") AS "spent" ON "spent"."user_id" = "users"."id" WHERE "users"."status" = %s',
        ["active"],
    ),
    "cross_join": (
        'SELECT "users"."id", "orders"."id" AS "order_id" FROM "users" CROSS JOIN "orders" WHERE "orders"."total" > %s',
        [20],
    ),
    "cte_select": (
        'WITH "big" AS (SELECT "orders"."id", "orders"."user_id", "orders"."total" FROM "orders" WHERE "orders"."total" > %s) SELECT DISTINCT "big"."user_id" FROM "big"',
        [8],
    ),
    "cte_join_and_subquery": (
        'WITH "big" AS (SELECT "orders"."id", "orders"."user_id", "orders"."total" FROM "orders" WHERE "orders"."total" > %s) SELECT "users"."name", "big"."total" FROM "users" JOIN "big" ON "big"."user_id" = "users"."id" WHERE "users"."id" IN (SELECT "big"."user_id" FROM "big" WHERE "big"."total" < %s)',
        [8, 20],
    ),
    "cte_recursive": (
        'WITH RECURSIVE "n" AS (SELECT MIN("users"."id") AS "n" FROM "users" UNION ALL SELECT "n"."n" + %s AS "n" FROM "n" WHERE "n"."n" < %s) SELECT "n"."n" FROM "n"',
        [1, 5],
    ),
    "union": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > %s UNION SELECT "users"."name" FROM "users" WHERE "users"."status" = %s',
        [35, "active"],
    ),
    "union_all_order_limit": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > %s UNION ALL SELECT "users"."name" FROM "users" WHERE "users"."status" = %s ORDER BY "name" DESC LIMIT 2',
        [35, 'active'],
    ),
    "intersect": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > %s INTERSECT SELECT "users"."name" FROM "users" WHERE "users"."status" = %s',
        [20, "active"],
    ),
    "except": (
        'SELECT "users"."name" FROM "users" WHERE "users"."id" > %s EXCEPT SELECT "users"."name" FROM "users" WHERE "users"."status" = %s ORDER BY "name"',
        [0, "inactive"],
    ),
    "set_member_with_limit": (
        'SELECT "users"."name" FROM "users" WHERE "users"."age" > %s UNION SELECT * FROM (SELECT "users"."name" FROM "users" ORDER BY "users"."id" LIMIT 1) AS "_set1"',
        [35],
    ),
    "set_operation_nested": (
        'SELECT * FROM (SELECT "users"."name" FROM "users" WHERE "users"."id" > %s UNION SELECT "users"."name" FROM "users" WHERE "users"."id" > %s) AS "_set1" INTERSECT SELECT "users"."name" FROM "users" WHERE "users"."status" = %s',
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


@pytest.mark.parametrize("name", list(CASES))
def test_one_value_per_placeholder(name):
    stmt = CASES[name]()
    sql, params = render(stmt, DIALECT)
    # A literal % must be doubled or the driver would read it as a placeholder.
    markers = sql.replace("%%", "").count("%s")
    expected = len(params) if params or not name.endswith("insert") else len(stmt.names)
    assert markers == expected
    assert "?" not in sql


def test_in_list_binds_one_array_for_any_length():
    for values in ([], [1], list(range(5000))):
        sql, params = User.query().select("id").where(User.c.id.is_in(values)).to_sql(DIALECT)
        assert sql == 'SELECT "users"."id" FROM "users" WHERE "users"."id" = ANY(%s)'
        assert params == [values]


USERS = [
    (1, "Ann", "ann@example.com", 30, "active"),
    (2, "Bob", "bob@example.com", 40, "inactive"),
    (3, "Cid", "cid@example.com", None, "active"),
]
ORDERS = [(1, 1, 10.0, "first"), (2, 1, 25.5, None), (3, 2, 7.25, "gift")]


@pytest.fixture
def pg(pg_conninfo):
    """A connection to a fresh database on the real PostgreSQL server, with the test tables."""
    with psycopg.connect(pg_conninfo, autocommit=True) as con:
        for model in (User, Order):
            for sql in create_table_statements(model, DIALECT):
                con.execute(sql)
        for model, rows in ((User, USERS), (Order, ORDERS)):
            sql, _ = render(Insert(model, model.__aq__.names), DIALECT)
            for row in rows:
                con.execute(sql, list(row))
        yield con


def run_pg(con, name):
    sql, params = render(CASES[name](), DIALECT)
    return con.execute(sql, params).fetchall()


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("select_names", [(1, "Ann"), (2, "Bob"), (3, "Cid")]),
        ("where_null", [(3,)]),
        ("in_list", [(1,), (2,), (3,)]),
        ("in_empty_list", []),
        ("not_in_list", [(1,), (2,), (3,)]),
        ("in_subquery", [(1,)]),
        ("not_in_subquery", [(3,)]),
        ("like_ilike", [(1,)]),
        ("limit_offset", []),
        ("offset_without_limit", []),
        ("group_by_having", [("active", 2)]),
        ("join", [("Ann", 1, 10.0), ("Ann", 2, 25.5), ("Bob", 3, 7.25)]),
        ("left_join", [(3, None)]),
        ("exists", [(1,), (2,)]),
        ("not_exists", [(3,)]),
        ("count", [(2,)]),
        ("alias_self_join", [("Ann", "Cid")]),
        ("alias_query", [(2, "Bob")]),
        ("alias_exists", [(1,)]),
        ("subquery_select", [(1, 35.5)]),
        ("subquery_join", [("Ann", 35.5)]),
        ("cross_join", [(1, 2), (2, 2), (3, 2)]),
        ("cte_select", [(1,)]),
        ("cte_join_and_subquery", [("Ann", 10.0), ("Ann", 25.5)]),
        ("cte_recursive", [(1,), (2,), (3,), (4,), (5,)]),
        ("union", [("Ann",), ("Bob",), ("Cid",)]),
        ("union_all_order_limit", [("Cid",), ("Bob",)]),
        ("intersect", [("Ann",)]),
        ("except", [("Ann",), ("Cid",)]),
        ("set_member_with_limit", [("Ann",), ("Bob",)]),
        # (id > 1 UNION id > 2) INTERSECT active: the grouping the builder calls made.
        ("set_operation_nested", [("Cid",)]),
        ("order_by_alias_and_position", [(1, 35.5), (2, 7.25)]),
        ("group_by_alias", [("active", 2), ("inactive", 1)]),
        ("group_by_alias_shadowing_a_column", [("ACTIVE", 2), ("INACTIVE", 1)]),
    ],
)
def test_renderings_run_on_a_postgresql_server(pg, name, rows):
    assert sorted(run_pg(pg, name), key=repr) == sorted(rows, key=repr)
