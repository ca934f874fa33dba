"""Table constraints beyond single columns: composite indexes and uniques, and foreign keys.

A model declares them with ``__indexes__`` and ``__unique__`` (tuples of column tuples, checked
when the class is created) and with ``belongs_to(..., on_delete=...)``. The DDL and the schema
check both read them from here, so what ``create_tables`` emits is what ``check_schema`` expects.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import RelationError, SchemaError

__all__ = ["ON_DELETE_ACTIONS", "ForeignKey", "TableIndex", "creation_order", "declared_indexes",
           "expected_indexes", "foreign_keys", "index_name", "on_delete_action"]

ON_DELETE_ACTIONS = ("cascade", "set null", "restrict", "no action", "set default")
"""The spellings ``belongs_to(..., on_delete=...)`` accepts."""

# PostgreSQL cuts identifiers at 63 bytes (MySQL at 64): longer generated names are shortened
# with a hash of the full name, so two long names never collapse into one.
_MAX_NAME = 63


@dataclass(frozen=True, slots=True)
class TableIndex:
    """An index (or unique constraint) a model's table should have."""

    name: str
    """The name used when activeq creates it."""
    columns: tuple[str, ...]
    """Database column names, in index order."""
    unique: bool
    """Whether the index enforces uniqueness."""


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A FOREIGN KEY a model's table should have (from ``belongs_to(..., on_delete=...)``)."""

    column: str
    """The referring column of the owner's table."""
    table: str
    """The referenced table."""
    target_column: str
    """The referenced column (the target's primary key or a unique column)."""
    on_delete: str
    """One of :data:`ON_DELETE_ACTIONS`."""
    target_schema: str | None = None
    """The referenced table's ``__schema__`` (SQLite keeps a key within one database)."""


def index_name(prefix: str, table: str, columns: Sequence[str]) -> str:
    """``<prefix>_<table>_<columns>``, shortened with a hash when too long for PostgreSQL.

    >>> index_name("idx", "orders", ("status", "created_at"))
    'idx_orders_status_created_at'
    >>> len(index_name("idx", "t" * 80, ("a",)))
    63
    """
    name = f"{prefix}_{table}_{'_'.join(columns)}"
    if len(name.encode()) <= _MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:10]
    head = name.encode()[: _MAX_NAME - len(digest) - 1].decode(errors="ignore")
    return f"{head}_{digest}"


def on_delete_action(value: Any, where: str) -> str | None:
    """``value`` as one of :data:`ON_DELETE_ACTIONS` (any letter case), None for None."""
    if value is None:
        return None
    if isinstance(value, str):
        action = " ".join(value.lower().split())
        if action in ON_DELETE_ACTIONS:
            return action
        close = difflib.get_close_matches(action, ON_DELETE_ACTIONS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
    else:
        hint = ""
    choices = ", ".join(repr(a) for a in ON_DELETE_ACTIONS)
    raise RelationError(f"{where}: on_delete must be one of {choices}, not {value!r}{hint}")


def declared_indexes(model_name: str, table: str, columns: Sequence[Any], indexes: Any,
                     uniques: Any) -> tuple[TableIndex, ...]:
    """The ``__indexes__`` and ``__unique__`` of a model, with names resolved to columns.

    Each entry names fields (attribute or column names); a bad name raises ``SchemaError``
    with the closest field name.
    """
    by_name = {c.name: c.column for c in columns}
    by_name.update({c.column: c.column for c in columns})
    out: list[TableIndex] = []
    for attr, value, unique in (("__indexes__", indexes, False), ("__unique__", uniques, True)):
        for entry in _entries(model_name, attr, value):
            resolved = tuple(_column(model_name, attr, name, by_name, columns) for name in entry)
            if len(set(resolved)) != len(resolved):
                raise SchemaError(f"{model_name}.{attr}: {entry!r} names a column twice")
            index = TableIndex(index_name("uq" if unique else "idx", table, resolved), resolved,
                               unique)
            if index not in out:
                out.append(index)
    return tuple(out)


def _entries(model_name: str, attr: str, value: Any) -> Iterable[tuple[Any, ...]]:
    if not isinstance(value, (tuple, list)):
        raise SchemaError(f"{model_name}.{attr} must be a tuple of column tuples, not {value!r}")
    for entry in value:
        if isinstance(entry, str):
            # ("a", "b") is ambiguous: one index on both columns, or one on each.
            raise SchemaError(
                f"{model_name}.{attr} holds the bare name {entry!r}: each entry is a tuple of "
                f"columns, e.g. {attr} = (({entry!r},),) for one column, or "
                f"{attr} = (('a', 'b'),) for one {'unique constraint' if 'unique' in attr else 'index'} "
                "over two")
        if not isinstance(entry, (tuple, list)) or not entry:
            raise SchemaError(
                f"{model_name}.{attr}: each entry is a non-empty tuple of column names, not {entry!r}")
        yield tuple(entry)


def _column(model_name: str, attr: str, name: Any, by_name: dict[str, str],
            columns: Sequence[Any]) -> str:
    if isinstance(name, str) and name in by_name:
        return by_name[name]
    if not isinstance(name, str):
        raise SchemaError(f"{model_name}.{attr}: column names are strings, not {name!r}")
    close = difflib.get_close_matches(name, [c.name for c in columns], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise SchemaError(f"{model_name}.{attr}: {name!r} is not a column of {model_name}{hint}")


def expected_indexes(info: Any) -> list[TableIndex]:
    """Every index the model's table should have: ``Field(index=True)``, ``Field(unique=True)``,
    ``__indexes__`` and ``__unique__`` (the primary key is left out: every table has it)."""
    out = []
    for column in info.columns:
        if column.primary_key:
            continue
        if column.unique:
            out.append(TableIndex(index_name("uq", info.table, (column.column,)), (column.column,), True))
        elif column.index:
            out.append(TableIndex(index_name("idx", info.table, (column.column,)), (column.column,), False))
    out.extend(index for index in info.indexes if index not in out)
    return out


def foreign_keys(model: Any) -> list[ForeignKey]:
    """The FOREIGN KEYs of the model's table: one per ``belongs_to`` with ``on_delete``.

    Resolves the relations' targets (a target not declared yet raises ``RelationError``).
    """
    info = model.__aq__
    out = list(info.foreign_keys)
    for relation in info.relations.values():
        fk = relation.constraint()
        if fk is not None:
            out.append(fk)
    return out


def creation_order(models: Sequence[Any]) -> list[Any]:
    """``models`` reordered so that a table comes after the tables its foreign keys refer to.

    PostgreSQL and DuckDB refuse a FOREIGN KEY to a table that does not exist yet. Otherwise
    the given order is kept; a cycle (or a self reference) leaves its models as given.
    """
    by_table = {model.__aq__.table: model for model in models}
    needs = {model: {by_table[fk.table] for fk in foreign_keys(model)
                     if fk.table in by_table and by_table[fk.table] is not model}
             for model in models}
    out: list[Any] = []
    placed: set[Any] = set()
    pending = list(models)
    while pending:
        ready = [m for m in pending if needs[m] <= placed] or pending[:1]
        for model in ready:
            out.append(model)
            placed.add(model)
        pending = [m for m in pending if m not in placed]
    return out
