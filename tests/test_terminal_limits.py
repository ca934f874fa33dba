"""Terminals that need at most n rows keep the caller's smaller limit and its offset."""

from __future__ import annotations

import pytest
from helpers import User

from activeq import MultipleResultsError, NotFoundError

U = User.c


def test_one_keeps_a_limit_of_one_and_its_offset(db, people):
    ordered = User.query().order_by(U.id)
    assert ordered.limit(1).one().name == "Ann"
    assert ordered.limit(1).offset(1).one().name == "Bob"
    assert ordered.offset(2).one().name == "Cid"
    assert ordered.limit(1).offset(1).one_or_none().name == "Bob"
    with pytest.raises(MultipleResultsError):
        ordered.limit(5).one()
    with pytest.raises(NotFoundError):
        ordered.limit(0).one()
    with pytest.raises(NotFoundError):
        ordered.offset(3).one()
    with db.track_queries() as t:
        ordered.limit(1).offset(1).one()
    assert tuple(t.queries[0].params) == (1, 1)


def test_first_scalar_and_exists_respect_a_limit_of_zero(db, people):
    empty = User.query().order_by(U.id).limit(0)
    assert empty.first() is None
    assert empty.select(U.name).scalar() is None
    assert empty.exists() is False
    assert User.query().order_by(U.id).offset(1).first().name == "Bob"


def test_queries_differing_by_their_limit_alone_share_a_rendering_on_sqlite(db, people):
    # SQLite binds the count: each new count takes the first one's rendering (a cache hit),
    # and gets its own rows.
    ordered = User.query().where(U.id >= -7).order_by(U.name, U.id)
    with db.track_queries() as t:
        names = [[u.name for u in ordered.limit(n).all()] for n in (2, 0, 1, 3)]
    assert names == [["Ann", "Bob"], [], ["Ann"], ["Ann", "Bob", "Cid"]]
    # (The first count may have been rendered by an earlier test of the session.)
    assert [q.cache_hit for q in t.queries][1:] == [True, True, True]
    assert {q.sql for q in t.queries} == {ordered.limit(9).to_sql()[0]}
    assert [tuple(q.params) for q in t.queries] == [(-7, 2), (-7, 0), (-7, 1), (-7, 3)]
