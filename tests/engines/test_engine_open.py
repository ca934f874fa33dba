"""Opening engines: which URL opens which engine, and errors raised at open time."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import psycopg
import pytest
from engine_urls import pg_url

from activeq.engines import dialect_of, engine_for, open_engine, redact
from activeq.engines.apsw import ApswEngine, sqlite_path
from activeq.engines.duckdb import DuckdbEngine, duckdb_path
from activeq.engines.psycopg import PsycopgEngine
from activeq.errors import BusyError, OperationalError

PASSWORD = "hunter2-Secret"


@pytest.mark.parametrize(("url", "engine", "dialect"), [
    ("app.db", ApswEngine, "sqlite"),
    (":memory:", ApswEngine, "sqlite"),
    ("sqlite:///app.db", ApswEngine, "sqlite"),
    ("sqlite:////var/data/app.db", ApswEngine, "sqlite"),
    ("file:app.db?mode=ro", ApswEngine, "sqlite"),
    (r"C:\data\app.db", ApswEngine, "sqlite"),
    ("postgresql://user@127.0.0.1:5432/db", PsycopgEngine, "postgres"),
    ("postgres://user@127.0.0.1:5432/db", PsycopgEngine, "postgres"),
    ("postgresql+psycopg://user@127.0.0.1/db", PsycopgEngine, "postgres"),
    ("duckdb:///file.duckdb", DuckdbEngine, "duckdb"),
    ("duckdb://:memory:", DuckdbEngine, "duckdb"),
])
def test_engine_for_picks_by_scheme(url, engine, dialect):
    assert engine_for(url) is engine
    assert dialect_of(url) == dialect
    assert engine.dialect == dialect


def test_paths_inside_urls():
    assert [sqlite_path(u) for u in ("sqlite:///app.db", "sqlite:////abs/app.db", "sqlite://",
                                     "sqlite:///:memory:", "app.db")] == \
        ["app.db", "/abs/app.db", ":memory:", ":memory:", "app.db"]
    assert [duckdb_path(u) for u in ("duckdb:///f.duckdb", "duckdb:////abs/f.duckdb",
                                     "duckdb://:memory:", "duckdb:///:memory:", "duckdb://")] == \
        ["f.duckdb", "/abs/f.duckdb", ":memory:", ":memory:", ":memory:"]


def test_unknown_scheme_is_an_operational_error_without_the_password():
    with pytest.raises(OperationalError) as raised:
        open_engine(f"mysql://ann:{PASSWORD}@db.local:3306/app")
    message = str(raised.value)
    assert "unknown database URL scheme 'mysql'" in message
    assert "postgresql://" in message and "duckdb://" in message
    assert PASSWORD not in message
    assert "ann:***@db.local:3306" in message


def test_redact_hides_passwords_in_urls_and_parameters():
    assert redact(f"postgresql://ann:{PASSWORD}@h:1/db") == "postgresql://ann:***@h:1/db"
    assert redact(f"postgresql://h/db?password={PASSWORD}&x=1") == \
        "postgresql://h/db?password=***&x=1"
    assert redact("postgresql://ann@h/db") == "postgresql://ann@h/db"
    # In a URL's query a password runs to the next parameter, spaces included.
    assert redact(f"postgresql://h/db?password=x {PASSWORD}&x=1") == \
        "postgresql://h/db?password=***&x=1"
    assert redact(f"host=h password='x {PASSWORD}' dbname=db") == "host=h password=*** dbname=db"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_names_server_not_password(error: BaseException, port: int) -> None:
    assert isinstance(error, OperationalError)
    assert f"127.0.0.1:{port}" in str(error)
    assert PASSWORD not in str(error)
    assert isinstance(error.__cause__, psycopg.OperationalError)
    assert PASSWORD not in str(error.__cause__)
    assert PASSWORD not in repr(error.args)


def test_postgres_server_down_fails_at_open(tmp_path):
    port = _closed_port()
    with pytest.raises(OperationalError) as raised:
        open_engine(f"postgresql://activeq:{PASSWORD}@127.0.0.1:{port}/app")
    _assert_names_server_not_password(raised.value, port)
    assert "cannot connect to PostgreSQL at" in str(raised.value)
    assert "refused" in str(raised.value).lower()


def test_postgres_login_refused_fails_at_open(pg_server):
    port = pg_server.port
    with pytest.raises(OperationalError) as raised:
        open_engine(f"postgresql://nobody_here:{PASSWORD}@127.0.0.1:{port}/postgres")
    _assert_names_server_not_password(raised.value, port)
    assert 'role "nobody_here" does not exist' in str(raised.value)
    assert "user 'nobody_here'" in str(raised.value)


def test_postgres_engine_shows_no_password(pg_server, pg_conninfo):
    url = pg_url(pg_conninfo).replace("activeq@", f"activeq:{PASSWORD}@")
    with open_engine(url) as engine:
        assert PASSWORD not in repr(engine) and PASSWORD not in engine.url
        assert engine.url == pg_url(pg_conninfo)
        conn = engine.connect()
        assert conn.fetch("SELECT current_user") == [("activeq",)]
        conn.close()


def test_postgres_pool_hands_out_connections_and_rolls_back_leftovers(pg_conninfo):
    with open_engine(pg_url(pg_conninfo), pool_size=2) as engine:
        with engine.borrow() as conn:
            conn.execute("CREATE TABLE t (x INTEGER)")
            conn.begin()
            conn.execute("INSERT INTO t VALUES (1)")  # left uncommitted
        with engine.borrow() as a, engine.borrow() as b:
            assert a.raw is not b.raw
            assert not a.in_transaction and not b.in_transaction
            assert a.fetch("SELECT count(*) FROM t") == [(0,)]


def test_sqlite_file_that_cannot_be_opened_fails_at_open(tmp_path):
    path = tmp_path / "missing" / "app.db"
    with pytest.raises(OperationalError) as raised:
        open_engine(f"sqlite:///{path}")
    assert f"cannot open SQLite database {str(path)!r}" in str(raised.value)


def test_duckdb_file_that_cannot_be_opened_fails_at_open(tmp_path):
    path = tmp_path / "missing" / "app.duckdb"
    with pytest.raises(OperationalError) as raised:
        open_engine(f"duckdb:///{path}")
    assert f"cannot open DuckDB database {str(path)!r}" in str(raised.value)


def test_duckdb_file_locked_by_another_process_is_busy_at_open(tmp_path):
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({str(path)!r})
            print("open", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(BusyError) as raised:
            open_engine(f"duckdb:///{path}")
        assert "Could not set lock" in str(raised.value)
        assert str(path) in str(raised.value)
    finally:
        holder.communicate("")
    with open_engine(f"duckdb:///{path}") as engine:  # free again once the holder is gone
        assert engine.connect().fetch("SELECT 42") == [(42,)]


def test_activeq_imports_without_the_optional_drivers():
    script = textwrap.dedent("""
        import sys
        sys.modules["psycopg"] = None  # as if not installed
        sys.modules["duckdb"] = None
        import activeq, activeq.engines
        from activeq.engines import open_engine
        from activeq.errors import OperationalError
        engine = open_engine(":memory:")
        assert engine.connect().fetch("SELECT 1") == [(1,)]
        for url, extra in (("postgresql://h/db", "activeq[postgres]"),
                           ("duckdb://:memory:", "activeq[duckdb]")):
            try:
                open_engine(url)
            except OperationalError as e:
                assert extra in str(e), str(e)
            else:
                raise AssertionError(url)
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout == "ok\n", done.stderr


@pytest.mark.parametrize("url", [
    f"postgresql://ann:{PASSWORD} x@127.0.0.1/db",
    f"postgresql://ann:{PASSWORD}\tx@127.0.0.1/db",
    f"postgresql://ann@127.0.0.1/db?password=x {PASSWORD}",
    f"postgresql://ann:{PASSWORD}@127.0.0.1/db?bogus=1",
    f"host=127.0.0.1 password='{PASSWORD} x' bogus",
])
def test_malformed_postgres_url_is_refused_without_the_password(url):
    # Refused before any connection attempt, whichever libpq psycopg ships.
    with pytest.raises(OperationalError) as raised:
        PsycopgEngine.open(url)
    assert str(raised.value).startswith("not a PostgreSQL URL: ")
    assert PASSWORD not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_whitespace_in_a_postgres_url_is_refused_by_name():
    # libpq of psycopg 3.2 reads "ann:pw x@" as the password "pw x"; later ones refuse it.
    with pytest.raises(OperationalError) as raised:
        PsycopgEngine.open(f"postgresql://ann:{PASSWORD} x@127.0.0.1/db")
    assert str(raised.value) == ("not a PostgreSQL URL: postgresql://ann:***@127.0.0.1/db: it "
                                 "holds whitespace; percent-encode it (a space is %20)")


def test_duckdb_on_connect_runs_once_for_the_whole_database(tmp_path):
    # DuckDB functions belong to the database: registering one twice would fail.
    calls = []

    def setup(raw):
        calls.append(raw)
        raw.create_function("twice", lambda x: 2 * x, ["BIGINT"], "BIGINT")

    with open_engine(f"duckdb:///{tmp_path / 'f.duckdb'}", on_connect=setup) as engine:
        a, b = engine.connect(), engine.connect()
        assert a.fetch("SELECT twice(21)") == [(42,)] == b.fetch("SELECT twice(21)")
        assert list(a.stream("SELECT twice(i) FROM range(3) t(i)", (), 2)) == \
            [[(0,), (2,)], [(4,)]]
    assert len(calls) == 1


def test_sqlite_on_connect_runs_for_every_connection(tmp_path):
    calls = []

    def setup(raw):
        calls.append(raw)
        raw.create_scalar_function("twice", lambda x: 2 * x, 1)

    with open_engine(str(tmp_path / "f.db"), on_connect=setup) as engine:
        a, b = engine.connect(), engine.connect()
        assert a.fetch("SELECT twice(21)") == [(42,)] == b.fetch("SELECT twice(21)")
        assert calls == [a.raw, b.raw]
