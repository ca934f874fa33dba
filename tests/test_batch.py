"""Batch writes: insert_many, update_many, and query.update()/delete() row counts."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import apsw
import pydantic
import pytest
from helpers import Order, User, render

from activeq import ActiveRecord, CompileError, Database, Field, IntegrityError, ValidationError
from activeq.query import Insert


def _users(n: int, start: int = 0) -> list[dict]:
    return [{"name": f"user {i}", "email": f"u{i}@example.com", "age": i % 90}
            for i in range(start, start + n)]


def _count(db: Database, table: str = "users") -> int:
    return db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


# insert_many ---------------------------------------------------------------------------------
def test_insert_many_200k_rows(db):
    rows = _users(200_000)
    assert User.insert_many(rows) == 200_000
    assert _count(db) == 200_000
    first, last = (db.execute("SELECT id, name, email, age, status FROM users WHERE id IN (1, 200000) "
                              "ORDER BY id").fetchall())
    assert first == (1, "user 0", "u0@example.com", 0, "active")
    assert last == (200_000, "user 199999", "u199999@example.com", 199_999 % 90, "active")
    assert db.execute("SELECT sum(age) FROM users").fetchone()[0] == sum(r["age"] for r in rows)


def test_bad_row_at_150000_writes_nothing(db):
    rows = _users(200_000)
    rows[150_000]["age"] = "not a number"
    with db.track_queries() as t, pytest.raises(ValidationError) as info:
        User.insert_many(rows)
    err = info.value
    assert err.index == 150_000
    assert err.field == "age"
    assert str(err).startswith("row 150000: invalid User: age: Input should be a valid integer")
    assert isinstance(err.pydantic_error, pydantic.ValidationError)
    assert len(t) == 0  # refused before any statement, BEGIN included
    assert _count(db) == 0


def test_unknown_key_is_refused_with_suggestion(db):
    rows = _users(3)
    rows[2]["emial"] = rows[2].pop("email")
    with pytest.raises(ValidationError) as info:
        User.insert_many(rows)
    assert str(info.value) == "row 2: User has no field 'emial' (did you mean 'email'?)"
    assert (info.value.index, info.value.field) == (2, "emial")
    assert _count(db) == 0


def test_missing_field_and_too_long_value_name_the_row(db):
    with pytest.raises(ValidationError) as info:
        User.insert_many([{"name": "a", "email": "a@x"}, {"name": "b"}])
    assert (info.value.index, info.value.field) == (1, "email")
    assert "row 1: invalid User: email: Field required" in str(info.value)
    with pytest.raises(ValidationError) as info:
        User.insert_many([{"name": "a", "email": "x" * 256}])
    assert (info.value.index, info.value.field) == (0, "email")
    assert "at most 255 characters" in str(info.value)


def test_constraint_failure_rolls_back_the_whole_batch(db):
    rows = _users(5000)
    rows[3210]["email"] = rows[10]["email"]
    with pytest.raises(IntegrityError) as info:
        User.insert_many(rows, chunk_size=1000)
    assert str(info.value).startswith("row 3210: UNIQUE constraint failed: users.email")
    assert _count(db) == 0
    assert not db.in_transaction


def test_update_many_constraint_failure_names_the_row_and_rolls_back(db):
    User.insert_many(_users(50))
    rows = [{"id": i, "email": f"new{i}@x"} for i in range(1, 41)]
    # Rows are grouped by the columns they set: the failing row keeps its own index.
    rows[5] = {"id": 6, "name": "six", "email": "new6@x"}
    rows[33]["email"] = "u45@example.com"  # user 46 keeps this address
    with pytest.raises(IntegrityError) as info:
        User.update_many(rows, chunk_size=10)
    assert str(info.value).startswith("row 33: UNIQUE constraint failed: users.email")
    assert info.value.index == 33
    assert db.execute("SELECT count(*) FROM users WHERE email LIKE 'new%'").fetchall() == [(0,)]
    assert not db.in_transaction


def test_chunks_progress_and_statements(db):
    calls = []
    with db.track_queries() as t:
        n = User.insert_many(_users(2500), chunk_size=1000,
                             progress=lambda done, total: calls.append((done, total)))
    assert n == 2500
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]
    assert t.sql == [
        "BEGIN IMMEDIATE",
        *['INSERT INTO "users" ("name", "email", "age", "status") VALUES (?, ?, ?, ?)'] * 3,
        "COMMIT",
    ]
    assert [q.rows for q in t.queries[1:4]] == [1000, 1000, 500]


def test_returning_gives_new_keys_and_instances_are_saved(db):
    assert User.insert_many(_users(3), returning=True) == [1, 2, 3]
    people = [User(name="Ann", email="ann@x"), User(name="Bob", email="bob@x", age=4)]
    assert User.insert_many(people) == 2
    assert [p.id for p in people] == [4, 5]
    assert all(p.is_persisted for p in people)
    people[1].age = 5
    assert people[1].save() == 1
    assert User.find_by_id(5).age == 5


def test_explicit_primary_keys_and_generator_input(db):
    assert User.insert_many({"id": 10 + i, "name": "n", "email": f"{i}@x"} for i in range(3)) == 3
    assert db.execute("SELECT id FROM users ORDER BY id").fetchall() == [(10,), (11,), (12,)]


def test_on_conflict_ignore(db):
    User.insert_many(_users(3))
    rows = [{"name": "dup", "email": "u1@example.com"}, {"name": "new", "email": "new@x"}]
    assert User.insert_many(rows, on_conflict="ignore") == 1
    assert User.find_by_id(2).name == "user 1"  # untouched
    assert User.insert_many([{"name": "again", "email": "new@x"},
                             {"name": "newer", "email": "newer@x"}],
                            on_conflict="ignore", returning=True) == [5]
    assert _count(db) == 5


def test_on_conflict_replace(db):
    User.insert_many(_users(2))
    assert User.insert_many([{"id": 1, "name": "replaced", "email": "r@x"}],
                            on_conflict="replace") == 1
    assert db.execute("SELECT id, name, email, age FROM users ORDER BY id").fetchall() == [
        (1, "replaced", "r@x", None), (2, "user 1", "u1@example.com", 1)]


def test_upsert_updates_named_columns_only(db):
    User.insert_many(_users(2))
    rows = [{"name": "renamed", "email": "u0@example.com", "age": 99},
            {"name": "fresh", "email": "fresh@x", "age": 7}]
    ids = User.insert_many(rows, on_conflict="update", conflict_columns=["email"],
                           update_columns=["name"], returning=True)
    assert ids == [1, 3]
    assert db.execute("SELECT id, name, email, age FROM users ORDER BY id").fetchall() == [
        (1, "renamed", "u0@example.com", 0),
        (2, "user 1", "u1@example.com", 1),
        (3, "fresh", "fresh@x", 7),
    ]
    # conflict_columns alone implies an upsert of every other inserted column
    User.insert_many([{"name": "all", "email": "u1@example.com", "age": 50}],
                     conflict_columns="email")
    assert db.execute("SELECT name, age, status FROM users WHERE id = 2").fetchone() == ("all", 50, "active")


def test_upsert_sql_per_dialect():
    stmt = Insert(User, ("name", "email"), ("update", ("email",), ("name",)))
    assert render(stmt, "sqlite") == (
        'INSERT INTO "users" ("name", "email") VALUES (?, ?) ON CONFLICT("email") DO UPDATE SET '
        '"name" = excluded."name"', [])
    assert render(stmt, "mysql")[0] == (
        "INSERT INTO `users` (`name`, `email`) VALUES (%s, %s) ON DUPLICATE KEY UPDATE "
        "`name` = VALUES(`name`)")
    replace = Insert(User, ("id", "name"), ("replace",))
    assert render(replace, "sqlite")[0] == 'INSERT OR REPLACE INTO "users" ("id", "name") VALUES (?, ?)'
    assert render(replace, "postgres")[0] == (
        'INSERT INTO "users" ("id", "name") VALUES (%s, %s) ON CONFLICT("id") DO UPDATE SET '
        '"name" = excluded."name"')
    nothing = Insert(User, ("email",), ("update", ("email",), ()))
    assert render(nothing, "sqlite")[0] == (
        'INSERT INTO "users" ("email") VALUES (?) ON CONFLICT("email") DO NOTHING')


def test_bad_conflict_arguments_are_refused(db):
    with pytest.raises(CompileError, match="must be one of 'ignore', 'replace' or 'update'"):
        User.insert_many(_users(1), on_conflict="merge")
    with pytest.raises(CompileError, match="an upsert needs conflict_columns"):
        User.insert_many(_users(1), on_conflict="update")
    with pytest.raises(ValidationError, match=r"User has no field 'emai' \(did you mean 'email'\?\)"):
        User.insert_many(_users(1), conflict_columns=["emai"])
    with pytest.raises(CompileError, match="chunk_size must be a positive integer"):
        User.insert_many(_users(1), chunk_size=0)
    assert _count(db) == 0
    assert User.insert_many([]) == 0
    assert User.insert_many([], returning=True) == []


def test_insert_many_inside_a_transaction_is_a_savepoint(db):
    with pytest.raises(RuntimeError), db.transaction():
        User.insert_many(_users(10))
        assert _count(db) == 10
        raise RuntimeError("undo")
    assert _count(db) == 0
    with db.transaction():
        User.insert_many(_users(10))
        with pytest.raises(IntegrityError):
            User.insert_many(_users(5, start=8))  # u8, u9 collide: the savepoint is undone
    assert _count(db) == 10


class Checked(ActiveRecord):
    __table_name__ = "checked"
    id: int = Field(primary_key=True)
    low: int
    high: int
    code: str

    @pydantic.field_validator("code")
    @classmethod
    def upper(cls, v: str) -> str:
        return v.upper()

    @pydantic.model_validator(mode="after")
    def ordered(self) -> Checked:
        if self.low > self.high:
            raise ValueError("low must not exceed high")
        return self


def test_field_and_model_validators_run(tmp_path):
    db = Database(str(tmp_path / "v.db"))
    db.bind(Checked)
    db.create_tables(Checked)
    assert Checked.insert_many([{"low": 1, "high": 2, "code": "ab"}]) == 1
    assert db.execute("SELECT code FROM checked").fetchall() == [("AB",)]
    with pytest.raises(ValidationError) as info:
        Checked.insert_many([{"low": 1, "high": 2, "code": "x"}, {"low": 3, "high": 2, "code": "y"}])
    assert info.value.index == 1
    assert "low must not exceed high" in str(info.value)
    with pytest.raises(ValidationError, match=r"row 0: Checked has no field 'hihg' \(did you mean 'high'\?\)"):
        Checked.insert_many([{"low": 1, "hihg": 2, "code": "x"}])
    assert db.execute("SELECT count(*) FROM checked").fetchone()[0] == 1
    db.close()


_KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from helpers import User
    from activeq import Database
    db = Database({path!r})
    db.bind(User)
    db.create_tables(User)
    rows = [{{"name": "n", "email": f"{{i}}@x", "age": i}} for i in range(1_000_000)]

    def report(done, total):
        if done >= 300_000:
            # Wait here, inside the batch's transaction, for the kill: however slow or busy
            # the machine, the process dies with part of the batch written and uncommitted.
            print(done, flush=True)
            sys.stdin.readline()

    User.insert_many(rows, chunk_size=20_000, progress=report)
    print("finished", flush=True)
""")


def test_sigkill_during_insert_many_leaves_nothing(tmp_path):
    path = str(tmp_path / "killed.db")
    script = _KILL_SCRIPT.format(tests=str(Path(__file__).parent), path=path)
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "300000"  # type: ignore[union-attr]
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    conn = apsw.Connection(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    conn.close()


# update_many -------------------------------------------------------------------------------
def test_update_many_by_primary_key_in_one_statement(db):
    User.insert_many(_users(5))
    with db.track_queries() as t:
        n = User.update_many([{"id": 1, "name": "one"}, {"id": 3, "name": "three"},
                              {"id": 99, "name": "missing"}])
    assert n == 2
    assert t.sql == ["BEGIN IMMEDIATE", 'UPDATE "users" SET "name" = ? WHERE "users"."id" = ?', "COMMIT"]
    assert db.execute("SELECT name FROM users ORDER BY id").fetchall() == [
        ("one",), ("user 1",), ("three",), ("user 3",), ("user 4",)]


def test_update_many_instances_write_their_changes(db):
    User.insert_many(_users(3))
    users = User.query().order_by(User.c.id).all()
    users[0].age = 70
    users[2].age = 72
    users[2].status = "gone"
    assert User.update_many(users) == 2  # users[1] has no changes
    assert db.execute("SELECT age, status FROM users ORDER BY id").fetchall() == [
        (70, "active"), (1, "active"), (72, "gone")]
    assert users[2].save() == 0  # the changes were written and cleared


def test_update_many_validates_first(db):
    User.insert_many(_users(3))
    with pytest.raises(ValidationError) as info:
        User.update_many([{"id": 1, "age": 5}, {"id": 2, "age": "old"}])
    assert (info.value.index, info.value.field) == (1, "age")
    with pytest.raises(ValidationError, match=r"row 1: the primary key 'id' is required"):
        User.update_many([{"id": 1, "age": 5}, {"age": 6}])
    with pytest.raises(ValidationError, match=r"row 0: User has no field 'agee' \(did you mean 'age'\?\)"):
        User.update_many([{"id": 1, "agee": 5}])
    with pytest.raises(ValidationError) as info:
        User.update_many([{"id": 1, "age": 5}, {"id": 2}], fields=["age"])
    assert (info.value.index, info.value.field) == (1, "age")
    assert db.execute("SELECT age FROM users ORDER BY id").fetchall() == [(0,), (1,), (2,)]


# query.update / delete -----------------------------------------------------------------------
def test_update_and_delete_rowcounts(db):
    User.insert_many(_users(10))
    q = User.query().where(User.c.age < 4)
    assert q.update({"age": User.c.age + 100}) == 4
    assert User.query().where(User.c.age >= 100).count() == 4
    assert User.query().where(User.c.id.is_in([1, 2, 99])).update({"status": "x"}) == 2
    assert User.query().where(User.c.age > 1000).update(status="y") == 0
    assert User.query().where(User.c.status == "x").delete() == 2
    assert _count(db) == 8


def test_update_and_delete_refuse_without_where(db):
    User.insert_many(_users(4))
    with pytest.raises(CompileError, match="update\\(\\) without where\\(\\) would change every row of users"):
        User.query().update({"status": "x"})
    with pytest.raises(CompileError, match="delete\\(\\) without where\\(\\) would remove every row of users"):
        User.query().delete()
    assert _count(db) == 4
    assert User.query().update({"status": "x"}, all_rows=True) == 4
    assert Order.query().delete(all_rows=True) == 0
    assert User.query().delete(all_rows=True) == 4
    assert _count(db) == 0
