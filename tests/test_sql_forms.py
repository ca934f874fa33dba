"""FROM items, set operations and the rarer SELECT clauses, run for real.

Each form runs through activeq on SQLite and, rendered for DuckDB, on an in-process DuckDB
holding the same rows; both must give the rows of a hand-written SQL equivalent. Forms only
PostgreSQL renders run on the test PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pytest
from helpers import User

from activeq import (
    ActiveRecord,
    CompileError,
    Database,
    Field,
    Row,
    UnsupportedError,
    exists,
    func,
)
from activeq.compiler import compiler
from activeq.ddl import create_table_statements
from activeq.query import Insert

try:
    import psycopg
except ImportError:  # the dev extra installs it; without it the PostgreSQL tests skip
    psycopg = None


class Employee(ActiveRecord):
    __table_name__ = "employees"
    id: int = Field(primary_key=True)
    name: str
    manager_id: int | None = None
    dept: str
    salary: int


E = Employee.c
BOSS = Employee.alias("boss")

STAFF = [
    (1, "Ada", None, "eng", 200),
    (2, "Ben", 1, "eng", 150),
    (3, "Cy", 1, "ops", 120),
    (4, "Dee", 2, "eng", 100),
    (5, "Eve", 2, "eng", 90),
    (6, "Fay", 3, "ops", 80),
]


@pytest.fixture
def staff(tmp_path) -> Iterator[Database]:
    database = Database(str(tmp_path / "staff.db"))
    database.bind(Employee)
    database.create_tables(Employee)
    Employee.insert_many([dict(zip(Employee.__aq__.names, row)) for row in STAFF])
    yield database
    database.close()


def _insert_sql(dialect: str) -> str:
    return compiler.compile(Insert(Employee, Employee.__aq__.names), dialect)[0].sql


@pytest.fixture
def duck() -> Iterator[Any]:
    """An in-process DuckDB holding STAFF, written with activeq's own DuckDB INSERT."""
    con = duckdb.connect()
    for sql in create_table_statements(Employee, "duckdb"):
        con.execute(sql)
    con.executemany(_insert_sql("duckdb"), [list(row) for row in STAFF])
    yield con
    con.close()


def _teams() -> Any:
    return (
        Employee.query()
        .select(E.manager_id, func.count().as_("size"), func.sum(E.salary).as_("payroll"))
        .where(E.manager_id != None)  # noqa: E711
        .group_by("manager_id")
        .subquery("teams")
    )


def _well_paid() -> Any:
    return Employee.query().select(E.id, E.dept, E.salary).where(E.salary >= 100).cte("paid")


def _below(root: int) -> Any:
    tree = Employee.query().select(E.id, E.name).where(E.id == root).cte("tree", recursive=True)
    return tree.union_all(
        Employee.query().select(E.id, E.name).join(tree, E.manager_id == tree.c.id))


def _dept(name: str) -> Any:
    return Employee.query().select("name").where(E.dept == name)


def _earning(minimum: int) -> Any:
    return Employee.query().select("name").where(E.salary >= minimum)


# name -> (the query, hand-written SQL giving the same rows, whether the order is defined)
FORMS: dict[str, tuple[Callable[[], Any], str, bool]] = {
    "self_join": (
        lambda: Employee.query()
        .join(BOSS, E.manager_id == BOSS.c.id)
        .select(E.name, BOSS.c.name.as_("boss"))
        .order_by(E.id),
        "SELECT e.name, b.name FROM employees e JOIN employees b ON e.manager_id = b.id "
        "ORDER BY e.id",
        True,
    ),
    "self_left_join_with_filter_on_the_alias": (
        lambda: Employee.query()
        .left_join(BOSS, E.manager_id == BOSS.c.id)
        .select(E.name, BOSS.c.salary.as_("boss_salary"))
        .where((BOSS.c.salary > 100) | (BOSS.c.id == None))  # noqa: E711
        .order_by("name"),
        "SELECT e.name, b.salary FROM employees e LEFT JOIN employees b ON e.manager_id = b.id "
        "WHERE b.salary > 100 OR b.id IS NULL ORDER BY e.name",
        True,
    ),
    "alias_query_in_exists": (
        lambda: Employee.query()
        .select("name")
        .where(exists(BOSS.query().where(BOSS.c.manager_id == E.id)))
        .order_by("name"),
        "SELECT name FROM employees e WHERE EXISTS "
        "(SELECT 1 FROM employees x WHERE x.manager_id = e.id) ORDER BY name",
        True,
    ),
    "derived_table_joined": (
        lambda: Employee.query()
        .join(_teams(), _teams().c.manager_id == E.id)
        .select(E.name, _teams().c.size, _teams().c.payroll)
        .order_by("-payroll"),
        "SELECT e.name, t.size, t.payroll FROM employees e JOIN (SELECT manager_id, count(*) AS "
        "size, sum(salary) AS payroll FROM employees WHERE manager_id IS NOT NULL GROUP BY "
        "manager_id) t ON t.manager_id = e.id ORDER BY t.payroll DESC",
        True,
    ),
    "derived_table_selected": (
        lambda: _teams().query().where(_teams().c.size > 1).select(_teams().c.manager_id),
        "SELECT manager_id FROM employees WHERE manager_id IS NOT NULL GROUP BY manager_id "
        "HAVING count(*) > 1",
        False,
    ),
    "cte_joined_with_params_on_both_sides": (
        lambda: Employee.query()
        .join(_well_paid(), _well_paid().c.id == E.manager_id)
        .select(E.name, _well_paid().c.salary.as_("boss_salary"))
        .where(E.dept == "eng"),
        "WITH paid AS (SELECT id, dept, salary FROM employees WHERE salary >= 100) "
        "SELECT e.name, p.salary FROM employees e JOIN paid p ON p.id = e.manager_id "
        "WHERE e.dept = 'eng'",
        False,
    ),
    "cte_used_twice": (
        lambda: _well_paid().query()
        .select(_well_paid().c.dept, func.count().as_("n"))
        .where(_well_paid().c.id.not_in(
            _well_paid().query().select(_well_paid().c.id).where(_well_paid().c.salary >= 200)))
        .group_by("dept")
        .order_by("dept"),
        "WITH paid AS (SELECT id, dept, salary FROM employees WHERE salary >= 100) "
        "SELECT dept, count(*) FROM paid WHERE id NOT IN (SELECT id FROM paid WHERE salary >= 200) "
        "GROUP BY dept ORDER BY dept",
        True,
    ),
    "recursive_cte_walks_a_subtree": (
        lambda: _below(2).query().order_by("id"),
        "WITH RECURSIVE t AS (SELECT id, name FROM employees WHERE id = 2 UNION ALL "
        "SELECT e.id, e.name FROM employees e JOIN t ON e.manager_id = t.id) "
        "SELECT id, name FROM t ORDER BY id",
        True,
    ),
    "recursive_cte_joined": (
        lambda: Employee.query()
        .join(_below(3), _below(3).c.id == E.id)
        .select(E.name, E.salary)
        .order_by("-salary"),
        "WITH RECURSIVE t AS (SELECT id FROM employees WHERE id = 3 UNION ALL "
        "SELECT e.id FROM employees e JOIN t ON e.manager_id = t.id) "
        "SELECT e.name, e.salary FROM employees e JOIN t ON t.id = e.id ORDER BY e.salary DESC",
        True,
    ),
    "union": (
        lambda: _dept("ops").union(_earning(150)).order_by("name"),
        "SELECT name FROM employees WHERE dept = 'ops' UNION "
        "SELECT name FROM employees WHERE salary >= 150 ORDER BY name",
        True,
    ),
    "union_all_keeps_duplicates": (
        lambda: _dept("eng").union_all(_earning(150)).order_by("-name").limit(4),
        "SELECT name FROM employees WHERE dept = 'eng' UNION ALL "
        "SELECT name FROM employees WHERE salary >= 150 ORDER BY name DESC LIMIT 4",
        True,
    ),
    "intersect": (
        lambda: _dept("eng").intersect(_earning(100)).order_by(1),
        "SELECT name FROM employees WHERE dept = 'eng' INTERSECT "
        "SELECT name FROM employees WHERE salary >= 100 ORDER BY 1",
        True,
    ),
    "except": (
        lambda: _dept("eng").except_(_earning(100)).order_by(E.name),
        "SELECT name FROM employees WHERE dept = 'eng' EXCEPT "
        "SELECT name FROM employees WHERE salary >= 100 ORDER BY name",
        True,
    ),
    "set_operations_chained_with_their_own_grouping": (
        lambda: _dept("ops").union(_earning(150)).except_(_earning(200)).intersect(
            _dept("ops")),
        "SELECT name FROM (SELECT name FROM employees WHERE dept = 'ops' UNION SELECT name "
        "FROM employees WHERE salary >= 150 EXCEPT SELECT name FROM employees WHERE salary >= "
        "200) x INTERSECT SELECT name FROM employees WHERE dept = 'ops'",
        False,
    ),
    "set_operation_of_ordered_limited_members": (
        lambda: Employee.query().select("name").order_by("-salary").limit(2).union_all(
            Employee.query().select("name").order_by("salary").limit(1)).order_by("name"),
        "SELECT name FROM (SELECT name FROM employees ORDER BY salary DESC LIMIT 2) UNION ALL "
        "SELECT name FROM (SELECT name FROM employees ORDER BY salary LIMIT 1) ORDER BY name",
        True,
    ),
    "cross_join": (
        lambda: Employee.query()
        .cross_join(BOSS)
        .select(E.name, BOSS.c.name.as_("other"))
        .where((E.dept == "ops") & (BOSS.c.dept == "ops") & (E.id < BOSS.c.id)),
        "SELECT a.name, b.name FROM employees a CROSS JOIN employees b "
        "WHERE a.dept = 'ops' AND b.dept = 'ops' AND a.id < b.id",
        False,
    ),
    "group_and_order_by_alias": (
        lambda: Employee.query()
        .select(func.upper(E.dept).as_("unit"), func.sum(E.salary).as_("payroll"))
        .group_by("unit")
        .order_by("-payroll"),
        "SELECT upper(dept), sum(salary) FROM employees GROUP BY upper(dept) "
        "ORDER BY sum(salary) DESC",
        True,
    ),
    "group_by_alias_named_like_a_column": (
        lambda: Employee.query()
        .select(func.upper(E.dept).as_("dept"), func.count().as_("n"))
        .group_by("dept")
        .order_by("dept"),
        "SELECT upper(dept), count(*) FROM employees GROUP BY upper(dept) ORDER BY 1",
        True,
    ),
    "group_and_order_by_position": (
        lambda: Employee.query().select(E.dept, func.max(E.salary)).group_by(1).order_by(2),
        "SELECT dept, max(salary) FROM employees GROUP BY dept ORDER BY max(salary)",
        True,
    ),
}


def _rows(rows: list[Any], ordered: bool) -> list[tuple[Any, ...]]:
    rows = [tuple(r) for r in rows]
    return rows if ordered else sorted(rows, key=repr)


@pytest.mark.parametrize("name", list(FORMS))
def test_form_runs_on_sqlite_through_activeq_like_hand_written_sql(staff, name):
    build, hand, ordered = FORMS[name]
    expected = _rows(staff.execute(hand).fetchall(), ordered)
    assert expected, "the hand-written query must return rows"
    assert _rows(build().tuples(), ordered) == expected


@pytest.mark.parametrize("name", list(FORMS))
def test_form_runs_on_duckdb_like_hand_written_sql(staff, duck, name):
    build, hand, ordered = FORMS[name]
    sql, params = build().to_sql("duckdb")
    got = _rows(duck.execute(sql, params).fetchall(), ordered)
    assert got == _rows(duck.execute(hand).fetchall(), ordered)
    # And the same rows as SQLite gives.
    assert got == _rows(staff.execute(hand).fetchall(), ordered)


def test_self_join_returns_each_employee_with_their_manager(staff):
    rows = (
        Employee.query()
        .join(BOSS, E.manager_id == BOSS.c.id)
        .select(E.name, BOSS.c.name)
        .order_by(E.id)
        .all()
    )
    assert [(r.Employee.name, r.boss.name) for r in rows] == [
        ("Ben", "Ada"), ("Cy", "Ada"), ("Dee", "Ben"), ("Eve", "Ben"), ("Fay", "Cy")]
    assert isinstance(rows[0].boss, Employee)


def test_alias_query_gives_model_instances(staff):
    found = BOSS.query().where(BOSS.c.dept == "ops").order_by(BOSS.c.id).all()
    assert [type(e) for e in found] == [Employee, Employee]
    assert [(e.id, e.name, e.salary) for e in found] == [(3, "Cy", 120), (6, "Fay", 80)]
    assert BOSS.query().where(BOSS.c.salary > 100).count() == 3
    assert BOSS.query().where(BOSS.c.salary > 500).exists() is False


def test_derived_table_and_cte_results_are_rows_with_attribute_and_key_access(staff):
    teams = _teams()
    rows = teams.query().order_by("manager_id").all()
    assert all(type(r) is Row for r in rows)
    assert [(r.manager_id, r.size, r["payroll"]) for r in rows] == [
        (1, 2, 270), (2, 2, 190), (3, 1, 80)]
    assert teams.query().order_by("manager_id").dicts()[0] == {
        "manager_id": 1, "size": 2, "payroll": 270}
    tree = _below(1)
    assert tree.query().count() == 6
    assert tree.query().where(tree.c.name == "Eve").first()["id"] == 5
    with pytest.raises(KeyError, match="no column 'nope'"):
        rows[0]["nope"]


def test_set_operation_terminals(staff):
    both = _dept("ops").union(_earning(150))
    assert [r.name for r in both.order_by("name").all()] == ["Ada", "Ben", "Cy", "Fay"]
    assert both.count() == 4
    assert both.order_by("-name").first().name == "Fay"
    assert both.order_by("name").limit(2).offset(1).tuples() == [("Ben",), ("Cy",)]
    assert both.order_by("name").dicts()[0] == {"name": "Ada"}
    assert both.exists() is True
    assert both.order_by("name").scalar() == "Ada"
    assert both.order_by("name").limit(3).count() == 3
    sql, params = both.order_by("name").limit(3).to_sql()
    assert sql == (
        'SELECT "employees"."name" FROM "employees" WHERE "employees"."dept" = ? UNION '
        'SELECT "employees"."name" FROM "employees" WHERE "employees"."salary" >= ? '
        'ORDER BY "name" LIMIT ?')
    assert params == ["ops", 150, 3]


def test_set_operation_of_set_operations_keeps_the_grouping_the_calls_made(staff):
    # (ops UNION >= 150) INTERSECT ops: PostgreSQL would bind the INTERSECT first without
    # the derived table, SQLite would not; the rendering must mean the same on both.
    q = _dept("ops").union(_earning(150)).intersect(_dept("ops")).order_by("name")
    assert [r.name for r in q.all()] == ["Cy", "Fay"]
    q2 = _dept("ops").union(_earning(150).intersect(_dept("ops"))).order_by("name")
    assert [r.name for r in q2.all()] == ["Cy", "Fay"]
    q3 = _earning(150).union(_dept("ops").intersect(_earning(100))).order_by("name")
    assert [r.name for r in q3.all()] == ["Ada", "Ben", "Cy"]


def test_where_by_keyword_and_names_on_a_derived_table(staff):
    teams = _teams()
    q = teams.query().where(manager_id=2).select("size", "payroll")
    assert q.tuples() == [(2, 190)]
    with pytest.raises(CompileError, match=r"teams has no column 'sise'; did you mean 'size'"):
        teams.query().where(sise=2)


# --- schema-qualified tables --------------------------------------------------------------


class Event(ActiveRecord):
    __table_name__ = "events"
    __schema__ = "analytics"
    id: int = Field(primary_key=True)
    kind: str = Field(index=True)
    user_id: int


def test_schema_qualified_table_on_sqlite_attached_database(db, people, tmp_path):
    db.execute("ATTACH DATABASE ? AS analytics", [str(tmp_path / "analytics.db")])
    db.bind(Event)
    db.create_tables(Event)
    Event.insert_many([{"kind": "login", "user_id": people[0].id},
                       {"kind": "login", "user_id": people[1].id},
                       {"kind": "buy", "user_id": people[0].id}])
    q = (
        User.query()
        .join(Event, Event.c.user_id == User.c.id)
        .select(User.c.name, func.count().as_("n"))
        .where(Event.c.kind == "login")
        .group_by(User.c.name)
        .order_by("name")
    )
    assert q.sql() == (
        'SELECT "users"."name", COUNT(*) AS "n" FROM "users" JOIN "analytics"."events" ON '
        '"events"."user_id" = "users"."id" WHERE "events"."kind" = ? GROUP BY "users"."name" '
        'ORDER BY "users"."name"')
    assert q.tuples() == [("Ann", 1), ("Bob", 1)]
    # The table and its index live in the attached database, not in main.
    assert sorted(r[0] for r in db.execute("SELECT name FROM analytics.sqlite_master")) == [
        "events", "idx_events_kind"]
    assert db.execute("SELECT name FROM main.sqlite_master WHERE name = 'events'").fetchall() == []
    assert Event.query().where(Event.c.kind == "buy").update({"kind": "sale"}) == 1
    assert Event.query().where(Event.c.kind == "sale").delete() == 1
    assert Event.query().count() == 2


def test_schema_qualified_table_renders_per_dialect_and_runs_on_duckdb():
    q = Event.query().select("kind").where(Event.c.user_id == 1)
    assert q.to_sql("postgres")[0] == (
        'SELECT "events"."kind" FROM "analytics"."events" WHERE "events"."user_id" = %s')
    assert q.to_sql("mysql")[0] == (
        "SELECT `events`.`kind` FROM `analytics`.`events` WHERE `events`.`user_id` = %s")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA analytics")
    for sql in create_table_statements(Event, "duckdb"):
        con.execute(sql)
    con.execute('INSERT INTO analytics.events VALUES (1, \'login\', 1), (2, \'buy\', 2)')
    assert con.execute(*q.to_sql("duckdb")).fetchall() == [("login",)]


# --- forms only PostgreSQL renders --------------------------------------------------------


@pytest.fixture
def pg(pg_conninfo) -> Iterator[Any]:
    with psycopg.connect(pg_conninfo, autocommit=True) as con:
        for sql in create_table_statements(Employee, "postgres"):
            con.execute(sql)
        for row in STAFF:
            con.execute(_insert_sql("postgres"), list(row))
        yield con


def test_distinct_on_keeps_the_first_row_of_each_group_on_postgresql(pg):
    q = Employee.query().select("dept", "name").distinct_on(E.dept).order_by(E.dept, E.salary.desc())
    sql, params = q.to_sql("postgres")
    assert sql == (
        'SELECT DISTINCT ON ("employees"."dept") "employees"."dept", "employees"."name" FROM '
        '"employees" ORDER BY "employees"."dept", "employees"."salary" DESC')
    assert params == []
    hand = ("SELECT DISTINCT ON (dept) dept, name FROM employees ORDER BY dept, salary DESC")
    assert pg.execute(sql, params).fetchall() == pg.execute(hand).fetchall() == [
        ("eng", "Ada"), ("ops", "Cy")]


@pytest.mark.parametrize("dialect", ["sqlite", "mysql", "duckdb"])
def test_distinct_on_is_refused_outside_postgresql(dialect):
    q = Employee.query().distinct_on(E.dept)
    with pytest.raises(UnsupportedError) as info:
        q.to_sql(dialect)
    assert (info.value.node, info.value.dialect) == ("DISTINCT ON", dialect)
    assert str(info.value).startswith(f"DISTINCT ON is not supported by the {dialect} dialect")


def test_for_update_renders_on_postgresql_and_mysql():
    q = Employee.query().select("id").where(E.dept == "eng")
    base_pg = 'SELECT "employees"."id" FROM "employees" WHERE "employees"."dept" = %s'
    base_my = "SELECT `employees`.`id` FROM `employees` WHERE `employees`.`dept` = %s"
    assert q.for_update().to_sql("postgres") == (f"{base_pg} FOR UPDATE", ["eng"])
    assert q.for_update(skip_locked=True).to_sql("postgres")[0] == f"{base_pg} FOR UPDATE SKIP LOCKED"
    assert q.for_update(nowait=True).to_sql("postgres")[0] == f"{base_pg} FOR UPDATE NOWAIT"
    assert q.for_update().to_sql("mysql") == (f"{base_my} FOR UPDATE", ["eng"])
    assert q.for_update(skip_locked=True).to_sql("mysql")[0] == f"{base_my} FOR UPDATE SKIP LOCKED"
    assert q.for_update(nowait=True).to_sql("mysql")[0] == f"{base_my} FOR UPDATE NOWAIT"
    with pytest.raises(CompileError, match="skip_locked or nowait, not both"):
        q.for_update(skip_locked=True, nowait=True)


def test_for_update_locks_rows_on_postgresql(pg, pg_conninfo):
    locked = Employee.query().select("id").where(E.id <= 2).order_by("id").for_update()
    with psycopg.connect(pg_conninfo) as other:
        with pg.transaction():
            assert pg.execute(*locked.to_sql("postgres")).fetchall() == [(1,), (2,)]
            skip = Employee.query().select("id").where(E.id <= 3).order_by("id")
            # Another transaction skips the locked rows, or refuses to wait for them.
            assert other.execute(*skip.for_update(skip_locked=True).to_sql("postgres")).fetchall() == [(3,)]
            other.rollback()
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(*skip.for_update(nowait=True).to_sql("postgres"))
            other.rollback()


def test_for_update_is_a_no_op_on_sqlite_inside_the_write_transaction(staff):
    q = Employee.query().select("id").where(E.dept == "ops").order_by("id").for_update()
    assert q.sql() == (
        'SELECT "employees"."id" FROM "employees" WHERE "employees"."dept" = ? '
        'ORDER BY "employees"."id"')
    with staff.transaction():
        assert q.tuples() == [(3,), (6,)]
        assert q.count() == 2


@pytest.mark.parametrize("option", ["skip_locked", "nowait"])
def test_for_update_options_are_refused_on_sqlite(option):
    q = Employee.query().for_update(**{option: True})
    with pytest.raises(UnsupportedError) as info:
        q.to_sql("sqlite")
    spelled = "SKIP LOCKED" if option == "skip_locked" else "NOWAIT"
    assert (info.value.node, info.value.dialect) == (f"FOR UPDATE {spelled}", "sqlite")


def test_for_update_is_refused_on_duckdb():
    with pytest.raises(UnsupportedError) as info:
        Employee.query().for_update().to_sql("duckdb")
    assert (info.value.node, info.value.dialect) == ("FOR UPDATE", "duckdb")


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["union", "union_all", "intersect", "except_"])
@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql", "duckdb"])
def test_set_operation_with_different_column_counts_is_refused(op, dialect):
    q = getattr(Employee.query().select("id", "name"), op)(Employee.query().select("id"))
    with pytest.raises(CompileError) as info:
        q.to_sql(dialect)
    spelled = {"union": "UNION", "union_all": "UNION ALL", "intersect": "INTERSECT",
               "except_": "EXCEPT"}[op]
    assert str(info.value) == (
        f"{spelled}: the first query selects 2 columns and the second 1 ({dialect} dialect); "
        "both must select as many")


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_two_from_items_with_one_name_are_refused(dialect):
    same_table = Employee.query().join(Employee, E.manager_id == E.id)
    clashing_alias = Employee.query().join(Employee.alias("employees"), E.id == E.id)
    twice = Employee.query().join(BOSS, E.manager_id == BOSS.c.id).join(BOSS, E.id == BOSS.c.id)
    for q, name in ((same_table, "employees"), (clashing_alias, "employees"), (twice, "boss")):
        with pytest.raises(CompileError) as info:
            q.to_sql(dialect)
        assert str(info.value) == (
            f"join: two FROM items of one query are named {name!r} ({dialect} dialect); "
            "give one another name, e.g. Model.alias('other')")


def test_two_different_ctes_with_one_name_are_refused():
    first = Employee.query().select(E.id).where(E.salary > 100).cte("c")
    second = Employee.query().select(E.id).where(E.dept == "x").cte("c")
    q = first.query().where(first.c.id.is_in(second.query()))
    with pytest.raises(CompileError, match=r"WITH: two different CTEs are named 'c' in one "
                                           r"statement \(sqlite dialect\)"):
        q.to_sql()


def test_set_operation_result_takes_only_order_limit_and_offset():
    both = _dept("ops").union(_earning(150))
    for q, part in ((both.where(E.id > 1), "where"), (both.group_by("name"), "group"),
                    (both.join(BOSS, BOSS.c.id == 1), "join")):
        with pytest.raises(CompileError, match=rf"UNION: its result takes order_by, limit and "
                                                rf"offset only, not {part} \(sqlite dialect\)"):
            q.to_sql()
    with pytest.raises(CompileError, match=r"UNION: its result takes order_by, limit and offset "
                                           r"only \(postgres dialect\)"):
        both.select("name").to_sql("postgres")
    with pytest.raises(CompileError, match="the set operation has no output column 'nmae'; "
                                           "did you mean 'name'"):
        both.order_by("nmae")
    with pytest.raises(CompileError, match=r"order_by\(ColumnRef\(employees.salary\)\) on a set "
                                           r"operation: its first query does not select it"):
        both.order_by(E.salary).to_sql()


def test_derived_tables_need_named_distinct_columns():
    with pytest.raises(CompileError, match=r"column 2 of the query \(Func\) has no name: name it "
                                           r"with .as_\('name'\)"):
        Employee.query().select(E.dept, func.count()).group_by("dept").subquery("s")
    with pytest.raises(CompileError, match="cte 'c' would have two columns named 'name'"):
        Employee.query().join(BOSS, E.manager_id == BOSS.c.id).select(E.name, BOSS.c.name).cte("c")
    with pytest.raises(CompileError, match="subquery\\(\\) needs a non-empty name"):
        Employee.query().subquery("")


def test_joins_of_from_items_need_a_condition_and_targets_must_be_tables():
    with pytest.raises(CompileError, match="join\\(\\) of <TableAlias 'boss'> needs its condition"):
        Employee.query().join(BOSS)
    with pytest.raises(CompileError, match="cross_join\\(\\) takes a model class, an alias, a "
                                           "subquery or a CTE, not 3"):
        Employee.query().cross_join(3)


def test_output_column_references_are_checked():
    q = Employee.query().select(E.dept, func.count().as_("n"))
    with pytest.raises(CompileError, match="order_by\\(\\) positions count from 1, not 0"):
        q.order_by(0)
    with pytest.raises(CompileError, match=r"position 3 is past the 2 columns of the select list "
                                           r"\(sqlite dialect\)"):
        q.group_by(3).to_sql()
    with pytest.raises(CompileError, match="Employee has no column 'nn'; did you mean 'n'"):
        q.order_by("nn")
    # A name resolved to an alias must still be selected when the query is rendered.
    with pytest.raises(CompileError, match=r"'n' names no column of the select list \(duckdb "
                                           r"dialect\); it has 'dept'"):
        q.order_by("-n").select(E.dept).to_sql("duckdb")


def test_writes_refuse_queries_over_from_items():
    with pytest.raises(CompileError, match="update\\(\\) writes the model's own table"):
        BOSS.query().where(BOSS.c.id == 1).update({"name": "x"})
    with pytest.raises(CompileError, match="delete\\(\\) writes the model's own table"):
        Employee.query().where(E.id == 1).for_update().delete()
