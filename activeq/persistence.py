"""Saving, deleting and reloading one record: what ``record.save()``, ``.delete()`` and
``.refresh()`` run.

The model layer owns these; the session below only lends its write lock, its record of the
instances a transaction touched (so a rollback can restore them) and the cache's note of which
row is being written.

>>> from activeq import ActiveRecord, Database, Field
>>> class Pen(ActiveRecord):
...     __table_name__ = 'pens'
...     id: int | None = Field(default=None, primary_key=True)
...     ink: str
>>> db = Database(':memory:'); db.bind(Pen); db.create_tables(Pen)
>>> pen = Pen(ink='blue')
>>> save(db, pen), pen.id
(1, 1)
>>> pen.ink = 'red'; save(db, pen), save(db, pen)
(1, 0)
>>> delete(db, pen), Pen.query().count()
(1, 0)
"""

from __future__ import annotations

from typing import Any

from .batch import insert_one
from .errors import NotFoundError

__all__ = ["delete", "refresh", "save"]


def save(db: Any, record: Any) -> int:
    """INSERT ``record`` when new (setting its primary key), else UPDATE its changed fields;
    the number of rows written (0 when nothing changed)."""
    # Held throughout: the cache learns which row is written (row_write) for this call.
    state = db._thread()
    lock = db._writer
    lock.acquire(state)
    try:
        return _save_locked(db, record)
    finally:
        lock.release(state)


def _save_locked(db: Any, record: Any) -> int:
    model = type(record)
    info = model.__aq__
    data = record.__dict__
    cache = db._cache
    if getattr(record, "_aq_ctx", None) is None:
        db._remember(record)
        # A new row cannot be in the instance cache: nothing to evict for it.
        cache.row_write = (record, False)
        try:
            return insert_one(db, record)
        finally:
            cache.row_write = None
    changed = [n for n in record.__pydantic_fields_set__ if n in data and n != info.pk.name]
    if not changed:
        return 0
    # Validated by update(), as any update is, before anything is written.
    values = {name: data[name] for name in changed}
    db._remember(record)
    # Only this row's cached instance is evicted, not the whole table's.
    cache.row_write = (record, True)
    try:
        count: int = model.query().where(record._pk_condition()).update(values)
    finally:
        cache.row_write = None
    record.__pydantic_fields_set__.clear()
    return count


def delete(db: Any, record: Any) -> int:
    """DELETE ``record``'s row by primary key; the number of rows deleted."""
    model = type(record)
    state = db._thread()
    lock = db._writer
    lock.acquire(state)
    try:
        db._remember(record)
        cache = db._cache
        cache.row_write = (record, True)
        try:
            count: int = model.query().where(record._pk_condition()).delete()
        finally:
            cache.row_write = None
    finally:
        lock.release(state)
    object.__setattr__(record, "_aq_ctx", None)
    return count


def refresh(db: Any, record: Any) -> Any:
    """Reload every field of ``record`` from its row; NotFoundError when the row is gone."""
    model = type(record)
    fresh = model.query().where(record._pk_condition()).first()
    if fresh is None:
        raise NotFoundError(f"{model.__name__} with this primary key no longer exists")
    object.__setattr__(record, "__dict__", fresh.__dict__)
    record.__pydantic_fields_set__.clear()
    object.__setattr__(record, "_aq_ctx", fresh._aq_ctx)
    if hasattr(record, "_aq_rel"):
        object.__setattr__(record, "_aq_rel", {})
    return record
