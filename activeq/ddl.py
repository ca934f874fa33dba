"""CREATE TABLE / CREATE INDEX statements derived from a model, per dialect."""

from __future__ import annotations

import decimal
import math
from typing import Any

import sqlglot
from pydantic_core import PydanticUndefined
from sqlglot import exp

from .compiler import ident, table_exp
from .dialects import get as get_dialect
from .types import IntType

__all__ = ["create_table_statements", "drop_table_statement", "sequence_name"]


def _literal(column: Any, dialect: Any) -> exp.Expression | None:
    """The column default as an SQL literal in its stored form, or None when it has none."""
    value = column.default
    if value is PydanticUndefined or value is None:
        return None
    bind = column.type.bind(dialect.NAME)
    try:
        stored = value if bind is None else bind(value)
    except Exception:  # a default the column cannot hold is pydantic's to report
        return None
    if isinstance(stored, bool):
        if dialect.NAME == "sqlite":
            return exp.Literal.number(int(stored))
        return exp.Boolean(this=stored)
    if isinstance(stored, (int, float)) and math.isfinite(stored):
        return exp.Literal.number(stored)
    if isinstance(stored, str):
        return exp.Literal.string(stored)
    if isinstance(stored, decimal.Decimal) and stored.is_finite():
        return exp.Literal.number(str(stored))
    return None


def sequence_name(table: str, column: str) -> str:
    """The sequence that numbers an integer primary key on DuckDB."""
    return f"{table}_{column}_seq"


_IDENTITY: dict[str, Any] = {
    "postgres": lambda: exp.GeneratedAsIdentityColumnConstraint(this=False),
    "mysql": exp.AutoIncrementColumnConstraint,
}


def _column_def(column: Any, dialect: Any, table: str) -> exp.ColumnDef:
    if column.ddl is not None and dialect.NAME == "sqlite":
        # A __mapping__ override is the user's own (SQLite) DDL for this column: kept verbatim.
        return exp.ColumnDef(this=ident(column.column), kind=exp.Var(this=column.ddl))
    if column.ddl is not None:
        # For other dialects, parse it as SQLite and let sqlglot render it for the target.
        parsed = sqlglot.parse_one(
            f"CREATE TABLE t ({exp.to_identifier(column.column, quoted=True).sql('sqlite')} {column.ddl})",
            read="sqlite",
        )
        for default in parsed.find_all(exp.DefaultColumnConstraint):
            # SQLite reads DEFAULT "text" as a string when no such column exists; elsewhere
            # double quotes name an identifier, so carry the value over as a string literal.
            if isinstance(default.this, exp.Column) and not default.this.table:
                default.set("this", exp.Literal.string(default.this.name))
        return parsed.this.expressions[0]  # type: ignore[no-any-return]
    constraints = []
    serial = column.primary_key and isinstance(column.type, IntType)
    if serial and dialect.NAME in _IDENTITY:
        # SQLite's INTEGER PRIMARY KEY numbers rows by itself; elsewhere the key must be
        # declared as generated, or inserting a new record (primary key None) would fail.
        constraints.append(exp.ColumnConstraint(kind=_IDENTITY[dialect.NAME]()))
    elif serial and dialect.NAME == "duckdb":
        # DuckDB has no identity columns: a sequence (created with the table) numbers them.
        constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(
            this=exp.Anonymous(this="nextval", expressions=[
                exp.Literal.string(sequence_name(table, column.column))]))))
    if column.primary_key:
        constraints.append(exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint()))
    elif not column.nullable:
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    if column.unique and not column.primary_key:
        constraints.append(exp.ColumnConstraint(kind=exp.UniqueColumnConstraint()))
    literal = _literal(column, dialect)
    if literal is not None:
        constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=literal)))
    return exp.ColumnDef(
        this=ident(column.column),
        # The type's own name for this dialect, verbatim (sqlglot would rename some on SQLite).
        kind=exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=column.type.ddl(dialect.NAME)),
        constraints=constraints,
    )


def create_table_statements(model: Any, dialect_name: str = "sqlite",
                            if_not_exists: bool = True) -> list[str]:
    """The CREATE TABLE statement and one CREATE INDEX per indexed column."""
    dialect = get_dialect(dialect_name)
    info = model.__aq__
    schema = exp.Schema(
        this=table_exp(info.table),
        expressions=[_column_def(c, dialect, info.table) for c in info.columns],
    )
    create = exp.Create(this=schema, kind="TABLE", exists=if_not_exists)
    statements = []
    pk = info.pk
    if dialect.NAME == "duckdb" and pk is not None and pk.ddl is None and isinstance(pk.type, IntType):
        statements.append(exp.Create(
            this=exp.Table(this=ident(sequence_name(info.table, pk.column))),
            kind="SEQUENCE", exists=if_not_exists).sql(dialect=dialect.SQLGLOT))
    statements.append(create.sql(dialect=dialect.SQLGLOT))
    for column in info.columns:
        if column.index and not column.unique and not column.primary_key:
            index = exp.Create(
                this=exp.Index(
                    this=ident(f"idx_{info.table}_{column.column}"),
                    table=table_exp(info.table),
                    params=exp.IndexParameters(columns=[exp.Ordered(this=exp.Column(this=ident(column.column)), nulls_first=dialect.NULLS_ARE == "small")]),
                ),
                kind="INDEX",
                exists=if_not_exists,
            )
            statements.append(index.sql(dialect=dialect.SQLGLOT))
    return statements


def drop_table_statement(model: Any, dialect_name: str = "sqlite", if_exists: bool = True) -> str:
    """DROP TABLE for the model's table."""
    dialect = get_dialect(dialect_name)
    return exp.Drop(tables=[table_exp(model.__aq__.table)], kind="TABLE", exists=if_exists).sql(
        dialect=dialect.SQLGLOT
    )
