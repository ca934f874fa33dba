"""activeq, written the way its documentation shows.

Imports happen when an adapter is opened, so a missing feature turns into a skipped
benchmark (see bench.harness.feature_guard) instead of a collection error.
"""

from __future__ import annotations

import asyncio
import inspect
import types
from functools import cache

from bench.common import LIMIT, PRAGMAS, pragma_queries

# Passed to the constructor so every connection activeq opens (the async reader pool
# included) gets them, overriding activeq's own recommended defaults where they differ.
BENCH_PRAGMAS = {name: value for name, value, _ in PRAGMAS}


def user_model(name: str, created_at: bool = True):
    """A new model class ``name`` of the ``users`` table (without relations), for a benchmark
    that binds it to a Database of its own."""
    from activeq import ActiveRecord, Field

    fields: dict = {"id": int, "name": str, "email": str, "status": str, "age": int}
    if created_at:
        fields["created_at"] = str
    body = {"__table_name__": "users", "__annotations__": fields, "__module__": __name__,
            "__qualname__": name, "id": Field(primary_key=True), "email": Field(unique=True),
            "status": Field(index=True)}
    return types.new_class(name, (ActiveRecord,), exec_body=lambda ns: ns.update(body))


@cache
def models():
    from activeq import ActiveRecord, Field

    try:
        from activeq import has_many
    except ImportError:
        has_many = None

    class User(ActiveRecord):
        __table_name__ = "users"

        id: int = Field(primary_key=True)
        name: str
        email: str = Field(unique=True)
        status: str = Field(index=True)
        age: int
        created_at: str

        if has_many is not None:
            orders = has_many("Order", foreign_key="user_id")

    class Order(ActiveRecord):
        __table_name__ = "orders"

        id: int = Field(primary_key=True)
        user_id: int
        total: float
        status: str
        created_at: str

    return User, Order, has_many is not None


@cache
def async_models():
    from activeq import AsyncActiveRecord, Field

    class AsyncUser(AsyncActiveRecord):
        __table_name__ = "users"

        id: int = Field(primary_key=True)
        name: str
        email: str = Field(unique=True)
        status: str = Field(index=True)
        age: int
        created_at: str

    class AsyncOrder(AsyncActiveRecord):
        __table_name__ = "orders"

        id: int = Field(primary_key=True)
        user_id: int
        total: float
        status: str
        created_at: str

    return AsyncUser, AsyncOrder


def _first_value(result):
    rows = result.fetchall() if hasattr(result, "fetchall") else list(result)
    return rows[0][0]


class Activeq:
    name = "activeq"

    def __init__(self, path: str) -> None:
        from activeq import Database

        self.path = path
        self.User, self.Order, self.has_relations = models()
        self.db = Database(path, pragmas=BENCH_PRAGMAS)
        self.activate()

    def activate(self) -> None:
        self.db.bind(self.User, self.Order)

    def read_pragmas(self) -> dict:
        return {name: _first_value(self.db.execute(q)) for name, q in pragma_queries()}

    def close(self) -> None:
        close = getattr(self.db, "close", None)
        if close is not None:
            close()

    def insert_users(self, rows: list[dict]) -> None:
        self.User.insert_many(rows)

    def insert_orders(self, rows: list[dict]) -> None:
        self.Order.insert_many(rows)

    def get_users(self, ids: list[int]) -> list:
        find = self.User.find_by_id
        return [find(i) for i in ids]

    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        User = self.User
        c = User.c
        return [
            User.query().where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT).all()
            for s, n in params
        ]

    def all_users(self) -> list:
        return self.User.query().all()

    def all_users_tuples(self) -> list:
        return self.User.query().tuples()

    def eager(self, n: int) -> list:
        User = self.User
        if not self.has_relations:
            raise ImportError("cannot import name 'has_many' from 'activeq'")
        return User.query().order_by(User.c.id).limit(n).includes("orders").all()

    def n_plus_one(self, n: int) -> list:
        User, Order = self.User, self.Order
        users = User.query().order_by(User.c.id).limit(n).all()
        return [(u, Order.query().where(Order.c.user_id == u.id).all()) for u in users]

    def bulk_update(self, old: str, new: str) -> int:
        User = self.User
        return User.query().where(User.c.status == old).update({"status": new})

    def bulk_delete_orders(self, status: str) -> int:
        Order = self.Order
        return Order.query().where(Order.c.status == status).delete()

    def render(self, params: list[tuple[str, int]]) -> list:
        User = self.User
        c = User.c
        return [
            User.query().where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT).to_sql()
            for s, n in params
        ]

    def render_report(self, params: list[tuple[str, int, str]]) -> list:
        from activeq import func

        User, Order = self.User, self.Order
        u, o = User.c, Order.c
        peer = User.alias("peer")
        out = []
        for order_status, top, user_status in params:
            spend = (
                Order.query()
                .select(o.user_id, func.sum(o.total).as_("spent"), func.count().as_("n"))
                .where(o.status == order_status)
                .group_by(o.user_id)
                .cte("spend")
            )
            ranked = (
                spend.query()
                .select(
                    spend.c.user_id,
                    spend.c.spent,
                    func.rank().over(order_by=spend.c.spent.desc()).as_("rnk"),
                )
                .cte("ranked")
            )
            recent = (
                Order.query()
                .select(o.user_id, func.max(o.created_at).as_("last_at"))
                .group_by(o.user_id)
                .cte("recent")
            )
            out.append(
                User.query()
                .join(ranked, ranked.c.user_id == u.id)
                .join(recent, recent.c.user_id == u.id)
                .join(spend, spend.c.user_id == u.id)
                .join(Order, (o.user_id == u.id) & (o.created_at == recent.c.last_at))
                .left_join(peer, (peer.c.age == u.age) & (peer.c.id == u.id + 1))
                .select(u.id, u.name, ranked.c.spent, ranked.c.rnk, recent.c.last_at, spend.c.n,
                        o.id.as_("order_id"), peer.c.name.as_("peer"))
                .where(ranked.c.rnk <= top, u.status == user_status)
                .order_by(ranked.c.rnk, u.id, o.id)
                .limit(LIMIT)
                .to_sql()
            )
        return out

    def keyset(self, size: int) -> list:
        return [(ch[0].id, ch[-1].id, len(ch)) for ch in self.Order.query().chunks(size)]

    def cached(self, params: list[tuple[str, int]]) -> list[list]:
        User = self.User
        c = User.c
        return [
            User.query()
            .where((c.status == s) & (c.age > n))
            .order_by(c.id)
            .limit(LIMIT)
            .cache(ttl=300)
            .all()
            for s, n in params
        ]


class ActiveqAsync:
    name = "activeq_async"

    def __init__(self, path: str) -> None:
        from activeq import AsyncDatabase

        self.path = path
        self.User, self.Order = async_models()
        self.loop = asyncio.new_event_loop()
        self.db = self._wait(AsyncDatabase(path, pragmas=BENCH_PRAGMAS))
        self.activate()

    def _wait(self, value):
        if inspect.isawaitable(value):
            return self.loop.run_until_complete(value)
        return value

    def activate(self) -> None:
        self._wait(self.db.bind(self.User, self.Order))

    def read_pragmas(self) -> dict:
        out = {}
        for name, q in pragma_queries():
            result = self._wait(self.db.execute(q))
            rows = self._wait(result.fetchall()) if hasattr(result, "fetchall") else list(result)
            out[name] = rows[0][0]
        return out

    def close(self) -> None:
        for attr in ("aclose", "close"):
            close = getattr(self.db, attr, None)
            if close is not None:
                self._wait(close())
                break
        self.loop.close()

    async def _gather(self, ids: list[int]):
        User, Order = self.User, self.Order
        return await asyncio.gather(
            *[User.find_by_id(i) for i in ids],
            *[Order.query().where(Order.c.user_id == i).all() for i in ids],
        )

    def gather_reads(self, ids: list[int]) -> list:
        return list(self.loop.run_until_complete(self._gather(ids)))


ADAPTERS = {"activeq": Activeq, "activeq_async": ActiveqAsync}


class ActiveqPg(Activeq):
    """activeq on PostgreSQL: ``Database("postgresql://...")``, the same models and calls."""

    def __init__(self, pg, database: str) -> None:
        from activeq import Database

        self.path = database
        self.User, self.Order, self.has_relations = models()
        self.db = Database(pg.url(database))
        self.activate()


class ActiveqPgAsync:
    """``AsyncDatabase("postgresql://...")``: one ``await User.find_by_id(i)`` per lookup."""

    name = "activeq_async"

    def __init__(self, pg, database: str) -> None:
        from activeq import AsyncDatabase
        from activeq.errors import ConfigurationError

        self.path = database
        self.User, self.Order = async_models()
        self.loop = asyncio.new_event_loop()
        try:
            self.db = AsyncDatabase(pg.url(database))
        except ConfigurationError as exc:
            # An AsyncDatabase that only runs SQLite refuses the URL's options.
            raise NotImplementedError(f"AsyncDatabase on PostgreSQL: {exc}") from exc
        self.activate()

    def activate(self) -> None:
        self.db.bind(self.User, self.Order)

    def close(self) -> None:
        self.loop.run_until_complete(self.db.close())
        self.loop.close()

    async def _get_users(self, ids: list[int]) -> list:
        find = self.User.find_by_id
        return [await find(i) for i in ids]

    def get_users(self, ids: list[int]) -> list:
        return self.loop.run_until_complete(self._get_users(ids))
