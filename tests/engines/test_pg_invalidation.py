"""On PostgreSQL, the caches hear commits made by other sessions (LISTEN/NOTIFY)."""

from __future__ import annotations

import time

import psycopg
from engine_urls import pg_url

from activeq import ActiveRecord, Database, Field


class Note(ActiveRecord):
    __table_name__ = "notes"
    id: int = Field(primary_key=True)
    text: str


def _served_after_foreign_commit(read, expected, attempts: int = 3000):
    """Read until the notification of the other session's commit has arrived (it is sent
    after that COMMIT returns); returns what the reads saw. Bounded, never timed."""
    seen = []
    for _ in range(attempts):
        seen.append(read())
        if seen[-1] == expected:
            break
        time.sleep(0.01)
    return seen


def test_a_commit_from_another_session_invalidates_cached_results(pg_conninfo: str) -> None:
    db = Database(pg_url(pg_conninfo))
    rival = psycopg.connect(pg_conninfo, autocommit=True)
    try:
        db.bind(Note)
        db.create_tables(Note)
        Note.create(text="first")
        db.enable_cache(Note)
        query = Note.query().order_by(Note.c.id).cache()
        assert [n.text for n in query.all()] == ["first"]
        with db.track_queries() as t:
            assert [n.text for n in query.all()] == ["first"]
            assert Note.find_by_id(1).text == "first"
            assert Note.find_by_id(1).text == "first"
        assert len(t) == 1  # the list from the cache; the instance read once, then cached
        (trigger,) = rival.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'notes'::regclass"
                                   " AND NOT tgisinternal").fetchall()[0]
        assert trigger == "activeq_commit"

        rival.execute("INSERT INTO notes (text) VALUES ('second')")
        seen = _served_after_foreign_commit(lambda: [n.text for n in query.all()],
                                            ["first", "second"])
        assert seen[-1] == ["first", "second"]
        rival.execute("UPDATE notes SET text = 'edited' WHERE id = 1")
        # Poll the cached list itself: the instance for id 1 is no longer cached after the
        # INSERT's notification, so find_by_id can read the new row before this notification.
        seen = _served_after_foreign_commit(lambda: [n.text for n in query.all()],
                                            ["edited", "second"])
        assert seen[-1] == ["edited", "second"]
        assert Note.find_by_id(1).text == "edited"
        with db.track_queries() as t:
            assert [n.text for n in query.all()] == ["edited", "second"]
            assert [n.text for n in query.all()] == ["edited", "second"]
        assert len(t) == 0  # cached again by the read that saw the change
    finally:
        rival.close()
        db.close()


def test_own_commits_do_not_count_as_foreign(pg_conninfo: str) -> None:
    db = Database(pg_url(pg_conninfo))
    try:
        db.bind(Note)
        db.create_tables(Note)
        query = Note.query().cache()
        query.all()
        before = db.cache_stats().invalidations
        Note.create(text="mine")  # invalidates through the write itself
        assert [n.text for n in query.all()] == ["mine"]
        with db.track_queries() as t:
            assert [n.text for n in query.all()] == ["mine"]
        assert len(t) == 0
        assert db.cache_stats().invalidations >= before
    finally:
        db.close()
