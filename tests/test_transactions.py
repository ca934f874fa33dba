"""Transactions, savepoints and lock handling (busy retries, retried transaction functions)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import apsw
import pytest
from helpers import User

from activeq import (
    AsyncDatabase,
    BusyError,
    ConfigurationError,
    Database,
    IntegrityError,
    OperationalError,
)
from activeq.retry import RetryPolicy


def _names(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT name FROM users ORDER BY id")]


def _add(name: str) -> User:
    return User.create(name=name, email=f"{name}@x")


def test_commit_and_rollback(db):
    with db.transaction():
        _add("a")
    with pytest.raises(ZeroDivisionError), User.transaction():
        _add("b")
        raise ZeroDivisionError
    assert _names(db) == ["a"]
    assert not db.in_transaction


def test_exception_rolls_back_only_its_own_level(db):
    with db.track_queries() as t, db.transaction():
        _add("outer")
        with pytest.raises(KeyError), db.transaction():
            _add("inner")
            with db.transaction():
                _add("innermost")
            raise KeyError("inner")
        with db.transaction():
            _add("sibling")
    assert _names(db) == ["outer", "sibling"]
    control = [s for s in t.sql if not s.startswith(("INSERT", "SELECT"))]
    assert control == ["BEGIN IMMEDIATE", "SAVEPOINT aq_sp_1", "SAVEPOINT aq_sp_2", "RELEASE aq_sp_2",
                       "ROLLBACK TO aq_sp_1", "RELEASE aq_sp_1", "SAVEPOINT aq_sp_1",
                       "RELEASE aq_sp_1", "COMMIT"]


def test_exception_in_outer_level_undoes_committed_inner_levels(db):
    with pytest.raises(RuntimeError), db.transaction():
        with db.transaction():
            _add("inner")
        raise RuntimeError
    assert _names(db) == []


def test_deferred_on_request(db):
    with db.track_queries() as t, db.transaction("deferred"):
        _add("a")
    assert t.sql[0] == "BEGIN DEFERRED"
    with db.track_queries() as t, db.atomic(mode="deferred"):
        _add("b")
    assert t.sql[0] == "BEGIN DEFERRED"
    with pytest.raises(Exception, match="unknown transaction mode 'lazy'"), db.transaction("lazy"):
        pass


def test_unknown_transaction_mode_is_a_configuration_error_before_anything_runs(db, tmp_path):
    message = "unknown transaction mode 'lazy': use 'deferred', 'immediate' or 'exclusive'"
    calls = []
    with db.track_queries() as t:
        with pytest.raises(ConfigurationError) as caught, db.transaction("lazy"):
            _add("never")
        assert str(caught.value) == message
        with pytest.raises(ConfigurationError, match=message):
            db.atomic(lambda: calls.append(_add("never")), mode="lazy")
        with pytest.raises(ConfigurationError, match=message):
            db.retrying(mode="lazy")
    assert t.sql == []
    assert calls == []
    assert _names(db) == []
    assert not db.in_transaction

    async def refused() -> None:
        adb = AsyncDatabase(str(tmp_path / "async.db"))
        try:
            with pytest.raises(ConfigurationError, match=message):
                adb.transaction("lazy")
        finally:
            await adb.close()

    asyncio.run(refused())


def test_failed_commit_leaves_the_connection_usable(tmp_path):
    db = Database(str(tmp_path / "fk.db"))
    db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
               "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(IntegrityError, match="FOREIGN KEY constraint failed"), db.transaction():
        db.execute("INSERT INTO child (parent_id) VALUES (42)")
    assert not db.in_transaction
    assert db.execute("SELECT count(*) FROM child").fetchone() == (0,)
    with db.transaction():
        db.execute("INSERT INTO parent (id) VALUES (42)")
        db.execute("INSERT INTO child (parent_id) VALUES (42)")
    assert db.execute("SELECT count(*) FROM child").fetchone() == (1,)
    db.close()


# lock handling --------------------------------------------------------------------------------
def _locked_db(tmp_path, attempts: int) -> tuple[Database, apsw.Connection]:
    path = str(tmp_path / "busy.db")
    # No wait inside SQLite: the retry policy does the waiting, within its own budget.
    db = Database(path, busy_timeout_ms=0,
                  retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.002,
                                    budget=30))
    db.bind(User)
    db.create_tables(User)
    _add("a")
    other = apsw.Connection(path)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    return db, other


def test_busy_begin_is_retried_then_reported_with_attempts(tmp_path):
    db, other = _locked_db(tmp_path, attempts=4)
    with pytest.raises(BusyError) as info, db.transaction():
        pass
    assert info.value.attempts == 4
    assert "stayed busy after 4 attempts" in str(info.value)
    assert "BEGIN IMMEDIATE" in str(info.value)
    assert db.busy_retries == 3
    # WAL readers are not blocked by the writer
    assert _names(db) == ["a"]
    other.execute("ROLLBACK")
    db.close()


def test_busy_autocommit_statement_is_retried(tmp_path):
    db, other = _locked_db(tmp_path, attempts=3)
    with pytest.raises(BusyError) as info:
        User.query().where(User.c.name == "a").update({"age": 1})
    assert info.value.attempts == 3
    assert 'UPDATE "users"' in str(info.value)

    # The lock goes away while retrying: the statement then succeeds.
    db.retry = RetryPolicy(attempts=200, base_delay=0.002, max_delay=0.01, budget=30)
    release = threading.Timer(0.05, lambda: other.execute("ROLLBACK"))
    release.start()
    before = db.busy_retries
    assert User.query().where(User.c.name == "a").update({"age": 2}) == 1
    release.join()
    assert db.busy_retries > before
    assert User.find_one(name="a").age == 2
    db.close()


@pytest.mark.parametrize("what", ["statement", "transaction", "atomic"])
def test_busy_error_comes_once_the_busy_timeout_is_over(tmp_path, what):
    path = str(tmp_path / "timeout.db")
    db = Database(path, busy_timeout_ms=250)
    db.execute("CREATE TABLE t (x)")
    other = apsw.Connection(path)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock throughout
    runs = {
        "statement": lambda: db.execute("INSERT INTO t VALUES (1)"),
        "transaction": lambda: db.transaction().__enter__(),
        "atomic": lambda: db.atomic(lambda: db.execute("INSERT INTO t VALUES (1)")),
    }
    started = time.perf_counter()
    with pytest.raises(BusyError) as info:
        runs[what]()
    elapsed = time.perf_counter() - started
    # SQLite's busy handler waited the timeout once; nothing was tried again on top of it:
    # one attempt and no retry counted prove it without measuring how fast the machine is.
    assert info.value.attempts == 1
    assert db.busy_retries == 0
    assert "stayed busy after 1 attempt" in str(info.value)
    assert "database is locked" in str(info.value)
    assert elapsed >= 0.25
    assert not db.in_transaction
    other.execute("ROLLBACK")
    assert db.execute("INSERT INTO t VALUES (2)").rowcount == 1
    other.close()
    db.close()


def test_retry_budget_defaults_to_the_busy_timeout():
    assert RetryPolicy().budget is None
    assert RetryPolicy().budget_ns(250) == 250_000_000
    assert RetryPolicy(budget=2.5).budget_ns(250) == 2_500_000_000
    with pytest.raises(ValueError, match="budget must not be negative"):
        RetryPolicy(budget=-1)


def test_statement_inside_a_transaction_is_not_retried_but_atomic_retries_the_whole(tmp_path):
    path = str(tmp_path / "snap.db")
    db = Database(path, busy_timeout_ms=2000)
    db.bind(User)
    db.create_tables(User)
    _add("a")
    other = apsw.Connection(path)
    calls = []

    def rename() -> int:
        calls.append(1)
        user = User.find_one(name="a") or User.find_one(name="b")
        if len(calls) == 1:
            # Another connection commits after this deferred transaction read its snapshot:
            # writing from the stale snapshot is refused without waiting (SQLITE_BUSY_SNAPSHOT).
            other.execute("UPDATE users SET age = coalesce(age, 0) + 1")
        return User.query().where(User.c.id == user.id).update({"name": "b"})

    with pytest.raises(BusyError) as info, db.transaction("deferred"):
        rename()
    assert info.value.attempts == 1
    assert not db.in_transaction

    calls.clear()
    assert db.atomic(rename, mode="deferred") == 1
    assert len(calls) == 2
    assert db.execute("SELECT name, age FROM users").fetchall() == [("b", 2)]

    @db.retrying(mode="deferred")
    def bump(by: int) -> int:
        return User.query().where(User.c.id == 1).update({"age": User.c.age + by})

    assert bump(3) == 1
    assert User.find_by_id(1).age == 5
    other.close()
    db.close()


def _add_then_fail(name: str) -> None:
    _add(name)
    raise ValueError(name)


def test_atomic_inside_a_transaction_runs_once_as_savepoint(db):
    with db.transaction():
        with pytest.raises(ValueError):
            db.atomic(_add_then_fail, "x")
        db.atomic(_add, "y")
    assert _names(db) == ["y"]


def test_transaction_rolled_back_by_sqlite_is_reported(db):
    # Rolling back by hand inside a block leaves no transaction to commit.
    with pytest.raises(OperationalError, match="rolled back by SQLite before COMMIT"), db.transaction():
        _add("a")
        db.execute("ROLLBACK")
    assert not db.in_transaction
    assert _names(db) == []


_WORKER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from activeq import ActiveRecord, Database, Field
    from activeq.retry import RetryPolicy

    class Counter(ActiveRecord):
        __table_name__ = "counters"
        id: int = Field(primary_key=True)
        value: int

    # A tiny busy timeout makes lock waits surface as SQLITE_BUSY, so the retries do the work.
    db = Database({path!r}, busy_timeout_ms=1,
                  retry=RetryPolicy(attempts=10_000, base_delay=0.0005, max_delay=0.01, budget=120))
    db.bind(Counter)

    def increment():
        value = Counter.find_by_id(1).value
        Counter.query().where(Counter.c.id == 1).update({{"value": value + 1}})

    while time.time() < {start}:
        time.sleep(0.001)
    for i in range({n}):
        if i % 2:
            db.atomic(increment)
        else:
            with db.transaction():
                increment()
    print(db.busy_retries)
""")


def test_four_processes_increment_one_counter_without_lost_updates(tmp_path):
    path = str(tmp_path / "counter.db")
    db = Database(path)
    db.execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)")
    db.execute("INSERT INTO counters (id, value) VALUES (1, 0)")
    script = _WORKER.format(tests=str(Path(__file__).parent), path=path, n=500,
                            start=time.time() + 1.5)
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-2000:]
    assert db.execute("SELECT value FROM counters WHERE id = 1").fetchone() == (2000,)
    db.close()
