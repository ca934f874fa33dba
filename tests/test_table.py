"""Tables without models: declared with Column()s, used wherever a model class is."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from helpers import Order, User

import activeq
from activeq import (
    ActiveRecord,
    Column,
    CompileError,
    Database,
    Field,
    Row,
    SchemaError,
    Table,
    ValidationError,
    func,
)
from activeq.ddl import create_table_statements
from activeq.engines import open_engine

EVENTS = Table(
    "events",
    Column("id", int, primary_key=True),
    Column("user_id", int, foreign_key="users.id", on_delete="cascade"),
    Column("kind", str, max_length=20, index=True),
    Column("payload", dict),
    Column("amount", Decimal, max_digits=10, decimal_places=2, nullable=True),
    Column("at", dt.datetime, default=dt.datetime(2024, 1, 1)),
    Column("ref", uuid.UUID | None),
)

REF = uuid.UUID("12345678-1234-5678-1234-567812345678")


@pytest.fixture
def events(db, people):
    db.bind(EVENTS)
    db.create_tables(EVENTS)
    ann, bob, _ = people
    activeq.insert(EVENTS).values(
        {"user_id": ann.id, "kind": "login", "payload": {"ip": "10.0.0.1"}, "amount": None,
         "at": dt.datetime(2024, 5, 1, 12, 30), "ref": REF},
        {"user_id": ann.id, "kind": "buy", "payload": {"sku": "a", "n": 2},
         "amount": Decimal("19.99"), "at": dt.datetime(2024, 5, 2), "ref": None},
        {"user_id": bob.id, "kind": "login", "payload": {}, "amount": None,
         "at": dt.datetime(2024, 5, 3), "ref": None},
    ).execute()
    return EVENTS


# --- declaring ------------------------------------------------------------------------------


def test_table_exposes_columns_keys_and_constraints():
    assert EVENTS.name == "events" and EVENTS.schema is None
    assert [c.name for c in EVENTS.c] == ["id", "user_id", "kind", "payload", "amount", "at", "ref"]
    assert repr(EVENTS.c.kind) == "ColumnRef(events.kind)"
    assert EVENTS.c["payload"] is EVENTS.c.payload
    assert EVENTS.primary_key == ("id",)
    assert [(fk.column, fk.table, fk.target_column, fk.on_delete) for fk in EVENTS.foreign_keys] == [
        ("user_id", "users", "id", "cascade")]
    assert [(ix.name, ix.columns, ix.unique) for ix in EVENTS.indexes] == [
        ("idx_events_kind", ("kind",), False)]
    assert repr(EVENTS) == "Table('events')"
    assert repr(EVENTS.columns[2]) == "Column('kind', str, index=True, max_length=20)"


def test_unknown_column_is_refused_with_a_suggestion():
    with pytest.raises(activeq.UnknownColumnError, match=r"events has no column 'kinf'; did you mean 'kind'"):
        EVENTS.c.kinf  # noqa: B018


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda: Table("t"), SchemaError, r"Table\('t'\) needs at least one Column"),
    (lambda: Table("", Column("a", int)), SchemaError, "a Table needs a non-empty name, not ''"),
    (lambda: Table("t", Column("a", int), Column("a", str)), SchemaError,
     "Table\\('t'\\) names the column 'a' twice"),
    (lambda: Table("t", "a"), activeq.ArgumentTypeError,
     "Table\\('t'\\) takes Column\\(...\\) arguments after its name, not 'a'"),
    (lambda: Table("t", Column("a", int, foreign_key="users")), SchemaError,
     "t.a: foreign_key names 'table.column' or 'schema.table.column', not 'users'"),
    (lambda: Table("t", Column("a", Decimal)), activeq.ColumnTypeError,
     "t.a: a Decimal field needs its precision"),
    (lambda: Column("a", int, on_delete="explode"), activeq.RelationError, "on_delete must be one of"),
    (lambda: Table("t", Column("a", int, primary_key=True, nullable=True)), CompileError,
     "t.a: a primary key cannot be nullable"),
])
def test_bad_declarations_raise_typed_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_columns_and_tables_are_fixed_once_made():
    with pytest.raises(AttributeError, match="a Table is fixed once made"):
        EVENTS.name = "other"
    with pytest.raises(AttributeError, match="a Column is fixed once made"):
        EVENTS.columns[0].name = "other"


# --- reading --------------------------------------------------------------------------------


def test_query_gives_rows_with_attribute_and_key_access_and_converted_values(events):
    rows = events.query().order_by(events.c.id).all()
    assert all(type(r) is Row for r in rows)
    first = rows[0]
    assert first.kind == first["kind"] == "login"
    assert first.payload == {"ip": "10.0.0.1"}
    assert first.at == dt.datetime(2024, 5, 1, 12, 30)
    assert first.ref == REF and first.amount is None
    assert rows[1].amount == Decimal("19.99") and rows[1]["ref"] is None
    assert tuple(first) == (1, 1, "login", {"ip": "10.0.0.1"}, None,
                            dt.datetime(2024, 5, 1, 12, 30), REF)
    assert events.query().where(events.c.amount > Decimal("10")).pluck("id") == [2]
    assert events.query().where(events.c.payload["n"] == 2).count() == 1
    assert events.query().where(kind="login").select("id").tuples() == [(1,), (3,)]
    assert events.query().where(events.c.id == 2).dicts()[0]["amount"] == Decimal("19.99")


def test_filters_order_group_and_aggregates(events):
    q = (events.query().select(events.c.kind, func.count().as_("n"))
         .group_by("kind").order_by("-n"))
    assert [(r.kind, r.n) for r in q.all()] == [("login", 2), ("buy", 1)]
    assert events.query().where(events.c.at >= dt.datetime(2024, 5, 2)).count() == 2
    assert events.query().where(events.c.id == 99).first() is None


def test_join_a_table_from_a_model_and_a_model_from_a_table(events):
    q = (User.query().join(events, events.c.user_id == User.c.id)
         .select(User.c.name, events.c.kind).where(events.c.kind == "login").order_by("name"))
    assert q.sql() == (
        'SELECT "users"."name", "events"."kind" FROM "users" JOIN "events" ON '
        '"events"."user_id" = "users"."id" WHERE "events"."kind" = ? ORDER BY "users"."name"')
    assert [(r.name, r.kind) for r in q.all()] == [("Ann", "login"), ("Bob", "login")]
    back = (events.query().join(User, User.c.id == events.c.user_id)
            .select(events.c.id, User.c.email).order_by(events.c.id))
    rows = back.all()
    assert [(r.id, r.email) for r in rows] == [
        (1, "ann@example.com"), (2, "ann@example.com"), (3, "bob@example.com")]
    # As with models, each source is a namespace of the row too.
    assert rows[0].events.id == 1 and rows[0].User.email == "ann@example.com"
    left = (User.query().left_join(events, events.c.user_id == User.c.id)
            .select(User.c.name, func.count(events.c.id).as_("n")).group_by(User.c.name)
            .order_by("name"))
    assert left.tuples() == [("Ann", 2), ("Bob", 1), ("Cid", 0)]


def test_subquery_cte_and_in_over_a_table(events):
    per_user = (events.query().select(events.c.user_id, func.count().as_("n"))
                .group_by("user_id").subquery("per_user"))
    q = (User.query().join(per_user, per_user.c.user_id == User.c.id)
         .select(User.c.name, per_user.c.n).order_by("name"))
    assert q.tuples() == [("Ann", 2), ("Bob", 1)]
    logins = events.query().select(events.c.user_id).where(kind="login").cte("logins")
    assert sorted(logins.query().pluck("user_id")) == [1, 2]
    buyers = User.query().where(User.c.id.is_in(events.query().select(events.c.user_id)
                                                .where(kind="buy")))
    assert buyers.pluck("name") == ["Ann"]
    assert events.query().where(activeq.exists(Order.query().where(
        Order.c.user_id == events.c.user_id, Order.c.total > 20))).pluck("id") == [1, 2]
    e = events.alias("e")
    pairs = (events.query().join(e, (e.c.user_id == events.c.user_id) & (e.c.id > events.c.id))
             .select(events.c.id, e.c.id.as_("later")))
    assert pairs.tuples() == [(1, 2)]


@pytest.mark.parametrize(("dialect", "sql"), [
    ("sqlite", 'SELECT "events"."kind" FROM "analytics"."events" WHERE "events"."n" > ?'),
    ("postgres", 'SELECT "events"."kind" FROM "analytics"."events" WHERE "events"."n" > %s'),
    ("duckdb", 'SELECT "events"."kind" FROM "analytics"."events" WHERE "events"."n" > ?'),
    ("mysql", "SELECT `events`.`kind` FROM `analytics`.`events` WHERE `events`.`n` > %s"),
])
def test_to_sql_of_a_schema_qualified_table_per_dialect(dialect, sql):
    t = Table("events", Column("kind", str), Column("n", int), schema="analytics")
    assert t.query().select("kind").where(t.c.n > 3).to_sql(dialect) == (sql, [3])


# --- writing --------------------------------------------------------------------------------


def test_insert_update_delete_statements_on_a_table(events):
    ins = activeq.insert(events).values(user_id=2, kind="buy", payload={"x": [1, 2]},
                                        amount=Decimal("5.5"), at=dt.datetime(2024, 6, 1),
                                        ref=None)
    assert ins.to_sql("postgres")[0] == (
        'INSERT INTO "events" ("user_id", "kind", "payload", "amount", "at", "ref") '
        "VALUES (%s, %s, %s, %s, %s, %s)")
    assert ins.returning("id").execute()[0].id == 4
    assert events.query().where(events.c.id == 4).first().payload == {"x": [1, 2]}
    upd = activeq.update(events).where(events.c.kind == "buy").values(
        amount=events.c.amount + Decimal("1"))
    assert upd.execute() == 2
    assert events.query().where(kind="buy").order_by(events.c.id).pluck("amount") == [
        Decimal("20.99"), Decimal("6.5")]
    assert activeq.delete(events).where(events.c.id == 4).returning("kind").execute()[0].kind == "buy"
    assert events.query().count() == 3


def test_query_update_and_delete_on_a_table(events):
    assert events.query().where(kind="login").update({"kind": "signin"}) == 2
    assert events.query().where(events.c.kind == "signin").count() == 2
    assert events.query().where(events.c.user_id == 2).delete() == 1
    with pytest.raises(CompileError, match="would remove every row of events"):
        events.query().delete()
    assert events.query().delete(all_rows=True) == 2


def test_bad_values_are_refused_before_anything_is_written(events, db):
    with db.track_queries() as t:
        with pytest.raises(ValidationError, match="kind"):
            activeq.insert(events).values(user_id=1, kind=5, payload={}, at=dt.datetime(2024, 1, 1))
        with pytest.raises(ValidationError, match=r"events has no field 'knd' \(did you mean 'kind'\?\)"):
            events.query().where(events.c.id == 1).update({"knd": "x"})
        with pytest.raises(ValidationError, match="kind"):
            events.query().where(events.c.id == 1).update({"kind": "x" * 21})
        with pytest.raises(ValidationError, match="user_id"):
            activeq.insert(events).values(user_id=1 << 70, kind="a", payload={})
    assert len(t) == 0
    assert events.query().count() == 3


def test_a_model_insert_statement_binds_values_through_their_column_types(tmp_path):
    # insert(...).values() binds each value as its column's type stores it (JSON as text).
    class Note(ActiveRecord):
        __table_name__ = "stmt_notes"
        id: int = Field(primary_key=True)
        meta: dict
        day: dt.date

    db = Database(str(tmp_path / "n.db"))
    db.bind(Note)
    db.create_tables(Note)
    activeq.insert(Note).values(meta={"a": 1}, day=dt.date(2024, 2, 29)).execute()
    assert db.execute("SELECT meta, day FROM stmt_notes").fetchall() == [('{"a":1}', "2024-02-29")]
    assert Note.find_by_id(1).meta == {"a": 1}


# --- DDL, binding and the schema check -------------------------------------------------------


def test_create_table_ddl_per_dialect_matches_the_equivalent_model():
    class Twin(ActiveRecord):
        __table_name__ = "twins"
        id: int = Field(primary_key=True)
        name: str = Field(max_length=30, unique=True)
        meta: dict
        price: Decimal = Field(max_digits=8, decimal_places=2)
        born: dt.date | None = None
        at: dt.datetime
        flag: bool = True

    twins = Table("twins", Column("id", int, primary_key=True),
                  Column("name", str, max_length=30, unique=True), Column("meta", dict),
                  Column("price", Decimal, max_digits=8, decimal_places=2),
                  Column("born", dt.date | None), Column("at", dt.datetime),
                  Column("flag", bool, default=True))
    for dialect in ("sqlite", "postgres", "duckdb", "mysql"):
        assert create_table_statements(twins, dialect) == create_table_statements(Twin, dialect)


def test_composite_primary_key_and_composite_indexes():
    tags = Table("book_tags", Column("book_id", int, primary_key=True),
                 Column("tag_id", int, primary_key=True), Column("weight", int),
                 indexes=[("tag_id", "weight")], unique=[("weight", "book_id")])
    assert tags.primary_key == ("book_id", "tag_id")
    assert create_table_statements(tags, "postgres") == [
        'CREATE TABLE IF NOT EXISTS "book_tags" ("book_id" BIGINT NOT NULL, "tag_id" BIGINT NOT NULL, '
        '"weight" BIGINT NOT NULL, PRIMARY KEY ("book_id", "tag_id"), UNIQUE ("weight", "book_id"))',
        'CREATE INDEX IF NOT EXISTS "idx_book_tags_tag_id_weight" ON "book_tags"("tag_id", "weight")',
    ]


def test_create_bind_and_check_schema_of_a_table(db, people):
    db.bind(EVENTS)
    assert [type(d).__name__ for d in db.check_schema(EVENTS)] == ["MissingTable"]
    db.create_tables(EVENTS)
    assert db.check_schema(EVENTS) == []
    # The foreign key is real: deleting the user cascades to its events.
    activeq.insert(EVENTS).values(user_id=people[0].id, kind="k", payload={}).execute()
    people[0].delete()
    assert EVENTS.query().count() == 0
    other = Table("events", Column("id", int, primary_key=True), Column("missing", str))
    with pytest.raises(SchemaError, match="missing"):
        db.bind(other)


def test_an_unbound_table_says_how_to_bind_it():
    t = Table("loose", Column("id", int))
    with pytest.raises(activeq.ActiveqError, match=r"the table 'loose' is not bound to a Database: call db.bind\(table\)"):
        t.query().all()


def test_a_table_in_an_attached_schema_on_sqlite(db, tmp_path):
    db.execute("ATTACH DATABASE ? AS analytics", [str(tmp_path / "analytics.db")])
    hits = Table("hits", Column("id", int, primary_key=True), Column("path", str, index=True),
                 schema="analytics")
    db.bind(hits)
    db.create_tables(hits)
    activeq.insert(hits).values({"path": "/a"}, {"path": "/b"}).execute()
    assert hits.query().where(hits.c.path == "/b").first().id == 2
    assert sorted(r[0] for r in db.execute("SELECT name FROM analytics.sqlite_master")) == [
        "hits", "idx_hits_path"]
    assert db.check_schema(hits) == []


class Metric(ActiveRecord):
    __table_name__ = "metrics"
    __schema__ = "stats"
    id: int = Field(primary_key=True)
    name: str = Field(index=True)
    value: float


SAMPLES = Table("samples", Column("id", int, primary_key=True),
                Column("metric_id", int, foreign_key="stats.metrics.id"),
                Column("at", dt.datetime), schema="stats")


def _run_schema_round(conn, dialect):
    for sql in [*create_table_statements(Metric, dialect), *create_table_statements(SAMPLES, dialect)]:
        conn.execute(sql)
    for stmt in (activeq.insert(Metric).values(name="cpu", value=0.5),
                 activeq.insert(Metric).values(name="mem", value=0.25),
                 activeq.insert(SAMPLES).values({"metric_id": 1, "at": dt.datetime(2024, 1, 1)},
                                                {"metric_id": 2, "at": dt.datetime(2024, 1, 2)},
                                                {"metric_id": 1, "at": dt.datetime(2024, 1, 3)})):
        conn.execute(*stmt.to_sql(dialect))
    q = (Metric.query().join(SAMPLES, SAMPLES.c.metric_id == Metric.c.id)
         .select(Metric.c.name, func.count().as_("n")).group_by(Metric.c.name).order_by("name"))
    return [tuple(r) for r in conn.fetch(*q.to_sql(dialect))]


def test_model_schema_and_table_schema_end_to_end_on_duckdb():
    engine = open_engine("duckdb://:memory:")
    conn = engine.connect()
    conn.execute("CREATE SCHEMA stats")
    assert _run_schema_round(conn, "duckdb") == [("cpu", 2), ("mem", 1)]
    conn.close()
    engine.close()


def test_model_schema_and_table_schema_end_to_end_on_postgres(pg_conninfo):
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(pg_conninfo)
    engine = open_engine(f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}")
    conn = engine.connect()
    conn.execute("CREATE SCHEMA stats")
    assert _run_schema_round(conn, "postgres") == [("cpu", 2), ("mem", 1)]
    conn.close()
    engine.close()

