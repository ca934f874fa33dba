"""The PostgreSQL floor: psycopg 3 with hand-written SQL, rows turned into slotted dataclasses.

Blocking and async, each on one connection in autocommit mode (psycopg's defaults otherwise,
so statements run often are prepared on the server after five executions, as for every
library here that runs on psycopg).
"""

from __future__ import annotations

import asyncio
from itertools import starmap

import psycopg

from bench.common import LIMIT, ORDER_COLS, USER_COLS, OrderRow, UserRow

INSERT_USER = (
    "INSERT INTO users (name, email, status, age, created_at) "
    "VALUES (%(name)s, %(email)s, %(status)s, %(age)s, %(created_at)s)"
)
USER_BY_ID = f"SELECT {USER_COLS} FROM users WHERE id = %s"
FILTERED = (
    f"SELECT {USER_COLS} FROM users WHERE status = %s AND age > %s ORDER BY id LIMIT {LIMIT}"
)
KEYSET = f"SELECT {ORDER_COLS} FROM orders WHERE id > %s ORDER BY id LIMIT %s"


class RawPsycopg:
    name = "raw_psycopg"

    def __init__(self, pg, database: str) -> None:
        self.conn = psycopg.connect(pg.conninfo(database), autocommit=True)
        self.cur = self.conn.cursor()

    def activate(self) -> None:
        pass

    def close(self) -> None:
        self.conn.close()

    # W01: executemany inside one transaction (psycopg pipelines the statements).
    def insert_users(self, rows: list[dict]) -> None:
        with self.conn.transaction():
            self.cur.executemany(INSERT_USER, rows)

    # W03
    def get_users(self, ids: list[int]) -> list:
        cur = self.cur
        out = []
        for i in ids:
            row = cur.execute(USER_BY_ID, (i,)).fetchone()
            out.append(UserRow(*row) if row is not None else None)
        return out

    # W04
    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        cur = self.cur
        return [list(starmap(UserRow, cur.execute(FILTERED, p).fetchall())) for p in params]

    # W09
    def keyset(self, size: int) -> list:
        cur = self.cur
        out = []
        last = 0
        while True:
            rows = list(starmap(OrderRow, cur.execute(KEYSET, (last, size)).fetchall()))
            if not rows:
                break
            out.append((rows[0].id, rows[-1].id, len(rows)))
            if len(rows) < size:
                break
            last = rows[-1].id
        return out


class RawPsycopgAsync:
    """psycopg's AsyncConnection, one ``await`` per lookup, on the adapter's own event loop."""

    name = "raw_psycopg_async"

    def __init__(self, pg, database: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(
            psycopg.AsyncConnection.connect(pg.conninfo(database), autocommit=True))
        self.cur = self.conn.cursor()

    def activate(self) -> None:
        pass

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()

    async def _get_users(self, ids: list[int]) -> list:
        cur = self.cur
        out = []
        for i in ids:
            await cur.execute(USER_BY_ID, (i,))
            row = await cur.fetchone()
            out.append(UserRow(*row) if row is not None else None)
        return out

    def get_users(self, ids: list[int]) -> list:
        return self.loop.run_until_complete(self._get_users(ids))
