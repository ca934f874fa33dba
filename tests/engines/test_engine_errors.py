"""Driver errors leave an engine as activeq.errors classes, the driver's exception as __cause__."""

from __future__ import annotations

import threading
import time

import apsw
import duckdb
import psycopg
import pytest
from psycopg import errors as pg_errors

from activeq.errors import (
    BusyError,
    DatabaseError,
    IntegrityError,
    OperationalError,
    SerializationError,
)

UNIQUE_VIOLATION = {
    "sqlite": apsw.ConstraintError,
    "postgres": pg_errors.UniqueViolation,
    "duckdb": duckdb.ConstraintException,
}
DRIVER_ERROR = {"sqlite": apsw.Error, "postgres": psycopg.Error, "duckdb": duckdb.Error}


def test_unique_violation_is_an_integrity_error(conn, q, items):
    insert = q("INSERT INTO items (name) VALUES (?)")
    conn.execute(insert, ("ann",))
    with pytest.raises(IntegrityError) as raised:
        conn.execute(insert, ("ann",))
    assert isinstance(raised.value.__cause__, UNIQUE_VIOLATION[conn.dialect])
    assert str(raised.value.__cause__) in str(raised.value)
    assert str(raised.value).endswith(f"while running: {insert}")
    if conn.dialect == "postgres":
        assert raised.value.sqlstate == "23505"
    if conn.dialect == "sqlite":
        assert raised.value.result_code == apsw.SQLITE_CONSTRAINT
    assert conn.fetch("SELECT count(*) FROM items") == [(1,)]


def test_every_method_translates(conn, q, items):
    calls = [
        lambda: conn.execute("SELECT * FROM no_such_table"),
        lambda: conn.fetch("SELECT * FROM no_such_table"),
        lambda: conn.executemany(q("INSERT INTO no_such_table VALUES (?)"), [(1,)]),
        lambda: conn.executemany_returning(q("INSERT INTO no_such_table VALUES (?) RETURNING 1"),
                                           [(1,)]),
        lambda: conn.copy("no_such_table", ["x"], [(1,)]),
        lambda: list(conn.stream("SELECT * FROM no_such_table")),
        lambda: conn.explain("SELECT * FROM no_such_table"),
    ]
    for call in calls:
        with pytest.raises(DatabaseError) as raised:
            call()
        assert type(raised.value) is OperationalError, raised.value
        assert isinstance(raised.value.__cause__, DRIVER_ERROR[conn.dialect])
        assert not conn.in_transaction
    assert conn.fetch("SELECT 1") == [(1,)]  # the connection is still usable


def test_commit_or_rollback_without_a_transaction_is_refused(conn):
    for end, word in ((conn.commit, "commit"), (conn.rollback, "rollback")):
        with pytest.raises(OperationalError) as raised:
            end()
        assert word in str(raised.value).lower()
        assert "transaction" in str(raised.value).lower()


def test_postgres_serialization_failure(pg_engine):
    a, b = pg_engine.connect(), pg_engine.connect()
    a.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
    a.execute("INSERT INTO acct VALUES (1, 100)")
    a.begin("repeatable read")
    assert a.fetch("SELECT balance FROM acct WHERE id = 1") == [(100,)]  # a's snapshot
    b.execute("UPDATE acct SET balance = 50 WHERE id = 1")  # commits at once
    with pytest.raises(SerializationError) as raised:
        a.execute("UPDATE acct SET balance = balance + 1 WHERE id = 1")
    assert raised.value.sqlstate == "40001"
    assert isinstance(raised.value.__cause__, pg_errors.SerializationFailure)
    assert isinstance(raised.value, OperationalError)
    assert "could not serialize access" in str(raised.value)
    a.rollback()
    assert a.fetch("SELECT balance FROM acct") == [(50,)]


def test_postgres_deadlock_is_a_serialization_error(pg_engine):
    a, b = pg_engine.connect(), pg_engine.connect()
    a.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
    a.execute("INSERT INTO acct VALUES (1, 0), (2, 0)")
    for conn in (a, b):
        conn.execute("SET deadlock_timeout = '20ms'")
        conn.begin()
    a.execute("UPDATE acct SET balance = 1 WHERE id = 1")
    b.execute("UPDATE acct SET balance = 2 WHERE id = 2")
    failures: list[BaseException] = []

    def a_takes_row_two() -> None:
        try:
            a.execute("UPDATE acct SET balance = 1 WHERE id = 2")
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            failures.append(e)

    waiter = threading.Thread(target=a_takes_row_two)
    waiter.start()
    # a now waits for b's row lock; b waiting for a's closes the cycle.
    while not b.fetch("SELECT 1 FROM pg_locks WHERE NOT granted"):
        time.sleep(0.001)
    try:
        b.execute("UPDATE acct SET balance = 2 WHERE id = 1")
    except BaseException as e:  # noqa: BLE001
        failures.append(e)
    waiter.join(30)
    assert len(failures) == 1, failures
    (failure,) = failures
    assert isinstance(failure, SerializationError)
    assert failure.sqlstate == "40P01"
    assert isinstance(failure.__cause__, pg_errors.DeadlockDetected)
    for conn in (a, b):
        conn.rollback()


def test_postgres_lock_not_available_is_busy(pg_engine):
    a, b = pg_engine.connect(), pg_engine.connect()
    a.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY)")
    a.execute("INSERT INTO acct VALUES (1)")
    a.begin()
    a.execute("SELECT id FROM acct WHERE id = 1 FOR UPDATE")
    b.begin()
    with pytest.raises(BusyError) as raised:
        b.execute("SELECT id FROM acct WHERE id = 1 FOR UPDATE NOWAIT")
    assert raised.value.sqlstate == "55P03"
    assert isinstance(raised.value.__cause__, pg_errors.LockNotAvailable)
    b.rollback()
    a.rollback()


def test_duckdb_write_conflict_is_a_serialization_error(duckdb_engine):
    a, b = duckdb_engine.connect(), duckdb_engine.connect()
    a.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
    a.execute("INSERT INTO acct VALUES (1, 100)")
    a.begin()
    b.begin()
    a.execute("UPDATE acct SET balance = 1 WHERE id = 1")
    with pytest.raises(SerializationError) as raised:
        b.execute("UPDATE acct SET balance = 2 WHERE id = 1")
    assert isinstance(raised.value.__cause__, duckdb.TransactionException)
    b.rollback()
    a.commit()
    assert b.fetch("SELECT balance FROM acct") == [(1,)]


def test_sqlite_lock_held_by_another_connection_is_busy(tmp_path):
    from activeq.engines import open_engine

    engine = open_engine(str(tmp_path / "busy.db"), busy_timeout_ms=0)
    a, b = engine.connect(), engine.connect()
    a.execute("CREATE TABLE t (x)")
    a.begin("immediate")
    with pytest.raises(BusyError) as raised:
        b.begin("immediate")
    assert raised.value.result_code == apsw.SQLITE_BUSY
    assert isinstance(raised.value.__cause__, apsw.BusyError)
    assert not b.in_transaction
    a.rollback()
    for conn in (a, b):
        conn.close()
    engine.close()
