"""Rendering for other code: paramstyles, literal values, sqlglot trees, and repeated expressions.

An expression repeated in SELECT, GROUP BY and ORDER BY must read the same to the database:
PostgreSQL and DuckDB compare the expressions, and two different placeholders holding equal
values are different expressions to them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from expr_models import Event, duck_events, pg_events, sqlite_events
from sqlglot import exp

from activeq import BindParam, CompileError, case, func, text
from activeq.compiler import Compiler

E = Event.c
DIALECTS = ("sqlite", "postgres", "mysql", "duckdb")


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    db = sqlite_events(str(tmp_path_factory.mktemp("render") / "events.db"))
    duck = duck_events()
    yield db, duck
    duck.close()
    db.close()


# --- paramstyles -------------------------------------------------------------------------------


def styled():
    return Event.query().select(E.id).where(E.qty > 2, E.kind != "c", E.name.like("%b%"))


# PostgreSQL's LIKE gets ESCAPE '': a backslash in a pattern is literal, as elsewhere.
STYLES = {
    "qmark": (
        'SELECT "events"."id" FROM "events" WHERE "events"."qty" > ? AND "events"."kind" <> ?'
        ' AND "events"."name" LIKE ? ESCAPE \'\'',
        [2, "c", "%b%"],
    ),
    "format": (
        'SELECT "events"."id" FROM "events" WHERE "events"."qty" > %s AND "events"."kind" <> %s'
        ' AND "events"."name" LIKE %s ESCAPE \'\'',
        [2, "c", "%b%"],
    ),
    "numeric": (
        'SELECT "events"."id" FROM "events" WHERE "events"."qty" > :1 AND "events"."kind" <> :2'
        ' AND "events"."name" LIKE :3 ESCAPE \'\'',
        [2, "c", "%b%"],
    ),
    "named": (
        'SELECT "events"."id" FROM "events" WHERE "events"."qty" > :p1 AND "events"."kind" <> :p2'
        ' AND "events"."name" LIKE :p3 ESCAPE \'\'',
        {"p1": 2, "p2": "c", "p3": "%b%"},
    ),
    "pyformat": (
        'SELECT "events"."id" FROM "events" WHERE "events"."qty" > %(p1)s AND "events"."kind" <>'
        ' %(p2)s AND "events"."name" LIKE %(p3)s ESCAPE \'\'',
        {"p1": 2, "p2": "c", "p3": "%b%"},
    ),
    "dollar": (
        'SELECT "events"."id" FROM "events" WHERE "events"."qty" > $1 AND "events"."kind" <> $2'
        ' AND "events"."name" LIKE $3 ESCAPE \'\'',
        [2, "c", "%b%"],
    ),
}


@pytest.mark.parametrize("style", list(STYLES))
def test_every_paramstyle_renders_its_placeholders(style):
    assert styled().to_sql("postgres", paramstyle=style) == STYLES[style]


def test_format_styles_double_a_literal_percent_and_others_keep_it():
    q = Event.query().select(E.id).where(text("\"qty\" % 2 = :r", r=1))
    assert q.to_sql("sqlite", paramstyle="format")[0].endswith('WHERE ("qty" %% 2 = %s)')
    assert q.to_sql("sqlite", paramstyle="pyformat")[0].endswith('WHERE ("qty" %% 2 = %(p1)s)')
    assert q.to_sql("postgres", paramstyle="dollar")[0].endswith('WHERE ("qty" % 2 = $1)')
    assert q.to_sql("postgres", paramstyle="qmark")[0].endswith('WHERE ("qty" % 2 = ?)')


def test_an_in_list_keeps_its_driver_form_in_every_style():
    q = Event.query().select(E.id).where(E.id.is_in([1, 3]))
    assert q.to_sql("sqlite", paramstyle="named")[1] == {"p1": "[1, 3]"}
    assert q.to_sql("postgres", paramstyle="dollar") == (
        'SELECT "events"."id" FROM "events" WHERE "events"."id" = ANY($1)', [[1, 3]])


def test_paramstyle_is_part_of_the_cache_key_and_the_default_is_unchanged():
    fresh = Compiler()
    q = styled()
    default, _ = fresh.compile(q, "postgres")
    dollar, hit = fresh.compile(q, "postgres", "dollar")
    assert not hit and default.sql != dollar.sql
    assert fresh.compile(styled(), "postgres", "dollar") == (dollar, True)
    assert default.sql == STYLES["format"][0]


def test_unknown_paramstyle_is_refused():
    with pytest.raises(CompileError) as info:
        styled().to_sql("sqlite", paramstyle="colon")
    assert "paramstyle must be one of qmark, format, numeric, dollar, named, pyformat" in str(
        info.value
    )


@pytest.mark.parametrize("style", ["qmark", "numeric", "named"])
def test_sqlite_runs_the_qmark_numeric_and_named_renderings(engines, style):
    db, _ = engines
    sql, params = styled().order_by(E.id).to_sql("sqlite", paramstyle=style)
    assert [r[0] for r in db.execute(sql, params)] == [1, 2, 3, 4]


@pytest.mark.parametrize("style", ["qmark", "dollar"])
def test_duckdb_runs_the_qmark_and_dollar_renderings(engines, style):
    _, duck = engines
    sql, params = styled().order_by(E.id).to_sql("duckdb", paramstyle=style)
    assert [r[0] for r in duck.execute(sql, params).fetchall()] == [1, 2, 3, 4]


def test_psycopg_runs_format_pyformat_and_with_a_raw_cursor_dollar(pg_conninfo):
    import psycopg

    with pg_events(pg_conninfo) as pg:
        for style in ("format", "pyformat"):
            sql, params = styled().order_by(E.id).to_sql("postgres", paramstyle=style)
            assert [r[0] for r in pg.execute(sql, params)] == [1, 2, 3, 4], style
        sql, params = grouped_label().to_sql("postgres", paramstyle="dollar")
        with psycopg.RawCursor(pg) as cur:
            assert cur.execute(sql, params).fetchall() == GROUPED_ROWS


def test_asyncpg_runs_the_dollar_rendering(pg_server, pg_conninfo):
    asyncpg = pytest.importorskip("asyncpg")
    with pg_events(pg_conninfo):
        pass
    dsn = pg_server.url(pg_conninfo.rsplit("dbname=", 1)[1])

    async def run():
        con = await asyncpg.connect(dsn)
        try:
            rows = []
            for q in (styled().order_by(E.id), grouped_label()):
                sql, params = q.to_sql("postgres", paramstyle="dollar")
                rows.append([tuple(r) for r in await con.fetch(sql, *params)])
            return rows
        finally:
            await con.close()

    assert asyncio.run(run()) == [[(1,), (2,), (3,), (4,)], GROUPED_ROWS]


# --- literal values ------------------------------------------------------------------------------


def literal_query():
    return Event.query().select(E.id).where(
        (E.name != "it's") & (E.qty > 2) & (E.price < 100.5) & (E.note != None)  # noqa: E711
        & (E.at > dt.datetime(2023, 1, 2, 3, 4, 5)) & (E.day >= dt.date(2023, 1, 1))
        & E.id.is_in([1, 3, 5])
    )


LITERALS = {
    "sqlite": (
        "SELECT \"events\".\"id\" FROM \"events\" WHERE \"events\".\"name\" <> 'it''s' AND"
        " \"events\".\"qty\" > 2 AND \"events\".\"price\" < 100.5 AND \"events\".\"note\" IS NOT"
        " NULL AND \"events\".\"at\" > '2023-01-02 03:04:05.000000' AND \"events\".\"day\" >= '2023-01-01'"
        " AND \"events\".\"id\" IN (SELECT \"value\" FROM JSON_EACH('[1, 3, 5]'))"
    ),
    "postgres": (
        "SELECT \"events\".\"id\" FROM \"events\" WHERE \"events\".\"name\" <> 'it''s' AND"
        " \"events\".\"qty\" > 2 AND \"events\".\"price\" < 100.5 AND \"events\".\"note\" IS NOT"
        " NULL AND \"events\".\"at\" > CAST('2023-01-02 03:04:05' AS TIMESTAMP) AND"
        " \"events\".\"day\" >= CAST('2023-01-01' AS DATE) AND \"events\".\"id\" = ANY(ARRAY[1, 3, 5])"
    ),
    "mysql": (
        "SELECT `events`.`id` FROM `events` WHERE `events`.`name` <> 'it''s' AND `events`.`qty` > 2"
        " AND `events`.`price` < 100.5 AND `events`.`note` IS NOT NULL AND `events`.`at` >"
        " CAST('2023-01-02 03:04:05' AS DATETIME) AND `events`.`day` >= CAST('2023-01-01' AS DATE)"
        " AND `events`.`id` MEMBER OF('[1, 3, 5]')"
    ),
    "duckdb": (
        "SELECT \"events\".\"id\" FROM \"events\" WHERE \"events\".\"name\" <> 'it''s' AND"
        " \"events\".\"qty\" > 2 AND \"events\".\"price\" < 100.5 AND \"events\".\"note\" IS NOT"
        " NULL AND \"events\".\"at\" > CAST('2023-01-02 03:04:05' AS TIMESTAMP) AND"
        " \"events\".\"day\" >= CAST('2023-01-01' AS DATE) AND \"events\".\"id\" IN (SELECT"
        " UNNEST([1, 3, 5]))"
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_literal_binds_inline_values_quoted_by_sqlglot(dialect):
    assert literal_query().to_sql(dialect, literal_binds=True) == (LITERALS[dialect], [])


def test_literal_renderings_give_the_rows_of_the_bound_ones(engines, pg_conninfo):
    db, duck = engines
    q = literal_query().order_by(E.id)
    want = [(1,), (3,)]
    assert db.execute(q.to_sql("sqlite", literal_binds=True)[0]).fetchall() == want
    assert q.tuples() == want
    assert duck.execute(q.to_sql("duckdb", literal_binds=True)[0]).fetchall() == want
    with pg_events(pg_conninfo) as pg:
        assert pg.execute(q.to_sql("postgres", literal_binds=True)[0]).fetchall() == want


def test_literal_binds_of_other_types():
    q = Event.query().select(
        func.coalesce(E.note, True), func.coalesce(E.note, None), func.coalesce(E.note, b"\x00\xff"),
        func.coalesce(E.price, Decimal("1.50")),
    )
    assert q.to_sql("sqlite", literal_binds=True)[0] == (
        "SELECT COALESCE(\"events\".\"note\", TRUE), COALESCE(\"events\".\"note\", NULL),"
        " COALESCE(\"events\".\"note\", x'00ff'), COALESCE(\"events\".\"price\", '1.50') FROM \"events\""
    )
    assert q.to_sql("postgres", literal_binds=True)[0] == (
        "SELECT COALESCE(\"events\".\"note\", TRUE), COALESCE(\"events\".\"note\", NULL),"
        " COALESCE(\"events\".\"note\", CAST('\\x00ff' AS BYTEA)), COALESCE(\"events\".\"price\","
        " 1.50) FROM \"events\""
    )


def test_literal_binds_refuse_what_has_no_literal():
    with pytest.raises(CompileError) as info:
        Event.query().where(E.id == BindParam("x")).to_sql(literal_binds=True)
    assert "BindParam('x') has none" in str(info.value)
    with pytest.raises(CompileError) as info:
        # (func.abs: a float column itself refuses NaN when the comparison is built)
        Event.query().where(func.abs(E.price) < float("nan")).to_sql("postgres", literal_binds=True)
    assert "cannot write nan as an SQL literal" in str(info.value)


def test_a_value_holding_a_marker_is_not_rescanned():
    q = Event.query().select(E.id).where((E.name == "__aqp1__") & (E.kind == "k"))
    assert q.to_sql(literal_binds=True)[0].endswith(
        "WHERE \"events\".\"name\" = '__aqp1__' AND \"events\".\"kind\" = 'k'")


# --- sqlglot trees -------------------------------------------------------------------------------


def test_to_sqlglot_returns_a_fresh_tree_with_placeholders():
    q = styled()
    tree = q.to_sqlglot("duckdb")
    assert isinstance(tree, exp.Select)
    assert len(list(tree.find_all(exp.Placeholder))) == 3
    assert tree.sql("duckdb") == q.to_sql("duckdb", paramstyle="qmark")[0]
    tree.set("limit", exp.Limit(expression=exp.Literal.number(1)))  # the caller's to change
    assert q.to_sqlglot("duckdb").args.get("limit") is None
    assert q.to_sql("duckdb")[0] == STYLES["qmark"][0].removesuffix(" ESCAPE ''")


def test_to_sqlglot_of_a_raw_fragment_marks_its_values():
    tree = Event.query().select(E.id).where(text('"qty" > :n', n=2)).to_sqlglot("postgres")
    assert tree.sql("postgres") == 'SELECT "events"."id" FROM "events" WHERE ("qty" > ?)'


# --- an expression repeated in SELECT, GROUP BY, HAVING and ORDER BY -----------------------------

LABEL = func.concat(E.kind, "-x")


def grouped_label():
    return (
        Event.query()
        .select(LABEL.as_("k"), func.count().as_("n"))
        .group_by(LABEL)
        .having(LABEL != "zz")
        .order_by(LABEL)
    )


GROUPED_ROWS = [("a-x", 2), ("b-x", 2), ("c-x", 1)]

GROUPED = {
    "sqlite": (
        'SELECT "events"."kind" || ? AS "k", COUNT(*) AS "n" FROM "events" GROUP BY'
        ' "events"."kind" || ? HAVING "events"."kind" || ? <> ? ORDER BY "events"."kind" || ?',
        ["-x", "-x", "-x", "zz", "-x"],
    ),
    "postgres": (
        'SELECT "events"."kind" || %(p1)s AS "k", COUNT(*) AS "n" FROM "events" GROUP BY'
        ' "events"."kind" || %(p1)s HAVING "events"."kind" || %(p1)s <> %(p2)s ORDER BY'
        ' "events"."kind" || %(p1)s',
        {"p1": "-x", "p2": "zz"},
    ),
    "mysql": (
        "SELECT CONCAT(`events`.`kind`, %s) AS `k`, COUNT(*) AS `n` FROM `events` GROUP BY"
        " CONCAT(`events`.`kind`, %s) HAVING CONCAT(`events`.`kind`, %s) <> %s ORDER BY"
        " CONCAT(`events`.`kind`, %s)",
        ["-x", "-x", "-x", "zz", "-x"],
    ),
    "duckdb": (
        'SELECT "events"."kind" || $1 AS "k", COUNT(*) AS "n" FROM "events" GROUP BY'
        ' "events"."kind" || $1 HAVING "events"."kind" || $1 <> $2 ORDER BY "events"."kind" || $1',
        ["-x", "zz"],
    ),
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_repeated_expression_renders_identically(dialect):
    assert grouped_label().to_sql(dialect) == GROUPED[dialect]


def test_a_grouped_expression_with_a_value_runs_on_sqlite_duckdb_and_postgresql(
    engines, pg_conninfo
):
    db, duck = engines
    q = grouped_label()
    assert q.tuples() == GROUPED_ROWS
    assert duck.execute(*q.to_sql("duckdb")).fetchall() == GROUPED_ROWS
    with pg_events(pg_conninfo) as pg:
        assert pg.execute(*q.to_sql("postgres")).fetchall() == GROUPED_ROWS


def nested_case():
    size = case((E.qty < 5, "small"), (E.qty < 10, "medium"), else_="large")
    return (
        Event.query()
        .select(func.upper(size), func.sum(E.qty).as_("total"))
        .where(E.price > 0.5)
        .group_by(size.as_("size"))
        .order_by(size.desc())
    )


NESTED_ROWS = [("SMALL", 4), ("MEDIUM", 14), ("LARGE", 12)]


def test_a_grouped_case_inside_a_function_and_group_by_an_aliased_expression(
    engines, pg_conninfo
):
    db, duck = engines
    q = nested_case()
    assert q.to_sql("duckdb") == (
        'SELECT UPPER(CASE WHEN "events"."qty" < $1 THEN $2 WHEN "events"."qty" < $3 THEN $4'
        ' ELSE $5 END), SUM("events"."qty") AS "total" FROM "events" WHERE "events"."price" > $6'
        ' GROUP BY CASE WHEN "events"."qty" < $1 THEN $2 WHEN "events"."qty" < $3 THEN $4 ELSE'
        ' $5 END ORDER BY CASE WHEN "events"."qty" < $1 THEN $2 WHEN "events"."qty" < $3 THEN'
        ' $4 ELSE $5 END DESC',
        [5, "small", 10, "medium", "large", 0.5],
    )
    assert [tuple(r) for r in q.tuples()] == NESTED_ROWS
    assert duck.execute(*q.to_sql("duckdb")).fetchall() == NESTED_ROWS
    with pg_events(pg_conninfo) as pg:
        got = pg.execute(*q.to_sql("postgres")).fetchall()
        assert [(a, int(b)) for a, b in got] == NESTED_ROWS


def test_group_by_an_aliased_expression_renders_the_expression():
    q = Event.query().select(E.kind.as_("k"), func.count()).group_by(E.kind.as_("k"))
    for dialect in DIALECTS:
        sql, _ = q.to_sql(dialect)
        assert " AS " not in sql.split("GROUP BY")[1]
    assert q.order_by(E.kind).tuples() == [("a", 2), ("b", 2), ("c", 1)]


def test_different_values_in_equal_looking_expressions_stay_apart(engines):
    _, duck = engines
    q = (
        Event.query()
        .select(func.concat(E.kind, "-x"), func.count())
        .group_by(func.concat(E.kind, "-y"))
    )
    sql, params = q.to_sql("duckdb")
    assert sql == (
        'SELECT "events"."kind" || ? , COUNT(*) FROM "events" GROUP BY "events"."kind" || ?'
        .replace(" ,", ",")
    )
    assert params == ["-x", "-y"]
    assert q.key != grouped_label().key
    assert q.to_sql("postgres", paramstyle="dollar")[0].endswith('GROUP BY "events"."kind" || $2')


def test_equal_values_in_unrelated_places_keep_their_own_placeholders():
    q = (
        Event.query()
        .select(E.kind, func.count())
        .where(E.qty > 7)
        .group_by(E.kind)
        .having(func.count() > 7)
    )
    sql, params = q.to_sql("duckdb")
    assert sql.count("?") == 2 and params == [7, 7]
    assert q.to_sql("postgres", paramstyle="dollar")[0].endswith("HAVING COUNT(*) > $2")


def _grouped_member():
    return Event.query().select(LABEL.as_("k"), func.sum(E.qty).as_("n")).group_by(LABEL)


NESTED_GROUPED = {
    "cte": lambda: (lambda c: c.query().order_by(c.c.k))(_grouped_member().cte("per_kind")),
    "derived table": lambda: (lambda s: s.query().order_by(s.c.k))(_grouped_member().subquery("s")),
    "union all": lambda: _grouped_member().union_all(_grouped_member()).order_by("k", "n"),
}
MEMBER_ROWS = {
    "cte": [("a-x", 15), ("b-x", 14), ("c-x", 1)],
    "derived table": [("a-x", 15), ("b-x", 14), ("c-x", 1)],
    "union all": [("a-x", 15), ("a-x", 15), ("b-x", 14), ("b-x", 14), ("c-x", 1), ("c-x", 1)],
}


@pytest.mark.parametrize("name", list(NESTED_GROUPED))
def test_grouped_members_of_ctes_derived_tables_and_set_operations_run_everywhere(
    engines, pg_conninfo, name
):
    _, duck = engines
    q = NESTED_GROUPED[name]()
    sql, params = q.to_sql("duckdb")
    assert sql.count("$1") == (4 if name == "union all" else 2) and params == ["-x"]
    assert [tuple(r) for r in q.tuples()] == MEMBER_ROWS[name]
    assert duck.execute(sql, params).fetchall() == MEMBER_ROWS[name]
    with pg_events(pg_conninfo) as pg:
        assert [(k, int(n)) for k, n in pg.execute(*q.to_sql("postgres")).fetchall()] == (
            MEMBER_ROWS[name]
        )


def _grouped_by_alias_forms():
    label = func.concat(E.kind, "-x")
    bucket = case((E.qty < 5, "low"), else_="high")
    return {
        "aliased expression": Event.query().select(label.as_("k"), func.count().as_("n"))
        .group_by(label.as_("k")).order_by("k"),
        "alias name": Event.query().select(label.as_("k"), func.count().as_("n"))
        .group_by("k").order_by("-k"),
        "ordinal": Event.query().select(bucket.as_("b"), func.sum(E.qty).as_("n"))
        .group_by(1).order_by(2),
        "two aliased values": Event.query().select(label.as_("k"), bucket.as_("b"), func.count())
        .group_by(bucket.as_("b"), label.as_("k")).order_by("k", "b"),
    }


GROUPED_BY_ALIAS_ROWS = {
    "aliased expression": [("a-x", 2), ("b-x", 2), ("c-x", 1)],
    "alias name": [("c-x", 1), ("b-x", 2), ("a-x", 2)],
    "ordinal": [("low", 4), ("high", 26)],
    "two aliased values": [("a-x", "high", 1), ("a-x", "low", 1), ("b-x", "high", 2),
                           ("c-x", "low", 1)],
}


@pytest.mark.parametrize("name", list(GROUPED_BY_ALIAS_ROWS))
def test_group_by_aliases_names_and_ordinals_with_values_run_with_bound_values(
    engines, pg_conninfo, name
):
    db, duck = engines
    q = _grouped_by_alias_forms()[name]
    want = GROUPED_BY_ALIAS_ROWS[name]
    sql, params = q.to_sql("duckdb")
    assert params and all(not isinstance(p, str) or p not in sql for p in params)  # bound
    assert [tuple(r) for r in q.tuples()] == want
    assert duck.execute(sql, params).fetchall() == want
    with pg_events(pg_conninfo) as pg:
        got = pg.execute(*q.to_sql("postgres")).fetchall()
        assert [tuple(int(v) if type(v).__name__ == "Decimal" else v for v in r) for r in got] == want
