"""Query terminals, partial and multi-model selects, joins, IN lists, compiled statements."""

from __future__ import annotations

import pytest
from helpers import Order, User

from activeq import (
    BindParam,
    CompileError,
    MultipleResultsError,
    NotFoundError,
    Row,
    ValidationError,
    func,
)

U = User.c
O = Order.c  # noqa: E741 - mirrors U


# --- terminals -------------------------------------------------------------------------------


def test_all_returns_models_in_order(db, people):
    users = User.query().order_by(U.id).all()
    assert [u.name for u in users] == ["Ann", "Bob", "Cid"]
    assert all(type(u) is User and u.is_persisted for u in users)
    assert users[2].age is None


def test_first(db, people):
    assert User.query().order_by(U.age.desc()).first().name == "Bob"
    assert User.query().where(U.id < 0).first() is None


def test_one_raises_when_none_or_several(db, people):
    assert User.query().where(U.email == "bob@example.com").one().name == "Bob"
    with pytest.raises(NotFoundError, match="no User matches"):
        User.query().where(U.id < 0).one()
    with pytest.raises(MultipleResultsError, match="more than one User"):
        User.query().where(U.status == "active").one()


def test_count_variants(db, people):
    assert User.query().count() == 3
    assert User.query().where(U.status == "active").count() == 2
    assert User.query().limit(2).count() == 2
    assert User.query().offset(2).count() == 1
    assert User.query().order_by(U.id).limit(5).offset(1).count() == 2
    assert User.query().select("status").distinct().count() == 2
    assert Order.query().select(O.user_id).group_by(O.user_id).count() == 2
    assert Order.query().select(O.user_id).group_by(O.user_id).having(func.count() > 1).count() == 1


def test_exists(db, people):
    assert User.query().where(U.name == "Ann").exists() is True
    assert User.query().where(U.name == "Nobody").exists() is False


def test_scalar(db, people):
    assert User.query().select(func.max(U.age)).scalar() == 40
    assert User.query().select(func.count()).where(U.age == None).scalar() == 1  # noqa: E711
    assert User.query().select("name").where(U.id < 0).scalar() is None


def test_pluck_one_and_many(db, people):
    assert User.query().order_by(U.id).pluck("name") == ["Ann", "Bob", "Cid"]
    assert User.query().order_by(U.id).pluck(U.name, "age") == [
        ("Ann", 30),
        ("Bob", 40),
        ("Cid", None),
    ]
    with pytest.raises(CompileError):
        User.query().pluck()


def test_tuples_and_dicts(db, people):
    ann = people[0]
    assert User.query().where(U.id == ann.id).tuples() == [
        (ann.id, "Ann", "ann@example.com", 30, "active")
    ]
    rows = (
        User.query()
        .select(U.id, func.lower(U.name).as_("lower_name"), U.age)
        .order_by(U.id)
        .limit(1)
        .dicts()
    )
    assert rows == [{"id": ann.id, "lower_name": "ann", "age": 30}]
    assert list(User.query().limit(1).dicts()[0]) == ["id", "name", "email", "age", "status"]


def test_iter_streams_in_batches_without_building_the_list(db):
    User.insert_many([{"name": f"u{i}", "email": f"u{i}@x"} for i in range(3000)])
    with db.track_queries() as t:
        stream = User.query().order_by(U.id).iter(batch=100)
        seen = [next(stream).name for _ in range(150)]
        assert len(t) == 0  # the cursor's record is written when the stream ends
        stream.close()
    assert seen[:2] == ["u0", "u1"] and seen[-1] == "u149"
    assert len(t) == 1
    assert t.queries[0].rows == 200  # two batches fetched of 3000 rows
    assert sum(1 for _ in User.query().iter(batch=1000)) == 3000


def test_query_is_iterable(db, people):
    assert [u.name for u in User.query().order_by(U.id)] == ["Ann", "Bob", "Cid"]


# --- partial and multi-model selects ----------------------------------------------------------


def test_partial_select_gives_instances_without_validation_error(db, people):
    users = User.query().select("id", "name").order_by(U.id).all()
    assert [type(u) for u in users] == [User] * 3
    assert users[0].model_dump() == {"id": people[0].id, "name": "Ann"}
    with pytest.raises(AttributeError):
        users[0].email  # noqa: B018 - not loaded
    users[0].name = "Anna"
    assert users[0].save() == 1
    assert User.find_by_id(people[0].id).email == "ann@example.com"  # untouched


def test_multi_model_select_rows(db, people):
    rows = (
        User.query()
        .join(Order, U.id == O.user_id)
        .select(U.id, U.name, O.id, O.total)
        .order_by(O.id)
        .all()
    )
    assert [type(r) for r in rows] == [Row] * 3
    assert [(r.User.name, r.Order.total) for r in rows] == [
        ("Ann", 10.0),
        ("Ann", 25.5),
        ("Bob", 7.25),
    ]
    assert rows[0].User.id == people[0].id
    assert rows[1].Order.id == 2
    assert type(rows[0].User) is User and type(rows[0].Order) is Order
    assert tuple(rows[2]) == (people[1].id, "Bob", 3, 7.25)


def test_join_without_select_returns_base_models_from_base_columns(db, people):
    users = User.query().join(Order, U.id == O.user_id).where(O.total > 8).order_by(O.id).all()
    assert [type(u) for u in users] == [User, User]
    # Never the other table's id: both rows are Ann, built only from users' columns.
    assert [u.id for u in users] == [people[0].id, people[0].id]
    assert users[0].model_dump() == people[0].model_dump()


def test_left_join_keeps_rows_without_a_match(db, people):
    rows = (
        User.query()
        .left_join(Order, U.id == O.user_id)
        .select(U.name, O.id.as_("order_id"))
        .where(O.id == None)  # noqa: E711
        .all()
    )
    assert [(r.name, r.order_id) for r in rows] == [("Cid", None)]


def test_join_inferred_from_a_relation(db, people):
    sql, _ = User.query().join(Order).to_sql()
    assert 'JOIN "orders" ON "users"."id" = "orders"."user_id"' in sql
    assert User.query().join(Order).select(U.name).distinct().pluck("name") == ["Ann", "Bob"]


# --- IN lists --------------------------------------------------------------------------------


def test_is_in_with_100000_values_on_sqlite(db, people):
    ids = list(range(1_000_000, 1_100_000))
    ids[50_000] = people[1].id
    with db.track_queries() as t:
        found = User.query().where(U.id.is_in(ids)).all()
    assert [u.name for u in found] == ["Bob"]
    assert len(t) == 1 and len(t.queries[0].params) == 1  # one parameter, whatever the length
    assert User.query().where(U.id.not_in(ids)).count() == 2


def test_empty_in_matches_nothing_and_empty_not_in_matches_everything(db, people):
    assert User.query().where(U.id.is_in([])).all() == []
    assert User.query().where(U.id.not_in([])).count() == 3
    assert User.query().where(U.id.is_in([]) | (U.name == "Ann")).pluck("name") == ["Ann"]


def test_in_subquery_and_strings(db, people):
    big = Order.query().select(O.user_id).where(O.total > 20)
    assert User.query().where(U.id.is_in(big)).pluck("name") == ["Ann"]
    assert User.query().where(U.name.is_in(["Bob", "Cid", "x"])).order_by(U.id).pluck("name") == [
        "Bob",
        "Cid",
    ]
    with pytest.raises(TypeError, match="list or a query"):
        U.name.is_in("Bob")


# --- compiled statements with BindParam ------------------------------------------------------


def test_compiled_statement_execute_first_and_sql(db, people):
    stmt = User.query().where(U.email == BindParam("email"), U.age > BindParam("min_age")).compile()
    assert stmt.sql == (
        'SELECT "users"."id", "users"."name", "users"."email", "users"."age", "users"."status" '
        'FROM "users" WHERE "users"."email" = ? AND "users"."age" > ?'
    )
    assert stmt.parameters == {"email", "min_age"}
    assert [u.name for u in stmt.execute(email="bob@example.com", min_age=18)] == ["Bob"]
    assert stmt.execute(email="bob@example.com", min_age=50) == []
    assert stmt.first(email="ann@example.com", min_age=0).name == "Ann"
    assert stmt.first(email="nobody", min_age=0) is None
    with db.track_queries() as t:
        stmt.execute(email="ann@example.com", min_age=0)
    assert t.queries[0].cache_hit is True
    assert list(t.queries[0].params) == ["ann@example.com", 0]


def test_compiled_statement_parameter_errors(db, people):
    stmt = User.query().where(U.email == BindParam("email")).compile()
    with pytest.raises(CompileError, match="missing value for parameter.*email"):
        stmt.execute()
    with pytest.raises(CompileError, match="unknown parameter.*emial.*expected: email"):
        stmt.execute(email="x", emial="y")
    with pytest.raises(ValueError):
        BindParam("not an identifier")


def test_compiled_statement_checks_each_value_against_its_column_before_running(db, people):
    stmt = User.query().where(U.email == BindParam("email"), U.age.between(BindParam("lo"), 60)).compile()
    with db.track_queries() as t:
        with pytest.raises(ValidationError) as info:
            stmt.execute(email=5, lo=0)
        assert str(info.value) == "User.email is text: cannot compare it with 5 (int)"
        with pytest.raises(ValidationError, match=r"User.age is an integer: cannot compare it with 'x'"):
            stmt.execute(email="ann@example.com", lo="x")
    assert len(t) == 0
    assert [u.name for u in stmt.execute(email="ann@example.com", lo=0)] == ["Ann"]
    assert stmt.execute(email=None, lo=0) == []  # = NULL holds for no row, as in SQL


def test_compiled_statement_per_dialect():
    stmt = User.query().select("id").where(U.email == BindParam("email")).compile("postgres")
    assert stmt.sql == 'SELECT "users"."id" FROM "users" WHERE "users"."email" = %s'


# --- expressions in boolean context, to_sql --------------------------------------------------


def test_bool_of_an_expression_raises_with_a_hint():
    with pytest.raises(TypeError, match=r"combine conditions with & \(and\), \| \(or\)"):
        bool(U.age > 1)
    with pytest.raises(TypeError):
        if (U.age > 1) and (U.age < 5):
            pass


def test_where_refuses_a_python_bool():
    with pytest.raises(CompileError, match="Python bool"):
        User.query().where(1 == 1)  # noqa: PLR0133


def test_unknown_name_in_select_or_where_suggests(db):
    with pytest.raises(CompileError, match=r"User has no column 'nmae'; did you mean 'name'\?"):
        User.query().select("nmae")
    with pytest.raises(CompileError, match="no column 'agee'"):
        User.query().where(agee=3)


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        ("sqlite", 'SELECT "users"."id" FROM "users" WHERE "users"."age" > ? LIMIT ?'),
        ("postgres", 'SELECT "users"."id" FROM "users" WHERE "users"."age" > %s LIMIT 3'),
        ("mysql", "SELECT `users`.`id` FROM `users` WHERE `users`.`age` > %s LIMIT %s"),
        ("duckdb", 'SELECT "users"."id" FROM "users" WHERE "users"."age" > ? LIMIT ?'),
    ],
)
def test_to_sql_per_dialect(dialect, sql):
    # PostgreSQL's text holds the LIMIT count, so that a prepared statement gets a generic plan.
    values = [21] if dialect == "postgres" else [21, 3]
    assert User.query().select("id").where(U.age > 21).limit(3).to_sql(dialect) == (sql, values)


# --- writes through queries ------------------------------------------------------------------


def test_update_with_expression_and_delete_return_counts(db, people):
    assert User.query().where(U.age != None).update({"age": U.age + 1}) == 2  # noqa: E711
    assert User.query().order_by(U.id).pluck("age") == [31, 41, None]
    assert User.query().where(U.status == "inactive").delete() == 1
    assert User.query().count() == 2


def test_unfiltered_writes_need_all_rows(db, people):
    with pytest.raises(CompileError, match="all_rows=True"):
        User.query().update({"status": "x"})
    with pytest.raises(CompileError, match="all_rows=True"):
        Order.query().delete()
    assert Order.query().delete(all_rows=True) == 3
    assert User.query().update({"status": "x"}, all_rows=True) == 3
