"""Relations: includes('orders') against the raw APSW two-query version, and the N+1 loop.

1,000 users with 4 orders each (orders shuffled across the table, as real inserts would leave
them). Each group runs raw APSW first; the activeq entries record their ratio to it in
``extra_info['ratio_vs_raw_apsw']`` and print it (``-s`` shows the lines).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import starmap

import apsw
import pytest

from bench.common import (
    ORDER_COLS,
    SCHEMA,
    USER_COLS,
    OrderRow,
    UserWithOrders,
    json_ids,
    pragma_statements,
)
from bench.harness import scale_option

GROUP_EAGER = "relations: users + their orders, two queries"
GROUP_LOOP = "relations: users, then orders read per user"
ORDERS_PER_USER = 4
ROUNDS = 40

ALL_USERS = f"SELECT {USER_COLS} FROM users"
ORDERS_OF_MANY = f"SELECT {ORDER_COLS} FROM orders WHERE user_id IN (SELECT value FROM json_each(?))"
ORDERS_OF = f"SELECT {ORDER_COLS} FROM orders WHERE user_id = ?"

_MEANS: dict[tuple[str, str], tuple[float, float, float]] = {}


def _models():
    from activeq import ActiveRecord, Field, has_many

    class RelUser(ActiveRecord):
        __table_name__ = "users"
        id: int = Field(primary_key=True)
        name: str
        email: str
        status: str
        age: int
        created_at: str
        orders = has_many("RelOrder", foreign_key="user_id")

    class RelOrder(ActiveRecord):
        __table_name__ = "orders"
        id: int = Field(primary_key=True)
        user_id: int
        total: float
        status: str
        created_at: str

    return RelUser, RelOrder


@dataclass
class Setup:
    conn: apsw.Connection
    db: object
    User: type
    expected: list[tuple[int, tuple[int, ...]]]


@pytest.fixture(scope="module")
def setup(request, tmp_path_factory):
    from activeq import Database

    scale = scale_option(request)
    users = max(10, round(1_000 * scale))
    rng = random.Random(7)
    owners = [u for u in range(1, users + 1) for _ in range(ORDERS_PER_USER)]
    rng.shuffle(owners)
    path = str(tmp_path_factory.mktemp("relations") / "rel.db")
    conn = apsw.Connection(path)
    for stmt in pragma_statements():
        conn.execute(stmt).fetchall()
    with conn:
        for stmt in SCHEMA:
            conn.execute(stmt)
        conn.executemany(
            f"INSERT INTO users ({USER_COLS}) VALUES (?,?,?,?,?,?)",
            [(i, f"User {i}", f"u{i}@example.com", "active", 20 + i % 50, "2024-01-01 00:00:00")
             for i in range(1, users + 1)],
        )
        conn.executemany(
            f"INSERT INTO orders ({ORDER_COLS}) VALUES (?,?,?,?,?)",
            [(j, uid, round(rng.uniform(5, 500), 2), "paid", "2024-02-01 00:00:00")
             for j, uid in enumerate(owners, start=1)],
        )
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    by_user: dict[int, list[int]] = {}
    for j, uid in enumerate(owners, start=1):
        by_user.setdefault(uid, []).append(j)
    expected = [(u, tuple(by_user.get(u, ()))) for u in range(1, users + 1)]
    db = Database(path)
    for stmt in pragma_statements():
        db.execute(stmt)
    User, Order = _models()
    db.bind(User, Order)
    yield Setup(conn, db, User, expected)
    db.close()
    conn.close()


def _key(users) -> list[tuple[int, tuple[int, ...]]]:
    return sorted((u.id, tuple(sorted(o.id for o in u.orders))) for u in users)


def _record(benchmark, group: str, lib: str) -> None:
    benchmark.extra_info.update(library=lib, workload=group)
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable: nothing was timed
        return
    timing = (stats.stats.mean, stats.stats.median, stats.stats.min)
    _MEANS[(group, lib)] = timing
    raw = _MEANS.get((group, "raw_apsw"))
    if raw and lib != "raw_apsw":
        ratios = [round(a / r, 3) for a, r in zip(timing, raw)]
        benchmark.extra_info["ratio_vs_raw_apsw"] = dict(zip(("mean", "median", "min"), ratios))
        print(f"\n{group}: {lib} median {timing[1] * 1e3:.2f} ms = {ratios[1]:.2f}x raw APSW "
              f"({raw[1] * 1e3:.2f} ms); mean {ratios[0]:.2f}x, min {ratios[2]:.2f}x")


# raw APSW, the floor ---------------------------------------------------------------------------

def raw_two_queries(conn: apsw.Connection) -> list[UserWithOrders]:
    cur = conn.cursor()
    users = list(starmap(UserWithOrders, (r + ([],) for r in cur.execute(ALL_USERS))))
    by_id = {u.id: u.orders for u in users}
    for row in cur.execute(ORDERS_OF_MANY, (json_ids(by_id),)):
        by_id[row[1]].append(OrderRow(*row))
    return users


def raw_loop(conn: apsw.Connection) -> list[UserWithOrders]:
    cur = conn.cursor()
    users = list(starmap(UserWithOrders, (r + ([],) for r in cur.execute(ALL_USERS))))
    for u in users:
        u.orders.extend(starmap(OrderRow, cur.execute(ORDERS_OF, (u.id,))))
    return users


# the two groups ----------------------------------------------------------------------------------

def test_eager_raw_apsw(benchmark, setup):
    benchmark.group = GROUP_EAGER
    result = benchmark.pedantic(raw_two_queries, args=(setup.conn,), rounds=ROUNDS, warmup_rounds=1)
    assert _key(result) == setup.expected
    _record(benchmark, GROUP_EAGER, "raw_apsw")


def test_eager_activeq_includes(benchmark, setup):
    User = setup.User
    benchmark.group = GROUP_EAGER

    def eager():
        return User.query().includes("orders").all()

    with setup.db.track_queries() as t:
        eager()
    assert len(t) == 2
    result = benchmark.pedantic(eager, rounds=ROUNDS, warmup_rounds=1)
    assert _key(result) == setup.expected
    _record(benchmark, GROUP_EAGER, "activeq includes('orders')")


def test_loop_raw_apsw(benchmark, setup):
    benchmark.group = GROUP_LOOP
    result = benchmark.pedantic(raw_loop, args=(setup.conn,), rounds=5, warmup_rounds=1)
    assert _key(result) == setup.expected
    _record(benchmark, GROUP_LOOP, "raw_apsw")


def test_loop_activeq_lazy(benchmark, setup):
    User = setup.User
    benchmark.group = GROUP_LOOP

    def lazy():
        users = User.query().all()
        for u in users:
            u.orders  # noqa: B018 - each read is one query: the naive N+1 loop
        return users

    result = benchmark.pedantic(lazy, rounds=5, warmup_rounds=1)
    assert _key(result) == setup.expected
    _record(benchmark, GROUP_LOOP, "activeq lazy (N+1)")


def test_loop_activeq_peers(benchmark, setup):
    User = setup.User
    benchmark.group = GROUP_LOOP

    def peers():
        users = User.query().fetch_mode("peers").all()
        for u in users:
            u.orders  # noqa: B018 - the first read loads every user's orders
        return users

    with setup.db.track_queries() as t:
        peers()
    assert len(t) == 2
    result = benchmark.pedantic(peers, rounds=ROUNDS, warmup_rounds=1)
    assert _key(result) == setup.expected
    _record(benchmark, GROUP_LOOP, "activeq fetch_mode('peers')")
