"""What a rollback undoes in memory: the records written inside the transaction.

A record saved inside a transaction gets a primary key and counts as persisted, and its changed
fields count as written. If the transaction then rolls back, none of that is true any more: the
row is gone (and SQLite may give its id to another row, which a later ``save()`` of the stale
record would overwrite). So each record written inside a transaction is remembered, at each
transaction or savepoint level, as it was before its first write there; rolling a level back
returns the records of that level to that state:

* a new record has its primary key back as it was (None when the database assigned it) and is
  not persisted; a deleted one is persisted again;
* every field its undone writes had marked clean counts as changed again, so the next
  ``save()`` writes it; fields changed since stay changed.

Field values are left as they are: they are what the program assigned, and saving again writes
them. Outside a transaction nothing is remembered and nothing is paid.

>>> from activeq import ActiveRecord, Database, Field
>>> class Memo(ActiveRecord):
...     __table_name__ = 'memos'
...     id: int = Field(primary_key=True)
...     text: str
>>> db = Database(':memory:'); db.bind(Memo); db.create_tables(Memo)
>>> memo = Memo(text='draft')
>>> try:
...     with db.transaction():
...         _ = memo.save()
...         raise KeyError('undo')
... except KeyError:
...     pass
>>> memo.id, memo.is_persisted, memo.text
(None, False, 'draft')
"""

from __future__ import annotations

from typing import Any

__all__ = ["Journal"]

# (record, load context or None, primary-key field name or None, its value, changed fields)
Snapshot = tuple[Any, Any, Any, Any, set]


class Journal:
    """Snapshots of the records written at each open transaction level (1 = outermost)."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[dict[int, Snapshot]] = []

    def remember(self, record: Any, level: int) -> None:
        """Keep ``record``'s state before its first write at ``level``; a later write there
        adds only the fields it is about to mark clean."""
        levels = self._levels
        while len(levels) < level:
            levels.append({})
        seen = levels[level - 1]
        snapshot = seen.get(id(record))
        if snapshot is not None:
            snapshot[4].update(record.__pydantic_fields_set__)
            return
        pk = type(record).__aq__.pk
        name = pk.name if pk is not None else None
        seen[id(record)] = (record, getattr(record, "_aq_ctx", None), name,
                            record.__dict__.get(name) if name is not None else None,
                            set(record.__pydantic_fields_set__))

    def release(self, level: int) -> None:
        """A savepoint at ``level`` was released: its records now belong to the level below,
        which keeps its own older snapshot of a record written at both (plus the fields the
        savepoint's writes marked clean)."""
        levels = self._levels
        if len(levels) < level:
            return
        inner = levels.pop()
        if level == 1:
            return
        outer = levels[level - 2]
        for key, snapshot in inner.items():
            older = outer.get(key)
            if older is None:
                outer[key] = snapshot
            else:
                older[4].update(snapshot[4])

    def undo(self, level: int) -> None:
        """``level`` and every level inside it rolled back: restore their records, innermost
        level first, so each record ends as it was when ``level`` began."""
        levels = self._levels
        while len(levels) >= level:
            for record, ctx, name, pk_value, fields in levels.pop().values():
                object.__setattr__(record, "_aq_ctx", ctx)
                if name is not None:
                    record.__dict__[name] = pk_value
                record.__pydantic_fields_set__.update(fields)

    def forget(self) -> None:
        """The outermost transaction committed: what was written stays written."""
        self._levels.clear()

