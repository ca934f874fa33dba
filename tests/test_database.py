"""The connection layer: pragmas, raw execution, transactions, timing records, error mapping."""

from __future__ import annotations

import apsw
import pytest
from helpers import Order, User

from activeq import ActiveqError, Database, IntegrityError, OperationalError

U = User.c

DEFAULT_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 1,  # NORMAL
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "cache_size": -64000,
    "temp_store": 2,  # MEMORY
}


def pragmas(db: Database) -> dict:
    return {name: db.execute(f"PRAGMA {name}").fetchall()[0][0] for name in DEFAULT_PRAGMAS}


def test_recommended_pragmas_are_applied_by_default(db):
    assert pragmas(db) == DEFAULT_PRAGMAS


def test_pragmas_can_be_overridden_or_removed(tmp_path):
    db = Database(
        str(tmp_path / "p.db"),
        pragmas={"journal_mode": "delete", "synchronous": "full", "foreign_keys": None},
        busy_timeout_ms=1234,
    )
    got = pragmas(db)
    assert got["journal_mode"] == "delete"
    assert got["synchronous"] == 2
    assert got["foreign_keys"] == 0  # removed: SQLite's own default
    assert got["busy_timeout"] == 1234
    assert got["cache_size"] == -64000
    db.close()


def test_raw_execute_rows_rowcount_fetchall(db):
    cur = db.execute(
        "INSERT INTO users (name, email) VALUES (?, ?), (?, ?)", ("a", "a@x", "b", "b@x")
    )
    assert cur.rowcount == 2
    cur = db.execute("SELECT name FROM users WHERE email LIKE ? ORDER BY name", ["%@x"])
    assert cur.fetchall() == [("a",), ("b",)]
    assert list(cur) == [("a",), ("b",)]
    assert cur.rowcount == -1
    assert db.execute("UPDATE users SET age = :age", {"age": 5}).rowcount == 2
    assert db.execute("SELECT 1 + ?", (1,)).fetchone() == (2,)


def test_transaction_commits(db):
    with db.transaction():
        User.create(name="a", email="a@x")
        assert db.in_transaction
    assert not db.in_transaction
    assert User.query().count() == 1


def test_transaction_rolls_back_on_error(db):
    with pytest.raises(RuntimeError):
        with db.transaction():
            User.create(name="a", email="a@x")
            raise RuntimeError("boom")
    assert User.query().count() == 0
    assert not db.in_transaction


def test_nested_savepoint_rolls_back_only_the_inner_level(db):
    with db.track_queries() as t:
        with db.transaction():
            User.create(name="outer", email="o@x")
            with pytest.raises(ValueError):
                with db.transaction():
                    User.create(name="inner", email="i@x")
                    raise ValueError
            with db.transaction():
                User.create(name="kept", email="k@x")
    assert User.query().order_by(U.id).pluck("name") == ["outer", "kept"]
    control = [q.sql for q in t.queries if not q.sql.startswith(("INSERT", "SELECT"))]
    assert control == [
        "BEGIN IMMEDIATE",
        "SAVEPOINT aq_sp_1",
        "ROLLBACK TO aq_sp_1",
        "RELEASE aq_sp_1",
        "SAVEPOINT aq_sp_1",
        "RELEASE aq_sp_1",
        "COMMIT",
    ]


def test_unknown_transaction_mode(db):
    with pytest.raises(ActiveqError, match="unknown transaction mode"):
        with db.transaction("sometimes"):
            pass


def test_timing_records_cover_every_statement(db):
    with db.track_queries() as t:
        user = User.create(name="a", email="a@x", age=3)
        User.query().where(U.age > 1).all()
        User.query().where(U.age > 2).all()
        user.age = 4
        user.save()
        db.execute("SELECT count(*) FROM users")
        User.query().where(U.id == user.id).delete()
    assert [q.sql.split()[0] for q in t.queries] == [
        "INSERT",
        "SELECT",
        "SELECT",
        "UPDATE",
        "SELECT",
        "DELETE",
    ]
    select1, select2 = t.queries[1], t.queries[2]
    assert select1.sql == select2.sql
    assert list(select1.params) == [1] and list(select2.params) == [2]
    assert select1.rows == 1 and t.queries[3].rows == 1 and t.queries[5].rows == 1
    assert select2.cache_hit is True
    for q in t.queries:
        assert q.execute_ns > 0 and q.compile_ns >= 0 and isinstance(q.cache_hit, bool)
    assert t.queries[4].params == () and t.queries[4].rows == 1
    assert t.sql == [q.sql for q in t.queries]
    assert db.queries[-len(t) :] == t.queries  # the database's own log holds them too


def test_tracking_stops_after_the_block(db):
    with db.track_queries() as t:
        User.query().count()
    User.query().count()
    assert len(t) == 1


@pytest.fixture
def fk_db(db):
    db.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    db.execute(
        "CREATE TABLE kids (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id))"
    )
    return db


def test_integrity_errors_by_result_code(fk_db):
    db = fk_db
    User.create(name="a", email="a@x")
    cases = [
        (lambda: User.create(name="b", email="a@x"), "UNIQUE constraint failed"),
        (lambda: db.execute("INSERT INTO users (name) VALUES ('x')"), "NOT NULL constraint failed"),
        (
            lambda: db.execute("INSERT INTO kids (parent_id) VALUES (99)"),
            "FOREIGN KEY constraint failed",
        ),
    ]
    for action, message in cases:
        with pytest.raises(IntegrityError, match=message) as info:
            action()
        assert isinstance(info.value.__cause__, apsw.ConstraintError)
        assert info.value.result_code == apsw.SQLITE_CONSTRAINT
    assert User.query().count() == 1


def test_missing_table_is_an_operational_error_with_the_cause(db):
    with pytest.raises(OperationalError, match="no such table: nope") as info:
        db.execute("SELECT * FROM nope")
    assert isinstance(info.value.__cause__, apsw.SQLError)
    assert "while running: SELECT * FROM nope" in str(info.value)

    class Ghost(User):
        __table_name__ = "ghosts"

    db.bind(Ghost)
    with pytest.raises(OperationalError, match="no such table: ghosts"):
        Ghost.query().all()


def test_close_is_idempotent_and_blocks_further_use(tmp_path):
    db = Database(str(tmp_path / "c.db"))
    db.bind(User, Order)
    db.create_tables(User, Order)
    db.close()
    db.close()
    with pytest.raises(ActiveqError, match="closed"):
        db.execute("SELECT 1")


def test_memory_database_works():
    db = Database(":memory:")
    assert db.execute("SELECT 40 + ?", (2,)).fetchall() == [(42,)]
    db.close()


def test_unknown_database_option_is_refused():
    with pytest.raises(TypeError, match="busy_timeout"):
        Database(":memory:", busy_timeout=5)
