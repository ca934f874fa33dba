"""Writes to a database file deleted, renamed or replaced while open are refused.

Such writes used to succeed: they went to a file nothing else could open any more, and were
gone once the connection closed.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import apsw
import pytest
from helpers import Order, User

from activeq import ActiveqError, Database, OperationalError

MOVED = "was deleted, renamed or replaced while open"


def _open(path: Path) -> Database:
    db = Database(str(path))
    db.bind(User, Order)
    db.create_tables(User, Order)
    User.create(name="Ann", email="ann@x")
    # Everything committed so far into the database file itself, not only its WAL.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _refused(write: Any, doing: str, path: Path) -> OperationalError:
    with pytest.raises(OperationalError) as info:
        write()
    assert str(info.value) == (
        f"the database file {str(path)!r} {MOVED}: {doing} would be lost with this "
        "connection, so it was not run; open the database again")
    assert isinstance(info.value, ActiveqError)
    assert (info.value.result_code, info.value.extended_code) == (
        apsw.SQLITE_READONLY, apsw.SQLITE_READONLY_DBMOVED)
    return info.value


def test_every_write_to_a_deleted_file_is_refused(tmp_path):
    path = tmp_path / "gone.db"
    db = _open(path)
    ann = User.find_one(name="Ann")
    os.unlink(path)
    bob = User(name="Bob", email="bob@x")
    _refused(bob.save, "this write", path)
    assert (bob.id, bob.is_persisted) == (None, False)
    _refused(lambda: User.create(name="Cid", email="cid@x"), "this write", path)
    ann.age = 3
    _refused(ann.save, "this write", path)
    assert ann.model_fields_set == {"age"}
    _refused(ann.delete, "this write", path)
    _refused(lambda: User.query().where(User.c.id == 1).update({"age": 4}), "this write", path)
    _refused(lambda: User.query().delete(all_rows=True), "this write", path)
    _refused(lambda: db.execute("INSERT INTO users (name, email) VALUES ('D', 'd@x')"),
             "this statement", path)
    _refused(lambda: db.executescript("UPDATE users SET age = 1;"), "this script", path)
    # Batches and transactions run, then are refused at COMMIT and rolled back.
    _refused(lambda: User.insert_many([{"name": "Eve", "email": "eve@x"}]), "the transaction",
             path)
    with db.track_queries() as t:
        _refused(lambda: _create_in_transaction(db), "the transaction", path)
    assert t.sql[0] == "BEGIN IMMEDIATE" and t.sql[-1] == "ROLLBACK"
    assert not db.in_transaction
    # Reads go on: the open file still holds what was committed before.
    assert User.query().pluck("name") == ["Ann"]
    assert db.execute("SELECT count(*) FROM users").fetchone() == (1,)
    db.close()


def _create_in_transaction(db: Database) -> None:
    with db.transaction():
        User.create(name="Fay", email="fay@x")


def test_a_write_to_a_renamed_file_is_not_run(tmp_path):
    path, moved = tmp_path / "old.db", tmp_path / "new.db"
    db = _open(path)
    os.rename(path, moved)
    _refused(lambda: User.create(name="Bob", email="bob@x"), "this write", path)
    db.close()
    check = apsw.Connection(str(moved))
    assert check.execute("SELECT name FROM users").fetchall() == [("Ann",)]
    check.close()


def test_a_write_to_a_replaced_file_is_refused(tmp_path):
    path, other = tmp_path / "app.db", tmp_path / "other.db"
    db = _open(path)
    apsw.Connection(str(other)).execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    os.replace(other, path)
    _refused(lambda: User.create(name="Bob", email="bob@x"), "this write", path)
    db.close()


def test_every_thread_s_connection_notices(tmp_path):
    path = tmp_path / "threads.db"
    db = _open(path)
    opened, unlinked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            assert User.query().count() == 1  # this thread's own connection, opened now
            opened.set()
            unlinked.wait(60)
            User.create(name="Bob", email="bob@x")
        except BaseException as e:  # reported below
            errors.append(e)
        finally:
            opened.set()

    thread = threading.Thread(target=work)
    thread.start()
    opened.wait(60)
    os.unlink(path)
    unlinked.set()
    thread.join()
    assert [type(e) for e in errors] == [OperationalError]
    assert MOVED in str(errors[0])
    db.close()


def test_a_pool_s_writer_notices(tmp_path):
    path = tmp_path / "pooled.db"
    db = Database(str(path), pool_size=2)
    db.bind(User, Order)
    db.create_tables(User, Order)
    User.create(name="Ann", email="ann@x")
    os.unlink(path)
    _refused(lambda: User.create(name="Bob", email="bob@x"), "this write", path)
    db.close()


def test_a_file_left_in_place_takes_writes(tmp_path):
    db = _open(tmp_path / "kept.db")
    with db.transaction():
        User.create(name="Bob", email="bob@x")
    db.execute("UPDATE users SET age = 1")
    db.executescript("UPDATE users SET age = age + 1;")
    assert User.query().order_by(User.c.id).pluck("age") == [2, 2]
    db.close()


def test_an_in_memory_database_has_no_file_to_lose():
    db = Database(":memory:")
    db.bind(User, Order)
    db.create_tables(User, Order)
    assert User.create(name="Ann", email="ann@x").id == 1
    db.close()
