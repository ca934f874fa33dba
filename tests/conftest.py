"""Fixtures shared by the test suite."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from helpers import Order, User
from pg_server import PostgresServer, find_pg_bin

from activeq import Database

try:
    import psycopg
except ImportError:  # the dev extra installs it; without it the PostgreSQL tests skip
    psycopg = None


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    """A Database on a fresh SQLite file with ``User`` and ``Order`` bound and created."""
    database = Database(str(tmp_path / "test.db"))
    database.bind(User, Order)
    database.create_tables(User, Order)
    yield database
    database.close()


@pytest.fixture
def people(db: Database) -> list[User]:
    """Three users (ages 30, 40 and unknown) and three orders, the first user's two."""
    ann = User.create(name="Ann", email="ann@example.com", age=30)
    bob = User.create(name="Bob", email="bob@example.com", age=40, status="inactive")
    cid = User.create(name="Cid", email="cid@example.com")
    Order.create(user_id=ann.id, total=10.0, note="first")
    Order.create(user_id=ann.id, total=25.5)
    Order.create(user_id=bob.id, total=7.25, note="gift")
    return [ann, bob, cid]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 for the whole run, stopped at the end."""
    if psycopg is None:
        pytest.skip("psycopg is not installed (dev extra)")
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries are not installed (Debian package 'postgresql')")
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


_database_numbers = itertools.count()


@pytest.fixture
def pg_conninfo(pg_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; its libpq connection string."""
    name = f"t{next(_database_numbers)}"
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.conninfo(name)
    with psycopg.connect(pg_server.conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
