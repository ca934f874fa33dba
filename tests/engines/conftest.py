"""One set of engine tests, run on SQLite (a file), DuckDB (a file) and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from engine_urls import pg_url

from activeq import Database
from activeq.engines import Connection, Engine, open_engine

ENGINES = ["sqlite", "duckdb", "postgres"]


def url_for(kind: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of a fresh, empty database of one kind."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if kind == "duckdb":
        return f"duckdb:///{tmp_path / 'test.duckdb'}"
    return pg_url(request.getfixturevalue("pg_conninfo"))


@pytest.fixture(params=ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of a fresh, empty database on each engine in turn."""
    return url_for(request.param, request, tmp_path)


def _single(kind: str):
    @pytest.fixture
    def fixture(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
        opened = open_engine(url_for(kind, request, tmp_path))
        yield opened
        opened.close()

    fixture.__doc__ = f"An engine on a fresh {kind} database (for what only {kind} has)."
    return fixture


sqlite_engine = _single("sqlite")
duckdb_engine = _single("duckdb")
pg_engine = _single("postgres")


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    opened = open_engine(engine_url)
    yield opened
    opened.close()


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    connection = engine.connect()
    yield connection
    connection.close()


@pytest.fixture
def other(engine: Engine) -> Iterator[Connection]:
    """A second connection to the same database."""
    connection = engine.connect()
    yield connection
    connection.close()


@pytest.fixture
def q(conn: Connection) -> Callable[[str], str]:
    """Write test SQL with ``?`` placeholders; this gives it the connection's style."""
    if conn.paramstyle == "qmark":
        return lambda sql: sql
    return lambda sql: sql.replace("?", "%s")


#: A table whose key the database generates, per dialect.
SERIAL_TABLE = {
    "sqlite": ["CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"],
    "postgres": ["CREATE TABLE items (id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                 "name TEXT UNIQUE)"],
    "duckdb": ["CREATE SEQUENCE items_id",
               "CREATE TABLE items (id INTEGER PRIMARY KEY DEFAULT nextval('items_id'), "
               "name TEXT UNIQUE)"],
}


@pytest.fixture
def items(conn: Connection) -> str:
    """A table ``items(id generated, name unique)``."""
    for sql in SERIAL_TABLE[conn.dialect]:
        conn.execute(sql)
    return "items"


@pytest.fixture
def nums(conn: Connection, q) -> str:
    """A table ``nums(id primary key, k int, v text)`` with 2,000 rows (k = id, v = 'v' + id)."""
    conn.execute("CREATE TABLE nums (id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
    assert conn.copy("nums", ["id", "k", "v"], [(i, i, f"v{i}") for i in range(2000)]) == 2000
    conn.execute("ANALYZE")
    return "nums"


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of a fresh, empty database for ``Database(url)``, on each engine in turn."""
    return url_for(request.param, request, tmp_path)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A ``Database`` on a fresh, empty database of each engine in turn."""
    opened = Database(database_url)
    yield opened
    opened.close()
