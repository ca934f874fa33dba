"""Raw execute and explain run exactly one statement on every engine: a second one is refused
before anything runs."""

from __future__ import annotations

import pytest

from activeq.errors import MultipleStatementsError


@pytest.fixture
def victims(conn):
    conn.execute("CREATE TABLE victims (x INTEGER)")
    conn.execute("INSERT INTO victims VALUES (1)")
    return conn


def test_a_second_statement_is_refused_and_nothing_runs(victims):
    with pytest.raises(MultipleStatementsError):
        victims.execute("SELECT 1; DROP TABLE victims")
    with pytest.raises(MultipleStatementsError):
        victims.execute("INSERT INTO victims VALUES (2); DELETE FROM victims")
    with pytest.raises(MultipleStatementsError):
        victims.explain("SELECT 1; DROP TABLE victims")
    assert victims.fetch("SELECT x FROM victims") == [(1,)]


@pytest.mark.parametrize("sql", [
    "SELECT x FROM victims;",
    "SELECT x FROM victims; -- a trailing comment",
    "SELECT x FROM victims WHERE ';' <> 'a%'",
])
def test_one_statement_with_trailing_semicolon_comments_or_literals_runs(victims, sql):
    assert victims.execute(sql).rows == [(1,)]
