"""CREATE TABLE / CREATE INDEX statements derived from a model, per dialect."""

from __future__ import annotations

from typing import Any

import sqlglot
from pydantic_core import PydanticUndefined
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from .compiler import ident, table_exp
from .dialects import get as get_dialect
from .errors import CompileError

__all__ = ["check_column_ddl", "create_table_statements", "drop_table_statement"]


def check_column_ddl(owner: str, ddl: Any) -> str:
    """A ``__mapping__`` column definition that stays inside its column: no ``;``, no
    comment, no ``,`` or ``)`` that would end the column, brackets balanced.

    It is written into CREATE TABLE verbatim, so this is checked when the class is defined.
    """
    if not isinstance(ddl, str) or not ddl.strip():
        raise CompileError(f"{owner}: a column definition must be non-empty SQL text, not {ddl!r}")
    try:
        tokens = sqlglot.Dialect.get_or_raise("sqlite").tokenize(ddl)
    except SqlglotError as e:
        raise CompileError(f"{owner}: cannot read the column definition {ddl!r}: {e}") from None
    depth = 0
    for token in tokens:
        kind = token.token_type
        if token.comments or kind == TokenType.SEMICOLON:
            problem = "a comment" if token.comments else "';'"
        elif kind == TokenType.L_PAREN:
            depth += 1
            continue
        elif kind == TokenType.R_PAREN and depth > 0:
            depth -= 1
            continue
        elif kind in (TokenType.R_PAREN, TokenType.COMMA) and depth == 0:
            problem = f"{token.text!r} outside brackets"
        else:
            continue
        raise CompileError(
            f"{owner}: the column definition {ddl!r} holds {problem}; it must describe one "
            "column (type and constraints) only")
    if depth:
        raise CompileError(f"{owner}: the column definition {ddl!r} leaves a bracket open")
    return ddl


def _literal(value: Any) -> exp.Expression | None:
    if isinstance(value, bool):
        return exp.Literal.number(int(value))
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    if isinstance(value, str):
        return exp.Literal.string(value)
    return None


_IDENTITY: dict[str, Any] = {
    "postgres": lambda: exp.GeneratedAsIdentityColumnConstraint(this=False),
    "mysql": exp.AutoIncrementColumnConstraint,
}


def _column_def(column: Any, dialect: Any) -> exp.ColumnDef:
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
    if column.primary_key and column.python_type is int and dialect.NAME in _IDENTITY:
        # SQLite's INTEGER PRIMARY KEY numbers rows by itself; elsewhere the key must be
        # declared as generated, or inserting a new record (primary key None) would fail.
        constraints.append(exp.ColumnConstraint(kind=_IDENTITY[dialect.NAME]()))
    if column.primary_key:
        constraints.append(exp.ColumnConstraint(kind=exp.PrimaryKeyColumnConstraint()))
    elif not column.nullable:
        constraints.append(exp.ColumnConstraint(kind=exp.NotNullColumnConstraint()))
    if column.unique and not column.primary_key:
        constraints.append(exp.ColumnConstraint(kind=exp.UniqueColumnConstraint()))
    if column.default is not PydanticUndefined and column.default is not None:
        literal = _literal(column.default.value if hasattr(column.default, "value") else column.default)
        if literal is not None:
            constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(this=literal)))
    return exp.ColumnDef(
        this=ident(column.column),
        kind=exp.DataType.build(column.sql_type, dialect=dialect.SQLGLOT),
        constraints=constraints,
    )


def create_table_statements(model: Any, dialect_name: str = "sqlite",
                            if_not_exists: bool = True) -> list[str]:
    """The CREATE TABLE statement and one CREATE INDEX per indexed column."""
    dialect = get_dialect(dialect_name)
    info = model.__aq__
    schema = exp.Schema(
        this=table_exp(info.table),
        expressions=[_column_def(c, dialect) for c in info.columns],
    )
    create = exp.Create(this=schema, kind="TABLE", exists=if_not_exists)
    statements = [create.sql(dialect=dialect.SQLGLOT)]
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
