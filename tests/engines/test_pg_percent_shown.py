"""What ``to_sql("postgres")`` shows for a literal ``%`` is text that runs where it is pasted.

With values to bind, the text goes to psycopg with them, which reads it as a format string:
a literal ``%`` must be ``%%`` there, and the pair ``to_sql()`` returns runs unchanged on a
plain psycopg cursor (SQLAlchemy's psycopg dialect shows ``%%`` too). Text for psql, with
the values written in, comes from ``literal_binds=True`` and keeps a single ``%``; so does
``paramstyle="dollar"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_urls import pg_url

from activeq import ActiveRecord, Database, Field, text

psycopg = pytest.importorskip("psycopg")


class Share(ActiveRecord):
    __table_name__ = "shares"
    id: int = Field(primary_key=True)
    n: int
    k: int
    label: str


@pytest.fixture
def db(pg_conninfo: str) -> Iterator[Database]:
    database = Database(pg_url(pg_conninfo))
    database.bind(Share)
    database.create_tables(Share)
    Share.insert_many([{"n": 7, "k": 4, "label": "50% off"}, {"n": 8, "k": 4, "label": "50% off"},
                       {"n": 11, "k": 4, "label": "half"}])
    yield database
    database.close()


@pytest.fixture
def raw(pg_conninfo: str, db: Database) -> Iterator[object]:
    with psycopg.connect(pg_conninfo, autocommit=True) as conn:
        yield conn


QUERY = (Share.query().select("n")
         .where(Share.c.n % Share.c.k == 3, text("label LIKE '50%'"), Share.c.n > 1))


def test_the_shown_text_with_values_runs_unchanged_on_psycopg(db: Database, raw) -> None:
    sql, values = QUERY.to_sql("postgres")
    assert sql == ('SELECT "shares"."n" FROM "shares" WHERE "shares"."n" %% "shares"."k" = %s '
                   "AND (label LIKE '50%%') AND \"shares\".\"n\" > %s")
    assert values == [3, 1]
    assert raw.execute(sql, values).fetchall() == [(7,)]
    # The same text with single % is not a statement psycopg can run with values.
    with pytest.raises(psycopg.ProgrammingError):
        raw.execute(sql.replace("%%", "%"), values)
    # What ran, what the log shows and what explain() names are that same text.
    with db.track_queries() as t:
        assert QUERY.tuples() == [(7,)]
    assert [q.sql for q in t.queries] == [sql]
    assert str(QUERY.explain()).splitlines()[0] == f"QUERY PLAN for: {sql}"


def test_literal_binds_text_pastes_with_single_percent(db: Database, raw) -> None:
    sql, values = QUERY.to_sql("postgres", literal_binds=True)
    assert values == []
    assert sql == ('SELECT "shares"."n" FROM "shares" WHERE "shares"."n" % "shares"."k" = 3 '
                   "AND (label LIKE '50%') AND \"shares\".\"n\" > 1")
    assert raw.execute(sql).fetchall() == [(7,)]
    assert db.execute(sql).fetchall() == [(7,)]


def test_dollar_placeholders_keep_single_percent(db: Database) -> None:
    sql, values = QUERY.to_sql("postgres", paramstyle="dollar")
    assert "%%" not in sql
    assert sql.endswith("WHERE \"shares\".\"n\" % \"shares\".\"k\" = $1 AND (label LIKE '50%') "
                        'AND "shares"."n" > $2')
    assert values == [3, 1]
