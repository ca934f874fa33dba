"""Raw statements: whether they read or write is SQLite's answer, which sets rowcount and what
cached results they drop."""

from __future__ import annotations

import pytest
from helpers import User

U = User.c


@pytest.fixture
def cached(db, people):
    """A cached query, run once: its next run is served from the cache while nothing wrote."""
    query = User.query().where(U.status == "active").order_by(U.id).cache(ttl=300)
    assert [u.name for u in query.all()] == ["Ann", "Cid"]
    return query


def _runs(db, query) -> tuple[list[str], int]:
    with db.track_queries() as t:
        names = [u.name for u in query.all()]
    return names, len(t)


def test_with_select_is_a_read(db, cached):
    assert db.execute("UPDATE users SET age = age WHERE age IS NOT NULL").rowcount == 2
    cur = db.execute("WITH adults AS (SELECT name FROM users WHERE age >= 18) "
                     "SELECT count(*) FROM adults")
    assert cur.fetchall() == [(2,)]
    assert cur.rowcount == -1
    db.execute("UPDATE users SET name = name WHERE id = 1")
    assert _runs(db, cached) == (["Ann", "Cid"], 1)
    assert _runs(db, cached) == (["Ann", "Cid"], 0)
    db.execute("WITH n AS (SELECT 1) SELECT * FROM n")
    assert _runs(db, cached) == (["Ann", "Cid"], 0)


def test_with_update_is_a_write(db, cached):
    cur = db.execute("WITH target AS (SELECT id FROM users WHERE name = 'Cid') "
                     "UPDATE users SET name = 'Cy' WHERE id IN (SELECT id FROM target)")
    assert cur.rowcount == 1
    assert _runs(db, cached) == (["Ann", "Cy"], 1)


def test_a_write_after_a_leading_comment_is_a_write(db, cached):
    cur = db.execute("-- rename\nUPDATE users SET name = 'Annie' WHERE name = 'Ann'")
    assert cur.rowcount == 1
    assert _runs(db, cached) == (["Annie", "Cid"], 1)


def test_rowcount_of_a_write_that_matched_nothing_is_zero(db, people):
    assert db.execute("UPDATE users SET age = 1 WHERE age IS NOT NULL").rowcount == 2
    assert db.execute("/* none */ DELETE FROM users WHERE id < 0;").rowcount == 0


def test_schema_changes_drop_cached_results_and_explain_does_not(db, cached):
    db.execute("EXPLAIN QUERY PLAN DELETE FROM users WHERE id = 1")
    assert _runs(db, cached) == (["Ann", "Cid"], 0)
    db.execute("CREATE TABLE notes (body TEXT);")
    assert _runs(db, cached) == (["Ann", "Cid"], 1)
