"""A table's live shape, read from the database's catalog: columns, indexes, foreign keys.

One reader per dialect (SQLite's ``pragma_*`` table functions, PostgreSQL's ``pg_catalog``,
DuckDB's ``information_schema`` and ``duckdb_*()`` functions). Each takes a ``fetch(sql, params)``
callable, so it runs on any connection, and binds the table name as a parameter: a name is never
spliced into SQL. Each reader also says how its dialect spells names and types, so that the
schema check compares like with like.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["Fetch", "LiveColumn", "LiveForeignKey", "LiveIndex", "LiveTable", "Reader", "reader"]

Fetch = Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]]
"""Runs one catalog query with bound parameters and returns its rows."""


@dataclass(frozen=True)
class LiveColumn:
    """A column as the database reports it."""

    name: str
    type: str
    """The declared type (empty when SQLite's column declares none)."""
    notnull: bool
    has_default: bool
    """Whether the column has a DEFAULT (or numbers itself: an identity column)."""
    pk: int
    """Position in the primary key from 1 (where the dialect tells), 0 when not part of it."""


@dataclass(frozen=True)
class LiveIndex:
    """A full (not partial) index or unique/primary-key constraint, by folded column names.

    An expression part of an index is ``"\\0"``, which matches no column.
    """

    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True)
class LiveForeignKey:
    """A single-column FOREIGN KEY, with folded names."""

    column: str
    table: str
    target_column: str | None
    """None when SQLite's declaration names only the table (its primary key is meant)."""
    on_delete: str
    """Lower case: 'cascade', 'set null', 'set default', 'restrict' or 'no action'."""


@dataclass(frozen=True)
class LiveTable:
    """Everything the schema check compares, with names folded by the dialect's rule."""

    columns: dict[str, LiveColumn]
    """By folded name."""
    indexes: list[LiveIndex] = field(default_factory=list)
    foreign_keys: list[LiveForeignKey] = field(default_factory=list)


@dataclass(frozen=True)
class Reader:
    """How one dialect's catalog is read and how its names and types compare."""

    columns: Callable[[Fetch, str, str | None], list[LiveColumn]]
    """The columns of a table (in a schema, or where an unqualified name finds it), in order;
    empty when the table does not exist."""
    indexes: Callable[[Fetch, str, str | None, Callable[[str], str], list[LiveColumn]],
                      list[LiveIndex]]
    foreign_keys: Callable[[Fetch, str, str | None, Callable[[str], str]], list[LiveForeignKey]]
    fold: Callable[[str], str]
    """Maps a name to the form under which the dialect considers two names the same."""
    same_type: Callable[[str, str], bool]
    """Whether a declared type (as activeq emits it) and a reported type store alike."""
    same_action: Callable[[str, str], bool] = lambda a, b: a == b
    """Whether two ON DELETE actions behave alike."""

    def read(self, fetch: Fetch, table: str, schema: str | None = None) -> LiveTable | None:
        """The whole live table, or None when it does not exist."""
        columns = self.columns(fetch, table, schema)
        if not columns:
            return None
        fold = self.fold
        return LiveTable({fold(c.name): c for c in columns},
                         self.indexes(fetch, table, schema, fold, columns),
                         self.foreign_keys(fetch, table, schema, fold))


def _exact(name: str) -> str:
    return name


def _casefold(name: str) -> str:
    return name.casefold()


def _canonical_type(name: str, dialect: str) -> str:
    """A type name as sqlglot renders it for ``dialect``: 'character varying(9)' and
    'VARCHAR(9)' both become VARCHAR(9), 'integer' and 'INT' both INT."""
    try:
        return exp.DataType.build(name, dialect=dialect).sql(dialect=dialect)
    except (sqlglot.errors.ParseError, ValueError):
        return " ".join(name.upper().split())


# --- SQLite --------------------------------------------------------------------------------------


def _sqlite_affinity(declared: str) -> str:
    """SQLite's type affinity for a declared type (its rules, in order, from datatype3.html).

    INTEGER and NUMERIC affinity store values alike, but activeq's types choose between them
    (a Decimal is a scaled INTEGER, not the REAL a DECIMAL column held before), so a column
    of one does not pass for the other.
    """
    name = declared.upper()
    if "INT" in name:
        return "INTEGER"
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return "TEXT"
    if "BLOB" in name or not name.strip():
        return "BLOB"
    if "REAL" in name or "FLOA" in name or "DOUB" in name:
        return "REAL"
    return "NUMERIC"


# The schema argument is an attached database's name; NULL searches them as SQL does.
_SQLITE_COLUMNS = 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?, ?)'
_SQLITE_INDEXES = (
    'SELECT il.name, il."unique", il.partial, ii.name FROM pragma_index_list(?, ?) AS il, '
    "pragma_index_info(il.name, il.schema) AS ii ORDER BY il.seq, ii.seqno"
)
_SQLITE_FOREIGN_KEYS = (
    'SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list(?, ?)'
)


def _sqlite_columns(fetch: Fetch, table: str, schema: str | None) -> list[LiveColumn]:
    return [LiveColumn(str(name), str(type_ or ""), bool(notnull), default is not None, int(pk))
            for name, type_, notnull, default, pk in fetch(_SQLITE_COLUMNS, (table, schema))]


def _sqlite_indexes(fetch: Fetch, table: str, schema: str | None, fold: Callable[[str], str],
                    columns: list[LiveColumn]) -> list[LiveIndex]:
    grouped: dict[str, tuple[list[str], bool, bool]] = {}
    for name, unique, partial, column in fetch(_SQLITE_INDEXES, (table, schema)):
        entry = grouped.setdefault(str(name), ([], bool(unique), bool(partial)))
        entry[0].append(fold(str(column)) if column is not None else "\0")
    out = [LiveIndex(tuple(cols), unique) for cols, unique, partial in grouped.values()
           if not partial]
    # A rowid alias (INTEGER PRIMARY KEY) has no index entry of its own.
    pk = tuple(fold(c.name) for c in sorted(columns, key=lambda c: c.pk) if c.pk)
    if pk:
        out.append(LiveIndex(pk, True))
    return out


def _sqlite_foreign_keys(fetch: Fetch, table: str, schema: str | None,
                         fold: Callable[[str], str]) -> list[LiveForeignKey]:
    return [
        LiveForeignKey(fold(str(column)), fold(str(target)), None if to is None else fold(str(to)),
                       str(action).lower())
        for target, column, to, action in fetch(_SQLITE_FOREIGN_KEYS, (table, schema))
    ]


SQLITE = Reader(
    columns=_sqlite_columns,
    indexes=_sqlite_indexes,
    foreign_keys=_sqlite_foreign_keys,
    fold=_casefold,
    same_type=lambda expected, actual: _sqlite_affinity(expected) == _sqlite_affinity(actual),
)


# --- PostgreSQL ----------------------------------------------------------------------------------

# The table is found the way activeq's quoted, optionally schema-qualified name finds it: by
# exact name, in the schema or along the search path (concat() drops a NULL schema).
_PG_TABLE = "to_regclass(concat(quote_ident(%s::text) || '.', quote_ident(%s::text)))"
_PG_COLUMNS = (
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "a.atthasdef OR a.attidentity <> '', "
    "EXISTS (SELECT 1 FROM pg_index ix WHERE ix.indrelid = a.attrelid AND ix.indisprimary "
    "AND a.attnum = ANY (ix.indkey)) "
    "FROM pg_attribute a WHERE a.attrelid = " + _PG_TABLE + " AND a.attnum > 0 "
    "AND NOT a.attisdropped ORDER BY a.attnum"
)
_PG_INDEXES = (
    "SELECT ix.indexrelid, ix.indisunique, ix.indpred IS NOT NULL, a.attname "
    "FROM pg_index ix CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
    "LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum "
    "AND k.attnum > 0 "
    "WHERE ix.indrelid = " + _PG_TABLE + " AND k.ord <= ix.indnkeyatts "
    "ORDER BY ix.indexrelid, k.ord"
)
_PG_FOREIGN_KEYS = (
    "SELECT a.attname, rc.relname, ra.attname, c.confdeltype "
    "FROM pg_constraint c CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, rcol) "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col "
    "JOIN pg_class rc ON rc.oid = c.confrelid "
    "JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.rcol "
    "WHERE c.contype = 'f' AND cardinality(c.conkey) = 1 "
    "AND c.conrelid = " + _PG_TABLE
)
_PG_ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null",
               "d": "set default"}


def _pg_columns(fetch: Fetch, table: str, schema: str | None) -> list[LiveColumn]:
    return [LiveColumn(str(name), str(type_), bool(notnull), bool(default), int(bool(pk)))
            for name, type_, notnull, default, pk in fetch(_PG_COLUMNS, (schema, table))]


def _pg_indexes(fetch: Fetch, table: str, schema: str | None, fold: Callable[[str], str],
                columns: list[LiveColumn]) -> list[LiveIndex]:
    grouped: dict[Any, tuple[list[str], bool, bool]] = {}
    for oid, unique, partial, column in fetch(_PG_INDEXES, (schema, table)):
        entry = grouped.setdefault(oid, ([], bool(unique), bool(partial)))
        entry[0].append(fold(str(column)) if column is not None else "\0")
    return [LiveIndex(tuple(cols), unique) for cols, unique, partial in grouped.values()
            if not partial]


def _pg_foreign_keys(fetch: Fetch, table: str, schema: str | None,
                     fold: Callable[[str], str]) -> list[LiveForeignKey]:
    return [LiveForeignKey(fold(str(column)), fold(str(target)), fold(str(to)),
                           _PG_ACTIONS.get(str(action), str(action)))
            for column, target, to, action in fetch(_PG_FOREIGN_KEYS, (schema, table))]


POSTGRES = Reader(
    columns=_pg_columns,
    indexes=_pg_indexes,
    foreign_keys=_pg_foreign_keys,
    fold=_exact,
    same_type=lambda expected, actual: (_canonical_type(expected, "postgres")
                                        == _canonical_type(actual, "postgres")),
)


# --- DuckDB --------------------------------------------------------------------------------------

_DUCKDB_COLUMNS = (
    "SELECT c.column_name, c.data_type, c.is_nullable = 'NO', c.column_default IS NOT NULL, "
    "EXISTS (SELECT 1 FROM duckdb_constraints() k WHERE k.database_name = c.table_catalog "
    "AND k.schema_name = c.table_schema AND k.table_name = c.table_name "
    "AND k.constraint_type = 'PRIMARY KEY' "
    "AND list_contains(k.constraint_column_names, c.column_name)) "
    "FROM information_schema.columns c WHERE c.table_name = ? "
    "AND c.table_catalog = current_database() "
    "AND c.table_schema = COALESCE(?, current_schema()) "
    "ORDER BY c.ordinal_position"
)
_DUCKDB_CONSTRAINTS = (
    "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names "
    "FROM duckdb_constraints() WHERE table_name = ? AND database_name = current_database() "
    "AND schema_name = COALESCE(?, current_schema()) "
    "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
)
_DUCKDB_INDEXES = (
    "SELECT is_unique, sql FROM duckdb_indexes() WHERE table_name = ? "
    "AND database_name = current_database() AND schema_name = COALESCE(?, current_schema())"
)


def _duckdb_columns(fetch: Fetch, table: str, schema: str | None) -> list[LiveColumn]:
    return [LiveColumn(str(name), str(type_), bool(notnull), bool(default), int(bool(pk)))
            for name, type_, notnull, default, pk in fetch(_DUCKDB_COLUMNS, (table, schema))]


def _duckdb_index_columns(sql: str, fold: Callable[[str], str]) -> tuple[str, ...] | None:
    """The columns of a CREATE INDEX statement as DuckDB stores it (None: not understood)."""
    try:
        create = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None
    params = create.this.args.get("params") if isinstance(create.this, exp.Index) else None
    if params is None:
        return None
    out = []
    for part in params.args.get("columns") or ():
        target = part.this if isinstance(part, exp.Ordered) else part
        out.append(fold(target.name) if isinstance(target, exp.Column) else "\0")
    return tuple(out)


def _duckdb_indexes(fetch: Fetch, table: str, schema: str | None, fold: Callable[[str], str],
                    columns: list[LiveColumn]) -> list[LiveIndex]:
    out = [LiveIndex(tuple(fold(c) for c in columns), True)
           for kind, columns, _, _ in fetch(_DUCKDB_CONSTRAINTS, (table, schema))
           if kind in ("PRIMARY KEY", "UNIQUE")]
    for unique, sql in fetch(_DUCKDB_INDEXES, (table, schema)):
        parts = _duckdb_index_columns(str(sql or ""), fold)
        if parts:
            out.append(LiveIndex(parts, bool(unique)))
    return out


def _duckdb_foreign_keys(fetch: Fetch, table: str, schema: str | None,
                         fold: Callable[[str], str]) -> list[LiveForeignKey]:
    # DuckDB's foreign keys only refuse the delete, and its catalog keeps no action for them.
    return [LiveForeignKey(fold(columns[0]), fold(str(target)), fold(targets[0]), "no action")
            for kind, columns, target, targets in fetch(_DUCKDB_CONSTRAINTS, (table, schema))
            if kind == "FOREIGN KEY" and len(columns) == 1]


_REFUSING = frozenset(("restrict", "no action"))

DUCKDB = Reader(
    columns=_duckdb_columns,
    indexes=_duckdb_indexes,
    foreign_keys=_duckdb_foreign_keys,
    # DuckDB's identifiers are case-insensitive, quoted or not.
    fold=_casefold,
    # DuckDB keeps no VARCHAR length: VARCHAR(20) reads back as VARCHAR (sqlglot: TEXT).
    same_type=lambda expected, actual: (_canonical_type(expected, "duckdb")
                                        == _canonical_type(actual, "duckdb")),
    same_action=lambda a, b: a == b or {a, b} <= _REFUSING,
)

_READERS = {"sqlite": SQLITE, "postgres": POSTGRES, "duckdb": DUCKDB}


def reader(dialect: str) -> Reader | None:
    """The catalog reader for ``dialect``, or None when there is none (MySQL)."""
    return _READERS.get(dialect)
