"""The floor: APSW with hand-written SQL, rows turned into slotted dataclasses."""

from __future__ import annotations

import asyncio
from itertools import starmap

import apsw

from bench.common import (
    LIMIT,
    ORDER_COLS,
    USER_COLS,
    OrderRow,
    UserRow,
    UserWithOrders,
    json_ids,
    pragma_queries,
    pragma_statements,
)

INSERT_USER = (
    "INSERT INTO users (name, email, status, age, created_at) "
    "VALUES (:name, :email, :status, :age, :created_at)"
)
INSERT_ORDER = (
    "INSERT INTO orders (user_id, total, status, created_at) "
    "VALUES (:user_id, :total, :status, :created_at)"
)
USER_BY_ID = f"SELECT {USER_COLS} FROM users WHERE id = ?"
FILTERED = f"SELECT {USER_COLS} FROM users WHERE status = ? AND age > ? ORDER BY id LIMIT {LIMIT}"
ALL_USERS = f"SELECT {USER_COLS} FROM users"
FIRST_USERS = f"SELECT {USER_COLS} FROM users ORDER BY id LIMIT ?"
ORDERS_OF_MANY = (
    f"SELECT {ORDER_COLS} FROM orders WHERE user_id IN (SELECT value FROM json_each(?))"
)
ORDERS_OF = f"SELECT {ORDER_COLS} FROM orders WHERE user_id = ?"
UPDATE_STATUS = "UPDATE users SET status = ? WHERE status = ?"
DELETE_ORDERS = "DELETE FROM orders WHERE status = ?"
KEYSET = f"SELECT {ORDER_COLS} FROM orders WHERE id > ? ORDER BY id LIMIT ?"
# W12: three CTEs, a window and five joins.
REPORT = (
    "WITH spend AS (SELECT user_id, SUM(total) AS spent, COUNT(*) AS n FROM orders "
    "WHERE status = ? GROUP BY user_id), "
    "ranked AS (SELECT user_id, spent, RANK() OVER (ORDER BY spent DESC) AS rnk FROM spend), "
    "recent AS (SELECT user_id, MAX(created_at) AS last_at FROM orders GROUP BY user_id) "
    "SELECT u.id, u.name, r.spent, r.rnk, rc.last_at, s.n, o.id AS order_id, p.name AS peer "
    "FROM users u JOIN ranked r ON r.user_id = u.id JOIN recent rc ON rc.user_id = u.id "
    "JOIN spend s ON s.user_id = u.id "
    "JOIN orders o ON o.user_id = u.id AND o.created_at = rc.last_at "
    "LEFT JOIN users p ON p.age = u.age AND p.id = u.id + 1 "
    f"WHERE r.rnk <= ? AND u.status = ? ORDER BY r.rnk, u.id, o.id LIMIT {LIMIT}"
)


def connect(path: str) -> apsw.Connection:
    conn = apsw.Connection(path)
    for stmt in pragma_statements():
        conn.execute(stmt).fetchall()
    return conn


class RawApsw:
    name = "raw_apsw"

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = connect(path)
        self.cur = self.conn.cursor()

    def activate(self) -> None:
        pass

    def read_pragmas(self) -> dict:
        return {name: self.conn.execute(q).fetchone()[0] for name, q in pragma_queries()}

    def close(self) -> None:
        self.conn.close()

    # W01 / W02
    def insert_users(self, rows: list[dict]) -> None:
        with self.conn:
            self.cur.executemany(INSERT_USER, rows)

    def insert_orders(self, rows: list[dict]) -> None:
        with self.conn:
            self.cur.executemany(INSERT_ORDER, rows)

    # W03
    def get_users(self, ids: list[int]) -> list:
        cur = self.cur
        out = []
        for i in ids:
            row = cur.execute(USER_BY_ID, (i,)).fetchone()
            out.append(UserRow(*row) if row is not None else None)
        return out

    # W04 / W10 (uncached floor)
    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        cur = self.cur
        return [list(starmap(UserRow, cur.execute(FILTERED, p))) for p in params]

    # W05
    def all_users(self) -> list:
        return list(starmap(UserRow, self.cur.execute(ALL_USERS)))

    def all_users_tuples(self) -> list:
        return self.cur.execute(ALL_USERS).fetchall()

    # W06
    def eager(self, n: int) -> list:
        cur = self.cur
        users = list(starmap(UserWithOrders, (r + ([],) for r in cur.execute(FIRST_USERS, (n,)))))
        by_id = {u.id: u.orders for u in users}
        for row in cur.execute(ORDERS_OF_MANY, (json_ids(by_id),)):
            by_id[row[1]].append(OrderRow(*row))
        return users

    def n_plus_one(self, n: int) -> list:
        cur = self.cur
        users = list(starmap(UserRow, cur.execute(FIRST_USERS, (n,))))
        return [(u, list(starmap(OrderRow, cur.execute(ORDERS_OF, (u.id,))))) for u in users]

    # W07
    def bulk_update(self, old: str, new: str) -> int:
        with self.conn:
            self.cur.execute(UPDATE_STATUS, (new, old))
            return self.conn.changes()

    def bulk_delete_orders(self, status: str) -> int:
        with self.conn:
            self.cur.execute(DELETE_ORDERS, (status,))
            return self.conn.changes()

    # W08: the hand-written query needs no building; this is the constant floor.
    def render(self, params: list[tuple[str, int]]) -> list:
        return [(FILTERED, p) for p in params]

    # W12: the same, for the report query.
    def render_report(self, params: list[tuple[str, int, str]]) -> list:
        return [(REPORT, p) for p in params]

    # W09
    def keyset(self, size: int) -> list:
        cur = self.cur
        out = []
        last = 0
        while True:
            rows = list(starmap(OrderRow, cur.execute(KEYSET, (last, size))))
            if not rows:
                break
            out.append((rows[0].id, rows[-1].id, len(rows)))
            if len(rows) < size:
                break
            last = rows[-1].id
        return out

    # W11: the same reads, one after another, no event loop.
    def gather_reads(self, ids: list[int]) -> list:
        cur = self.cur
        users = []
        for i in ids:
            row = cur.execute(USER_BY_ID, (i,)).fetchone()
            users.append(UserRow(*row) if row is not None else None)
        orders = [list(starmap(OrderRow, cur.execute(ORDERS_OF, (i,)))) for i in ids]
        return users + orders


class RawApswAio:
    """APSW's own async connection (a worker thread), reads issued with asyncio.gather."""

    name = "raw_apsw_aio"

    def __init__(self, path: str) -> None:
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(self._open(path))

    @staticmethod
    async def _open(path: str):
        conn = await apsw.Connection.as_async(path)
        for stmt in pragma_statements():
            await (await conn.execute(stmt)).fetchall()
        return conn

    def activate(self) -> None:
        pass

    def read_pragmas(self) -> dict:
        async def read():
            return {
                name: (await (await self.conn.execute(q)).fetchone())[0]
                for name, q in pragma_queries()
            }

        return self.loop.run_until_complete(read())

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.aclose())
        self.loop.close()

    async def _user(self, i: int):
        row = await (await self.conn.execute(USER_BY_ID, (i,))).fetchone()
        return UserRow(*row) if row is not None else None

    async def _orders(self, i: int):
        rows = await (await self.conn.execute(ORDERS_OF, (i,))).fetchall()
        return list(starmap(OrderRow, rows))

    async def _gather(self, ids: list[int]):
        return await asyncio.gather(*[self._user(i) for i in ids], *[self._orders(i) for i in ids])

    def gather_reads(self, ids: list[int]) -> list:
        return list(self.loop.run_until_complete(self._gather(ids)))


ADAPTERS = {"raw_apsw": RawApsw, "raw_apsw_aio": RawApswAio}
