"""Values never enter SQL text; identifiers are always quoted."""

from __future__ import annotations

import pytest
from helpers import Reserved, User

U = User.c

NASTY = [
    "O'Brien",
    'say "hi"',
    "'; DROP TABLE users; --",
    '" OR 1=1 --',
    "back\\slash",
    "percent % and ?",
    "Zoë 日本語 😀🚀",
    "\u202eRTL",
    "",
    "line\nbreak\ttab",
    "nul\x00inside",
]


@pytest.mark.parametrize("value", NASTY)
def test_values_round_trip_through_insert_where_update(db, value):
    user = User.create(name=value, email=f"{len(value)}-{value}@x")
    assert User.find_one(U.name == value).id == user.id
    assert User.query().where(U.name.is_in([value, "other"])).count() == 1
    assert User.query().where(U.name.like(value)).count() >= 0  # a pattern, never SQL
    sql, params = User.query().where(U.name == value).to_sql()
    assert value == "" or value not in sql
    assert params == [value]
    assert User.query().where(U.id == user.id).update({"status": value}) == 1
    loaded = User.find_by_id(user.id)
    assert (loaded.name, loaded.status) == (value, value)
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(1,)]
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'users'").fetchall()


def test_drop_table_payload_in_every_position(db):
    payload = "'; DROP TABLE users; --"
    User.create(name=payload, email=payload)
    User.query().where(U.email == payload).update({"name": payload + "2"})
    User.query().where(U.name != payload).order_by(U.id).limit(5).all()
    assert User.query().select(U.name).where(U.email.ilike(payload)).pluck("name") == [
        payload + "2"
    ]
    assert User.query().where(U.name == payload + "2").delete() == 1
    assert db.execute("SELECT count(*) FROM users").fetchall() == [(0,)]


def test_alias_with_quotes_is_quoted():
    sql, _ = User.query().select(U.name.as_('we"ird')).to_sql()
    assert sql == 'SELECT "users"."name" AS "we""ird" FROM "users"'
    sql, _ = User.query().select(U.name.as_("we`ird")).to_sql("mysql")
    assert sql == "SELECT `users`.`name` AS `we``ird` FROM `users`"


def test_reserved_table_and_column_names_end_to_end(db):
    db.bind(Reserved)
    db.create_tables(Reserved)
    row = Reserved.create(group="admins", select=1)
    Reserved.create(group="users", select=2)
    assert Reserved.find_by_id(row.id).group == "admins"
    assert Reserved.query().where(Reserved.c.group == "users").one().select == 2
    assert Reserved.query().order_by(Reserved.c.group.desc()).pluck("group") == ["users", "admins"]
    assert Reserved.query().select(Reserved.c.group).group_by(Reserved.c.group).count() == 2
    row.group = "staff"
    row.save()
    assert (
        Reserved.query().where(Reserved.c.select > 1).update({"select": Reserved.c.select + 10})
        == 1
    )
    assert Reserved.query().order_by(Reserved.c.id).tuples() == [
        (row.id, "staff", 1),
        (2, "users", 12),
    ]
    assert row.delete() == 1
    assert Reserved.query().count() == 1
    assert db.execute('SELECT "group" FROM "order"').fetchall() == [("users",)]
