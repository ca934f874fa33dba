"""begin, commit, rollback and savepoints on every engine (DuckDB has no savepoints)."""

from __future__ import annotations

import pytest

from activeq.errors import OperationalError, UnsupportedError


@pytest.fixture
def t(conn):
    conn.execute("CREATE TABLE t (x INTEGER)")
    return "t"


def values(conn):
    return [r[0] for r in conn.fetch("SELECT x FROM t ORDER BY x")]


def test_commit_makes_writes_visible_to_others(conn, other, q, t):
    assert not conn.in_transaction
    conn.begin()
    assert conn.in_transaction
    conn.execute(q("INSERT INTO t VALUES (?)"), (1,))
    assert values(conn) == [1]
    assert values(other) == []  # not committed yet
    conn.commit()
    assert not conn.in_transaction
    assert values(other) == [1]


def test_rollback_undoes_writes(conn, q, t):
    conn.execute(q("INSERT INTO t VALUES (?)"), (1,))
    conn.begin("immediate")
    conn.execute(q("INSERT INTO t VALUES (?)"), (2,))
    conn.execute("DELETE FROM t WHERE x = 1")
    conn.rollback()
    assert not conn.in_transaction
    assert values(conn) == [1]


def test_savepoints_undo_only_their_part(conn, q, t):
    if not conn.has_savepoints:
        pytest.skip("DuckDB has no savepoints: test_duckdb_refuses_savepoints")
    conn.begin()
    conn.execute(q("INSERT INTO t VALUES (?)"), (1,))
    conn.savepoint("outer")
    conn.execute(q("INSERT INTO t VALUES (?)"), (2,))
    conn.savepoint("inner one")
    conn.execute(q("INSERT INTO t VALUES (?)"), (3,))
    conn.rollback_to("inner one")
    conn.release("inner one")
    assert values(conn) == [1, 2]
    conn.rollback_to("outer")
    conn.execute(q("INSERT INTO t VALUES (?)"), (4,))
    conn.release("outer")
    conn.commit()
    assert values(conn) == [1, 4]


def test_duckdb_refuses_savepoints(duckdb_engine):
    conn = duckdb_engine.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    assert conn.has_savepoints is False
    conn.begin()
    conn.execute("INSERT INTO t VALUES (1)")
    for step in (conn.savepoint, conn.release, conn.rollback_to):
        with pytest.raises(UnsupportedError) as raised:
            step("sp")
        assert raised.value.node == "SAVEPOINT" and raised.value.dialect == "duckdb"
        assert "no savepoints" in str(raised.value)
    assert conn.in_transaction  # refusing a savepoint does not end the transaction
    conn.rollback()
    assert values(conn) == []


def test_unknown_transaction_mode_is_refused_before_anything_runs(conn):
    with pytest.raises(UnsupportedError) as raised:
        conn.begin("sometimes")
    assert "transaction mode 'sometimes'" in str(raised.value)
    assert conn.dialect in str(raised.value)
    assert not conn.in_transaction


def test_isolation_levels_are_postgres_modes(conn, t):
    if conn.dialect == "postgres":
        conn.begin("serializable")
        assert conn.fetch("SHOW transaction_isolation") == [("serializable",)]
        conn.rollback()
    else:
        with pytest.raises(UnsupportedError):
            conn.begin("serializable")


def test_postgres_commit_after_a_failed_statement_saves_nothing_and_says_so(pg_engine):
    # PostgreSQL aborts a transaction at its first failed statement; COMMIT then rolls back.
    conn = pg_engine.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.begin()
    conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(OperationalError):
        conn.execute("SELECT * FROM no_such_table")
    with pytest.raises(OperationalError) as raised:
        conn.commit()
    assert "nothing of it was saved" in str(raised.value)
    assert not conn.in_transaction
    assert values(conn) == []
