"""Tables without models: their queries give Rows, their columns belong to the Table."""

from __future__ import annotations

from typing import Any, assert_type

from activeq import Column, Database, Row, Table, insert
from activeq.ast import ColumnRef
from activeq.query import Query

events = Table("events", Column("id", int, primary_key=True), Column("payload", dict))
assert_type(events.c.id, ColumnRef[Any, Table])
assert_type(events.query(), Query[Row])
db = Database(":memory:")
db.bind(events)
db.create_tables(events)
insert(events).values(payload={"a": 1}).execute()
rows = events.query().where(events.c.id == 1).all()
assert_type(rows, list[Row])
first = events.query().first()
assert_type(first, Row | None)
assert first is not None and first["payload"] == {"a": 1}
