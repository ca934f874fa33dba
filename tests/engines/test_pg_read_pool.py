"""Database("postgresql://...", pool_size=N): reads outside a transaction on psycopg_pool."""

from __future__ import annotations

import threading

import psycopg
import pytest
from engine_urls import pg_url
from test_async_native import RENDEZVOUS

from activeq import ActiveRecord, Database, Field
from activeq.errors import ConfigurationError


class Meeting(ActiveRecord):
    """A view whose one row is read only once ``n`` sessions read it together."""

    __table_name__ = "meet3"
    pid: int = Field(primary_key=True)


class Note(ActiveRecord):
    __table_name__ = "notes"
    id: int = Field(primary_key=True)
    body: str


@pytest.fixture
def url(pg_conninfo: str) -> str:
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        conn.execute(RENDEZVOUS)
        conn.execute("CREATE VIEW meet3 AS SELECT rendezvous(3) AS pid")
    return pg_url(pg_conninfo)


def test_threads_read_at_once_on_the_psycopg_pool(url):
    db = Database(url, pool_size=3)
    db.bind(Meeting)
    pids: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            pids.extend(Meeting.query().pluck("pid"))
        except BaseException as e:  # reported below, never lost with the thread
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Three reads were in flight together, each on its own server session.
    assert len(set(pids)) == 3
    pool = db.engine._pool
    assert pool is not None and pool.max_size == 3
    # The reader threads opened no connection of their own: all three came from the pool.
    assert pool.get_stats()["pool_size"] == 3
    db.close()


def test_reads_in_a_transaction_see_its_writes_and_others_read_the_pool(url):
    db = Database(url, pool_size=2)
    db.bind(Note)
    db.create_tables(Note)
    with db.transaction():
        Note.create(body="draft")
        assert Note.query().pluck("body") == ["draft"]  # on the transaction's connection
        seen: list[list[str]] = []
        other = threading.Thread(target=lambda: seen.append(Note.query().pluck("body")))
        other.start()
        other.join()
        assert seen == [[]]  # a pooled connection sees the last commit only
    assert Note.query().pluck("body") == ["draft"]
    db.close()


@pytest.mark.parametrize("size", [0, -1, True, "2", 1.5])
def test_invalid_pool_size_is_refused(url, size):
    with pytest.raises(ConfigurationError, match=f"pool_size must be a positive integer, not {size!r}"):
        Database(url, pool_size=size)


def test_invalid_pool_timeout_is_refused(url):
    with pytest.raises(ConfigurationError, match="pool_timeout must be a non-negative number"):
        Database(url, pool_size=2, pool_timeout=-1)
