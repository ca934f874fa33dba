"""CREATE TABLE / CREATE INDEX / ALTER TABLE statements derived from a model, per dialect."""

from __future__ import annotations

import decimal
import math
from typing import Any

import sqlglot
from pydantic_core import PydanticUndefined
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from .compiler import ident, model_table, table_exp
from .constraints import ForeignKey, TableIndex, foreign_keys, index_name
from .dialects import get as get_dialect
from .errors import CompileError, UnsupportedError
from .types import IntType

__all__ = ["add_column_statement", "check_column_ddl", "column_definition",
           "create_index_statement", "create_table_statements", "drop_table_statement",
           "foreign_key_sql", "sequence_name"]


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


def _sequence(info: Any) -> tuple[exp.Table, str] | None:
    """DuckDB's sequence for the model's integer primary key: its table node and nextval name."""
    pk = info.pk
    if pk is None or pk.ddl is not None or not isinstance(pk.type, IntType):
        return None
    name = sequence_name(info.table, pk.column)
    # nextval() reads its argument as a (quoted) qualified name.
    quoted = exp.to_identifier(name, quoted=True).sql("duckdb")
    if info.schema is not None:
        quoted = f"{exp.to_identifier(info.schema, quoted=True).sql('duckdb')}.{quoted}"
    return table_exp(name, info.schema), quoted


_IDENTITY: dict[str, Any] = {
    "postgres": lambda: exp.GeneratedAsIdentityColumnConstraint(this=False),
    "mysql": exp.AutoIncrementColumnConstraint,
}


def column_definition(column: Any, dialect_name: str = "sqlite", info: Any = None) -> exp.ColumnDef:
    """The column's definition (name, type, constraints) as ``create_tables`` emits it.

    ``info`` (the model's ``__aq__``) names DuckDB's key sequence in the default of an integer
    primary key; without it that default is left out.
    """
    return _column_def(column, get_dialect(dialect_name), info)


def _column_def(column: Any, dialect: Any, info: Any = None) -> exp.ColumnDef:
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
    elif serial and dialect.NAME == "duckdb" and info is not None:
        # DuckDB has no identity columns: a sequence (created with the table) numbers them.
        sequence = _sequence(info)
        if sequence is not None:
            constraints.append(exp.ColumnConstraint(kind=exp.DefaultColumnConstraint(
                this=exp.Anonymous(this="nextval", expressions=[exp.Literal.string(sequence[1])]))))
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
    """The CREATE TABLE statement (with its foreign keys and composite uniques), then one
    CREATE INDEX per index the model declares."""
    dialect = get_dialect(dialect_name)
    info = model.__aq__
    definitions: list[exp.Expression] = [_column_def(c, dialect, info) for c in info.columns]
    if info.composite_key:
        definitions.append(exp.PrimaryKey(expressions=[ident(c) for c in info.composite_key]))
    definitions.extend(_foreign_key(fk, dialect) for fk in foreign_keys(model))
    definitions.extend(
        exp.UniqueColumnConstraint(this=exp.Schema(expressions=[ident(c) for c in index.columns]))
        for index in info.indexes if index.unique
    )
    schema = exp.Schema(this=model_table(info), expressions=definitions)
    create = exp.Create(this=schema, kind="TABLE", exists=if_not_exists)
    statements = []
    sequence = _sequence(info) if dialect.NAME == "duckdb" else None
    if sequence is not None:
        statements.append(exp.Create(this=sequence[0], kind="SEQUENCE", exists=if_not_exists)
                          .sql(dialect=dialect.SQLGLOT))
    indexes = [
        TableIndex(index_name("idx", info.table, (c.column,)), (c.column,), False)
        for c in info.columns if c.index and not c.unique and not c.primary_key
    ]
    indexes.extend(index for index in info.indexes if not index.unique)
    if if_not_exists and not dialect.INDEX_IF_NOT_EXISTS:
        # No CREATE INDEX IF NOT EXISTS (MySQL 8): the indexes go inside the CREATE TABLE,
        # which IF NOT EXISTS already makes harmless to run again.
        definitions.extend(
            exp.IndexColumnConstraint(this=ident(index.name),
                                      expressions=[exp.Column(this=ident(c)) for c in index.columns])
            for index in indexes)
        indexes = []
    statements.append(create.sql(dialect=dialect.SQLGLOT))
    statements.extend(create_index_statement(info.table, index, dialect_name, if_not_exists,
                                             schema=info.schema)
                      for index in indexes)
    return statements


def create_index_statement(table: str, index: TableIndex, dialect_name: str = "sqlite",
                           if_not_exists: bool = True, schema: str | None = None) -> str:
    """CREATE [UNIQUE] INDEX for one index of ``table`` (in ``schema``, when given)."""
    dialect = get_dialect(dialect_name)
    if if_not_exists and not dialect.INDEX_IF_NOT_EXISTS:
        raise UnsupportedError("CREATE INDEX IF NOT EXISTS", dialect.NAME,
                               "pass if_not_exists=False, or let create_tables declare the "
                               "index inside CREATE TABLE")
    nulls_first = dialect.NULLS_ARE == "small"
    name: exp.Expression = ident(index.name)
    target = table_exp(table, schema)
    if schema is not None and dialect.NAME == "sqlite":
        # SQLite puts an index in its table's schema by naming the index, not the table.
        name = exp.Dot(this=ident(schema), expression=name)
        target = table_exp(table)
    create = exp.Create(
        this=exp.Index(
            this=name,
            table=target,
            params=exp.IndexParameters(columns=[
                exp.Ordered(this=exp.Column(this=ident(c)), nulls_first=nulls_first)
                for c in index.columns
            ]),
        ),
        kind="INDEX",
        unique=index.unique,
        exists=if_not_exists,
    )
    return create.sql(dialect=dialect.SQLGLOT)


def add_column_statement(model: Any, name: str, dialect_name: str = "sqlite") -> str:
    """ALTER TABLE ... ADD COLUMN for the model field ``name``, as ``create_tables`` defines it."""
    dialect = get_dialect(dialect_name)
    info = model.__aq__
    alter = exp.Alter(this=model_table(info), kind="TABLE",
                      actions=[_column_def(info.by_name[name], dialect, info)])
    return alter.sql(dialect=dialect.SQLGLOT)


def foreign_key_sql(fk: ForeignKey, dialect_name: str = "sqlite") -> str:
    """The FOREIGN KEY clause of ``fk`` as it appears in CREATE TABLE (for messages)."""
    dialect = get_dialect(dialect_name)
    return _foreign_key(fk, dialect).sql(dialect=dialect.SQLGLOT)


def _foreign_key(fk: ForeignKey, dialect: Any) -> exp.ForeignKey:
    if fk.on_delete not in dialect.FOREIGN_KEY_ACTIONS:
        allowed = " or ".join(repr(a) for a in dialect.FOREIGN_KEY_ACTIONS)
        raise UnsupportedError(
            f"FOREIGN KEY ... ON DELETE {fk.on_delete.upper()}", dialect.NAME,
            f"the foreign key {fk.column} -> {fk.table}.{fk.target_column} can only use "
            f"on_delete={allowed} there")
    # SQLite names the referenced table unqualified: a key never leaves its own database.
    schema = None if dialect.NAME == "sqlite" else fk.target_schema
    # The action is one of a fixed set of keywords (checked when declared), never user text.
    return exp.ForeignKey(
        expressions=[ident(fk.column)],
        reference=exp.Reference(
            this=exp.Schema(this=table_exp(fk.table, schema), expressions=[ident(fk.target_column)]),
            options=[f"ON DELETE {fk.on_delete.upper()}"],
        ),
    )


def drop_table_statement(model: Any, dialect_name: str = "sqlite", if_exists: bool = True) -> str:
    """DROP TABLE for the model's table."""
    dialect = get_dialect(dialect_name)
    # Spelled out: sqlglot's Drop node moved its table between arguments across releases.
    table = model_table(model.__aq__).sql(dialect=dialect.SQLGLOT)
    return f"DROP TABLE IF EXISTS {table}" if if_exists else f"DROP TABLE {table}"
