"""A rollback returns the records written inside it to their state before the transaction.

Without that, a record created in a rolled-back transaction keeps the id SQLite then gives to
the next row, still counts as persisted, and its next save() overwrites that other row.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from helpers import Order, User

from activeq import AsyncActiveRecord, AsyncDatabase, Field, IntegrityError, OperationalError


class Undo(Exception):
    """Raised to roll a block back."""


def _rows(db: Any) -> list[tuple[Any, ...]]:
    return db.execute("SELECT id, name, age FROM users ORDER BY id").fetchall()


def test_created_in_a_rolled_back_transaction_is_new_again(db):
    ann = User(name="Ann", email="ann@x", age=30)
    with pytest.raises(Undo), db.transaction():
        assert ann.save() == 1
        assert ann.id == 1 and ann.is_persisted
        raise Undo
    assert ann.id is None
    assert not ann.is_persisted
    assert ann.model_fields_set == {"name", "email", "age"}
    assert (ann.name, ann.email, ann.age) == ("Ann", "ann@x", 30)
    # SQLite gives id 1 to the next row; saving Ann again must not overwrite it.
    bob = User.create(name="Bob", email="bob@x")
    assert bob.id == 1
    with db.track_queries() as t:
        assert ann.save() == 1
    assert t.sql == ['INSERT INTO "users" ("name", "email", "age", "status") VALUES (?, ?, ?, ?)']
    assert ann.id == 2
    assert _rows(db) == [(1, "Bob", None), (2, "Ann", 30)]


def test_create_in_a_rolled_back_transaction_then_save_inserts(db):
    with pytest.raises(Undo), db.transaction():
        cid = User.create(name="Cid", email="cid@x")
        raise Undo
    assert (cid.id, cid.is_persisted) == (None, False)
    User.create(name="Dee", email="dee@x")
    cid.save()
    assert _rows(db) == [(1, "Dee", None), (2, "Cid", None)]


def test_changes_saved_in_a_rolled_back_transaction_are_unsaved_again(db):
    ann = User.create(name="Ann", email="ann@x", age=30)
    loaded = User.find_by_id(ann.id)
    with pytest.raises(Undo), db.transaction():
        loaded.age = 31
        assert loaded.save() == 1
        assert loaded.model_fields_set == set()
        loaded.name = "Anna"  # changed after the save: stays changed as well
        raise Undo
    assert _rows(db) == [(1, "Ann", 30)]
    assert loaded.id == 1 and loaded.is_persisted
    assert loaded.model_fields_set == {"age", "name"}
    assert (loaded.name, loaded.age) == ("Anna", 31)
    with db.track_queries() as t:
        assert loaded.save() == 1
    (update,) = t.queries
    assert update.sql.startswith('UPDATE "users" SET ')
    assert set(update.params[:2]) == {31, "Anna"} and update.params[2] == 1
    assert _rows(db) == [(1, "Anna", 31)]


def test_committed_writes_stay_written(db):
    with db.transaction():
        ann = User.create(name="Ann", email="ann@x")
        ann.age = 5
        ann.save()
    assert (ann.id, ann.is_persisted, ann.model_fields_set) == (1, True, set())
    with pytest.raises(Undo), db.transaction():
        User.create(name="Bob", email="bob@x")
        raise Undo
    # A later transaction's rollback leaves records of an earlier, committed one alone.
    assert (ann.id, ann.is_persisted, ann.model_fields_set) == (1, True, set())


def test_a_primary_key_given_by_the_program_is_kept(db):
    ann = User(id=42, name="Ann", email="ann@x")
    with pytest.raises(Undo), db.transaction():
        ann.save()
        raise Undo
    assert (ann.id, ann.is_persisted) == (42, False)
    ann.save()
    assert _rows(db) == [(42, "Ann", None)]


def test_deleted_in_a_rolled_back_transaction_is_persisted_again(db):
    ann = User.create(name="Ann", email="ann@x")
    with pytest.raises(Undo), db.transaction():
        assert ann.delete() == 1
        assert not ann.is_persisted
        raise Undo
    assert ann.is_persisted
    ann.age = 7
    assert ann.save() == 1  # an UPDATE of the row that is still there
    assert _rows(db) == [(1, "Ann", 7)]


def test_rolled_back_savepoint_reverts_only_its_own_records(db):
    with db.transaction():
        ann = User.create(name="Ann", email="ann@x", age=1)
        with pytest.raises(Undo), db.transaction():
            bob = User.create(name="Bob", email="bob@x")
            ann.age = 2
            ann.save()
            raise Undo
        # Ann's INSERT in the outer level stands; her UPDATE in the savepoint does not.
        assert (ann.id, ann.is_persisted, ann.model_fields_set) == (1, True, {"age"})
        assert (bob.id, bob.is_persisted) == (None, False)
    assert _rows(db) == [(1, "Ann", 1)]
    ann.save()
    bob.save()
    assert _rows(db) == [(1, "Ann", 2), (2, "Bob", None)]


def test_released_savepoint_is_undone_with_its_outer_transaction(db):
    with pytest.raises(Undo), db.transaction():
        ann = User.create(name="Ann", email="ann@x")
        with db.transaction():
            bob = User.create(name="Bob", email="bob@x")
            with db.transaction():
                ann.age = 9
                ann.save()
        raise Undo
    assert (ann.id, ann.is_persisted, ann.model_fields_set) == (None, False,
                                                                {"name", "email", "age"})
    assert (bob.id, bob.is_persisted) == (None, False)
    assert _rows(db) == []


def test_record_written_at_two_levels_returns_to_its_state_at_each(db):
    ann = User(name="Ann", email="ann@x")
    with pytest.raises(Undo), db.transaction():
        ann.save()
        with pytest.raises(Undo), db.transaction():
            ann.age = 3
            ann.save()
            raise Undo
        assert (ann.id, ann.is_persisted, ann.model_fields_set) == (1, True, {"age"})
        raise Undo
    assert (ann.id, ann.is_persisted) == (None, False)
    assert ann.model_fields_set == {"name", "email", "age"}


def test_every_field_an_undone_write_marked_clean_is_changed_again(db):
    ann = User.create(name="Ann", email="ann@x")
    with pytest.raises(Undo), db.transaction():
        ann.age = 1
        ann.save()
        ann.status = "away"
        ann.save()  # a second write at the same level
        with db.transaction():
            ann.name = "Anna"
            ann.save()  # in a savepoint that is released
        assert ann.model_fields_set == set()
        raise Undo
    assert ann.model_fields_set == {"age", "status", "name"}
    assert ann.save() == 1
    assert db.execute("SELECT name, age, status FROM users").fetchall() == [("Anna", 1, "away")]


def test_failed_commit_reverts_the_records(tmp_path):
    from activeq import Database

    db = Database(str(tmp_path / "fk.db"))
    db.bind(User, Order)
    db.create_tables(User, Order)
    db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, user_id INTEGER "
               "REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"), db.transaction():
        ann = User.create(name="Ann", email="ann@x")
        db.execute("INSERT INTO audit (user_id) VALUES (99)")  # fails only at COMMIT
    assert (ann.id, ann.is_persisted) == (None, False)
    db.close()


def test_transaction_rolled_back_by_sqlite_reverts_the_records(db):
    with pytest.raises(OperationalError, match="rolled back by SQLite before COMMIT"), \
            db.transaction():
        ann = User.create(name="Ann", email="ann@x")
        db.execute("ROLLBACK")
    assert (ann.id, ann.is_persisted) == (None, False)


def test_batch_records_in_a_rolled_back_transaction(db):
    ann = User.create(name="Ann", email="ann@x", age=1)
    new = [User(name="Bob", email="bob@x"), User(name="Cid", email="cid@x")]
    with pytest.raises(Undo), db.transaction():
        assert User.insert_many(new) == 2
        assert [u.id for u in new] == [2, 3]
        ann.age = 2
        assert User.update_many([ann]) == 1
        assert ann.model_fields_set == set()
        raise Undo
    assert [(u.id, u.is_persisted) for u in new] == [(None, False), (None, False)]
    assert ann.model_fields_set == {"age"}
    assert User.insert_many(new) == 2
    assert User.update_many([ann]) == 1
    assert _rows(db) == [(1, "Ann", 2), (2, "Bob", None), (3, "Cid", None)]


def test_atomic_retry_and_rollback_leave_consistent_records(db):
    def create_then_fail() -> None:
        User.create(name="Ann", email="ann@x")
        raise Undo

    ann = User(name="Ann", email="ann@x")

    def save() -> int:
        return ann.save()

    with pytest.raises(Undo):
        db.atomic(create_then_fail)
    with pytest.raises(Undo), db.transaction():
        db.atomic(save)  # a savepoint inside the transaction
        raise Undo
    assert (ann.id, ann.is_persisted) == (None, False)
    assert db.atomic(save) == 1 and ann.id == 1


class Note(AsyncActiveRecord):
    __table_name__ = "notes"
    id: int = Field(primary_key=True)
    body: str


def test_async_rollback_reverts_the_records(tmp_path):
    async def main() -> tuple[Any, ...]:
        async with AsyncDatabase(str(tmp_path / "a.db")) as adb:
            adb.bind(Note)
            await adb.create_tables(Note)
            note = Note(body="draft")
            with pytest.raises(Undo):
                async with adb.transaction():
                    await note.save()
                    assert note.id == 1
                    raise Undo
            reverted = (note.id, note.is_persisted)
            await Note(body="other").save()
            await note.save()
            rows = await adb.execute("SELECT id, body FROM notes ORDER BY id")
            return reverted, note.id, [tuple(r) for r in rows]

    reverted, new_id, rows = asyncio.run(main())
    assert reverted == (None, False)
    assert new_id == 2
    assert rows == [(1, "other"), (2, "draft")]
