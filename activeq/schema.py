"""Schema drift: how a model's table in the database differs from what ``create_tables`` emits.

The expected side is the model's own DDL (``activeq.ddl``), so a ``__mapping__`` override or a
type's per-dialect name is expected exactly as it would be created. The live side is read from
the database's catalog (``activeq.catalog``: SQLite, PostgreSQL and DuckDB, the table name
bound as a parameter, never spliced into SQL). Each difference is a small frozen record with a
readable ``str()`` and, where one exists, the DDL that removes it.

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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from .catalog import Fetch, LiveColumn, LiveTable, Reader
from .catalog import reader as catalog_reader
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
    "differences",
]


# --- the differences ------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaDifference:
    """One way a model's table differs from what ``create_tables`` would create."""

    table: str
    """The table's name (``schema.table`` for a model with ``__schema__``)."""
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
    note: str = ""
    """How the database lets a foreign key be changed, when it restricts that."""

    def __str__(self) -> str:
        if self.actual_on_delete is None:
            found = "the table has no such foreign key"
        else:
            found = f"the table's foreign key has ON DELETE {self.actual_on_delete.upper()}"
        text = f"{self.table}: {self.model} declares {self.clause}, but {found}"
        return f"{text} ({self.note})" if self.note else text


# --- what the model expects ------------------------------------------------------------------


@dataclass(frozen=True)
class _ExpectedColumn:
    type: str | None
    """The declared type, or None when the DDL could not be read (then it is not compared)."""
    notnull: bool | None
    has_default: bool
    pk: bool
    unique: bool


def _expected_column(column: Any, info: Any, dialect: str) -> _ExpectedColumn:
    definition = column_definition(column, dialect, info)
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


def _add_column_note(expected: _ExpectedColumn, dialect: str) -> str:
    if dialect != "sqlite":
        if expected.notnull and not expected.has_default:
            return "a NOT NULL column without a DEFAULT can only be added while the table is empty"
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


def _missing_columns(model: Any, live: dict[str, LiveColumn], fold: Callable[[str], str],
                     dialect: str) -> list[SchemaDifference]:
    info = model.__aq__
    out: list[SchemaDifference] = []
    for column in info.columns:
        if fold(column.column) not in live:
            note = _add_column_note(_expected_column(column, info, dialect), dialect)
            out.append(MissingColumn(_label(info), model.__name__, column.column, column.name,
                                     add_column_statement(model, column.name, dialect), note))
    return out


def _compare(model: Any, live: LiveTable, reader: Reader, dialect: str) -> list[SchemaDifference]:
    info = model.__aq__
    name = model.__name__
    table = _label(info)
    fold = reader.fold
    out = _missing_columns(model, live.columns, fold, dialect)
    for column in info.columns:
        found = live.columns.get(fold(column.column))
        if found is None:
            continue
        expected = _expected_column(column, info, dialect)
        if expected.type is not None and not reader.same_type(expected.type, found.type):
            out.append(TypeMismatch(table, name, found.name, column.name, expected.type,
                                    found.type))
        if (expected.notnull is not None and not expected.pk and not found.pk
                and expected.notnull != found.notnull):
            out.append(NullabilityMismatch(table, name, found.name, column.name,
                                           not expected.notnull))
    mapped = {fold(c.column) for c in info.columns}
    for key, found in live.columns.items():
        if key not in mapped and found.notnull and not found.has_default and not found.pk:
            out.append(ExtraColumn(table, name, found.name, found.type))
    out.extend(
        MissingIndex(table, name, index.columns, index.unique,
                     create_index_statement(info.table, index, dialect, if_not_exists=False,
                                            schema=info.schema))
        for index in expected_indexes(info) if not _has_index(live, index, fold)
    )
    for fk in foreign_keys(model):
        actual = _live_action(live, fk, fold)
        if actual is None or not reader.same_action(actual, fk.on_delete):
            out.append(MissingForeignKey(
                table, name, fk.column, f"{fk.table}.{fk.target_column}", fk.on_delete,
                actual, foreign_key_sql(fk, dialect), _FOREIGN_KEY_NOTES.get(dialect, "")))
    return out


_FOREIGN_KEY_NOTES = {
    "sqlite": "SQLite changes foreign keys only by rebuilding the table",
    "duckdb": "DuckDB takes foreign keys only when the table is created",
}


def _has_index(live: LiveTable, index: TableIndex, fold: Callable[[str], str]) -> bool:
    wanted = tuple(fold(c) for c in index.columns)
    for found in live.indexes:
        if index.unique:
            # Uniqueness over a set of columns does not depend on their order in the index.
            if found.unique and sorted(found.columns) == sorted(wanted):
                return True
        elif found.columns == wanted:
            return True
    return False


def _live_action(live: LiveTable, fk: ForeignKey, fold: Callable[[str], str]) -> str | None:
    for found in live.foreign_keys:
        if (found.column == fold(fk.column) and found.table == fold(fk.table)
                and found.target_column in (None, fold(fk.target_column))):
            return found.on_delete
    return None


# --- entry points --------------------------------------------------------------------------------


def differences(fetch: Fetch, dialect: str, models: Iterable[Any]) -> list[SchemaDifference]:
    """Every difference between the models and their tables, model by model.

    Args:
        fetch: runs one catalog query, ``fetch(sql, params) -> rows``, on the database.
        dialect: the database's dialect: 'sqlite', 'postgres' or 'duckdb'.
        models: model classes.
    """
    reader = _reader(dialect)
    out: list[SchemaDifference] = []
    for model in models:
        _require_model(model)
        info = model.__aq__
        live = reader.read(fetch, info.table, info.schema)
        if live is None:
            statements = tuple(create_table_statements(model, dialect, if_not_exists=False))
            out.append(MissingTable(_label(info), model.__name__, statements))
        else:
            out.extend(_compare(model, live, reader, dialect))
    return out


def check_schema(db: Database, models: Iterable[Any]) -> list[SchemaDifference]:
    """:func:`differences` on a ``Database``."""
    return differences(schema_fetcher(db), db.dialect, models)


def check_bind(db: Database, models: Sequence[Any]) -> None:
    """Raise ``SchemaError`` when an existing table lacks a column of its model.

    One catalog read per model; a table that does not exist yet is left to ``create_tables``.
    """
    reader = catalog_reader(db.dialect)
    if reader is None:
        return
    fetch = schema_fetcher(db)
    missing: list[SchemaDifference] = []
    for model in models:
        if "__aq__" not in model.__dict__:
            continue
        columns = reader.columns(fetch, model.__aq__.table, model.__aq__.schema)
        if columns:
            live = {reader.fold(c.name): c for c in columns}
            missing.extend(_missing_columns(model, live, reader.fold, db.dialect))
    if missing:
        raise SchemaError(_message("the database's tables lack columns the models map", missing),
                          missing)


def check_before_create(db: Database, models: Sequence[Any]) -> None:
    """Raise ``SchemaError`` when a table ``create_tables`` would keep differs from its model.

    Missing tables and plain indexes are not differences here: ``create_tables`` creates them.
    """
    if catalog_reader(db.dialect) is None:
        return
    found = [
        d for d in check_schema(db, models)
        if not isinstance(d, MissingTable) and not (isinstance(d, MissingIndex) and not d.unique)
    ]
    if found:
        raise SchemaError(
            _message("create_tables found existing tables whose shape differs from their models",
                     found), found)


def _label(info: Any) -> str:
    return info.table if info.schema is None else f"{info.schema}.{info.table}"


def schema_fetcher(db: Database) -> Fetch:
    """``fetch(sql, params) -> rows`` on ``db``, for the catalog readers."""

    def fetch(sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return db.execute(sql, tuple(params)).fetchall()

    return fetch


def _reader(dialect: str) -> Reader:
    reader = catalog_reader(dialect)
    if reader is None:
        raise UnsupportedError("check_schema", dialect,
                               "the live schema is read on sqlite, postgres and duckdb")
    return reader


def _message(head: str, found: Sequence[SchemaDifference]) -> str:
    return head + ":\n" + "\n".join(f"  - {d}" for d in found)


def _require_model(model: Any) -> None:
    if "__aq__" not in getattr(model, "__dict__", {}):
        raise SchemaError(
            f"check_schema takes model classes and Tables mapped to tables, not {model!r}")
