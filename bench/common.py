"""Schema, data, sizes and result normalisation shared by every library under test.

Every library reads and writes the same schema, the same generated rows and runs with the
same pragmas on its own copy of a real SQLite file. Expected results are computed in plain
Python from the generated rows, so the hand-written SQL is checked as well.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

SCHEMA = (
    """CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        name TEXT,
        email TEXT UNIQUE,
        status TEXT,
        age INTEGER,
        created_at TEXT
    )""",
    "CREATE INDEX ix_users_status ON users(status)",
    """CREATE TABLE orders (
        id INTEGER PRIMARY KEY,
        user_id INTEGER REFERENCES users(id),
        total REAL,
        status TEXT,
        created_at TEXT
    )""",
    "CREATE INDEX ix_orders_user_id ON orders(user_id)",
)

USER_FIELDS = ("id", "name", "email", "status", "age", "created_at")
ORDER_FIELDS = ("id", "user_id", "total", "status", "created_at")
USER_COLS = ", ".join(USER_FIELDS)
ORDER_COLS = ", ".join(ORDER_FIELDS)
INSERT_USERS = f"INSERT INTO users ({USER_COLS}) VALUES (?,?,?,?,?,?)"
INSERT_ORDERS = f"INSERT INTO orders ({ORDER_COLS}) VALUES (?,?,?,?,?)"

# (name, value set on every connection, value PRAGMA reads back). Set explicitly on every
# library's connection so no library runs with friendlier defaults than another.
PRAGMAS = (
    ("journal_mode", "WAL", "wal"),
    ("synchronous", "NORMAL", 1),
    ("foreign_keys", "ON", 1),
    ("cache_size", -65536, -65536),
    ("temp_store", "MEMORY", 2),
    ("mmap_size", 268435456, 268435456),
)
EXPECTED_PRAGMAS = {name: expected for name, _, expected in PRAGMAS}


def pragma_statements() -> list[str]:
    return [f"PRAGMA {name}={value}" for name, value, _ in PRAGMAS]


def pragma_queries() -> list[tuple[str, str]]:
    return [(name, f"PRAGMA {name}") for name, _, _ in PRAGMAS]


def normalise_pragma(value):
    if isinstance(value, str):
        return value.lower()
    return value


USER_STATUSES = ("active", "inactive", "pending", "banned")
ORDER_STATUSES = ("new", "paid", "shipped", "cancelled")
ORDERS_PER_USER = 4
LIMIT = 20

# Bulk writes (W07): which rows they touch.
UPDATE_FROM, UPDATE_TO = "inactive", "archived"
DELETE_STATUS = "cancelled"


@dataclass(slots=True)
class UserRow:
    id: int
    name: str
    email: str
    status: str
    age: int
    created_at: str


@dataclass(slots=True)
class OrderRow:
    id: int
    user_id: int
    total: float
    status: str
    created_at: str


@dataclass(slots=True)
class UserWithOrders:
    id: int
    name: str
    email: str
    status: str
    age: int
    created_at: str
    orders: list


@dataclass(frozen=True)
class Sizes:
    """Row and operation counts for one run; scale 1.0 is the full benchmark."""

    scale: float
    users: int
    orders: int
    lookups: int
    filtered: int
    renders: int
    cache_hits: int
    batch: int
    eager_users: int
    chunk: int
    async_reads: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        def n(full: int, minimum: int = 1) -> int:
            return max(minimum, round(full * scale))

        users = n(50_000, 20)
        return cls(
            scale=scale,
            users=users,
            orders=users * ORDERS_PER_USER,
            lookups=n(20_000),
            filtered=n(5_000),
            renders=n(20_000),
            cache_hits=n(20_000),
            batch=n(1_000),
            eager_users=min(users, n(1_000)),
            chunk=n(1_000, 10),
            async_reads=n(1_000, 2),
        )

    def batches(self, total: int) -> int:
        """Rounds needed to run `total` operations in batches of `self.batch`."""
        return max(1, total // self.batch)


class Data:
    """Deterministic users and orders, as insert dicts and as expected row tuples."""

    def __init__(self, sizes: Sizes, seed: int = 20240601) -> None:
        rng = random.Random(seed)
        epoch = datetime(2020, 1, 1)
        minutes = 5 * 365 * 24 * 60

        def stamp() -> str:
            return (epoch + timedelta(minutes=rng.randrange(minutes))).isoformat(sep=" ")

        self.users: list[tuple] = []
        for i in range(1, sizes.users + 1):
            self.users.append(
                (
                    i,
                    f"User {i}",
                    f"user{i}@example.com",
                    rng.choice(USER_STATUSES),
                    rng.randint(18, 80),
                    stamp(),
                )
            )
        owners = [uid for uid in range(1, sizes.users + 1) for _ in range(ORDERS_PER_USER)]
        rng.shuffle(owners)
        self.orders: list[tuple] = []
        for j, uid in enumerate(owners, start=1):
            self.orders.append(
                (j, uid, round(rng.uniform(5, 500), 2), rng.choice(ORDER_STATUSES), stamp())
            )
        # Insert payloads carry no id: the database assigns it, as in ordinary use.
        self.user_dicts = [dict(zip(USER_FIELDS[1:], u[1:])) for u in self.users]
        self.order_dicts = [dict(zip(ORDER_FIELDS[1:], o[1:])) for o in self.orders]

        self.lookup_ids = [rng.randint(1, sizes.users) for _ in range(sizes.lookups)]
        self.filter_params = [
            (rng.choice(USER_STATUSES), rng.randint(18, 75)) for _ in range(sizes.filtered)
        ]
        self.render_params = [
            (rng.choice(USER_STATUSES), rng.randint(18, 75)) for _ in range(sizes.renders)
        ]
        self.cache_params = [(s, 30 + k) for k, s in enumerate(USER_STATUSES * 2)]
        half = max(1, sizes.async_reads // 2)
        self.async_ids = [rng.randint(1, sizes.users) for _ in range(half)]
        # W12: (order status, top ranks, user status) per report query.
        self.report_params = [
            (rng.choice(ORDER_STATUSES), rng.randint(5, 40), rng.choice(USER_STATUSES))
            for _ in range(max(1, sizes.renders // 10))
        ]

        self._by_status: dict[str, list[tuple]] = {}
        for u in self.users:
            self._by_status.setdefault(u[3], []).append(u)
        self._by_user: dict[int, list[tuple]] = {}
        for o in sorted(self.orders, key=lambda o: (o[1], o[0])):
            self._by_user.setdefault(o[1], []).append(o)

    # Expected results, computed without SQL.

    def user(self, uid: int) -> tuple | None:
        return self.users[uid - 1] if 1 <= uid <= len(self.users) else None

    def filtered(self, status: str, age: int) -> list[tuple]:
        out = []
        for u in self._by_status.get(status, ()):
            if u[4] > age:
                out.append(u)
                if len(out) == LIMIT:
                    break
        return out

    def orders_of(self, uid: int) -> list[tuple]:
        return self._by_user.get(uid, [])

    def eager(self, n: int) -> list[tuple]:
        return [(u, tuple(o[0] for o in self.orders_of(u[0]))) for u in self.users[:n]]

    def chunks(self, size: int) -> list[tuple[int, int, int]]:
        ids = [o[0] for o in self.orders]
        return [
            (c[0], c[-1], len(c)) for c in (ids[k : k + size] for k in range(0, len(ids), size))
        ]

    def update_count(self) -> int:
        return sum(1 for u in self.users if u[3] == UPDATE_FROM)

    def delete_count(self) -> int:
        return sum(1 for o in self.orders if o[3] == DELETE_STATUS)


def user_key(obj) -> tuple | None:
    if obj is None:
        return None
    if isinstance(obj, tuple):
        return tuple(obj)
    return tuple(getattr(obj, f) for f in USER_FIELDS)


def order_key(obj) -> tuple:
    if isinstance(obj, tuple):
        return tuple(obj)
    return tuple(getattr(obj, f) for f in ORDER_FIELDS)


def eager_key(users) -> list[tuple]:
    """Users with loaded `.orders` (or (user, orders) pairs) -> [(user tuple, order ids)]."""
    out = []
    for item in users:
        user, orders = item if isinstance(item, tuple) else (item, item.orders)
        out.append((user_key(user), tuple(sorted(o.id for o in orders))))
    return out


def json_ids(ids) -> str:
    return json.dumps(list(ids))
