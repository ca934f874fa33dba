"""SQL golden pairs for MySQL 8 (PyMySQL/mysqlclient placeholders): text and bound values together."""

from __future__ import annotations

from typing import Any

import pytest
from dialect_cases import CASES
from helpers import User, assert_sql, render

DIALECT = "mysql"

EXPECTED: dict[str, tuple[str, list[Any]]] = {
    "select_all": (
        "SELECT `users`.`id`, `users`.`name`, `users`.`email`, `users`.`age`, `users`.`status` FROM `users`",
        [],
    ),
    "select_names": (
        "SELECT `users`.`id`, `users`.`name` FROM `users`",
        [],
    ),
    "select_columns_alias": (
        "SELECT `users`.`id`, `users`.`name` AS `who`, LOWER(`users`.`email`) AS `mail` FROM `users`",
        [],
    ),
    "select_functions": (
        "SELECT COUNT(*) AS `n`, COUNT(DISTINCT `users`.`age`) AS `ages`, SUM(`users`.`age`), AVG(`users`.`age`), MIN(`users`.`age`), MAX(`users`.`age`), COALESCE(`users`.`age`, %s) AS `age0`, UPPER(`users`.`name`), CHAR_LENGTH(`users`.`name`) FROM `users`",
        [0],
    ),
    "where_operators": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`age` = %s AND `users`.`age` <> %s AND `users`.`age` < %s AND `users`.`age` <= %s AND `users`.`age` > %s AND `users`.`age` >= %s",
        [1, 2, 3, 4, 5, 6],
    ),
    "where_keyword_equals": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`name` = %s AND `users`.`age` = %s",
        ["Ann", 30],
    ),
    "where_null": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`age` IS NULL AND `users`.`name` IS NOT NULL",
        [],
    ),
    "where_is_null_methods": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`age` IS NULL OR `users`.`email` IS NOT NULL",
        [],
    ),
    "where_and_or_not": (
        "SELECT `users`.`id` FROM `users` WHERE (`users`.`age` > %s OR `users`.`age` < %s) AND NOT (`users`.`name` = %s OR `users`.`status` = %s)",
        [1, 0, "a", "b"],
    ),
    "where_or_of_and": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`age` > %s OR (`users`.`age` < %s AND `users`.`name` = %s)",
        [1, 0, "x"],
    ),
    "where_not_of_and": (
        "SELECT `users`.`id` FROM `users` WHERE NOT (`users`.`age` > %s AND `users`.`name` = %s)",
        [1, "a"],
    ),
    "where_two_calls_or": (
        "SELECT `users`.`id` FROM `users` WHERE (`users`.`age` = %s OR `users`.`age` = %s) AND `users`.`name` = %s",
        [1, 2, "z"],
    ),
    "where_deep_nesting": (
        "SELECT `users`.`id` FROM `users` WHERE (`users`.`id` = %s AND (`users`.`id` = %s OR (`users`.`id` = %s AND NOT (`users`.`id` = %s)))) OR `users`.`id` = %s",
        [1, 2, 3, 4, 5],
    ),
    "in_list": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`id` MEMBER OF(%s)",
        ["[1, 2, 3]"],
    ),
    "in_empty_list": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`id` MEMBER OF(%s)",
        ["[]"],
    ),
    "not_in_list": (
        "SELECT `users`.`id` FROM `users` WHERE NOT (`users`.`id` MEMBER OF(%s))",
        ["[4, 5]"],
    ),
    "in_subquery": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`id` IN (SELECT `orders`.`user_id` FROM `orders` WHERE `orders`.`total` > %s)",
        [10],
    ),
    "not_in_subquery": (
        "SELECT `users`.`id` FROM `users` WHERE NOT (`users`.`id` IN (SELECT `orders`.`user_id` FROM `orders`))",
        [],
    ),
    "like_ilike": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`name` LIKE %s AND LOWER(`users`.`email`) LIKE LOWER(%s) AND NOT (`users`.`name` LIKE %s)",
        ["A%", "%@EXAMPLE.COM", "z%"],
    ),
    "between": (
        "SELECT `users`.`id` FROM `users` WHERE `users`.`age` BETWEEN %s AND %s AND NOT (`users`.`id` BETWEEN %s AND %s)",
        [18, 65, 10, 20],
    ),
    "arithmetic": (
        "SELECT (`users`.`age` + %s) * %s AS `a`, `users`.`age` - (`users`.`id` - %s) AS `b`, (`users`.`age` / %s) %% %s AS `c` FROM `users` WHERE `users`.`age` * %s > `users`.`id` + %s",
        [1, 2, 1, 2, 3, 2, 10],
    ),
    "order_by": (
        "SELECT `users`.`id` FROM `users` ORDER BY `users`.`name`, `users`.`age` DESC, `users`.`email` DESC",
        [],
    ),
    "order_by_nulls": (
        "SELECT `users`.`id` FROM `users` ORDER BY CASE WHEN `users`.`age` IS NULL THEN 1 ELSE 0 END, `users`.`age`, CASE WHEN `users`.`name` IS NULL THEN 1 ELSE 0 END DESC, `users`.`name` DESC",
        [],
    ),
    "limit": (
        "SELECT `users`.`id` FROM `users` LIMIT %s",
        [10],
    ),
    "limit_offset": (
        "SELECT `users`.`id` FROM `users` ORDER BY `users`.`id` LIMIT %s OFFSET %s",
        [10, 20],
    ),
    "offset_without_limit": (
        "SELECT `users`.`id` FROM `users` LIMIT 18446744073709551615 OFFSET %s",
        [5],
    ),
    "distinct": (
        "SELECT DISTINCT `users`.`status` FROM `users`",
        [],
    ),
    "group_by_having": (
        "SELECT `users`.`status`, COUNT(*) AS `n` FROM `users` GROUP BY `users`.`status` HAVING COUNT(*) > %s",
        [1],
    ),
    "join": (
        "SELECT `users`.`name`, `orders`.`id`, `orders`.`total` FROM `users` JOIN `orders` ON `users`.`id` = `orders`.`user_id` WHERE `orders`.`total` > %s",
        [5],
    ),
    "left_join": (
        "SELECT `users`.`id`, `orders`.`id` AS `order_id` FROM `users` LEFT JOIN `orders` ON `users`.`id` = `orders`.`user_id` WHERE `orders`.`id` IS NULL",
        [],
    ),
    "count": (
        "SELECT COUNT(*) FROM `users` WHERE `users`.`status` = %s",
        ["active"],
    ),
    "exists": (
        "SELECT `users`.`id` FROM `users` WHERE EXISTS(SELECT `orders`.`id` FROM `orders` WHERE `orders`.`user_id` = `users`.`id`)",
        [],
    ),
    "not_exists": (
        "SELECT `users`.`id` FROM `users` WHERE NOT EXISTS(SELECT `orders`.`id` FROM `orders` WHERE `orders`.`user_id` = `users`.`id`)",
        [],
    ),
    "update": (
        "UPDATE `users` SET `name` = %s, `age` = %s WHERE `users`.`id` = %s",
        ["Zed", 7, 3],
    ),
    "update_expression": (
        "UPDATE `users` SET `age` = `users`.`age` + %s WHERE `users`.`status` = %s",
        [1, "active"],
    ),
    "delete": (
        "DELETE FROM `users` WHERE `users`.`age` < %s",
        [18],
    ),
    "insert": (
        "INSERT INTO `users` (`name`, `email`, `age`, `status`) VALUES (%s, %s, %s, %s)",
        [],
    ),
    "reserved_select": (
        "SELECT `order`.`id`, `order`.`group`, `order`.`select` FROM `order` WHERE `order`.`group` = %s ORDER BY `order`.`group`",
        ["g"],
    ),
    "reserved_update": (
        "UPDATE `order` SET `group` = %s WHERE `order`.`select` > %s",
        ["h", 1],
    ),
    "reserved_insert": (
        "INSERT INTO `order` (`group`, `select`) VALUES (%s, %s)",
        [],
    ),
    # FROM items, set operations, output-column references
    "alias_self_join": (
        "SELECT `users`.`name`, `peer`.`name` AS `peer` FROM `users` JOIN `users` AS `peer` ON `users`.`status` = `peer`.`status` AND `users`.`id` < `peer`.`id`",
        [],
    ),
    "alias_query": (
        "SELECT `peer`.`id`, `peer`.`name` FROM `users` AS `peer` WHERE `peer`.`age` > %s",
        [30],
    ),
    "alias_exists": (
        "SELECT `users`.`id` FROM `users` WHERE EXISTS(SELECT `peer`.`id` FROM `users` AS `peer` WHERE `peer`.`age` > `users`.`age`)",
        [],
    ),
    "subquery_select": (
        "SELECT `spent`.`user_id`, `spent`.`spent` FROM (SELECT `orders`.`user_id`, SUM(`orders`.`total`) AS `spent` FROM `orders` GROUP BY `orders`.`user_id`) AS `spent` WHERE `spent`.`spent` > %s ORDER BY `spent`.`spent` DESC",
        [10],
    ),
    "subquery_join": (
        "SELECT `users`.`name`, `spent`.`spent` FROM `users` JOIN (SELECT `orders`.`user_id`, SUM(`orders`.`total`) AS `spent` FROM `orders` GROUP BY `orders`.`user_id`) AS `spent` ON `spent`.`user_id` = `users`.`id` WHERE `users`.`status` = %s",
        ["active"],
    ),
    "cross_join": (
        "SELECT `users`.`id`, `orders`.`id` AS `order_id` FROM `users` CROSS JOIN `orders` WHERE `orders`.`total` > %s",
        [20],
    ),
    "cte_select": (
        "WITH `big` AS (SELECT `orders`.`id`, `orders`.`user_id`, `orders`.`total` FROM `orders` WHERE `orders`.`total` > %s) SELECT DISTINCT `big`.`user_id` FROM `big`",
        [8],
    ),
    "cte_join_and_subquery": (
        "WITH `big` AS (SELECT `orders`.`id`, `orders`.`user_id`, `orders`.`total` FROM `orders` WHERE `orders`.`total` > %s) SELECT `users`.`name`, `big`.`total` FROM `users` JOIN `big` ON `big`.`user_id` = `users`.`id` WHERE `users`.`id` IN (SELECT `big`.`user_id` FROM `big` WHERE `big`.`total` < %s)",
        [8, 20],
    ),
    "cte_recursive": (
        "WITH RECURSIVE `n` AS (SELECT MIN(`users`.`id`) AS `n` FROM `users` UNION ALL SELECT `n`.`n` + %s AS `n` FROM `n` WHERE `n`.`n` < %s) SELECT `n`.`n` FROM `n`",
        [1, 5],
    ),
    "union": (
        "SELECT `users`.`name` FROM `users` WHERE `users`.`age` > %s UNION SELECT `users`.`name` FROM `users` WHERE `users`.`status` = %s",
        [35, "active"],
    ),
    "union_all_order_limit": (
        "SELECT `users`.`name` FROM `users` WHERE `users`.`age` > %s UNION ALL SELECT `users`.`name` FROM `users` WHERE `users`.`status` = %s ORDER BY `name` DESC LIMIT %s",
        [35, 'active', 2],
    ),
    "intersect": (
        "SELECT `users`.`name` FROM `users` WHERE `users`.`age` > %s INTERSECT SELECT `users`.`name` FROM `users` WHERE `users`.`status` = %s",
        [20, "active"],
    ),
    "except": (
        "SELECT `users`.`name` FROM `users` WHERE `users`.`id` > %s EXCEPT SELECT `users`.`name` FROM `users` WHERE `users`.`status` = %s ORDER BY `name`",
        [0, "inactive"],
    ),
    "set_member_with_limit": (
        "SELECT `users`.`name` FROM `users` WHERE `users`.`age` > %s UNION SELECT * FROM (SELECT `users`.`name` FROM `users` ORDER BY `users`.`id` LIMIT %s) AS `_set1`",
        [35, 1],
    ),
    "set_operation_nested": (
        "SELECT * FROM (SELECT `users`.`name` FROM `users` WHERE `users`.`id` > %s UNION SELECT `users`.`name` FROM `users` WHERE `users`.`id` > %s) AS `_set1` INTERSECT SELECT `users`.`name` FROM `users` WHERE `users`.`status` = %s",
        [1, 2, "active"],
    ),
    "order_by_alias_and_position": (
        "SELECT `orders`.`user_id`, SUM(`orders`.`total`) AS `spent` FROM `orders` GROUP BY 1 ORDER BY `spent` DESC, 1",
        [],
    ),
    "group_by_alias": (
        "SELECT LOWER(`users`.`status`) AS `state`, COUNT(*) AS `n` FROM `users` GROUP BY `state` ORDER BY `state`",
        [],
    ),
    "group_by_alias_shadowing_a_column": (
        "SELECT UPPER(`users`.`status`) AS `status`, COUNT(*) AS `n` FROM `users` GROUP BY 1 ORDER BY `status`",
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


def test_in_list_binds_one_json_array():
    sql, params = User.query().select("id").where(User.c.name.is_in(["a'b", "ü"])).to_sql(DIALECT)
    assert sql == "SELECT `users`.`id` FROM `users` WHERE `users`.`name` MEMBER OF(%s)"
    assert params == ['["a\'b", "ü"]']
