"""``Database(url)`` on SQLite, DuckDB and a real PostgreSQL server: models, queries,
transactions and retries through the same session API."""

from __future__ import annotations

import socket

import pytest
from engine_urls import pg_url

from activeq import ActiveRecord, Database, Field
from activeq.errors import OperationalError, SerializationError, UnsupportedError
from activeq.retry import RetryPolicy


class Gadget(ActiveRecord):
    __table_name__ = "gadgets"
    id: int = Field(primary_key=True)
    name: str = Field(max_length=50, unique=True)
    weight: int = Field(index=True)
    active: bool = True


@pytest.fixture
def gadgets(database: Database) -> Database:
    database.bind(Gadget)
    database.create_tables(Gadget)
    return database


def test_dialect_is_the_engine_the_url_names(database_url: str, database: Database) -> None:
    expected = {"sqlite": "sqlite", "duckdb": "duckdb", "postgresql": "postgres"}
    assert database.dialect == expected[database_url.split(":", 1)[0]]
    assert database.engine.dialect == database.dialect


@pytest.mark.parametrize("url, dialect", [
    ("app.db", "sqlite"),
    ("sqlite:///app.db", "sqlite"),
    ("duckdb:///file.duckdb", "duckdb"),
    ("duckdb://:memory:", "duckdb"),
])
def test_embedded_spellings(tmp_path, monkeypatch, url: str, dialect: str) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database(url)
    try:
        assert db.dialect == dialect
        assert db.execute("SELECT 40 + 2").fetchall() == [(42,)]
    finally:
        db.close()
    if url.endswith((".db", ".duckdb")):
        assert (tmp_path / url.rsplit("/", 1)[-1]).exists()


def test_create_find_and_query(gadgets: Database) -> None:
    with gadgets.track_queries() as t:
        first = Gadget.create(name="lamp", weight=3)
        second = Gadget.create(name="fan", weight=7, active=False)
        Gadget.create(name="desk", weight=20)
    assert len(t) == 3
    assert first.id is not None and second.id is not None and first.id != second.id
    found = Gadget.find_by_id(second.id)
    assert (found.name, found.weight, found.active) == ("fan", 7, False)
    assert Gadget.find_by_id(10_000) is None
    heavy = Gadget.query().where(Gadget.c.weight > 5).order_by(Gadget.c.weight.desc()).all()
    assert [g.name for g in heavy] == ["desk", "fan"]
    assert Gadget.query().where(Gadget.c.active == True).count() == 2  # noqa: E712
    sql = t.queries[0].sql
    assert ("%s" in sql) == (gadgets.dialect == "postgres")


def test_update_and_delete_count_rows(gadgets: Database) -> None:
    Gadget.insert_many([{"name": f"g{i}", "weight": i} for i in range(10)])
    assert Gadget.query().where(Gadget.c.weight < 4).update({"active": False}) == 4
    assert Gadget.query().where(Gadget.c.active == False).delete() == 4  # noqa: E712
    assert sorted(Gadget.query().pluck("weight")) == list(range(4, 10))


def test_transaction_rolls_back(gadgets: Database) -> None:
    Gadget.create(name="kept", weight=1)
    with pytest.raises(KeyError), gadgets.transaction():
        Gadget.create(name="undone", weight=2)
        assert Gadget.query().count() == 2  # the transaction sees its own write
        raise KeyError("roll back")
    assert [g.name for g in Gadget.query().all()] == ["kept"]


def test_savepoints_where_the_engine_has_them(gadgets: Database) -> None:
    if gadgets.dialect == "duckdb":
        pytest.skip("DuckDB has no savepoints (see the test below)")
    with gadgets.transaction():
        Gadget.create(name="outer", weight=1)
        with pytest.raises(KeyError), gadgets.transaction():
            Gadget.create(name="inner", weight=2)
            raise KeyError("undo the inner level only")
    assert [g.name for g in Gadget.query().all()] == ["outer"]


def test_duckdb_nested_transaction_is_unsupported_and_rolls_back_whole(tmp_path) -> None:
    db = Database(f"duckdb:///{tmp_path / 'nest.duckdb'}")
    try:
        db.bind(Gadget)
        db.create_tables(Gadget)
        with pytest.raises(UnsupportedError, match="nested db.transaction.*duckdb") as info:
            with db.transaction():
                Gadget.create(name="outer", weight=1)
                with db.transaction():
                    Gadget.create(name="never", weight=2)
        assert info.value.dialect == "duckdb"
        assert Gadget.query().count() == 0
        assert not db.in_transaction
        Gadget.create(name="after", weight=3)  # the connection is usable again
        assert Gadget.query().pluck("name") == ["after"]
    finally:
        db.close()


def test_unknown_scheme_is_refused_at_open() -> None:
    with pytest.raises(OperationalError, match="unknown database URL scheme 'mongodb'"):
        Database("mongodb://ann:s3cret@127.0.0.1:27017/app")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_down_names_host_and_port_not_the_password() -> None:
    port = _free_port()
    with pytest.raises(OperationalError) as info:
        Database(f"postgresql://ann:s3cret-pw@127.0.0.1:{port}/app")
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3cret-pw" not in message


def test_login_refused_names_host_and_port_not_the_password(pg_conninfo: str) -> None:
    url = pg_url(pg_conninfo)
    scheme, rest = url.split("://", 1)
    host_part = rest.split("@", 1)[1]
    with pytest.raises(OperationalError) as info:
        Database(f"{scheme}://nobody_here:wr0ng-pw@{host_part}")
    message = str(info.value)
    assert host_part.split("/", 1)[0] in message
    assert "nobody_here" in message
    assert "wr0ng-pw" not in message


def _raise_sql(code: str) -> str:
    """A statement the server fails with SQLSTATE ``code``, as if it had lost a race."""
    return f"DO $$ BEGIN RAISE EXCEPTION 'lost a race' USING ERRCODE = '{code}'; END $$"


@pytest.mark.parametrize("code", ["40001", "40P01"])
def test_postgres_serialization_failure_is_retried_by_atomic(pg_conninfo: str, code: str) -> None:
    db = Database(pg_url(pg_conninfo), retry=RetryPolicy(attempts=3, base_delay=0))
    try:
        db.execute("CREATE TABLE log (n INTEGER)")
        runs = []

        def work() -> int:
            runs.append(1)
            db.execute("INSERT INTO log VALUES (1)")
            if len(runs) == 1:
                db.execute(_raise_sql(code))  # the first try loses after its insert
            return db.execute("SELECT count(*) FROM log").fetchall()[0][0]

        assert db.atomic(work) == 1  # the failed try's insert was rolled back
        assert len(runs) == 2 and db.busy_retries == 1
        assert db.execute("SELECT count(*) FROM log").fetchall() == [(1,)]
    finally:
        db.close()


@pytest.mark.parametrize("code", ["40001", "40P01"])
def test_postgres_serialization_failure_gives_up_after_the_policy(pg_conninfo: str,
                                                                 code: str) -> None:
    db = Database(pg_url(pg_conninfo), retry=RetryPolicy(attempts=3, base_delay=0))
    try:
        with pytest.raises(SerializationError) as info:
            db.execute(_raise_sql(code))  # autocommit: the statement alone is run again
        assert info.value.sqlstate == code
        assert info.value.attempts == 3
        assert "in conflict after 3 attempts" in str(info.value)
        assert db.busy_retries == 2
        with pytest.raises(SerializationError) as info:
            db.atomic(lambda: db.execute(_raise_sql(code)))
        assert info.value.attempts == 3
        assert db.busy_retries == 4
    finally:
        db.close()


def test_real_serialization_failure_between_two_connections_is_retried(pg_conninfo: str) -> None:
    import psycopg

    db = Database(pg_url(pg_conninfo), retry=RetryPolicy(attempts=3, base_delay=0))
    rival = psycopg.connect(pg_conninfo, autocommit=True)
    try:
        db.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, balance INTEGER)")
        db.execute("INSERT INTO account VALUES (1, 100)")
        seen = []

        def add_ten() -> int:
            (balance,) = db.execute("SELECT balance FROM account WHERE id = 1").fetchone()
            seen.append(balance)
            if len(seen) == 1:  # another connection commits after this snapshot was taken
                rival.execute("UPDATE account SET balance = balance + 1 WHERE id = 1")
            db.execute("UPDATE account SET balance = %s WHERE id = 1", (balance + 10,))
            return int(balance) + 10

        assert db.atomic(add_ten, mode="repeatable read") == 111
        assert seen == [100, 101]  # the first try failed with 40001 and ran again whole
        assert db.busy_retries == 1
        assert db.execute("SELECT balance FROM account").fetchall() == [(111,)]
    finally:
        rival.close()
        db.close()
