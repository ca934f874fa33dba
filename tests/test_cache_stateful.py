"""A state machine interleaving cached reads with every kind of write, never seeing stale data.

Writes go through activeq (create, save, delete, insert_many, query update/delete, raw DML),
through a second connection to the same file, and inside transactions that commit or roll
back. Every cached read is compared with the same read run uncached on the same connection.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import apsw
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from activeq import ActiveRecord, Database, Field

GROUPS = ("a", "b", "c")


class Item(ActiveRecord):
    __table_name__ = "items"
    id: int = Field(primary_key=True)
    name: str
    qty: int = 0
    grp: str = Field(default="a", index=True)


COLUMNS = "id, name, qty, grp"
ids = st.integers(min_value=1, max_value=12)
groups = st.sampled_from(GROUPS)
qtys = st.integers(min_value=0, max_value=9)
names = st.text(alphabet="xyz", min_size=1, max_size=3)


class CacheMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="aq-cache-"))
        self.db = Database(str(self.dir / "items.db"))
        self.db.bind(Item)
        self.db.create_tables(Item)
        self.db.enable_cache(Item)
        self.other = apsw.Connection(str(self.dir / "items.db"))
        self.other.set_busy_timeout(5000)
        self.tx = None
        self.calls = 0

        @self.db.cached(tables=[Item])
        def total(grp: str) -> int:
            self.calls += 1
            return sum(i.qty for i in Item.query().where(Item.c.grp == grp).all())

        self.total = total

    def teardown(self) -> None:
        if self.tx is not None:
            self.tx.__exit__(None, None, None)
        self.other.close()
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # truth: the same read, uncached, on the same connection (so it sees the transaction)
    def truth(self, where: str = "1", params: tuple = ()) -> list[tuple]:
        return self.db.execute(
            f"SELECT {COLUMNS} FROM items WHERE {where} ORDER BY id", params).fetchall()

    # writes through activeq -----------------------------------------------------------------
    @rule(name=names, qty=qtys, grp=groups)
    def create(self, name, qty, grp):
        Item.create(name=name, qty=qty, grp=grp)

    @rule(id=ids, qty=qtys)
    def save(self, id, qty):
        item = Item.find_by_id(id)
        if item is not None:
            item.qty = qty
            item.save()

    @rule(id=ids)
    def delete(self, id):
        item = Item.find_by_id(id)
        if item is not None:
            item.delete()

    @rule(rows=st.lists(st.tuples(names, qtys, groups), min_size=1, max_size=3))
    def insert_many(self, rows):
        Item.insert_many([{"name": n, "qty": q, "grp": g} for n, q, g in rows])

    @rule(grp=groups)
    def bulk_update(self, grp):
        Item.query().where(Item.c.grp == grp).update({"qty": Item.c.qty + 1})

    @rule(qty=qtys)
    def bulk_delete(self, qty):
        Item.query().where(Item.c.qty > qty + 5).delete()

    @rule(id=ids, grp=groups)
    def raw_update(self, id, grp):
        self.db.execute("UPDATE items SET grp = ? WHERE id = ?", (grp, id))

    # writes by another connection (only outside our transaction: it holds the write lock)
    @precondition(lambda self: self.tx is None)
    @rule(name=names, qty=qtys, grp=groups)
    def other_insert(self, name, qty, grp):
        self.other.execute("INSERT INTO items (name, qty, grp) VALUES (?, ?, ?)", (name, qty, grp))

    @precondition(lambda self: self.tx is None)
    @rule(id=ids, qty=qtys)
    def other_update(self, id, qty):
        self.other.execute("UPDATE items SET qty = ? WHERE id = ?", (qty, id))

    @precondition(lambda self: self.tx is None)
    @rule(id=ids)
    def other_delete(self, id):
        self.other.execute("DELETE FROM items WHERE id = ?", (id,))

    # transactions ---------------------------------------------------------------------------
    @precondition(lambda self: self.tx is None)
    @rule()
    def begin(self):
        self.tx = self.db.transaction()
        self.tx.__enter__()

    @precondition(lambda self: self.tx is not None)
    @rule()
    def commit(self):
        tx, self.tx = self.tx, None
        tx.__exit__(None, None, None)

    @precondition(lambda self: self.tx is not None)
    @rule()
    def rollback(self):
        tx, self.tx = self.tx, None
        error = KeyError("roll back")
        assert tx.__exit__(KeyError, error, None) is False

    # cached reads, each checked against the truth -------------------------------------------
    @rule(grp=groups)
    def read_group(self, grp):
        got = Item.query().where(Item.c.grp == grp).order_by(Item.c.id).cache().all()
        assert [(i.id, i.name, i.qty, i.grp) for i in got] == self.truth("grp = ?", (grp,))

    @rule(qty=qtys)
    def read_count(self, qty):
        got = Item.query().where(Item.c.qty >= qty).cache().count()
        assert got == len(self.truth("qty >= ?", (qty,)))

    @rule(id=ids)
    def read_by_id(self, id):
        item = Item.find_by_id(id)
        expected = self.truth("id = ?", (id,))
        assert ([] if item is None else [(item.id, item.name, item.qty, item.grp)]) == expected
        if item is not None:
            item.qty = -1  # mutating what was returned must not reach the cache

    @rule(grp=groups)
    def read_function(self, grp):
        assert self.total(grp) == sum(r[2] for r in self.truth("grp = ?", (grp,)))

    @invariant()
    def everything_matches(self):
        got = Item.query().order_by(Item.c.id).cache().tuples()
        assert got == self.truth()
        for id in range(1, 13):
            self.read_by_id(id)


CacheMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestCacheNeverStale = CacheMachine.TestCase
