"""The standard library's sqlite3 with the same hand-written SQL and dataclass rows."""

from __future__ import annotations

import sqlite3
from itertools import starmap

from bench.common import (
    OrderRow,
    UserRow,
    UserWithOrders,
    json_ids,
    pragma_queries,
    pragma_statements,
)
from bench.libs.raw_apsw import (
    ALL_USERS,
    DELETE_ORDERS,
    FILTERED,
    FIRST_USERS,
    INSERT_ORDER,
    INSERT_USER,
    KEYSET,
    ORDERS_OF,
    ORDERS_OF_MANY,
    UPDATE_STATUS,
    USER_BY_ID,
)


class Sqlite3:
    name = "sqlite3"

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = sqlite3.connect(path)
        for stmt in pragma_statements():
            self.conn.execute(stmt).fetchall()

    def activate(self) -> None:
        pass

    def read_pragmas(self) -> dict:
        return {name: self.conn.execute(q).fetchone()[0] for name, q in pragma_queries()}

    def close(self) -> None:
        self.conn.close()

    def insert_users(self, rows: list[dict]) -> None:
        with self.conn:
            self.conn.executemany(INSERT_USER, rows)

    def insert_orders(self, rows: list[dict]) -> None:
        with self.conn:
            self.conn.executemany(INSERT_ORDER, rows)

    def get_users(self, ids: list[int]) -> list:
        ex = self.conn.execute
        out = []
        for i in ids:
            row = ex(USER_BY_ID, (i,)).fetchone()
            out.append(UserRow(*row) if row is not None else None)
        return out

    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        ex = self.conn.execute
        return [list(starmap(UserRow, ex(FILTERED, p))) for p in params]

    def all_users(self) -> list:
        return list(starmap(UserRow, self.conn.execute(ALL_USERS)))

    def all_users_tuples(self) -> list:
        return self.conn.execute(ALL_USERS).fetchall()

    def eager(self, n: int) -> list:
        ex = self.conn.execute
        users = list(starmap(UserWithOrders, (r + ([],) for r in ex(FIRST_USERS, (n,)))))
        by_id = {u.id: u.orders for u in users}
        for row in ex(ORDERS_OF_MANY, (json_ids(by_id),)):
            by_id[row[1]].append(OrderRow(*row))
        return users

    def n_plus_one(self, n: int) -> list:
        ex = self.conn.execute
        users = list(starmap(UserRow, ex(FIRST_USERS, (n,))))
        return [(u, list(starmap(OrderRow, ex(ORDERS_OF, (u.id,))))) for u in users]

    def bulk_update(self, old: str, new: str) -> int:
        with self.conn:
            return self.conn.execute(UPDATE_STATUS, (new, old)).rowcount

    def bulk_delete_orders(self, status: str) -> int:
        with self.conn:
            return self.conn.execute(DELETE_ORDERS, (status,)).rowcount

    def keyset(self, size: int) -> list:
        ex = self.conn.execute
        out = []
        last = 0
        while True:
            rows = list(starmap(OrderRow, ex(KEYSET, (last, size))))
            if not rows:
                break
            out.append((rows[0].id, rows[-1].id, len(rows)))
            if len(rows) < size:
                break
            last = rows[-1].id
        return out


ADAPTERS = {"sqlite3": Sqlite3}
