"""Large result sets: keyset chunks, streaming, page-number and cursor pagination."""

from __future__ import annotations

from collections import Counter

import pytest
from helpers import User

from activeq import CompileError, ValidationError
from activeq.paging import CursorPage, Page

SELECT = 'SELECT "users"."id", "users"."name", "users"."email", "users"."age", "users"."status" FROM "users"'


def _fill(n: int, start: int = 0) -> None:
    User.insert_many([{"name": f"n{i % 7}", "email": f"e{i}@x", "age": i % 5}
                      for i in range(start, start + n)])


def test_chunks_are_keyset_queries_visiting_every_row_once(db):
    _fill(2500)
    with db.track_queries() as t:
        chunks = list(User.query().chunks(1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert [u.id for c in chunks for u in c] == list(range(1, 2501))
    assert t.sql == [
        f'{SELECT} ORDER BY "users"."id" LIMIT ?',
        f'{SELECT} WHERE "users"."id" > ? ORDER BY "users"."id" LIMIT ?',
        f'{SELECT} WHERE "users"."id" > ? ORDER BY "users"."id" LIMIT ?',
    ]
    assert [q.params for q in t.queries] == [(1000,), (1000, 1000), (2000, 1000)]
    assert all("OFFSET" not in s for s in t.sql)


def test_chunks_exactly_once_while_rows_are_inserted(db):
    _fill(1000)
    seen: Counter[int] = Counter()
    added = 0
    for chunk in User.query().chunks(100):
        seen.update(u.id for u in chunk)
        if added < 200:
            _fill(20, start=10_000 + added)  # lands past the current position
            added += 20
        # rows before the current position change too: keyset paging does not shift
        User.query().where(User.c.id == chunk[0].id).delete()
    assert max(seen.values()) == 1
    assert len(seen) == 1200
    assert set(seen) == set(range(1, 1201))


def test_chunks_follow_the_query_order_with_primary_key_tiebreak(db):
    _fill(23)
    chunks = list(User.query().where(User.c.age > 0).order_by(User.c.age.desc()).chunks(4))
    flat = [(u.age, u.id) for c in chunks for u in c]
    assert flat == sorted(((i % 5, i + 1) for i in range(23) if i % 5), reverse=True)
    assert all(len(c) == 4 for c in chunks[:-1])


def test_chunks_by_unique_column_and_composite_key(db):
    _fill(30)
    by_email = [u.email for c in User.query().chunks(7, by="email") for u in c]
    assert by_email == sorted(f"e{i}@x" for i in range(30))
    pairs = [(u.name, u.id) for c in User.query().chunks(4, by=("name", "-id")) for u in c]
    assert pairs == sorted(((f"n{i % 7}", i + 1) for i in range(30)), key=lambda p: (p[0], -p[1]))


def test_chunks_respect_a_limit_and_refuse_offset(db):
    _fill(20)
    assert [[u.id for u in c] for c in User.query().limit(7).chunks(3)] == [[1, 2, 3], [4, 5, 6], [7]]
    with pytest.raises(CompileError, match="chunks\\(\\) pages by key, not by offset"):
        User.query().offset(5).chunks(3)
    with pytest.raises(CompileError, match="chunk size must be a positive integer, not 0"):
        User.query().chunks(0)
    with pytest.raises(CompileError, match="do not carry the key column 'id'"):
        User.query().select("name").chunks(3)
    assert [[u.name for u in c] for c in User.query().select("id", "name").chunks(8)][2] == [
        "n2", "n3", "n4", "n5"]


def test_iter_streams_every_row_with_one_query(db):
    _fill(2500)
    with db.track_queries() as t:
        ids = [u.id for u in User.query().order_by(User.c.id).iter(batch=300)]
    assert ids == list(range(1, 2501))
    assert len(t) == 1
    assert t.queries[0].rows == 2500


def test_paginate(db):
    _fill(45)
    with db.track_queries() as t:
        page = User.query().where(User.c.age < 5).paginate(2, per_page=20)
    assert isinstance(page, Page)
    assert [u.id for u in page.items] == list(range(21, 41))
    assert (page.total, page.page, page.per_page, page.pages) == (45, 2, 20, 3)
    assert page.has_next and page.has_prev
    assert t.sql[1] == f'{SELECT} WHERE "users"."age" < ? ORDER BY "users"."id" LIMIT ? OFFSET ?'
    last = User.query().paginate(3, per_page=20)
    assert [u.id for u in last.items] == list(range(41, 46))
    assert not last.has_next
    beyond = User.query().paginate(9, per_page=20)
    assert beyond.items == [] and beyond.total == 45
    with pytest.raises(CompileError, match="page must be a positive integer"):
        User.query().paginate(0)
    with pytest.raises(CompileError, match="paginate\\(\\) sets limit and offset itself"):
        User.query().limit(3).paginate(1)


def test_cursor_pages_walk_every_row_once(db):
    _fill(23)
    query = User.query().order_by(User.c.name)
    seen = []
    cursor = None
    pages = 0
    while True:
        page = query.cursor_page(5, after=cursor)
        assert isinstance(page, CursorPage)
        seen.extend((u.name, u.id) for u in page.items)
        pages += 1
        if not page.has_more:
            break
        cursor = page.next_cursor
        assert isinstance(cursor, str) and cursor.isascii()
    assert pages == 5
    assert seen == sorted((f"n{i % 7}", i + 1) for i in range(23))


def test_cursor_is_checked(db):
    _fill(10)
    cursor = User.query().order_by(User.c.name).cursor_page(3).next_cursor
    with pytest.raises(ValidationError, match="this cursor was made for another ordering "
                                              "\\(users.name, users.id, not users.id\\)"):
        User.query().cursor_page(3, after=cursor)
    with pytest.raises(ValidationError, match="malformed cursor"):
        User.query().cursor_page(3, after="not-a-cursor!")
    exact = User.query().cursor_page(10)
    assert len(exact.items) == 10 and exact.next_cursor is None
