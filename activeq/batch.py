"""Inserts: single records and batches."""

from __future__ import annotations

from time import perf_counter_ns
from typing import Any

import apsw
import pydantic

from .compiler import compiler
from .errors import translate
from .query import Insert

__all__ = ["insert_one"]


def insert_one(db: Any, record: Any) -> int:
    """INSERT a new record, set its primary key, mark it persisted; returns 1."""
    model = type(record)
    info = model.__aq__
    data = record.__dict__
    pk = info.pk
    names = tuple(n for n in info.names if n in data and not (pk is not None and n == pk.name and data[n] is None))
    try:
        # Assignments after construction are not validated by pydantic; check them now,
        # before anything is written.
        validated = model.model_validate({n: data[n] for n in names})
    except pydantic.ValidationError as e:
        from .model import _wrap_validation

        raise _wrap_validation(model, e) from e
    stmt = Insert(model, names)
    t0 = perf_counter_ns()
    entry, hit = compiler.compile(stmt, db.dialect)
    values = [validated.__dict__[n] for n in names]
    compile_ns = perf_counter_ns() - t0
    conn = db.connection
    t0 = perf_counter_ns()
    try:
        db._cursor().execute(entry.sql, values).fetchall()
    except apsw.Error as e:
        raise translate(e, entry.sql) from e
    db.log.record(entry.sql, stmt.key, values, compile_ns, perf_counter_ns() - t0, 1, hit)
    if pk is not None and data.get(pk.name) is None:
        data[pk.name] = conn.last_insert_rowid()
    record.__pydantic_fields_set__.clear()
    object.__setattr__(record, "_aq_ctx", db._default_ctx)
    db._after_write(entry.tables)
    return 1
