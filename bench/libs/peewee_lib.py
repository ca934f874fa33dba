"""Peewee: models, insert_many in chunks inside atomic(), prefetch, query.sql()."""

from __future__ import annotations

from peewee import (
    AutoField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SqliteDatabase,
    TextField,
    chunked,
    prefetch,
)

from bench.common import LIMIT, PRAGMAS, pragma_queries

# Rows per INSERT statement: well under SQLite's bound-variable limit for 5 columns.
INSERT_CHUNK = 1000


class PUser(Model):
    id = AutoField()
    name = TextField()
    email = TextField(unique=True)
    status = TextField(index=True)
    age = IntegerField()
    created_at = TextField()

    class Meta:
        table_name = "users"


class POrder(Model):
    id = AutoField()
    user = ForeignKeyField(PUser, backref="orders", column_name="user_id")
    total = FloatField()
    status = TextField()
    created_at = TextField()

    class Meta:
        table_name = "orders"


MODELS = (PUser, POrder)


class Peewee:
    name = "peewee"

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = SqliteDatabase(path, pragmas=[(name, value) for name, value, _ in PRAGMAS])
        self.db.connect()

    def activate(self) -> None:
        self.db.bind(MODELS, bind_refs=False, bind_backrefs=False)

    def read_pragmas(self) -> dict:
        return {name: self.db.execute_sql(q).fetchone()[0] for name, q in pragma_queries()}

    def close(self) -> None:
        self.db.close()

    def _insert(self, model, rows: list[dict]) -> None:
        with self.db.atomic():
            for batch in chunked(rows, INSERT_CHUNK):
                model.insert_many(batch).execute()

    def insert_users(self, rows: list[dict]) -> None:
        self._insert(PUser, rows)

    def insert_orders(self, rows: list[dict]) -> None:
        self._insert(POrder, rows)

    def get_users(self, ids: list[int]) -> list:
        return [PUser.get_or_none(PUser.id == i) for i in ids]

    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        return [
            list(
                PUser.select()
                .where((PUser.status == s) & (PUser.age > n))
                .order_by(PUser.id)
                .limit(LIMIT)
            )
            for s, n in params
        ]

    def all_users(self) -> list:
        return list(PUser.select())

    def all_users_tuples(self) -> list:
        return list(PUser.select().tuples())

    def eager(self, n: int) -> list:
        return prefetch(PUser.select().order_by(PUser.id).limit(n), POrder)

    def n_plus_one(self, n: int) -> list:
        return [(u, list(u.orders)) for u in PUser.select().order_by(PUser.id).limit(n)]

    def bulk_update(self, old: str, new: str) -> int:
        with self.db.atomic():
            return PUser.update(status=new).where(PUser.status == old).execute()

    def bulk_delete_orders(self, status: str) -> int:
        with self.db.atomic():
            return POrder.delete().where(POrder.status == status).execute()

    def render(self, params: list[tuple[str, int]]) -> list:
        return [
            PUser.select()
            .where((PUser.status == s) & (PUser.age > n))
            .order_by(PUser.id)
            .limit(LIMIT)
            .sql()
            for s, n in params
        ]

    def keyset(self, size: int) -> list:
        out = []
        last = 0
        while True:
            rows = list(POrder.select().where(POrder.id > last).order_by(POrder.id).limit(size))
            if not rows:
                break
            out.append((rows[0].id, rows[-1].id, len(rows)))
            if len(rows) < size:
                break
            last = rows[-1].id
        return out


ADAPTERS = {"peewee": Peewee}
