"""Schema drift: how a model's table in the database differs from what ``create_tables`` emits.

The expected side is the model's own DDL (``activeq.ddl``), so a ``__mapping__`` override or a
type's per-dialect name is expected exactly as it would be created. The live side is read from
the database catalog (SQLite: ``pragma_table_info``, ``pragma_index_list``/``pragma_index_info``
and ``pragma_foreign_key_list``, with the table name bound as a parameter, never spliced into
SQL). Each difference is a small frozen record with a readable ``str()`` and, where one
exists, the DDL that removes it.

>>> from activeq import ActiveRecord, Database, Field
>>> class Plant(ActiveRecord):
...     __table_name__ = 'plants'
...     id: int = Field(primary_key=True)
...     name: str
...     nickname: str | None = None
>>> db = Database(':memory:')
>>> _ = db.execute('CREATE TABLE plants (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
>>> for difference in db.check_schema(Plant):
...     print(difference)
plants: column "nickname" (Plant.nickname) is missing; add it with: ALTER TABLE "plants" ADD COLUMN "nickname" TEXT
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from .constraints import ForeignKey, TableIndex, expected_indexes, foreign_keys
from .ddl import (
    add_column_statement,
    column_definition,
    create_index_statement,
    create_table_statements,
    foreign_key_sql,
)
from .errors import SchemaError, UnsupportedError

if TYPE_CHECKING:
    from .database import Database

__all__ = [
    "ExtraColumn",
    "MissingColumn",
    "MissingForeignKey",
    "MissingIndex",
    "MissingTable",
    "NullabilityMismatch",
    "SchemaDifference",
    "TypeMismatch",
    "check_before_create",
    "check_bind",
    "check_schema",
]


# --- the differences ------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaDifference:
    """One way a model's table differs from what ``create_tables`` would create."""

    table: str
    """The table's name."""
    model: str
    """The model's class name."""

    @property
    def ddl(self) -> str | None:
        """SQL that removes the difference, when there is a plain statement for it."""
        return None


@dataclass(frozen=True)
class MissingTable(SchemaDifference):
    """The model's table does not exist."""

    statements: tuple[str, ...]
    """The CREATE TABLE and CREATE INDEX statements ``create_tables`` would run."""

    @property
    def ddl(self) -> str | None:
        return ";\n".join(self.statements)

    def __str__(self) -> str:
        return f"{self.table}: the table of {self.model} does not exist; create it with: {self.ddl}"


@dataclass(frozen=True)
class MissingColumn(SchemaDifference):
    """A field of the model has no column in the table: every full read of the model fails."""

    column: str
    """The column's name."""
    field: str
    """The model attribute mapped to it."""
    statement: str
    """``ALTER TABLE ... ADD COLUMN ...`` with the column as ``create_tables`` defines it."""
    note: str = ""
    """Why the statement may not run as is, when the database restricts ADD COLUMN."""

    @property
    def ddl(self) -> str | None:
        return self.statement

    def __str__(self) -> str:
        text = (f'{self.table}: column "{self.column}" ({self.model}.{self.field}) is missing; '
                f"add it with: {self.statement}")
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class ExtraColumn(SchemaDifference):
    """A NOT NULL column without a default that the model does not map: its inserts fail."""

    column: str
    """The column's name."""
    declared_type: str
    """Its declared type in the table."""

    def __str__(self) -> str:
        return (f'{self.table}: column "{self.column}" is NOT NULL without a default and '
                f"{self.model} has no field for it, so inserting a {self.model} fails")


@dataclass(frozen=True)
class TypeMismatch(SchemaDifference):
    """A column's declared type differs from the type the model's field would create."""

    column: str
    """The column's name."""
    field: str
    """The model attribute mapped to it."""
    expected: str
    """The type ``create_tables`` would declare."""
    actual: str
    """The type the table declares (empty when it declares none)."""

    def __str__(self) -> str:
        actual = self.actual or "no type"
        return (f'{self.table}: column "{self.column}" is declared {actual}, but '
                f"{self.model}.{self.field} is stored as {self.expected}")


@dataclass(frozen=True)
class NullabilityMismatch(SchemaDifference):
    """The column and the model disagree on whether NULL is allowed."""

    column: str
    """The column's name."""
    field: str
    """The model attribute mapped to it."""
    model_nullable: bool
    """Whether the model's column allows NULL."""

    def __str__(self) -> str:
        where = f'{self.table}: column "{self.column}"'
        if self.model_nullable:
            return (f"{where} is NOT NULL, but {self.model}.{self.field} is optional: "
                    "saving None fails")
        return (f"{where} allows NULL, but {self.model}.{self.field} is required: "
                "NULLs in the table read back as None")


@dataclass(frozen=True)
class MissingIndex(SchemaDifference):
    """An index or unique constraint the model declares is not on the table."""

    columns: tuple[str, ...]
    """The indexed columns, in order."""
    unique: bool
    """Whether it is a unique index (a constraint the data may not satisfy yet)."""
    statement: str
    """The CREATE [UNIQUE] INDEX statement that adds it."""

    @property
    def ddl(self) -> str | None:
        return self.statement

    def __str__(self) -> str:
        kind = "unique index" if self.unique else "index"
        columns = ", ".join(f'"{c}"' for c in self.columns)
        return f"{self.table}: no {kind} on ({columns}); add it with: {self.statement}"


@dataclass(frozen=True)
class MissingForeignKey(SchemaDifference):
    """A FOREIGN KEY from ``belongs_to(..., on_delete=...)`` is absent, or acts differently."""

    column: str
    """The referring column."""
    references: str
    """The referenced ``table.column``."""
    on_delete: str
    """The declared ON DELETE action."""
    actual_on_delete: str | None
    """The action of the table's foreign key on these columns, or None when it has none."""
    clause: str
    """The FOREIGN KEY clause ``create_tables`` would emit."""

    def __str__(self) -> str:
        if self.actual_on_delete is None:
            found = "the table has no such foreign key"
        else:
            found = f"the table's foreign key has ON DELETE {self.actual_on_delete.upper()}"
        return (f"{self.table}: {self.model} declares {self.clause}, but {found} "
                "(SQLite changes foreign keys only by rebuilding the table)")


# --- reading the live table ------------------------------------------------------------------


@dataclass(frozen=True)
class _LiveColumn:
    name: str
    type: str
    notnull: bool
    has_default: bool
    pk: int
    """Position in the primary key (1-based), 0 when not part of it."""


@dataclass(frozen=True)
class _LiveTable:
    columns: dict[str, _LiveColumn]
    """By case-folded name (SQLite's identifiers are case-insensitive)."""
    indexes: list[tuple[tuple[str, ...], bool]]
    """(case-folded columns, unique) of every full (non-partial) index, the primary key's too."""
    foreign_keys: list[tuple[str, str, str | None, str]]
    """(case-folded column, case-folded table, referenced column or None, on_delete)."""


_COLUMNS_SQL = 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)'
_INDEXES_SQL = (
    'SELECT il.name, il."unique", il.partial, ii.name FROM pragma_index_list(?) AS il, '
    "pragma_index_info(il.name) AS ii ORDER BY il.seq, ii.seqno"
)
_FOREIGN_KEYS_SQL = 'SELECT id, "table", "from", "to", on_delete FROM pragma_foreign_key_list(?)'


def _sqlite_columns(db: Database, table: str) -> dict[str, _LiveColumn]:
    rows = db.execute(_COLUMNS_SQL, (table,)).fetchall()
    return {
        str(name).casefold(): _LiveColumn(str(name), str(type_ or ""), bool(notnull),
                                          default is not None, int(pk))
        for name, type_, notnull, default, pk in rows
    }


def _sqlite_table(db: Database, table: str) -> _LiveTable | None:
    columns = _sqlite_columns(db, table)
    if not columns:
        return None
    grouped: dict[str, tuple[list[str], bool, bool]] = {}
    for name, unique, partial, column in db.execute(_INDEXES_SQL, (table,)).fetchall():
        entry = grouped.setdefault(str(name), ([], bool(unique), bool(partial)))
        # An expression column has no name: such an index never matches a column list.
        entry[0].append(str(column).casefold() if column is not None else "\0")
    indexes = [(tuple(cols), unique) for cols, unique, partial in grouped.values() if not partial]
    pk = tuple(key for key, col in sorted(columns.items(), key=lambda item: item[1].pk) if col.pk)
    if pk:
        indexes.append((pk, True))
    foreign = [
        (str(column).casefold(), str(target).casefold(), None if to is None else str(to),
         str(action).lower())
        for _, target, column, to, action in db.execute(_FOREIGN_KEYS_SQL, (table,)).fetchall()
    ]
    return _LiveTable(columns, indexes, foreign)


# Per dialect: (read the columns only, read the whole table); None when the table is absent.
_READERS = {"sqlite": (_sqlite_columns, _sqlite_table)}


def _read(db: Database, table: str) -> _LiveTable | None:
    readers = _READERS.get(db.dialect)
    if readers is None:
        raise UnsupportedError("check_schema", db.dialect,
                               "reading the live schema is implemented for sqlite")
    return readers[1](db, table)


# --- what the model expects ------------------------------------------------------------------


@dataclass(frozen=True)
class _ExpectedColumn:
    type: str | None
    """The declared type, or None when the DDL could not be read (then it is not compared)."""
    notnull: bool | None
    has_default: bool
    pk: bool
    unique: bool


def _expected_column(column: Any, dialect: str) -> _ExpectedColumn:
    definition = column_definition(column, dialect)
    if isinstance(definition.args.get("kind"), exp.Var):
        # A __mapping__ override kept verbatim: read it the way the other dialects do.
        try:
            parsed = sqlglot.parse_one(f'CREATE TABLE t ("c" {column.ddl})', read="sqlite")
            definition = parsed.this.expressions[0]
        except (sqlglot.errors.ParseError, AttributeError, IndexError):
            return _ExpectedColumn(None, None, "DEFAULT" in column.ddl.upper(),
                                   column.primary_key, False)
    kinds = [c.args.get("kind") for c in definition.args.get("constraints") or ()]
    kind = definition.args.get("kind")
    return _ExpectedColumn(
        type=kind.sql(dialect=dialect) if kind is not None else "",
        notnull=any(isinstance(k, exp.NotNullColumnConstraint) and not k.args.get("allow_null")
                    for k in kinds),
        has_default=any(isinstance(k, exp.DefaultColumnConstraint) for k in kinds),
        pk=any(isinstance(k, exp.PrimaryKeyColumnConstraint) for k in kinds),
        unique=any(isinstance(k, exp.UniqueColumnConstraint) for k in kinds),
    )


def _sqlite_affinity(declared: str) -> str:
    """SQLite's type affinity for a declared type (its rules, in order, from datatype3.html).

    INTEGER and NUMERIC affinity store every value alike (they differ only in CAST), so
    both read as NUMERIC here.
    """
    name = declared.upper()
    if "INT" in name:
        return "NUMERIC"
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return "TEXT"
    if "BLOB" in name or not name.strip():
        return "BLOB"
    if "REAL" in name or "FLOA" in name or "DOUB" in name:
        return "REAL"
    return "NUMERIC"


def _same_type(expected: str, actual: str, dialect: str) -> bool:
    if dialect == "sqlite":
        return _sqlite_affinity(expected) == _sqlite_affinity(actual)
    return "".join(expected.upper().split()) == "".join(actual.upper().split())


def _add_column_note(expected: _ExpectedColumn, dialect: str) -> str:
    if dialect != "sqlite":
        return ""
    if expected.pk:
        return "SQLite cannot add a PRIMARY KEY column: rebuild the table"
    if expected.unique:
        return ("SQLite cannot add a UNIQUE column: add it without UNIQUE, then create a "
                "unique index on it")
    if expected.notnull and not expected.has_default:
        return ("SQLite adds a NOT NULL column only with a DEFAULT: give the field a default, "
                "or make it optional")
    return ""


# --- comparing ----------------------------------------------------------------------------------


def _missing_columns(model: Any, live: dict[str, _LiveColumn], dialect: str) -> list[SchemaDifference]:
    info = model.__aq__
    out: list[SchemaDifference] = []
    for column in info.columns:
        if column.column.casefold() not in live:
            note = _add_column_note(_expected_column(column, dialect), dialect)
            out.append(MissingColumn(info.table, model.__name__, column.column, column.name,
                                     add_column_statement(model, column.name, dialect), note))
    return out


def _compare(model: Any, live: _LiveTable, dialect: str) -> list[SchemaDifference]:
    info = model.__aq__
    name = model.__name__
    out = _missing_columns(model, live.columns, dialect)
    mapped = {c.column.casefold() for c in info.columns}
    for column in info.columns:
        found = live.columns.get(column.column.casefold())
        if found is None:
            continue
        expected = _expected_column(column, dialect)
        if expected.type is not None and not _same_type(expected.type, found.type, dialect):
            out.append(TypeMismatch(info.table, name, found.name, column.name, expected.type,
                                    found.type))
        if (expected.notnull is not None and not expected.pk and not found.pk
                and expected.notnull != found.notnull):
            out.append(NullabilityMismatch(info.table, name, found.name, column.name,
                                           not expected.notnull))
    for key, found in live.columns.items():
        if key not in mapped and found.notnull and not found.has_default and not found.pk:
            out.append(ExtraColumn(info.table, name, found.name, found.type))
    out.extend(_missing_indexes(model, live, dialect))
    out.extend(_missing_foreign_keys(model, live, dialect))
    return out


def _has_index(live: _LiveTable, index: TableIndex) -> bool:
    wanted = tuple(c.casefold() for c in index.columns)
    for columns, unique in live.indexes:
        if index.unique:
            # Uniqueness over a set of columns does not depend on their order in the index.
            if unique and sorted(columns) == sorted(wanted):
                return True
        elif columns == wanted:
            return True
    return False


def _missing_indexes(model: Any, live: _LiveTable, dialect: str) -> list[SchemaDifference]:
    info = model.__aq__
    return [
        MissingIndex(info.table, model.__name__, index.columns, index.unique,
                     create_index_statement(info.table, index, dialect, if_not_exists=False))
        for index in expected_indexes(info) if not _has_index(live, index)
    ]


def _missing_foreign_keys(model: Any, live: _LiveTable, dialect: str) -> list[SchemaDifference]:
    info = model.__aq__
    out: list[SchemaDifference] = []
    for fk in foreign_keys(model):
        actual = _live_action(live, fk)
        if actual != fk.on_delete:
            out.append(MissingForeignKey(
                info.table, model.__name__, fk.column, f"{fk.table}.{fk.target_column}",
                fk.on_delete, actual, foreign_key_sql(fk, dialect)))
    return out


def _live_action(live: _LiveTable, fk: ForeignKey) -> str | None:
    for column, table, target, action in live.foreign_keys:
        if (column == fk.column.casefold() and table == fk.table.casefold()
                and (target is None or target.casefold() == fk.target_column.casefold())):
            return action
    return None


# --- entry points --------------------------------------------------------------------------------


def check_schema(db: Database, models: Iterable[Any]) -> list[SchemaDifference]:
    """Every difference between the models and their tables in ``db``, model by model."""
    out: list[SchemaDifference] = []
    for model in models:
        _require_model(model)
        live = _read(db, model.__aq__.table)
        if live is None:
            statements = tuple(create_table_statements(model, db.dialect, if_not_exists=False))
            out.append(MissingTable(model.__aq__.table, model.__name__, statements))
        else:
            out.extend(_compare(model, live, db.dialect))
    return out


def check_bind(db: Database, models: Sequence[Any]) -> None:
    """Raise ``SchemaError`` when an existing table lacks a column of its model.

    One catalog read per model; a table that does not exist yet is left to ``create_tables``.
    """
    readers = _READERS.get(db.dialect)
    if readers is None:
        return
    missing: list[SchemaDifference] = []
    for model in models:
        if "__aq__" not in model.__dict__:
            continue
        live = readers[0](db, model.__aq__.table)
        if live:
            missing.extend(_missing_columns(model, live, db.dialect))
    if missing:
        raise SchemaError(_message("the database's tables lack columns the models map", missing),
                          missing)


def check_before_create(db: Database, models: Sequence[Any]) -> None:
    """Raise ``SchemaError`` when a table ``create_tables`` would keep differs from its model.

    Missing tables and plain indexes are not differences here: ``create_tables`` creates them.
    """
    if db.dialect not in _READERS:
        return
    found = [
        d for d in check_schema(db, models)
        if not isinstance(d, MissingTable) and not (isinstance(d, MissingIndex) and not d.unique)
    ]
    if found:
        raise SchemaError(
            _message("create_tables found existing tables whose shape differs from their models",
                     found), found)


def _message(head: str, differences: Sequence[SchemaDifference]) -> str:
    return head + ":\n" + "\n".join(f"  - {d}" for d in differences)


def _require_model(model: Any) -> None:
    if not isinstance(model, type) or "__aq__" not in getattr(model, "__dict__", {}):
        raise SchemaError(f"check_schema takes model classes mapped to tables, not {model!r}")
