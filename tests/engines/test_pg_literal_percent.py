"""A literal ``%`` in a statement activeq compiles for PostgreSQL reaches the server as ``%``.

psycopg reads ``%`` as a placeholder only when parameters are passed; a statement without
any is sent as written. The text activeq runs, logs and reports is the text ``to_sql()``
gives, so what the user reads is what the server ran.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_urls import pg_url

from activeq import ActiveRecord, Database, Field, text
from activeq.errors import OperationalError


class Ratio(ActiveRecord):
    __table_name__ = "ratios"
    id: int = Field(primary_key=True)
    n: int
    k: int
    label: str


@pytest.fixture
def db(pg_conninfo: str) -> Iterator[Database]:
    database = Database(pg_url(pg_conninfo))
    database.bind(Ratio)
    database.create_tables(Ratio)
    Ratio.insert_many([{"n": 7, "k": 4, "label": "50%"}, {"n": 8, "k": 4, "label": "50%%"}])
    yield database
    database.close()


def test_a_literal_percent_without_parameters_matches_what_it_says(db: Database) -> None:
    query = Ratio.query().where(text("label = '50%'")).select("n")
    sql, values = query.to_sql("postgres")
    assert values == []
    assert sql == 'SELECT "ratios"."n" FROM "ratios" WHERE (label = \'50%\')'
    with db.track_queries() as t:
        assert query.tuples() == [(7,)]
    assert [q.sql for q in t.queries] == [sql]


def test_the_modulo_operator_without_parameters_runs(db: Database) -> None:
    query = Ratio.query().select((Ratio.c.n % Ratio.c.k).as_("r")).order_by(Ratio.c.n)
    sql, _ = query.to_sql("postgres")
    assert '"ratios"."n" % "ratios"."k"' in sql and "%%" not in sql
    assert query.tuples() == [(3,), (0,)]
    plan = query.explain()
    assert str(plan).splitlines()[0] == f"QUERY PLAN for: {sql}"


def test_an_error_shows_the_sql_as_rendered(db: Database) -> None:
    query = Ratio.query().where(text("label LIKE '5%' AND n / (k - 4) = 1"))
    sql, _ = query.to_sql("postgres")
    with pytest.raises(OperationalError) as raised:
        query.all()
    message = str(raised.value)
    assert message.startswith("division by zero")
    assert message.endswith(f"while running: {sql}")
    assert "%%" not in message


def test_with_parameters_percent_is_doubled_for_the_driver_and_runs(db: Database) -> None:
    # With values bound, psycopg reads the text as a format string: %% is its literal %.
    query = Ratio.query().where(Ratio.c.n % Ratio.c.k == 3, Ratio.c.label == "50%")
    sql, values = query.to_sql("postgres")
    assert sql.endswith('WHERE "ratios"."n" %% "ratios"."k" = %s AND "ratios"."label" = %s')
    assert values == [3, "50%"]
    with db.track_queries() as t:
        assert [r.n for r in query.all()] == [7]
    assert [q.sql for q in t.queries] == [sql]
