"""Fixtures shared by the test suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import Order, User

from activeq import Database


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
