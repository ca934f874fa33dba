"""Commit watching: a connection learns that another connection (or process) committed."""

from __future__ import annotations

import psycopg
import pytest

from activeq.engines import CommitWatch

#: How long a watch may take to hear of a commit; only PostgreSQL's notifications travel at all.
HEARING = 30.0
#: How long to listen for a notification that must not come. A correct watch never reports
#: one, however long this is; a shorter wait only makes the test weaker, never flaky.
QUIET = 0.3


@pytest.fixture
def t(conn):
    conn.execute("CREATE TABLE t (x INTEGER)")
    return "t"


def test_a_commit_by_another_connection_is_seen_once(conn, other, q, t):
    with conn.watch_commits(["t"]) as watch:
        assert isinstance(watch, CommitWatch)
        assert watch.changed() is False
        other.execute(q("INSERT INTO t VALUES (?)"), (1,))  # commits on its own
        assert watch.wait(HEARING) is True
        assert watch.changed() is False  # reported once

        other.begin()
        other.execute(q("INSERT INTO t VALUES (?)"), (2,))
        other.execute(q("UPDATE t SET x = x + ?"), (10,))
        assert watch.wait(QUIET) is False  # not committed yet
        other.commit()
        assert watch.wait(HEARING) is True
        assert conn.fetch("SELECT x FROM t ORDER BY x") == [(11,), (12,)]


def test_own_commits_and_rollbacks_are_not_reported(conn, other, q, t):
    with conn.watch_commits(["t"]) as watch:
        conn.execute(q("INSERT INTO t VALUES (?)"), (1,))
        conn.begin()
        conn.execute(q("INSERT INTO t VALUES (?)"), (2,))
        conn.commit()
        other.begin()
        other.execute(q("INSERT INTO t VALUES (?)"), (3,))
        other.rollback()
        assert watch.wait(QUIET) is False
        assert conn.fetch("SELECT count(*) FROM t") == [(2,)]


def test_a_watch_on_a_second_engine_of_the_same_database(engine_url, conn, q, t):
    from activeq.engines import open_engine

    with open_engine(engine_url) as second:
        reader = second.connect()
        with reader.watch_commits(["t"]) as watch:
            conn.execute(q("INSERT INTO t VALUES (?)"), (1,))
            assert watch.wait(HEARING) is True
        reader.close()


def test_postgres_hears_writers_that_do_not_use_activeq(pg_engine, pg_conninfo):
    conn = pg_engine.connect()
    conn.execute("CREATE TABLE t (x INTEGER)")
    with conn.watch_commits(["t"]) as watch, \
            psycopg.connect(pg_conninfo, autocommit=True) as outsider:
        outsider.execute("INSERT INTO t VALUES (1)")
        assert watch.wait(HEARING) is True
        outsider.execute("TRUNCATE t")
        assert watch.wait(HEARING) is True
    # The trigger is installed once, however often the table is watched.
    conn.watch_commits(["t"]).close()
    assert conn.fetch("SELECT count(*) FROM pg_trigger WHERE tgrelid = 't'::regclass") == [(1,)]


def test_postgres_refuses_to_watch_a_missing_table(pg_engine):
    from activeq.errors import OperationalError

    conn = pg_engine.connect()
    with pytest.raises(OperationalError) as raised:
        conn.watch_commits(["no_such_table"])
    assert "cannot watch commits to 'no_such_table': no such table" in str(raised.value)
    assert not conn.in_transaction
