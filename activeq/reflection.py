"""Reflection: ``Table``s and model classes read back from a live database's catalog.

The catalog readers of :mod:`activeq.catalog` (the ones the schema check uses) give each
table's columns, primary key, indexes and foreign keys; each declared type is mapped back to
the Python type whose column ``create_tables`` would declare it (``BIGINT`` -> ``int``,
``VARCHAR(20)`` -> ``str`` with ``max_length=20``, ``NUMERIC(12, 2)`` -> ``Decimal``,
``JSONB`` -> ``dict``, ...). SQLite keeps only what a column declares, and activeq declares
some types there by their storage (a UUID or JSON column is ``TEXT``, a Decimal a scaled
``INTEGER``), so those come back as that storage's type.

Model classes are made from generated source (:func:`model_source`), the same text that
``python -m activeq reflect URL`` prints: what a program gets from ``db.reflect_models()`` is
what it would get by running the printed module. Each foreign key becomes a ``belongs_to`` on
the referring model and a ``has_many`` on the referenced one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import keyword
import re
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import pydantic
import sqlglot
from sqlglot import exp

from .catalog import Fetch, LiveColumn, reader
from .constraints import TableIndex, index_name
from .database import Database, hooks
from .errors import SchemaError, UnsupportedError
from .model import ActiveRecord
from .registry import REFLECTED_MODULE
from .schema import schema_fetcher
from .table import Column, Table

__all__ = ["build_models", "model_source", "python_type", "reflect_table", "table_names"]

_T = exp.DataType.Type
_MODULES = itertools.count(1)

# sqlglot's reading of a declared type -> the Python type create_tables declares it for.
_BY_TYPE: dict[Any, Any] = {
    **dict.fromkeys((_T.BIGINT, _T.INT, _T.SMALLINT, _T.TINYINT, _T.MEDIUMINT, _T.INT128,
                     _T.UBIGINT, _T.UINT, _T.USMALLINT, _T.UTINYINT, _T.SERIAL, _T.BIGSERIAL),
                    int),
    **dict.fromkeys((_T.DOUBLE, _T.FLOAT), float),
    _T.BOOLEAN: bool,
    **dict.fromkeys((_T.TEXT, _T.VARCHAR, _T.CHAR, _T.NCHAR, _T.NVARCHAR, _T.MEDIUMTEXT,
                     _T.LONGTEXT), str),
    **dict.fromkeys((_T.VARBINARY, _T.BINARY, _T.BLOB), bytes),
    _T.DATE: dt.date,
    _T.TIME: dt.time,
    **dict.fromkeys((_T.TIMESTAMP, _T.TIMESTAMPNTZ, _T.DATETIME), dt.datetime),
    **dict.fromkeys((_T.TIMESTAMPTZ, _T.TIMESTAMPLTZ), pydantic.AwareDatetime),
    _T.INTERVAL: dt.timedelta,
    _T.UUID: uuid.UUID,
    **dict.fromkeys((_T.JSON, _T.JSONB), dict),
}

# SQLite's affinity of a declared type it cannot otherwise read (its rules, datatype3.html).
_AFFINITY = (("INT", int), ("CHAR", str), ("CLOB", str), ("TEXT", str), ("BLOB", bytes),
             ("REAL", float), ("FLOA", float), ("DOUB", float))


def python_type(declared: str, dialect: str) -> tuple[Any, dict[str, Any]]:
    """The Python type (and ``Column`` options) of a column declared ``declared``.

    >>> python_type("character varying(20)", "postgres")
    (<class 'str'>, {'max_length': 20})
    >>> python_type("DECIMAL(12,2)", "duckdb")
    (<class 'decimal.Decimal'>, {'max_digits': 12, 'decimal_places': 2})
    >>> python_type("", "sqlite")
    (<class 'bytes'>, {})
    """
    try:
        parsed = exp.DataType.build(declared, dialect=dialect) if declared.strip() else None
    except (sqlglot.errors.ParseError, ValueError):
        parsed = None
    kind = None if parsed is None else parsed.this
    args = [] if parsed is None else [e.sql() for e in parsed.expressions]
    if kind == _T.DECIMAL:
        if len(args) == 2 and all(a.isdigit() for a in args):
            return Decimal, {"max_digits": int(args[0]), "decimal_places": int(args[1])}
        return float, {}  # an unscaled NUMERIC holds what a float does
    found = _BY_TYPE.get(kind)
    if found is str and args and args[0].isdigit():
        return str, {"max_length": int(args[0])}
    if found is not None:
        return found, {}
    if dialect == "sqlite":
        upper = declared.upper()
        for part, tp in _AFFINITY:
            if part in upper:
                return tp, {}
        return (bytes, {}) if not upper.strip() else (float, {})
    # A type activeq has no Python type for: its values as the driver gives them, in text.
    return str, {}


# --- listing and reading tables ------------------------------------------------------------------

_TABLES = {
    "sqlite": ("SELECT name FROM pragma_table_list WHERE schema = COALESCE(?, 'main') "
               "AND type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name"),
    "postgres": ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                 "AND n.nspname = COALESCE(%s, current_schema()) ORDER BY c.relname"),
    "duckdb": ("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
               "AND table_catalog = current_database() "
               "AND table_schema = COALESCE(?, current_schema()) ORDER BY table_name"),
}


def table_names(fetch: Fetch, dialect: str, schema: str | None = None) -> list[str]:
    """The names of the tables in ``schema`` (the default one when None), sorted."""
    sql = _TABLES.get(dialect)
    if sql is None:
        raise UnsupportedError("reflection", dialect, "tables are read on sqlite, postgres and duckdb")
    return [str(row[0]) for row in fetch(sql, (schema,))]


def _exact(name: str) -> str:
    return name


def reflect_table(fetch: Fetch, dialect: str, name: str, schema: str | None = None) -> Table:
    """The ``Table`` of ``name`` as the database describes it; SchemaError when there is none."""
    read = reader(dialect)
    if read is None:
        raise UnsupportedError("reflection", dialect, "tables are read on sqlite, postgres and duckdb")
    live = read.columns(fetch, name, schema)
    if not live:
        where = name if schema is None else f"{schema}.{name}"
        raise SchemaError(f"the database has no table {where!r}")
    keys = [c.name for c in sorted((c for c in live if c.pk), key=lambda c: c.pk)]
    indexes = read.indexes(fetch, name, schema, _exact, live)
    foreign = {fk.column: fk for fk in read.foreign_keys(fetch, name, schema, _exact)}
    unique_one = {ix.columns[0] for ix in indexes if ix.unique and len(ix.columns) == 1}
    plain_one = {ix.columns[0] for ix in indexes if not ix.unique and len(ix.columns) == 1}
    composite: list[Any] = []
    for ix in indexes:
        if len(ix.columns) < 2 or "\0" in ix.columns or sorted(ix.columns) == sorted(keys):
            continue
        prefix = "uq" if ix.unique else "idx"
        found = TableIndex(index_name(prefix, name, ix.columns), ix.columns, ix.unique)
        if found not in composite:
            composite.append(found)
    columns = []
    for column in live:
        is_key = column.name in keys
        fk = foreign.get(column.name)
        reference = None
        if fk is not None:
            target = fk.target_column or _primary_key(fetch, read, fk.table, schema)
            reference = f"{fk.table}.{target}"
        columns.append(_column(column, dialect, is_key,
                               unique=column.name in unique_one and not (is_key and len(keys) == 1),
                               index=column.name in plain_one and column.name not in unique_one,
                               reference=reference,
                               on_delete=fk.on_delete if fk is not None else "no action",
                               composite_key=len(keys) > 1))
    return Table(name, *columns, schema=schema, indexes=composite)


def _primary_key(fetch: Fetch, read: Any, table: str, schema: str | None) -> str:
    keys = [c.name for c in read.columns(fetch, table, schema) if c.pk]
    if len(keys) != 1:
        raise SchemaError(f"a foreign key refers to {table!r} without naming a column, and "
                          f"{table!r} has {'no' if not keys else 'a composite'} primary key")
    return keys[0]


def _column(live: LiveColumn, dialect: str, is_key: bool, *, unique: bool, index: bool,
            reference: str | None, on_delete: str, composite_key: bool) -> Column:
    tp, options = python_type(live.type, dialect)
    nullable = not live.notnull and not is_key
    return Column(live.name, tp | None if nullable else tp, primary_key=is_key, unique=unique,  # type: ignore[operator]
                  index=index, foreign_key=reference, on_delete=on_delete, **options)


# --- model source -------------------------------------------------------------------------------

# Names an attribute of a model cannot take: ActiveRecord's own attributes and pydantic's.
_TAKEN = frozenset(n for n in dir(ActiveRecord) if not n.startswith("__")) | {"c"}


def _identifier(name: str, taken: set[str]) -> str:
    ident = re.sub(r"\W", "_", name)
    if not ident or ident[0].isdigit():
        ident = f"f_{ident}"
    ident = ident.lstrip("_") or "f"
    if ident[0].isdigit():
        ident = f"f_{ident}"
    if keyword.iskeyword(ident) or ident in _TAKEN or ident.startswith("model_"):
        ident += "_"
    while ident in taken:
        ident += "_"
    taken.add(ident)
    return ident


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "zes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _class_name(table: str, taken: set[str]) -> str:
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", _singular(table)) if p]
    name = "".join(p[:1].upper() + p[1:] for p in parts) or "Table"
    if name[0].isdigit():
        name = f"T{name}"
    if keyword.iskeyword(name) or name in ("ActiveRecord", "Field"):
        name += "Model"
    while name in taken:
        name += "_"
    taken.add(name)
    return name


_TYPE_SOURCE: dict[Any, tuple[str, str | None]] = {
    int: ("int", None), float: ("float", None), bool: ("bool", None), str: ("str", None),
    bytes: ("bytes", None), dt.date: ("datetime.date", "datetime"),
    dt.time: ("datetime.time", "datetime"), dt.datetime: ("datetime.datetime", "datetime"),
    dt.timedelta: ("datetime.timedelta", "datetime"), uuid.UUID: ("uuid.UUID", "uuid"),
    Decimal: ("decimal.Decimal", "decimal"), dict: ("dict[str, Any]", None),
    pydantic.AwareDatetime: ("pydantic.AwareDatetime", "pydantic"),
}


def model_source(tables: Sequence[Table]) -> str:
    """Python source of a module declaring one model class per table, with relations.

    Foreign keys to tables outside ``tables`` stay plain columns.
    """
    taken_classes: set[str] = set()
    classes = {t.name: _class_name(t.name, taken_classes) for t in tables}
    attrs: dict[str, dict[str, str]] = {}
    for table in tables:
        taken: set[str] = set()
        attrs[table.name] = {c.name: _identifier(c.name, taken) for c in table.columns}
    imports: set[str] = set()
    relations: dict[str, list[str]] = {t.name: [] for t in tables}
    for table in tables:
        used = set(attrs[table.name].values())
        for fk in table.foreign_keys:
            if fk.table not in classes:
                continue
            target = next(t for t in tables if t.name == fk.table)
            target_key = target.primary_key
            on_key = len(target_key) == 1 and target_key[0] == fk.target_column
            field = attrs[table.name][fk.column]
            base = field[:-3] if field.endswith("_id") and len(field) > 3 else f"{field}_{_singular(fk.table)}"
            name = _identifier(base, used)
            extra = "" if on_key else f", target_key={fk.target_column!r}"
            action = "" if fk.on_delete == "no action" else f", on_delete={fk.on_delete!r}"
            relations[table.name].append(
                f"    {name} = belongs_to({classes[fk.table]!r}, foreign_key={field!r}{extra}{action})")
            target_used = set(attrs[fk.table].values()) | {
                line.split(" = ")[0].strip() for line in relations[fk.table]}
            back = _identifier(table.name if not any(
                f2.table == fk.table for f2 in table.foreign_keys if f2 is not fk) else f"{table.name}_by_{field}",
                target_used)
            back_extra = "" if on_key else f", target_key={attrs[fk.table][fk.target_column]!r}"
            relations[fk.table].append(
                f"    {back} = has_many({classes[table.name]!r}, foreign_key={field!r}{back_extra})")
    bodies = []
    for table in tables:
        lines = [f"class {classes[table.name]}(ActiveRecord):",
                 f"    __table_name__ = {table.name!r}"]
        if table.schema is not None:
            lines.append(f"    __schema__ = {table.schema!r}")
        composite = [ix for ix in table.__aq__.indexes]
        if len(table.primary_key) > 1:
            # A model has one primary key column: a composite key becomes a unique constraint.
            composite.append(TableIndex("", table.primary_key, True))
        spelled_names = attrs[table.name]
        for attr_name, entries in (("__indexes__", [ix for ix in composite if not ix.unique]),
                                   ("__unique__", [ix for ix in composite if ix.unique])):
            if entries:
                spelled = ", ".join(
                    "(" + ", ".join(repr(spelled_names[c]) for c in ix.columns) + ",)"
                    for ix in entries)
                lines.append(f"    {attr_name} = ({spelled},)")
        for column in table.columns:
            lines.append("    " + _field_source(column, spelled_names[column.name],
                                                len(table.primary_key) == 1, imports))
        lines.extend(relations[table.name])
        bodies.append("\n".join(lines))
    # No ``from __future__ import annotations``: annotations evaluated as the class is made
    # resolve wherever the source runs, also in a namespace that is no importable module.
    header = ['"""Models reflected from the database by activeq."""', ""]
    body = "\n\n\n".join(bodies)
    header.extend(f"import {module}" for module in sorted(imports))
    if "Any]" in body:
        header.append("from typing import Any")
    names = ["ActiveRecord"] + [n for n in ("Field", "belongs_to", "has_many") if f"{n}(" in body]
    if len(header) > 2:
        header.append("")
    header.append(f"from activeq import {', '.join(names)}")
    return "\n".join(header) + "\n\n\n" + body + "\n"


def _field_source(column: Column, attr: str, single_key: bool, imports: set[str]) -> str:
    tp = column.type
    optional = False
    args = getattr(tp, "__args__", None)
    if args and type(None) in args:
        optional = True
        tp = next(a for a in args if a is not type(None))
    spelled, module = _TYPE_SOURCE.get(tp, ("str", None))
    if module is not None:
        imports.add(module)
    annotation = f"{spelled} | None" if optional else spelled
    options = []
    if column.primary_key and single_key:
        options.append("primary_key=True")
    if column.unique:
        options.append("unique=True")
    if column.index:
        options.append("index=True")
    if attr != column.name:
        options.append(f"column={column.name!r}")
    options.extend(f"{k}={v!r}" for k, v in column.options.items())
    if optional and not (column.primary_key and single_key):
        options.insert(0, "None")
    if not options:
        return f"{attr}: {annotation}"
    if options == ["None"]:
        return f"{attr}: {annotation} = None"
    return f"{attr}: {annotation} = Field({', '.join(options)})"


def build_models(tables: Sequence[Table]) -> dict[str, Any]:
    """The model classes :func:`model_source` declares, by table name.

    Each call declares them in a module of its own name, so their relations find one another
    before any same-named model declared elsewhere.
    """
    source = model_source(tables)
    module = f"{REFLECTED_MODULE}{next(_MODULES)}"
    namespace: dict[str, Any] = {"__name__": module}
    exec(compile(source, f"<{module}>", "exec", dont_inherit=True), namespace)  # noqa: S102 - source built above from quoted names
    out = {}
    for table in tables:
        for value in namespace.values():
            if isinstance(value, type) and issubclass(value, ActiveRecord) and value is not ActiveRecord \
                    and value.__aq__.table == table.name:
                out[table.name] = value
    return out


def reflect(db: Database, name: str, schema: str | None = None) -> Table:
    """``db.reflect(name, schema)``: the table as a ``Table`` bound to ``db``."""
    table = reflect_table(schema_fetcher(db), db.dialect, name, schema)
    db.bind(table)
    return table


def reflect_models(db: Database, schema: str | None = None,
                   tables: Iterable[str] | None = None) -> dict[str, Any]:
    """``db.reflect_models(schema, tables)``: a model class per table, bound to ``db``."""
    fetch = schema_fetcher(db)
    names = table_names(fetch, db.dialect, schema) if tables is None else list(tables)
    models = build_models([reflect_table(fetch, db.dialect, n, schema) for n in names])
    db.bind(*models.values())
    return models


# Database.reflect and reflect_models run these (the session cannot import this layer).
hooks.reflect = reflect
hooks.reflect_models = reflect_models
