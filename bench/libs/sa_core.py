"""SQLAlchemy 2 Core: Table objects, select()/insert()/update(), rows as Row objects."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import sqlite as sqlite_dialect

from bench.common import LIMIT, pragma_queries, pragma_statements

metadata = MetaData()
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String),
    Column("email", String, unique=True),
    Column("status", String, index=True),
    Column("age", Integer),
    Column("created_at", String),
)
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), index=True),
    Column("total", Float),
    Column("status", String),
    Column("created_at", String),
)

SQLITE = sqlite_dialect.dialect()


def make_engine(path: str):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        for stmt in pragma_statements():
            cur.execute(stmt).fetchall()
        cur.close()

    return engine


def compiled_pair(stmt) -> tuple[str, tuple]:
    compiled = stmt.compile(dialect=SQLITE)
    return str(compiled), tuple(compiled.params[k] for k in compiled.positiontup)


class SACore:
    name = "sqlalchemy_core"

    def __init__(self, path: str) -> None:
        self.path = path
        self.engine = make_engine(path)

    def activate(self) -> None:
        pass

    def read_pragmas(self) -> dict:
        with self.engine.connect() as conn:
            return {name: conn.exec_driver_sql(q).scalar() for name, q in pragma_queries()}

    def close(self) -> None:
        self.engine.dispose()

    def insert_users(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(users), rows)

    def insert_orders(self, rows: list[dict]) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(orders), rows)

    def get_users(self, ids: list[int]) -> list:
        with self.engine.connect() as conn:
            return [conn.execute(select(users).where(users.c.id == i)).first() for i in ids]

    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        c = users.c
        with self.engine.connect() as conn:
            return [
                conn.execute(
                    select(users).where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT)
                ).all()
                for s, n in params
            ]

    def all_users(self) -> list:
        with self.engine.connect() as conn:
            return conn.execute(select(users)).all()

    def all_users_tuples(self) -> list:
        with self.engine.connect() as conn:
            return conn.execute(select(users)).all()

    def eager(self, n: int) -> list:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id).limit(n)).all()
            by_id: dict[int, list] = {r.id: [] for r in rows}
            for o in conn.execute(select(orders).where(orders.c.user_id.in_(list(by_id)))):
                by_id[o.user_id].append(o)
        return [(r, by_id[r.id]) for r in rows]

    def n_plus_one(self, n: int) -> list:
        with self.engine.connect() as conn:
            rows = conn.execute(select(users).order_by(users.c.id).limit(n)).all()
            return [
                (r, conn.execute(select(orders).where(orders.c.user_id == r.id)).all())
                for r in rows
            ]

    def bulk_update(self, old: str, new: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                update(users).where(users.c.status == old).values(status=new)
            ).rowcount

    def bulk_delete_orders(self, status: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(orders).where(orders.c.status == status)).rowcount

    def render(self, params: list[tuple[str, int]]) -> list:
        c = users.c
        return [
            compiled_pair(
                select(users).where((c.status == s) & (c.age > n)).order_by(c.id).limit(LIMIT)
            )
            for s, n in params
        ]

    def render_report(self, params: list[tuple[str, int, str]]) -> list:
        u, o = users.c, orders.c
        out = []
        for order_status, top, user_status in params:
            spend = (
                select(o.user_id, func.sum(o.total).label("spent"), func.count().label("n"))
                .where(o.status == order_status)
                .group_by(o.user_id)
                .cte("spend")
            )
            ranked = select(
                spend.c.user_id,
                spend.c.spent,
                func.rank().over(order_by=spend.c.spent.desc()).label("rnk"),
            ).cte("ranked")
            recent = (
                select(o.user_id, func.max(o.created_at).label("last_at"))
                .group_by(o.user_id)
                .cte("recent")
            )
            peer = users.alias("peer")
            joined = (
                users.join(ranked, ranked.c.user_id == u.id)
                .join(recent, recent.c.user_id == u.id)
                .join(spend, spend.c.user_id == u.id)
                .join(orders, (o.user_id == u.id) & (o.created_at == recent.c.last_at))
                .outerjoin(peer, (peer.c.age == u.age) & (peer.c.id == u.id + 1))
            )
            stmt = (
                select(u.id, u.name, ranked.c.spent, ranked.c.rnk, recent.c.last_at, spend.c.n,
                       o.id.label("order_id"), peer.c.name.label("peer"))
                .select_from(joined)
                .where(ranked.c.rnk <= top, u.status == user_status)
                .order_by(ranked.c.rnk, u.id, o.id)
                .limit(LIMIT)
            )
            out.append(compiled_pair(stmt))
        return out

    def keyset(self, size: int) -> list:
        out = []
        last = 0
        with self.engine.connect() as conn:
            while True:
                rows = conn.execute(
                    select(orders).where(orders.c.id > last).order_by(orders.c.id).limit(size)
                ).all()
                if not rows:
                    break
                out.append((rows[0].id, rows[-1].id, len(rows)))
                if len(rows) < size:
                    break
                last = rows[-1].id
        return out


ADAPTERS = {"sqlalchemy_core": SACore}
