"""Tables without models: ``Table("events", Column("id", int, primary_key=True), ...)``.

A ``Table`` stands wherever a model class does: ``events.query()``, joins with models in both
directions, subqueries and CTEs, ``activeq.insert/update/delete(events)``, ``to_sql`` for every
dialect, ``db.bind(events)``, ``db.create_tables(events)`` and ``db.check_schema(events)``. Its
columns get their SQL type from the Python type they are declared with, exactly as a model
field does (see :mod:`activeq.types`): the same DDL per dialect, the same conversion of bound
values and of results. Queries give ``Row``s (attribute and key access) instead of instances.

A Table's shape (name, schema and columns) stands for it in cache keys the way a model's
token does, so equal tables share compiled statements and a different one never does.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pydantic
from pydantic_core import PydanticUndefined

from .columns import ColumnSet
from .constraints import (
    ForeignKey,
    TableIndex,
    declared_indexes,
    expected_indexes,
    on_delete_action,
)
from .errors import ActiveqError, ArgumentTypeError, CompileError, SchemaError
from .model import _INT64, _MODEL_TOKENS, ModelInfo, _query_class
from .model import Column as MappedColumn
from .results import Row
from .sources import TableAlias
from .types import IntType, column_type

if TYPE_CHECKING:
    from .database import Database
    from .query import Query

__all__ = ["Column", "Table"]

_MISSING: Any = PydanticUndefined

# Tables of one shape share a token: a table reflected again, or declared twice alike, finds
# the statements compiled for the first. Tokens come from the models' counter, so a table's
# never equals a model's.
_SHAPE_TOKENS: dict[Any, int] = {}


def _shape_token(shape: Any) -> int:
    token = _SHAPE_TOKENS.get(shape)
    if token is None:
        token = _SHAPE_TOKENS[shape] = next(_MODEL_TOKENS)
    return token


class Column:
    """A column of a :class:`Table`: its name, Python type and constraints.

    Args:
        name: the column's name in the database (and on result rows).
        type: the Python type of its values, as a model field would be annotated
            (``int``, ``str``, ``Decimal``, ``datetime``, ``dict``, an enum, ...); ``X | None``
            makes it nullable.
        primary_key: the table's primary key (several columns make a composite key).
        nullable: allow NULL (default: whether ``type`` is optional).
        unique: emit a UNIQUE constraint.
        index: create an index on the column.
        default: the DEFAULT written into CREATE TABLE.
        foreign_key: the referenced column: ``"users.id"``, ``"schema.users.id"`` or a
            column reference such as ``User.c.id``.
        on_delete: the foreign key's action: 'no action' (default), 'cascade', 'set null',
            'restrict' or 'set default'.
        **options: pydantic field constraints that also shape the SQL type:
            ``max_length``, ``max_digits``, ``decimal_places``.

    >>> from activeq import Column
    >>> Column("title", str, max_length=80)
    Column('title', str, max_length=80)
    """

    __slots__ = ("name", "type", "primary_key", "nullable", "unique", "index", "default",
                 "foreign_key", "on_delete", "options")

    name: str
    type: Any
    primary_key: bool
    nullable: bool | None
    unique: bool
    index: bool
    default: Any
    foreign_key: Any
    on_delete: str
    options: dict[str, Any]

    def __init__(self, name: str, type: Any = str, /, *, primary_key: bool = False,  # noqa: A002
                 nullable: bool | None = None, unique: bool = False, index: bool = False,
                 default: Any = _MISSING, foreign_key: Any = None,
                 on_delete: str = "no action", **options: Any) -> None:
        if not isinstance(name, str) or not name or "\x00" in name:
            raise SchemaError(f"a Column needs a non-empty name, not {name!r}")
        action = on_delete_action(on_delete, f"Column({name!r})")
        fields = {"name": name, "type": type, "primary_key": bool(primary_key),
                  "nullable": nullable, "unique": bool(unique), "index": bool(index),
                  "default": default, "foreign_key": foreign_key, "on_delete": action,
                  "options": dict(options)}
        for field, value in fields.items():
            object.__setattr__(self, field, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Column is fixed once made")

    def __repr__(self) -> str:
        tp = getattr(self.type, "__name__", None) or repr(self.type)
        parts = [repr(self.name), tp]
        for flag in ("primary_key", "unique", "index"):
            if getattr(self, flag):
                parts.append(f"{flag}=True")
        if self.nullable is not None:
            parts.append(f"nullable={self.nullable}")
        if self.default is not _MISSING:
            parts.append(f"default={self.default!r}")
        if self.foreign_key is not None:
            parts.append(f"foreign_key={_reference_text(self.foreign_key)!r}")
            if self.on_delete != "no action":
                parts.append(f"on_delete={self.on_delete!r}")
        parts.extend(f"{k}={v!r}" for k, v in self.options.items())
        return f"Column({', '.join(parts)})"


def _reference_text(ref: Any) -> str:
    if isinstance(ref, str):
        return ref
    return f"{ref.table}.{ref.column}"


def _reference(column: Column, owner: str) -> ForeignKey | None:
    ref = column.foreign_key
    if ref is None:
        return None
    action = column.on_delete
    if isinstance(ref, str):
        parts = ref.split(".")
        if len(parts) not in (2, 3) or not all(parts):
            raise SchemaError(
                f"{owner}.{column.name}: foreign_key names 'table.column' or "
                f"'schema.table.column', not {ref!r}")
        schema = parts[0] if len(parts) == 3 else None
        return ForeignKey(column.name, parts[-2], parts[-1], action, schema)
    model = getattr(ref, "model", None)
    info = getattr(model, "__aq__", None)
    if info is None or not hasattr(ref, "column"):
        raise SchemaError(
            f"{owner}.{column.name}: foreign_key takes 'table.column' or a column such as "
            f"User.c.id, not {ref!r}")
    return ForeignKey(column.name, info.table, ref.column, action, info.schema)


class TableInfo(ModelInfo):
    """What a ``Table`` holds for the compiler, the DDL and the schema check: the same
    bookkeeping as a model's ``__aq__``, with results built as ``Row``s."""

    def __init__(self, table: Table, columns: list[MappedColumn], declared: list[Column],
                 token: int, schema: str | None) -> None:
        super().__init__(table, table.name, columns)  # type: ignore[arg-type]
        self.token = token
        self.schema = schema
        self.declared = {c.name: c for c in declared}
        self.primary_key: tuple[str, ...] = ()
        """Every column of the primary key, in order (more than one for a composite key)."""
        self.foreign_keys: tuple[ForeignKey, ...] = ()
        self.database: Database | None = None

    def builder(self, names: tuple[str, ...], dialect: str = "sqlite") -> Any:
        """A generated function ``(rows, ctx) -> [Row, ...]`` for rows holding ``names``."""
        key = (dialect, names)
        fn = self._builders.get(key)
        if fn is None:
            fn = self._builders[key] = _make_row_builder(self, names, dialect)
        return fn

    def adapter(self, name: str) -> pydantic.TypeAdapter[Any]:
        """A cached validator for one column's values, used to check values before a write."""
        adapter = self._adapters.get(name)
        if adapter is None:
            adapter = self._adapters[name] = pydantic.TypeAdapter(_annotation(
                self.declared[name], self.by_name[name]))
        return adapter


def _annotation(declared: Column, column: MappedColumn) -> Any:
    annotation = declared.type
    metadata = list(pydantic.Field(**declared.options).metadata)
    if isinstance(column.type, IntType):
        metadata.append(_INT64)
    if metadata:
        annotation = typing.Annotated[annotation, *metadata]
    if column.nullable or column.primary_key:
        annotation = annotation | None
    return annotation


def _make_row_builder(info: TableInfo, names: tuple[str, ...], dialect: str) -> Any:
    # As a model's builder: the Row's own (lazily made) __dict__ filled key by key, with the
    # result conversions of the columns whose type needs one in ``dialect``.
    env: dict[str, Any] = {"new": object.__new__, "Row": Row}
    convert = [info.by_name[name].type.result(dialect) for name in names]
    items = []
    for i, conv in enumerate(convert):
        if conv is None:
            items.append(f"r[{i}]")
        else:
            env[f"c{i}"] = conv
            items.append(f"c{i}(r[{i}])")
    if any(convert):
        values = f"v = ({', '.join(items)}{',' if len(items) == 1 else ''})"
    else:
        values = "v = r"
    fill = "; ".join(f"d[{name!r}] = v[{i}]" for i, name in enumerate(names)) or "pass"
    src = f"""
def build_all(rows, ctx):
    out = []
    append = out.append
    for r in rows:
        {values}
        m = new(Row)
        m._values = v
        d = m.__dict__
        {fill}
        append(m)
    return out
"""
    exec(src, env)  # noqa: S102 - column names enter only as repr() string literals
    return env["build_all"]


class Table:
    """A database table described by its columns, used without a model class.

    ``events.c.<column>`` holds its columns, ``events.query()`` starts a query whose results
    are ``Row``s (``row.payload``, ``row["payload"]``). Bind it to a database with
    ``db.bind(events)`` (``db.reflect(name)`` returns one already bound), create it with
    ``db.create_tables(events)``, write with ``activeq.insert(events)``, ``update`` and
    ``delete``.

    Args:
        name: the table's name.
        *columns: its :class:`Column` s, in order.
        schema: the schema holding it (an attached database on SQLite).
        indexes: composite indexes, one tuple of column names each (or ``TableIndex``).
        unique: composite unique constraints, one tuple of column names each.

    >>> from activeq import Column, Database, Table, insert
    >>> events = Table("events", Column("id", int, primary_key=True), Column("payload", dict))
    >>> db = Database(":memory:"); db.bind(events); db.create_tables(events)
    >>> insert(events).values(payload={"kind": "login"}).execute()
    1
    >>> row = events.query().where(events.c.id == 1).first()
    >>> row.payload, row["id"]
    ({'kind': 'login'}, 1)
    >>> Table("events", Column("id", int), schema="analytics").query().to_sql("postgres")[0]
    'SELECT "events"."id" FROM "analytics"."events"'
    """

    name: str
    """The table's name."""
    schema: str | None
    """The schema holding it, or None."""
    c: ColumnSet[Table]
    """Its columns: ``events.c.payload``."""
    if TYPE_CHECKING:
        __aq__: TableInfo
        __database__: Database | None
        __name__: str

    def __init__(self, name: str, *columns: Column, schema: str | None = None,
                 indexes: Sequence[Any] = (), unique: Sequence[Any] = ()) -> None:
        if not isinstance(name, str) or not name or "\x00" in name:
            raise SchemaError(f"a Table needs a non-empty name, not {name!r}")
        if schema is not None and (not isinstance(schema, str) or not schema):
            raise SchemaError(f"Table({name!r}): schema must be a non-empty name or None, "
                              f"not {schema!r}")
        if not columns:
            raise SchemaError(f"Table({name!r}) needs at least one Column")
        seen: set[str] = set()
        for column in columns:
            if not isinstance(column, Column):
                raise ArgumentTypeError(
                    f"Table({name!r}) takes Column(...) arguments after its name, not {column!r}")
            if column.name in seen:
                raise SchemaError(f"Table({name!r}) names the column {column.name!r} twice")
            seen.add(column.name)
        mapped = [_mapped(name, column) for column in columns]
        keys = [c.name for c in mapped if c.primary_key]
        if len(keys) > 1:
            # A composite key: each of its columns is NOT NULL, the key a table constraint.
            mapped = [_replace(c, primary_key=False, nullable=False) if c.name in keys else c
                      for c in mapped]
        shape = ("table", name, schema, tuple(keys), tuple(
            (c.name, c.type.key, c.nullable, c.primary_key, c.unique, c.index) for c in mapped))
        token = _shape_token(shape)
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "schema", schema)
        set_(self, "__name__", name)
        set_(self, "__database__", None)
        info = TableInfo(self, mapped, list(columns), token, schema)
        info.primary_key = tuple(keys)
        if len(keys) > 1:
            info.composite_key = info.primary_key
        info.foreign_keys = tuple(fk for fk in (_reference(c, name) for c in columns)
                                  if fk is not None)
        plain = [ix for ix in indexes if not isinstance(ix, TableIndex)]
        given = tuple(ix for ix in indexes if isinstance(ix, TableIndex))
        for ix in given:
            missing = [c for c in ix.columns if c not in info.by_column]
            if missing:
                raise SchemaError(f"Table({name!r}): the index {ix.name!r} names no column "
                                  f"{missing[0]!r}")
        info.indexes = given + declared_indexes(name, name, mapped, tuple(plain), tuple(unique))
        set_(self, "__aq__", info)
        set_(self, "c", ColumnSet(name, info.refs))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Table is fixed once made; bind it with db.bind(table)")

    def __repr__(self) -> str:
        schema = "" if self.schema is None else f", schema={self.schema!r}"
        return f"Table({self.name!r}{schema})"

    def __reduce__(self) -> Any:
        raise TypeError("a Table is not picklable: declare it again, or reflect it")

    # what a model class offers ---------------------------------------------------------------
    def query(self) -> Query[Row]:
        """A query over this table; its results are ``Row``s."""
        info = self.__aq__
        base = info.empty_query
        if base is None:
            base = info.empty_query = _query_class().of(self)
        return base  # type: ignore[no-any-return]

    def alias(self, name: str) -> TableAlias:
        """This table under another name, for self-joins: ``e = events.alias("e")``."""
        return TableAlias(self, name)

    def database(self) -> Database:
        """The Database this table is bound to."""
        db = self.__database__
        if db is None:
            raise ActiveqError(f"the table {self.name!r} is not bound to a Database: call "
                               f"db.bind(table)")
        return db

    def _run_write(self, run: Any) -> Any:
        return run()

    # its description -------------------------------------------------------------------------
    @property
    def columns(self) -> tuple[Column, ...]:
        """The columns as declared (or reflected), in order."""
        return tuple(self.__aq__.declared.values())

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The names of the primary key's columns (empty when the table has none)."""
        return self.__aq__.primary_key

    @property
    def indexes(self) -> tuple[TableIndex, ...]:
        """Every index and unique constraint besides the primary key, as ``TableIndex``."""
        return tuple(expected_indexes(self.__aq__))

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        """The foreign keys its columns declare."""
        return self.__aq__.foreign_keys


def _replace(column: MappedColumn, **changes: Any) -> MappedColumn:
    return MappedColumn(**{**{f: getattr(column, f) for f in MappedColumn.__slots__}, **changes})


def _mapped(table: str, column: Column) -> MappedColumn:
    where = f"{table}.{column.name}"
    info = pydantic.Field(**column.options)
    sqltype = column_type(column.type, info.metadata, where)
    optional = typing.get_origin(column.type) in (typing.Union, types.UnionType) and (
        type(None) in typing.get_args(column.type))
    nullable = optional if column.nullable is None else bool(column.nullable)
    if column.nullable is False and optional:
        raise SchemaError(f"{where}: nullable=False contradicts the optional type {column.type!r}")
    if column.primary_key and column.nullable:
        raise CompileError(f"{where}: a primary key cannot be nullable")
    python_type = column.type
    if optional:
        args = [a for a in typing.get_args(column.type) if a is not type(None)]
        python_type = args[0] if len(args) == 1 else column.type
    return MappedColumn(
        name=column.name, column=column.name, python_type=python_type,
        nullable=nullable and not column.primary_key, primary_key=column.primary_key,
        unique=column.unique, index=column.index,
        max_length=column.options.get("max_length"), default=column.default, ddl=None,
        type=sqltype)

