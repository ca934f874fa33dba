"""Models: Field options, metadata, plain class attributes, record lifecycle, DDL, type round-trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Optional

import duckdb
import pytest
from helpers import Order, Reserved, User

from activeq import (
    ActiveRecord,
    BindParam,
    Database,
    Field,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from activeq.ddl import create_table_statements


class Tag(ActiveRecord):
    __table_name__ = "tags"
    id: int = Field(primary_key=True)
    label: str = Field(max_length=12, column="tag_label")
    weight: int = Field(default=1, column="w")


class Reading(ActiveRecord):
    __table_name__ = "readings"
    id: int = Field(primary_key=True)
    taken_at: dt.datetime
    day: dt.date
    at: dt.time
    ok: bool
    amount: Decimal = Field(max_digits=15, decimal_places=5)
    ratio: float
    blob: bytes
    maybe: bool | None = None


# The seed's model, with its __mapping__ DDL override and plain class attributes.
class SeedUser(ActiveRecord):
    __table_name__ = "seed_users"

    id: int = Field(primary_key=True)
    name: str = Field()
    email: str = Field(max_length=255)
    status: str = Field(default="active")
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime(2024, 1, 1, 12, 0))

    __mapping__ = {
        "id": "INTEGER PRIMARY KEY",
        "email": "VARCHAR(255) NOT NULL UNIQUE",
        "status": 'VARCHAR(20) DEFAULT "active"',
        "created_at": "TEXT",
    }

    _cache = {}
    FIND_BY_EMAIL = None

    @classmethod
    def find_by_id_cached(cls, id: int) -> Optional["SeedUser"]:  # noqa: UP037, UP045 - seed spelling
        if id in cls._cache:
            return cls._cache[id]
        user = cls.find_one(cls.c.id == id)
        if user:
            cls._cache[id] = user
        return user

    @classmethod
    def find_by_email(cls, email: str) -> Optional["SeedUser"]:  # noqa: UP037, UP045 - seed spelling
        if cls.FIND_BY_EMAIL is None:
            cls.FIND_BY_EMAIL = cls.query().where(cls.c.email == BindParam("email")).compile()
        result = cls.FIND_BY_EMAIL.execute(email=email)
        return result[0] if result else None

    def save(self) -> int:
        result = super().save()
        self._cache[self.id] = self
        return result

    def delete(self) -> int:
        result = super().delete()
        if self.id in self._cache:
            del self._cache[self.id]
        return result


@pytest.fixture
def mdb(db: Database) -> Database:
    db.bind(Tag, Reading, SeedUser, Reserved)
    db.create_tables(Tag, Reading, SeedUser, Reserved)
    SeedUser._cache.clear()
    SeedUser.FIND_BY_EMAIL = None
    return db


# --- Field options ---------------------------------------------------------------------------


def test_primary_key_is_none_until_saved_without_validation_error(db):
    user = User(name="Ann", email="ann@example.com")
    assert user.id is None
    assert not user.is_persisted
    user.save()
    assert isinstance(user.id, int) and user.id >= 1
    assert user.is_persisted
    assert User.find_by_id(user.id).email == "ann@example.com"


def test_unique_field_is_enforced_by_the_database(db):
    User.create(name="Ann", email="same@example.com")
    with pytest.raises(IntegrityError, match="UNIQUE constraint failed: users.email"):
        User.create(name="Bob", email="same@example.com")
    assert User.query().count() == 1


def test_index_field_creates_an_index(db):
    rows = db.execute(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    ).fetchall()
    assert ("idx_users_status", "users") in rows


def test_default_applies_when_omitted(db):
    user = User.create(name="Ann", email="a@example.com")
    assert user.status == "active"
    assert db.execute("SELECT status FROM users").fetchall() == [("active",)]


def test_max_length_is_validated_before_anything_is_written(mdb):
    with pytest.raises(ValidationError) as info:
        Tag(label="x" * 13)
    assert info.value.field == "label"
    assert "at most 12 characters" in str(info.value)
    tag = Tag(label="ok")
    tag.label = "y" * 13  # assignment is not validated by pydantic; save() checks it
    with pytest.raises(ValidationError):
        tag.save()
    assert Tag.query().count() == 0


def test_column_rename_round_trips(mdb):
    tag = Tag.create(label="python", weight=5)
    assert mdb.execute("SELECT id, tag_label, w FROM tags").fetchall() == [(tag.id, "python", 5)]
    assert Tag.find_one(Tag.c.label == "python").weight == 5
    assert Tag.query().where(label="python").to_sql()[0].endswith('WHERE "tags"."tag_label" = ?')
    assert Tag.query().dicts() == [{"id": tag.id, "label": "python", "weight": 5}]
    tag.label = "rust"
    tag.save()
    assert mdb.execute("SELECT tag_label FROM tags").fetchall() == [("rust",)]
    assert Tag.query().where(Tag.c.weight > 1).update({"weight": Tag.c.weight * 2}) == 1
    assert Tag.find_by_id(tag.id).weight == 10


def test_mapping_override_is_used_verbatim_in_sqlite_ddl(mdb):
    (sql,) = create_table_statements(SeedUser, "sqlite")
    assert sql == (
        'CREATE TABLE IF NOT EXISTS "seed_users" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL, '
        '"email" VARCHAR(255) NOT NULL UNIQUE, "status" VARCHAR(20) DEFAULT "active", '
        '"created_at" TEXT)'
    )
    mdb.execute("INSERT INTO seed_users (name, email) VALUES ('a', 'a@x')")
    assert mdb.execute("SELECT status FROM seed_users").fetchall() == [("active",)]
    with pytest.raises(IntegrityError):
        SeedUser.create(name="b", email="a@x")


def test_mapping_override_renders_for_other_dialects():
    assert create_table_statements(SeedUser, "postgres") == [
        'CREATE TABLE IF NOT EXISTS "seed_users" ("id" INT PRIMARY KEY, "name" TEXT NOT NULL, '
        '"email" VARCHAR(255) NOT NULL UNIQUE, "status" VARCHAR(20) DEFAULT \'active\', '
        '"created_at" TEXT)'
    ]


# --- Model.c and plain class attributes (seed) -----------------------------------------------


def test_seed_classmethods_use_cls_c_and_plain_class_attributes(mdb):
    assert SeedUser._cache == {} and SeedUser.FIND_BY_EMAIL is None
    user = SeedUser(name="Ann", email="ann@example.com")
    user.save()
    assert SeedUser._cache == {user.id: user}  # the class dict, shared, as in any Python class
    SeedUser._cache.clear()
    with mdb.track_queries() as t:
        found = SeedUser.find_by_id_cached(user.id)
        again = SeedUser.find_by_id_cached(user.id)
    assert found is again and found.email == "ann@example.com"
    assert len(t) == 1
    assert SeedUser.find_by_email("ann@example.com").id == user.id
    assert SeedUser.FIND_BY_EMAIL is not None
    assert SeedUser.find_by_email("nobody@example.com") is None
    found.delete()
    assert user.id not in SeedUser._cache
    assert SeedUser.find_by_id(user.id) is None
    assert "_cache" not in SeedUser.model_fields and "FIND_BY_EMAIL" not in SeedUser.model_fields


def test_unknown_column_error_suggests_close_matches():
    with pytest.raises(AttributeError, match=r"User has no column 'emial'; did you mean 'email'\?"):
        User.c.emial  # noqa: B018
    with pytest.raises(AttributeError, match="no column 'zzz'$"):
        User.c.zzz  # noqa: B018


def test_column_set_lists_the_model_columns():
    assert [c.name for c in User.c] == ["id", "name", "email", "age", "status"]
    assert "email" in User.c and len(User.c) == 5
    assert User.c["email"] is User.c.email


def test_create_refuses_unknown_fields_with_a_suggestion(db):
    with pytest.raises(ValidationError, match=r"'emali' \(did you mean 'email'\?\)"):
        User.create(name="x", emali="x@example.com")
    assert User.query().count() == 0


# --- record lifecycle ------------------------------------------------------------------------

COLS = '"users"."id", "users"."name", "users"."email", "users"."age", "users"."status"'


def test_create_inserts_then_save_updates_only_changed_fields(db):
    with db.track_queries() as t:
        user = User.create(name="Ann", email="ann@example.com", age=30)
        assert user.save() == 0  # nothing changed: no statement
        user.age = 31
        user.status = "away"
        assert user.save() == 1
        assert user.save() == 0
    sqls = [(q.sql, list(q.params)) for q in t.queries]
    assert sqls[0] == (
        'INSERT INTO "users" ("name", "email", "age", "status") VALUES (?, ?, ?, ?)',
        ["Ann", "ann@example.com", 30, "active"],
    )
    assert len(sqls) == 2
    sql, params = sqls[1]
    assert sql in (
        'UPDATE "users" SET "age" = ?, "status" = ? WHERE "users"."id" = ?',
        'UPDATE "users" SET "status" = ?, "age" = ? WHERE "users"."id" = ?',
    )
    assert sorted(map(str, params)) == sorted(["31", "away", str(user.id)])
    assert db.execute("SELECT age, status FROM users").fetchall() == [(31, "away")]


def test_save_of_a_loaded_record_writes_only_the_changed_field(db, people):
    loaded = User.find_by_id(people[0].id)
    loaded.name = "Annie"
    with db.track_queries() as t:
        loaded.save()
    assert [q.sql for q in t.queries] == ['UPDATE "users" SET "name" = ? WHERE "users"."id" = ?']
    assert list(t.queries[0].params) == ["Annie", people[0].id]


def test_delete_removes_the_row_and_unpersists(db, people):
    ann = people[0]
    assert ann.delete() == 1
    assert User.find_by_id(ann.id) is None
    assert not ann.is_persisted
    assert User.query().count() == 2


def test_refresh_reloads_and_raises_when_gone(db, people):
    ann = people[0]
    db.execute("UPDATE users SET name = 'Changed' WHERE id = ?", (ann.id,))
    assert ann.refresh() is ann
    assert ann.name == "Changed"
    db.execute("DELETE FROM users WHERE id = ?", (ann.id,))
    with pytest.raises(NotFoundError):
        ann.refresh()


def test_find_by_id_find_one_find_all(db, people):
    assert User.find_by_id(10_000) is None
    assert User.find_by_id(people[1].id).name == "Bob"
    assert User.find_one(User.c.age > 35).name == "Bob"
    assert User.find_one(User.c.age > 99) is None
    assert User.find_one(name="Cid").email == "cid@example.com"
    assert [u.name for u in User.find_all(User.c.status == "active")] == ["Ann", "Cid"]
    assert len(User.find_all()) == 3


# --- DDL per dialect -------------------------------------------------------------------------


DDL = {
    "sqlite": [
        'CREATE TABLE IF NOT EXISTS "users" ("id" INTEGER PRIMARY KEY, "name" TEXT NOT NULL, '
        '"email" VARCHAR(255) NOT NULL UNIQUE, "age" INTEGER, '
        "\"status\" TEXT NOT NULL DEFAULT 'active')",
        'CREATE INDEX IF NOT EXISTS "idx_users_status" ON "users"("status")',
    ],
    "postgres": [
        'CREATE TABLE IF NOT EXISTS "users" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, '
        '"name" TEXT NOT NULL, "email" VARCHAR(255) NOT NULL UNIQUE, "age" BIGINT, '
        "\"status\" TEXT NOT NULL DEFAULT 'active')",
        'CREATE INDEX IF NOT EXISTS "idx_users_status" ON "users"("status")',
    ],
    "mysql": [
        "CREATE TABLE IF NOT EXISTS `users` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "`name` TEXT NOT NULL, `email` VARCHAR(255) NOT NULL UNIQUE, `age` BIGINT, "
        "`status` TEXT NOT NULL DEFAULT 'active', INDEX `idx_users_status` (`status`))",
    ],
    "duckdb": [
        'CREATE SEQUENCE IF NOT EXISTS "users_id_seq"',
        'CREATE TABLE IF NOT EXISTS "users" ("id" BIGINT DEFAULT NEXTVAL(\'"users_id_seq"\') '
        'PRIMARY KEY, "name" TEXT NOT NULL, "email" VARCHAR(255) NOT NULL UNIQUE, "age" BIGINT, '
        '"status" TEXT NOT NULL DEFAULT \'active\')',
        'CREATE INDEX IF NOT EXISTS "idx_users_status" ON "users"("status")',
    ],
}


@pytest.mark.parametrize("dialect", list(DDL))
def test_create_table_statements_per_dialect(dialect):
    assert create_table_statements(User, dialect) == DDL[dialect]


def test_reserved_names_and_renamed_columns_in_ddl():
    assert create_table_statements(Reserved, "mysql") == [
        "CREATE TABLE IF NOT EXISTS `order` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "`group` TEXT NOT NULL, `select` BIGINT NOT NULL DEFAULT 0)"
    ]
    assert create_table_statements(Tag, "sqlite", if_not_exists=False) == [
        'CREATE TABLE "tags" ("id" INTEGER PRIMARY KEY, "tag_label" VARCHAR(12) NOT NULL, '
        '"w" INTEGER NOT NULL DEFAULT 1)'
    ]


def test_duckdb_ddl_runs_on_duckdb():
    con = duckdb.connect()
    for model in (User, Order, Tag, Reading, SeedUser, Reserved):
        for sql in create_table_statements(model, "duckdb"):
            con.execute(sql)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {"users", "orders", "tags", "readings", "seed_users", "order"} <= tables


def test_create_tables_is_idempotent(db):
    db.create_tables(User, Order)
    assert User.query().count() == 0


# --- type round-trips ------------------------------------------------------------------------


def test_datetime_bool_decimal_round_trip(mdb):
    values = dict(
        taken_at=dt.datetime(2024, 2, 29, 23, 59, 58, 123456),
        day=dt.date(1999, 12, 31),
        at=dt.time(7, 30, 1),
        ok=True,
        amount=Decimal("12345.6789"),
        ratio=0.1,
        blob=b"\x00\xffbinary",
    )
    created = Reading.create(**values)
    Reading.create(**{**values, "ok": False, "maybe": False})
    first, second = Reading.query().order_by(Reading.c.id).all()
    for name, value in values.items():
        assert getattr(first, name) == value
        assert type(getattr(first, name)) is type(value)
    assert first.maybe is None and second.maybe is False and second.ok is False
    assert first.id == created.id
    # Stored forms: fixed-width ISO text for temporal values, 0/1 for booleans, and a Decimal
    # of 5 places as the integer of its 100000ths (exact, and ordered as numbers).
    raw = mdb.execute("SELECT taken_at, day, at, ok, amount FROM readings ORDER BY id").fetchall()
    assert raw[0] == ("2024-02-29 23:59:58.123456", "1999-12-31", "07:30:01.000000", 1, 1234567890)
    precise = Decimal("1234567890.12345")
    stored = Reading.create(**{**values, "amount": precise})
    assert Reading.find_by_id(stored.id).amount == precise
    Reading.query().where(Reading.c.id == stored.id).delete()
    assert Reading.query().where(Reading.c.ok == True).count() == 1  # noqa: E712
    assert Reading.query().where(Reading.c.taken_at > dt.datetime(2024, 1, 1)).count() == 2
    assert Reading.query().where(Reading.c.amount == Decimal("12345.6789")).count() == 2


def test_wrong_value_type_is_a_validation_error(db):
    with pytest.raises(ValidationError) as info:
        User.create(name="x", email="x@example.com", age="not a number")
    assert info.value.field == "age"
    assert User.query().count() == 0


class Grid(ActiveRecord):
    """A field named ``c``, as ``Model.c`` is: the column keeps its place and both stay reachable."""

    __table_name__ = "grids"
    id: int = Field(primary_key=True)
    r: int
    c: int
    label: str = ""


def test_a_field_named_c_is_a_column_in_its_declared_place(tmp_path) -> None:
    assert list(Grid.model_fields) == ["id", "r", "c", "label"]
    assert [col.name for col in Grid.c] == ["id", "r", "c", "label"]
    assert Grid.c["c"] is Grid.c.c
    assert repr(Grid.c.c) == "ColumnRef(grids.c)"
    assert create_table_statements(Grid, "sqlite") == [
        'CREATE TABLE IF NOT EXISTS "grids" ("id" INTEGER PRIMARY KEY, "r" INTEGER NOT NULL, '
        '"c" INTEGER NOT NULL, "label" TEXT NOT NULL DEFAULT \'\')']
    db = Database(str(tmp_path / "grid.db"))
    try:
        db.bind(Grid)
        db.create_tables(Grid)
        made = Grid.create(r=1, c=2, label="b2")
        Grid.create(r=1, c=3)
        assert made.c == 2
        assert Grid.query().where(Grid.c["c"] > 2).tuples() == [(2, 1, 3, "")]
        assert Grid.query().where(c=2).pluck("label") == ["b2"]
        assert db.execute("SELECT * FROM grids ORDER BY id").fetchall() == [
            (1, 1, 2, "b2"), (2, 1, 3, "")]
    finally:
        db.close()
