"""Embedding: activeq on a connection the application owns, and rows fetched elsewhere."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import subprocess
import sys
import types
from decimal import Decimal
from pathlib import Path

import apsw
import duckdb
import pytest

import activeq
from activeq import (
    ActiveRecord,
    Column,
    ConfigurationError,
    Database,
    Field,
    Table,
    ValidationError,
    belongs_to,
    func,
    has_many,
)


class Shop(ActiveRecord):
    __table_name__ = "e_shops"
    id: int = Field(primary_key=True)
    name: str
    opened: dt.date
    items = has_many("Item", foreign_key="shop_id")


class Item(ActiveRecord):
    __table_name__ = "e_items"
    id: int = Field(primary_key=True)
    shop_id: int
    price: Decimal = Field(max_digits=8, decimal_places=2)
    tags: list[str]
    shop = belongs_to("Shop", foreign_key="shop_id")


STOCK = Table("e_stock", Column("item_id", int, primary_key=True), Column("count", int))


def _fill(db: Database) -> None:
    db.bind(Shop, Item, STOCK)
    db.create_tables(Shop, Item, STOCK)
    a = Shop.create(name="A", opened=dt.date(2020, 1, 2))
    b = Shop.create(name="B", opened=dt.date(2021, 3, 4))
    Item.insert_many([
        {"shop_id": a.id, "price": Decimal("1.50"), "tags": ["x"]},
        {"shop_id": a.id, "price": Decimal("2.25"), "tags": []},
        {"shop_id": b.id, "price": Decimal("9.99"), "tags": ["y", "z"]},
    ])
    activeq.insert(STOCK).values({"item_id": 1, "count": 3}, {"item_id": 3, "count": 0}).execute()


def _queries():
    per_shop = (Item.query().join(Shop, Shop.c.id == Item.c.shop_id)
                .select(Shop.c.name, func.count().as_("n"), func.sum(Item.c.price).as_("total"))
                .group_by(Shop.c.name).order_by("name"))
    stocked = (STOCK.query().join(Item, Item.c.id == STOCK.c.item_id)
               .select(STOCK.c.item_id, STOCK.c.count, Item.c.tags).order_by(STOCK.c.item_id))
    return [
        lambda: [(s.name, s.opened) for s in Shop.query().order_by(Shop.c.id).all()],
        lambda: [(i.id, i.price, i.tags) for i in Item.query().where(Item.c.price > Decimal("2")).all()],
        lambda: [tuple(r) for r in per_shop.all()],
        lambda: [tuple(r) for r in stocked.all()],
        lambda: [(s.name, [i.id for i in s.items]) for s in Shop.query().includes("items").all()],
    ]


def _results(db: Database) -> list:
    db.bind(Shop, Item, STOCK)
    return [q() for q in _queries()]


def _pg_own(conninfo: str) -> Database:
    from psycopg.conninfo import conninfo_to_dict

    p = conninfo_to_dict(conninfo)
    return Database(f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}")


def _sa_engine(request, tmp_path, kind: str):
    """A SQLAlchemy engine on the file or database a test's own Database fills."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    if kind == "sqlite":
        return sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    import psycopg

    conninfo = request.getfixturevalue("pg_conninfo")
    return sqlalchemy.create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(conninfo))


def _host_rows(conn, sql: str) -> list[tuple]:
    """Rows read by the application on its own connection, with its own driver's API."""
    if type(conn).__module__.startswith("sqlalchemy"):
        return [tuple(r) for r in conn.exec_driver_sql(sql)]
    return [tuple(r) for r in conn.execute(sql).fetchall()]


@pytest.fixture(params=["apsw", "sqlite3", "duckdb", "postgres", "sqlalchemy-sqlite",
                        "sqlalchemy-postgres"])
def lent(request, tmp_path):
    """(the application's own connection, activeq's own Database on the same data)."""
    if request.param.startswith("sqlalchemy"):
        kind = request.param.split("-")[1]
        engine = _sa_engine(request, tmp_path, kind)
        own = Database(str(tmp_path / "app.db")) if kind == "sqlite" else _pg_own(request.getfixturevalue("pg_conninfo"))
        _fill(own)
        with engine.connect() as conn:
            yield conn, own
        engine.dispose()
    elif request.param in ("apsw", "sqlite3"):
        path = str(tmp_path / "app.db")
        own = Database(path)
        _fill(own)
        if request.param == "apsw":
            yield apsw.Connection(path), own
        else:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.row_factory = sqlite3.Row  # the application's rows; activeq reads tuples
            yield conn, own
            conn.close()
    elif request.param == "duckdb":
        path = str(tmp_path / "app.duckdb")
        own = Database(f"duckdb:///{path}")
        _fill(own)
        own.close()
        conn = duckdb.connect(path)
        # activeq's own Database opens the file afresh after the lent connection is done.
        yield conn, path
    else:
        import psycopg

        conninfo = request.getfixturevalue("pg_conninfo")
        own = _pg_own(conninfo)
        _fill(own)
        conn = psycopg.connect(conninfo, autocommit=True)
        yield conn, own
        conn.close()
    if isinstance(own, Database):
        own.close()


def test_queries_on_a_lent_connection_equal_those_on_activeqs_own_database(lent):
    conn, own = lent
    db = Database.from_connection(conn)
    db.bind(Shop, Item, STOCK)
    with db.track_queries() as t:
        got = [q() for q in _queries()]
    assert len(t) == 6  # five queries, one eager load
    # The application's connection is still its own, and open.
    db.close()
    assert _host_rows(conn, "SELECT COUNT(*) FROM e_items") == [(3,)]
    if isinstance(own, str):  # duckdb: one process opens a file once at a time
        conn.close()
        own = Database(f"duckdb:///{own}")
    expected = _results(own)
    own.close()
    assert got == expected
    assert got[0] == [("A", dt.date(2020, 1, 2)), ("B", dt.date(2021, 3, 4))]
    assert got[3] == [(1, 3, ["x"]), (3, 0, ["y", "z"])]


@pytest.mark.parametrize("driver", ["apsw", "sqlite3"])
def test_a_lent_connection_gains_writes_timings_and_n_plus_one(tmp_path, driver):
    path = str(tmp_path / "w.db")
    conn = apsw.Connection(path) if driver == "apsw" else sqlite3.connect(path, isolation_level=None)
    db = Database.from_connection(conn, slow_query_ms=0)
    _fill(db)
    with db.transaction():
        Shop.create(name="C", opened=dt.date(2022, 1, 1))
    assert conn.execute("SELECT name FROM e_shops ORDER BY id").fetchall() == [("A",), ("B",), ("C",)]
    with pytest.warns(UserWarning, match="N\\+1"), db.detect_n_plus_one("warn"):
        for shop in Shop.query().all():
            Item.query().where(Item.c.shop_id == shop.id).all()
    assert db.slow_queries()
    db.close()
    assert conn.execute("SELECT 1").fetchall() == [(1,)]
    conn.close()


def test_psycopg_connection_must_be_in_autocommit_mode(pg_conninfo):
    import psycopg

    with psycopg.connect(pg_conninfo) as conn:
        with pytest.raises(ConfigurationError, match="needs the psycopg connection in autocommit mode"):
            Database.from_connection(conn)


def test_from_connection_refuses_other_objects_and_sqlite_settings():
    with pytest.raises(activeq.ArgumentTypeError, match="takes an open apsw, sqlite3, psycopg or duckdb connection, or a SQLAlchemy Connection, not builtins.dict"):
        Database.from_connection({})
    with pytest.raises(ConfigurationError, match="pragmas and pool_size do not apply"):
        Database.from_connection(apsw.Connection(":memory:"), pragmas={"cache_size": 10})


def test_sqlite3_connection_must_leave_transactions_to_activeq():
    conn = sqlite3.connect(":memory:")  # the module's default: it opens transactions itself
    with pytest.raises(ConfigurationError, match=r"needs the sqlite3 connection in autocommit mode \(sqlite3.connect\(path, isolation_level=None\)"):
        Database.from_connection(conn)
    conn.isolation_level = None
    conn.text_factory = bytes
    with pytest.raises(ConfigurationError, match="needs the sqlite3 connection's text_factory to be str"):
        Database.from_connection(conn)
    conn.close()


def _sqlite3_db(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "s3.db"), isolation_level=None)
    db = Database.from_connection(conn)
    _fill(db)
    return conn, db


def test_sqlite3_transactions_savepoints_and_keys_reach_the_host_connection(tmp_path):
    conn, db = _sqlite3_db(tmp_path)
    created = Shop.create(name="C", opened=dt.date(2022, 5, 6))
    assert created.id == 3  # the rowid SQLite gave it
    # Stored exactly as activeq's own APSW connections store a date: ISO text.
    assert conn.execute("SELECT name, opened FROM e_shops WHERE id = 3").fetchall() == [("C", "2022-05-06")]
    with db.transaction():
        Shop.create(name="D", opened=dt.date(2022, 1, 1))
        assert conn.in_transaction
        with pytest.raises(activeq.IntegrityError), db.transaction():  # a savepoint
            Shop.create(name="E", opened=dt.date(2022, 1, 1))
            activeq.insert(STOCK).values({"item_id": 1, "count": 9}).execute()  # key taken
    assert not conn.in_transaction
    assert conn.execute("SELECT name FROM e_shops ORDER BY id").fetchall() == [("A",), ("B",), ("C",), ("D",)]
    with pytest.raises(RuntimeError, match="boom"), db.transaction():
        Shop.create(name="F", opened=dt.date(2022, 1, 1))
        raise RuntimeError("boom")
    assert conn.execute("SELECT count(*) FROM e_shops").fetchall() == [(4,)]
    # Counts of changed rows, one statement and many.
    assert Item.query().where(Item.c.shop_id == 1).update(tags=["u"]) == 2
    assert db.execute("DELETE FROM e_stock WHERE count = ?", (0,)).rowcount == 1
    assert db.execute("WITH gone AS (SELECT 2) DELETE FROM e_items WHERE id IN (SELECT * FROM gone)").rowcount == 1
    assert conn.execute("SELECT id, tags FROM e_items ORDER BY id").fetchall() == [(1, '["u"]'), (3, '["y","z"]')]
    db.close()
    conn.close()


def test_sqlite3_errors_are_activeq_errors_with_sqlite_codes(tmp_path):
    conn, db = _sqlite3_db(tmp_path)
    with pytest.raises(activeq.IntegrityError, match="UNIQUE constraint failed: e_stock.item_id") as e:
        activeq.insert(STOCK).values({"item_id": 1, "count": 9}).execute()
    assert (e.value.result_code, e.value.extended_code) == (19, 1555)  # SQLITE_CONSTRAINT_PRIMARYKEY
    assert isinstance(e.value.__cause__, sqlite3.IntegrityError)
    with pytest.raises(activeq.OperationalError, match="no such column: nope\n  while running: SELECT nope") as e:
        db.execute("SELECT nope")
    assert e.value.result_code == 1
    with pytest.raises(activeq.MultipleStatementsError, match="holds another after 'SELECT 1;': 'DROP TABLE e_items'"):
        db.execute("SELECT 1; DROP TABLE e_items")
    assert conn.execute("SELECT count(*) FROM e_items").fetchall() == [(3,)]
    with pytest.raises(activeq.ArgumentTypeError, match="cannot bind a value of type object"):
        db.execute("SELECT ?", (object(),))
    other = sqlite3.connect(str(tmp_path / "s3.db"), isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(activeq.BusyError, match="database is locked") as e:
        db.execute("INSERT INTO e_stock VALUES (7, 7)")
    assert e.value.result_code == 5
    other.execute("ROLLBACK")
    other.close()
    db.close()
    conn.close()


def test_sqlite3_explain_many_and_raw_results(tmp_path):
    conn, db = _sqlite3_db(tmp_path)
    plan = Item.query().where(Item.c.id == 1).explain()
    assert plan.indexes == ["e_items(rowid)"] and not plan.full_scans
    assert Item.query().where(Item.c.shop_id == 1).explain().full_scans == ["e_items"]
    cur = db.execute("SELECT id AS n, price FROM e_items WHERE id < ? ORDER BY id", (3,))
    assert cur.fetchall() == [(1, 150), (2, 225)]  # cents: 2 decimal places, stored scaled
    assert [d[0] for d in cur.description] == ["n", "price"]
    keys = Shop.insert_many([{"name": "X", "opened": dt.date(2023, 1, 1)},
                             {"name": "Y", "opened": dt.date(2023, 1, 2)}], returning=True)
    assert keys == [3, 4]
    assert Shop.insert_many([{"name": "Z", "opened": dt.date(2023, 1, 3)}]) == 1
    assert [s.opened for s in Shop.query().where(Shop.c.id > 2).all()] == [
        dt.date(2023, 1, 1), dt.date(2023, 1, 2), dt.date(2023, 1, 3)]
    assert [s.name for s in Shop.query().order_by(Shop.c.id).iter(batch=2)] == ["A", "B", "X", "Y", "Z"]
    db.close()
    conn.close()


# --- a SQLAlchemy Connection ----------------------------------------------------------------


def _names(conn) -> list[str]:
    return [r[0] for r in _host_rows(conn, "SELECT name FROM e_shops ORDER BY id")]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sqlalchemy_writes_join_the_hosts_transaction(request, tmp_path, kind):
    engine = _sa_engine(request, tmp_path, kind)
    day = dt.date(2022, 1, 1)
    with engine.connect() as conn, engine.connect() as other:
        db = Database.from_connection(conn)
        _fill(db)
        conn.commit()
        Shop.create(name="C", opened=day)
        assert conn.in_transaction() and _names(conn) == ["A", "B", "C"]
        assert _names(other) == ["A", "B"]  # the host has not committed yet
        other.rollback()
        # db.transaction() inside the host's transaction is a savepoint: undone alone.
        with pytest.raises(activeq.IntegrityError) as e, db.transaction():
            Shop.create(name="D", opened=day)
            activeq.insert(STOCK).values({"item_id": 1, "count": 9}).execute()
        assert "e_stock" in str(e.value) and type(e.value.__cause__).__module__.startswith("sqlalchemy")
        # So is a batch: a failing row leaves none of the batch behind.
        with pytest.raises(activeq.IntegrityError):
            Shop.insert_many([{"id": 10, "name": "X", "opened": day}, {"id": 10, "name": "Y", "opened": day}])
        assert conn.in_transaction() and _names(conn) == ["A", "B", "C"]
        conn.rollback()  # the host decides: C goes too
        # Without a host transaction open, db.transaction() commits its own.
        with db.transaction():
            Shop.create(name="E", opened=day)
        assert not conn.in_transaction()
        assert _names(other) == ["A", "B", "E"]
        other.rollback()
        db.close()
        assert not conn.closed
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sqlalchemy_connection_gains_timings_n_plus_one_and_explain(request, tmp_path, kind):
    engine = _sa_engine(request, tmp_path, kind)
    with engine.connect() as conn:
        db = Database.from_connection(conn, slow_query_ms=0)
        assert db.dialect == ("sqlite" if kind == "sqlite" else "postgres")
        _fill(db)
        Shop.create(name="C", opened=dt.date(2022, 1, 1))  # three shops: three repeats
        with pytest.warns(UserWarning, match="N\\+1"), db.detect_n_plus_one("warn"):
            for shop in Shop.query().all():
                Item.query().where(Item.c.shop_id == shop.id).all()
        slow = db.slow_queries()
        assert any('FROM "e_items"' in q.sql for q in slow)
        with db.track_queries() as t:
            Shop.query().includes("items").all()
        assert len(t) == 2
        plan = Item.query().where(Item.c.id == 1).explain()
        assert plan.rows
        if kind == "sqlite":
            assert plan.indexes == ["e_items(rowid)"]
        raw = db.execute("SELECT name FROM e_shops WHERE id = " + ("?" if kind == "sqlite" else "%s"), (2,))
        assert raw.fetchall() == [("B",)] and [d[0] for d in raw.description] == ["name"]
        assert db.execute("UPDATE e_stock SET count = count + 1").rowcount == 2
        assert [s.name for s in Shop.query().order_by(Shop.c.id).iter(batch=2)] == ["A", "B", "C"]
        db.executescript("CREATE TABLE e_notes (n INTEGER); INSERT INTO e_notes VALUES (1);\n"
                         "INSERT INTO e_notes VALUES (2); -- the end")
        assert _host_rows(conn, "SELECT sum(n) FROM e_notes") == [(3,)]
        conn.commit()
    engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sqlalchemy_errors_are_typed_and_a_second_statement_never_runs(request, tmp_path, kind):
    engine = _sa_engine(request, tmp_path, kind)
    with engine.connect() as conn:
        db = Database.from_connection(conn)
        _fill(db)
        conn.commit()
        with pytest.raises(activeq.MultipleStatementsError, match="DROP TABLE e_items"):
            db.execute("SELECT 1; DROP TABLE e_items")
        assert db.execute("SELECT count(*) FROM e_items").fetchall() == [(3,)]
        with pytest.raises(activeq.OperationalError, match="nope") as e:
            db.execute("SELECT nope FROM e_items")
        assert (e.value.result_code, e.value.sqlstate) == ((1, None) if kind == "sqlite" else (None, "42703"))
        conn.rollback()  # PostgreSQL ends a transaction at its first error
        with pytest.raises(activeq.IntegrityError) as e:
            activeq.insert(STOCK).values({"item_id": 1, "count": 9}).execute()
        if kind == "sqlite":
            assert (e.value.result_code, e.value.extended_code) == (19, 1555)
        else:
            assert e.value.sqlstate == "23505"
        conn.rollback()
    engine.dispose()


def test_sqlalchemy_isolation_level_cannot_change_inside_the_hosts_transaction(pg_conninfo, tmp_path, request):
    engine = _sa_engine(request, tmp_path, "postgres")
    with engine.connect() as conn:
        db = Database.from_connection(conn)
        with db.transaction("serializable"):  # no host transaction open: activeq's own
            assert db.execute("SHOW transaction_isolation").fetchall() == [("serializable",)]
        db.execute("SELECT 1")  # the host's transaction begins
        with pytest.raises(activeq.UnsupportedError, match="BEGIN ISOLATION LEVEL SERIALIZABLE inside the host's open transaction"):
            with db.transaction("serializable"):
                pass
    engine.dispose()


def test_from_connection_refuses_a_sqlalchemy_engine(tmp_path):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'e.db'}")
    with pytest.raises(activeq.ArgumentTypeError, match=r"takes a SQLAlchemy Connection \(engine.connect\(\)\), not sqlalchemy.engine.base.Engine"):
        Database.from_connection(engine)
    engine.dispose()


def test_the_embedding_guides_examples_run_twice_in_a_row(tmp_path, monkeypatch):
    text = (Path(__file__).resolve().parent.parent / "docs" / "embedding.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        module = types.ModuleType("embedding_guide")
        monkeypatch.setitem(sys.modules, "embedding_guide", module)
        for block in blocks:
            exec(compile(block, "docs/embedding.md", "exec"), module.__dict__)  # noqa: S102


def test_importing_activeq_imports_no_sqlalchemy():
    code = ("import sys, activeq; db = activeq.Database(':memory:'); db.execute('SELECT 1'); "
            "db.close(); print('sqlalchemy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- rows fetched elsewhere ---------------------------------------------------------------------


def test_model_from_row_converts_stored_values(tmp_path):
    db = Database(str(tmp_path / "r.db"))
    _fill(db)
    raw = db.execute("SELECT id, shop_id, price, tags FROM e_items WHERE id = 3").fetchall()[0]
    item = Item.from_row(raw)
    assert (item.id, item.price, item.tags) == (3, Decimal("9.99"), ["y", "z"])
    partial = Item.from_row({"id": 1, "tags": '["x"]'})
    assert partial.tags == ["x"] and partial.model_fields_set == set()
    # A record from a row counts as loaded: save() updates it.
    item.tags = ["w"]
    item.save()
    assert Item.find_by_id(3).tags == ["w"]
    assert Shop.from_row({"id": 1, "name": "A", "opened": "2020-01-02"}).opened == dt.date(2020, 1, 2)
    pg = Item.from_row((1, 1, Decimal("1.50"), ["x"]), dialect="postgres")
    assert pg.tags == ["x"] and pg.price == Decimal("1.50")
    with pytest.raises(ValidationError, match=r"Item has no field 'prise' \(did you mean 'price'\?\)"):
        Item.from_row({"prise": 1})
    with pytest.raises(ValidationError, match=r"Item.from_row\(\) takes 4 values \(one per field: id, shop_id, price, tags\), not 2"):
        Item.from_row((1, 2))
    db.close()


def test_query_from_rows_maps_a_foreign_drivers_rows(tmp_path):
    path = str(tmp_path / "f.db")
    db = Database(path)
    _fill(db)
    foreign = sqlite3.connect(path)
    q = Item.query().where(Item.c.price < Decimal("5")).order_by(Item.c.id)
    mapped = q.from_rows(foreign.execute(*q.to_sql()).fetchall())
    assert [(i.id, i.price, i.tags) for i in mapped] == [(i.id, i.price, i.tags) for i in q.all()]
    joined = (STOCK.query().join(Item, Item.c.id == STOCK.c.item_id)
              .select(STOCK.c.count, Item.c.tags))
    rows = joined.from_rows(foreign.execute(*joined.to_sql()).fetchall())
    assert [tuple(r) for r in rows] == [tuple(r) for r in joined.all()] == [(3, ["x"]), (0, ["y", "z"])]
    con = duckdb.connect()
    con.execute("CREATE TABLE e_items (id BIGINT, shop_id BIGINT, price DECIMAL(8, 2), tags JSON)")
    con.execute("INSERT INTO e_items VALUES (1, 1, 1.5, '[\"a\"]')")
    dq = Item.query().where(Item.c.id == 1)
    (item,) = dq.from_rows(con.execute(*dq.to_sql("duckdb")).fetchall(), "duckdb")
    assert (item.price, item.tags) == (Decimal("1.50"), ["a"])
    foreign.close()
    db.close()


def test_sqlite3_commit_watch_sees_other_connections_commits(tmp_path):
    from activeq.engines.sqlite3 import lend

    path = str(tmp_path / "watch.db")
    host = sqlite3.connect(path, isolation_level=None)
    host.execute("PRAGMA journal_mode=wal")
    host.execute("CREATE TABLE t (x)")
    watch = lend(host).watch_commits()
    assert watch.mapped and not watch.changed()
    other = apsw.Connection(path)
    other.execute("INSERT INTO t VALUES (1)")
    assert watch.changed() and not watch.changed()
    watch.close()
    other.close()
    host.close()
