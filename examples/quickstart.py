"""Quickstart: declare models, create tables, insert rows, run queries, see SQL and timings.

Run with ``make demo`` (or ``python examples/quickstart.py [DB_PATH]``). The database is an
embedded SQLite file; it is recreated on every run.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from datetime import datetime, timedelta

from activeq import ActiveRecord, BindParam, Database, Field, belongs_to, func, has_many


class User(ActiveRecord):
    __table_name__ = "users"

    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=255, unique=True)
    status: str = Field(default="active", index=True)
    is_active: bool = True
    created_at: datetime

    orders = has_many("Order", foreign_key="user_id")

    FIND_BY_EMAIL = None  # a plain class attribute: the compiled statement, built on first use

    @classmethod
    def find_by_email(cls, email: str) -> User | None:
        if cls.FIND_BY_EMAIL is None:
            cls.FIND_BY_EMAIL = cls.query().where(cls.c.email == BindParam("email")).compile()
        result = cls.FIND_BY_EMAIL.execute(email=email)
        return result[0] if result else None


class Order(ActiveRecord):
    __table_name__ = "orders"

    id: int = Field(primary_key=True)
    user_id: int = Field(index=True)
    total: float
    created_at: datetime

    user = belongs_to("User", foreign_key="user_id")


def show(title: str, query: object) -> None:
    """Print a query's SQL for each of the four dialects."""
    print(f"\n== {title}")
    for dialect in ("sqlite", "postgres", "mysql", "duckdb"):
        sql, params = query.to_sql(dialect)  # type: ignore[attr-defined]
        print(f"  {dialect:8s} {sql}")
        print(f"  {'':8s} params={params}")


def seed(path: str) -> Database:
    """A fresh database at ``path`` holding the shop's 2000 users and 6000 orders."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = Database(path)
    db.bind(User, Order)
    db.create_tables(User, Order)

    rng = random.Random(7)
    start = datetime(2024, 1, 1)
    User.insert_many([
        {
            "name": f"User {i}",
            "email": f"user{i}@example.com",
            "status": rng.choice(["active", "active", "inactive"]),
            "is_active": rng.random() < 0.8,
            "created_at": start + timedelta(hours=i),
        }
        for i in range(2000)
    ])
    Order.insert_many([
        {
            "user_id": rng.randint(1, 2000),
            "total": round(rng.uniform(5, 500), 2),
            "created_at": start + timedelta(hours=i),
        }
        for i in range(6000)
    ])
    return db


def main(path: str) -> None:
    db = seed(path)
    print(f"created {User.query().count()} users and {Order.query().count()} orders in {path}")

    # Select only required fields.
    q = User.query().select("id", "name").limit(3)
    show("select only required fields", q)
    for user in q.all():
        print("  ", user.id, user.name)

    # Filter at the database level.
    q = User.query().where(User.c.is_active == True).order_by(User.c.id).limit(3)  # noqa: E712
    show("where clauses early", q)
    print("  ", [u.name for u in q.all()])

    # Eager loading: one query for the users, one for all of their orders.
    q = User.query().where(User.c.id <= 5).includes("orders")
    show("includes('orders') (parents; children load in one more query)", q)
    with db.track_queries() as t:
        for user in q.all():
            print(f"   {user.name} has {len(user.orders)} orders")
    print(f"   {len(t)} queries:")
    for record in t.queries:
        print(f"     {record.sql}")

    # A JOIN fetching two models at once.
    q = (
        User.query()
        .join(Order, User.c.id == Order.c.user_id)
        .select(User.c.id, User.c.name, Order.c.id, Order.c.total)
        .order_by(Order.c.id)
        .limit(3)
    )
    show("join instead of N+1", q)
    for row in q.all():
        print(f"   User {row.User.name} has order {row.Order.id} ({row.Order.total})")

    # Aggregates.
    q = (
        Order.query()
        .select(Order.c.user_id, func.count().as_("orders"), func.sum(Order.c.total).as_("spent"))
        .group_by(Order.c.user_id)
        .having(func.count() > 5)
        .order_by(func.sum(Order.c.total).desc())
        .limit(3)
    )
    show("top customers", q)
    for row in q.all():
        print(f"   user {row.user_id}: {row.orders} orders, {row.spent:.2f} spent")

    # Bulk update and delete: one statement each.
    ids = [u.id for u in User.query().where(User.c.status == "inactive").limit(50).all()]
    changed = User.query().where(User.c.id.is_in(ids)).update({"status": "active"})
    show("bulk update", User.query().where(User.c.id.is_in(ids)))
    print(f"   {changed} users reactivated")
    removed = Order.query().where(Order.c.total < 10).delete()
    print(f"   {removed} small orders deleted")

    # A prepared statement with a named parameter.
    user = User.find_by_email("user42@example.com")
    print(f"\n== prepared statement\n   {User.FIND_BY_EMAIL.sql}\n   found {user.name if user else None}")

    # The plan SQLite chooses.
    print("\n== explain")
    print(User.query().where(User.c.status == "active").order_by(User.c.name).explain())

    # Timing of every query shape this program ran.
    print("\n== per-query timing summary (slowest total first)")
    print(db.stats_report(limit=12))
    db.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "activeq_quickstart.db"))
