"""ActiveRecord models: pydantic v2 classes that know their table, columns and database."""

from __future__ import annotations

import itertools
import re
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, Union, dataclass_transform

import annotated_types
import pydantic
from pydantic.fields import Field as PydanticField
from pydantic.fields import FieldInfo, ModelPrivateAttr, PrivateAttr
from pydantic_core import PydanticUndefined

from . import batch, persistence
from .ast import ColumnRef, Compare, JsonColumn, Param
from .columns import ColumnSet, ModelColumns
from .constraints import ForeignKey, TableIndex, declared_indexes
from .ddl import check_column_ddl
from .dependencies import (
    ModelMetaclass,
    PydanticDescriptorProxy,
    init_private_attributes,
    set_fields_set,
    set_private,
)
from .errors import ActiveqError, ValidationError, unknown_fields_error
from .finders import FINDERS, dispatches, fill_source, own_dispatch
from .loading import use_relation_slot
from .query import Query
from .registry import register_model
from .sources import TableAlias
from .types import INT64_MAX, INT64_MIN, IntType, SQLType, column_type

if TYPE_CHECKING:
    from .database import Database

__all__ = ["ActiveRecord", "ColumnSpec", "Field", "ModelInfo"]

M = TypeVar("M", bound="ActiveRecord")


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """What ``Field()`` records about a column beyond pydantic's own field information."""

    primary_key: bool = False
    """Whether the column is the table's primary key (None until the row is saved)."""
    unique: bool = False
    """Whether a UNIQUE constraint is emitted."""
    index: bool = False
    """Whether a non-unique index is created with the table."""
    column: str | None = None
    """The database column name, when it differs from the attribute name."""


def Field(  # noqa: N802 - mirrors pydantic.Field
    default: Any = PydanticUndefined,
    *,
    primary_key: bool = False,
    unique: bool = False,
    index: bool = False,
    column: str | None = None,
    max_length: int | None = None,
    default_factory: Any = None,
    **kwargs: Any,
) -> Any:
    """Declare a model field with column options.

    Args:
        default: default value (a primary key defaults to None: it is set when saved).
        primary_key: the table's primary key.
        unique: emit a UNIQUE constraint.
        index: create an index on the column.
        column: the database column name, when it differs from the attribute name.
        max_length: maximum string length (validated, and VARCHAR(n) in DDL).
        default_factory: callable producing the default.
        **kwargs: passed on to ``pydantic.Field``.

    >>> from activeq import ActiveRecord, Field
    >>> class Tag(ActiveRecord):
    ...     __table_name__ = 'tags'
    ...     id: int = Field(primary_key=True)
    ...     label: str = Field(max_length=40, unique=True, column='tag_label')
    >>> Tag(label='x').id is None
    True
    """
    if primary_key and default is PydanticUndefined and default_factory is None:
        default = None
    if default_factory is not None:
        info = pydantic.Field(default_factory=default_factory, max_length=max_length, **kwargs)
    else:
        info = pydantic.Field(default, max_length=max_length, **kwargs)
    info.metadata.append(ColumnSpec(primary_key, unique, index, column))
    return info


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        nullable = len(args) != len(typing.get_args(tp))
        if len(args) == 1:
            return args[0], nullable
        return tp, nullable
    if origin is typing.Annotated:
        return _unwrap_optional(typing.get_args(tp)[0])
    return tp, False


@dataclass(frozen=True, slots=True)
class Column:
    """A mapped column of a model: attribute, database name, type and constraints."""

    name: str
    """Attribute name on the model."""
    column: str
    """Column name in the database."""
    python_type: Any
    """The annotated type with Optional removed."""
    nullable: bool
    """Whether NULL is allowed (Optional annotation, or a primary key before saving)."""
    primary_key: bool
    unique: bool
    index: bool
    max_length: int | None
    default: Any
    """The field default, or PydanticUndefined."""
    ddl: str | None
    """A ``__mapping__`` override of the column's DDL, verbatim."""
    type: SQLType
    """The column's SQL type: DDL per dialect, bind and result conversion, operators."""


class ModelInfo:
    """Everything activeq derives from a model class once, at class creation."""

    def __init__(self, model: type[ActiveRecord], table: str, columns: list[Column]) -> None:
        self.model = model
        self.token = next(_MODEL_TOKENS)
        self.empty_query: Any = None
        """The model's empty Query, shared by every ``query()`` call (made on first use)."""
        """Stands for the model in shape keys: keys made only of ints and strings are not
        tracked by the cyclic garbage collector, however long they are kept."""
        self.table = table
        self.schema: str | None = getattr(model, "__schema__", None)
        """The schema (SQLite: attached database) holding the table, from ``__schema__``."""
        self.columns = columns
        self.by_name = {c.name: c for c in columns}
        self.by_column = {c.column: c for c in columns}
        pks = [c for c in columns if c.primary_key]
        if len(pks) > 1:
            raise ActiveqError(f"{model.__name__} declares {len(pks)} primary keys; one is supported")
        self.pk: Column | None = pks[0] if pks else None
        self.names = tuple(c.name for c in columns)
        self.refs = {c.name: (JsonColumn if c.type.json else ColumnRef)(
            model, c.name, c.column, table, c.type) for c in columns}
        self.relations: dict[str, Any] = {}
        self.indexes: tuple[TableIndex, ...] = ()
        """The indexes and uniques declared by ``__indexes__`` and ``__unique__``."""
        self.foreign_keys: tuple[ForeignKey, ...] = ()
        """Foreign keys declared with the columns (a ``Table``'s), besides the relations'."""
        self.composite_key: tuple[str, ...] = ()
        """The columns of a primary key over several columns (a ``Table``'s), else empty."""
        self._builders: dict[Any, Any] = {}
        self._adapters: dict[str, pydantic.TypeAdapter[Any]] = {}

    def builder(self, names: tuple[str, ...], dialect: str = "sqlite") -> Any:
        """A generated function ``(rows, ctx) -> [model, ...]`` for rows holding ``names``.

        Rows come from the database and are trusted: no validation, only the result
        conversions of the columns whose type needs one in ``dialect``. Generated once per
        selected-column tuple and dialect.
        """
        key = names if dialect == "sqlite" else (dialect, names)
        fn = self._builders.get(key)
        if fn is None:
            fn = self._builders[key] = _make_builder(self, names, dialect)
        return fn

    def rebuilder(self, names: tuple[str, ...]) -> Any:
        """:meth:`builder` for rows of Python values taken from instances (a cache's copy):
        the same instances, with no result conversion of any engine applied again."""
        key = (None, names)
        fn = self._builders.get(key)
        if fn is None:
            fn = self._builders[key] = _make_builder(self, names, None)
        return fn

    def adapter(self, name: str) -> pydantic.TypeAdapter[Any]:
        """A cached validator for one field, used to check values before a write."""
        adapter = self._adapters.get(name)
        if adapter is None:
            info = self.model.model_fields[name]
            annotation: Any = info.annotation
            if info.metadata:
                annotation = typing.Annotated[annotation, *info.metadata]
            adapter = self._adapters[name] = pydantic.TypeAdapter(annotation)
        return adapter


def _make_builder(info: ModelInfo, names: tuple[str, ...], dialect: str | None) -> Any:
    # Rows from the database skip pydantic: an instance is one allocation plus its __dict__.
    # pydantic's bookkeeping slots are left unset and supplied on first use by
    # ActiveRecord.__getattr__; the load context is set only when it is not the default one.
    env: dict[str, Any] = {
        "new": object.__new__,
        "cls": info.model,
        "set_ctx": _SET_CTX,
    }
    # The instance's own (lazily created) __dict__ filled key by key is faster than building a
    # dict and assigning it through the __dict__ descriptor. Rows holding just ``names`` are
    # unpacked in one assignment; wider ones (a relation's key after them) are indexed.
    wide = _build_source("build_wide", fill_source(info, names, dialect, env, exact=False))
    guard = f"""    if rows and len(rows[0]) != {len(names)}:
        return build_wide(rows, ctx)
"""
    src = wide + _build_source("build_all", fill_source(info, names, dialect, env), guard)
    exec(src, env)  # noqa: S102 - generated from column names validated as identifiers
    return env["build_all"]


def _build_source(name: str, fill: str, guard: str = "") -> str:
    """The source of a builder function ``name`` filling each instance with ``fill``."""
    return f"""
def {name}(rows, ctx):
{guard}    out = []
    append = out.append
    if ctx is None or ctx is ctx.db._default_ctx:
        for r in rows:
            m = new(cls)
            d = m.__dict__
            {fill}
            append(m)
    else:
        for r in rows:
            m = new(cls)
            d = m.__dict__
            {fill}
            set_ctx(m, ctx)
            append(m)
        if ctx.instances is None:
            ctx.instances = out
    return out
"""


_MODEL_TOKENS = itertools.count(1)

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _default_table_name(name: str) -> str:
    snake = _CAMEL.sub("_", name).lower()
    return snake if snake.endswith("s") else snake + "s"


def _is_plain_attribute(name: str, value: Any, annotations: dict[str, Any]) -> bool:
    """Whether a class-body name is an ordinary class attribute rather than a field or method."""
    if name in annotations or (name.startswith("__") and name.endswith("__")):
        return False
    if name.startswith("model_") or name == "c":
        return False
    if isinstance(value, (classmethod, staticmethod, property, types.FunctionType, type)):
        return False
    # @field_validator / @model_validator / @computed_field wrap methods in a proxy that
    # pydantic must see, or the validators silently never run.
    return not isinstance(value, (FieldInfo, PydanticDescriptorProxy, ModelPrivateAttr))


# Type checkers apply dataclass_transform only to the class that carries it, not to a subclass
# of pydantic's metaclass: repeated here, it makes them check model constructors as pydantic's
# own models are checked. activeq's Field is left out on purpose: a primary key declared with
# Field(primary_key=True) has a default (None) that no argument of the call shows.
@dataclass_transform(kw_only_default=True, field_specifiers=(PydanticField, PrivateAttr))
class ModelMeta(ModelMetaclass):
    """Adds table metadata, ``Model.c`` and plain class attributes to pydantic models."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any], **kw: Any):  # type: ignore[no-untyped-def]
        annotations = namespace.get("__annotations__", {})
        for attr, value in namespace.items():
            # ``orders: list["Order"] = has_many(...)``: the annotation types the attribute for
            # type checkers; the relation is no column, so pydantic must not see a field.
            if attr in annotations and getattr(value, "is_relation", False) is True:
                del annotations[attr]
        plain = {}
        for attr in list(namespace):
            value = namespace[attr]
            if _is_plain_attribute(attr, value, annotations):
                plain[attr] = namespace.pop(attr)
        # A primary key is None until the row is saved, whatever its annotation says.
        for attr, value in namespace.items():
            if isinstance(value, FieldInfo) and any(
                isinstance(m, ColumnSpec) and m.primary_key for m in value.metadata
            ):
                ann = annotations.get(attr)
                if isinstance(ann, str):
                    annotations[attr] = f"{ann} | None"
                elif ann is not None:
                    annotations[attr] = typing.Optional[ann]  # noqa: UP007, UP045
        cls = super().__new__(mcs, name, bases, namespace, **kw)
        for attr, value in plain.items():
            type.__setattr__(cls, attr, value)
        own_dispatch(cls)
        # Abstract bases (ActiveRecord, AsyncActiveRecord) map no table.
        if (namespace.get("__module__") != __name__ or name != "ActiveRecord") and not namespace.get(
            "__aq_abstract__"
        ):
            # The namespace the class statement ran in: rebuilding the model resolves its
            # annotations there (a class made in a function or an exec'd block has no module).
            frame = sys._getframe(1)
            _install_metadata(cls, plain, {**frame.f_globals, **frame.f_locals})
        return cls


def _install_metadata(cls: Any, plain: dict[str, Any], namespace: dict[str, Any] | None = None) -> None:
    mapping = getattr(cls, "__mapping__", None) or {}
    table = cls.__dict__.get("__table_name__") or _default_table_name(cls.__name__)
    columns = []
    for field_name, finfo in cls.model_fields.items():
        spec = next((m for m in finfo.metadata if isinstance(m, ColumnSpec)), ColumnSpec())
        max_length = next(
            (getattr(m, "max_length", None) for m in finfo.metadata
             if getattr(m, "max_length", None) is not None), None
        )
        tp, nullable = _unwrap_optional(finfo.annotation)
        column = spec.column or field_name
        ddl = mapping.get(field_name, mapping.get(column))
        if ddl is not None:
            ddl = check_column_ddl(f"{cls.__name__}.__mapping__[{field_name!r}]", ddl)
        sqltype = column_type(finfo.annotation, finfo.metadata, f"{cls.__name__}.{field_name}")
        columns.append(Column(
            name=field_name, column=column, python_type=tp,
            nullable=nullable or finfo.default is None,
            primary_key=spec.primary_key or (ddl is not None and "PRIMARY KEY" in ddl.upper()),
            unique=spec.unique, index=spec.index, max_length=max_length,
            default=finfo.default, ddl=ddl, type=sqltype,
        ))
    _bound_integers(cls, columns, namespace)
    if not any(c.primary_key for c in columns) and "id" in cls.model_fields:
        columns = [
            Column(**{**{f: getattr(c, f) for f in Column.__slots__}, "primary_key": True})
            if c.name == "id" else c for c in columns
        ]
    info = ModelInfo(cls, table, columns)
    info.indexes = declared_indexes(cls.__name__, table, columns, getattr(cls, "__indexes__", ()),
                                    getattr(cls, "__unique__", ()))
    type.__setattr__(cls, "__aq__", info)
    type.__setattr__(cls, "__table_name__", table)
    type.__setattr__(cls, "c", ColumnSet(cls.__name__, info.refs))
    for attr, value in plain.items():
        if getattr(value, "is_relation", False):
            value.attach(cls, attr)
    register_model(cls)


_INT64 = annotated_types.Interval(ge=INT64_MIN, le=INT64_MAX)


def _bound_integers(cls: Any, columns: list[Column], namespace: dict[str, Any] | None) -> None:
    """Integer columns hold 64 bits: bound their validation so a larger int is refused.

    The bounds join the fields' own constraints and the model is rebuilt once, so every path
    that validates (constructor, save, insert_many, update_many, update) refuses an int beyond
    64 bits with a ValidationError naming the field, before anything is written.
    """
    if not getattr(cls, "__pydantic_complete__", False):
        return  # a model with unresolved forward references is bounded by pydantic later, not here
    changed = False
    for column in columns:
        if isinstance(column.type, IntType):
            metadata = cls.model_fields[column.name].metadata
            if _INT64 not in metadata:
                metadata.append(_INT64)
                changed = True
    if changed:
        cls.model_rebuild(force=True, _types_namespace=namespace)


_EMPTY_QUERIES: dict[type, Any] = {}
"""Each model class's query over all its rows, which every ``query()`` starts from. Kept by
class in a dict: a class attribute of a model is read through a call in pydantic's metaclass,
a dict costs a hash of the class."""


def _query_class() -> Any:
    return Query


class ActiveRecord(pydantic.BaseModel, metaclass=ModelMeta):
    """Base class of models: a pydantic v2 model mapped to one table.

    >>> from activeq import ActiveRecord, Field, Database
    >>> class Note(ActiveRecord):
    ...     __table_name__ = 'notes'
    ...     id: int = Field(primary_key=True)
    ...     body: str
    >>> db = Database(':memory:')
    >>> db.bind(Note); db.create_tables(Note)
    >>> note = Note.create(body='hello')
    >>> Note.find_by_id(note.id).body
    'hello'
    """

    __slots__ = ("_aq_ctx", "_aq_rel")
    __table_name__: ClassVar[str]
    __aq__: ClassVar[ModelInfo]
    __database__: ClassVar[Database | None] = None
    __indexes__: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Composite indexes, one tuple of field names each: ``(("status", "created_at"),)``."""
    __unique__: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Composite unique constraints, one tuple of field names each: ``(("user_id", "sku"),)``."""
    if TYPE_CHECKING:
        # For type checkers only: at run time the annotation would come first in every
        # subclass's annotations, so a field named ``c`` would move to the first column.
        c: ClassVar[ModelColumns]
        """The model's columns: ``User.c.email`` (a ``ColumnSet``, typed ``ColumnSet[User]``)."""

    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as e:
            raise ValidationError.from_pydantic(type(self).__name__, e) from e
        _SET_CTX(self, None)

    def __getattr__(self, name: str) -> Any:
        # Instances built from rows leave these slots unset (see _make_builder).
        if name == "_aq_ctx":
            db = type(self).__database__
            return None if db is None else db._default_ctx
        if name == "__pydantic_fields_set__":
            fields_set: set[str] = set()
            _SET_FIELDS(self, fields_set)
            return fields_set
        if name == "__pydantic_private__":
            private = type(self).__private_attributes__
            if not private:
                return None
            # Rows built without __init__ get their PrivateAttr defaults on first use, filled
            # by pydantic's own initialiser (it fills the slot only while it holds None).
            _SET_PRIVATE(self, None)
            init_private_attributes(self, None)
            return self.__pydantic_private__
        if name == "__pydantic_extra__":
            return None
        return super().__getattr__(name)  # type: ignore[misc]

    # queries -------------------------------------------------------------------------------
    @classmethod
    def query(cls: type[M]) -> Query[M]:
        """A new query over this model's table."""
        # Queries are immutable, so every query() can start from one shared empty query.
        base = _EMPTY_QUERIES.get(cls)
        if base is None:
            base = _EMPTY_QUERIES[cls] = Query.of(cls)
        return base  # type: ignore[no-any-return]

    @classmethod
    def alias(cls, name: str) -> TableAlias:
        """This model's table under another name, for self-joins and correlated subqueries.

        ``m = User.alias("m")``; ``m.c.name`` is a column of the alias; ``m.query()``
        selects from it.
        """
        return TableAlias(cls, name)

    @classmethod
    def database(cls) -> Database:
        """The Database this model is bound to."""
        db = cls.__database__
        if db is None:
            raise ActiveqError(
                f"{cls.__name__} is not bound to a Database: call db.bind({cls.__name__}) "
                "or db.bind(ActiveRecord)"
            )
        return db

    @classmethod
    def _run_write(cls, run: Callable[[], Any]) -> Any:
        # How a write statement built outside a query (activeq.insert/update/delete) runs:
        # here at once; an async model hands it to its database's writer and returns an
        # awaitable.
        return run()

    @classmethod
    def from_row(cls: type[M], row: Any, dialect: str | None = None) -> M:
        """A record built from a row fetched elsewhere: a mapping by field or column name
        (the fields it holds are set, as in a partial select), or a sequence of every
        field's value in declaration order.

        Values are taken as the database stores them and converted as activeq's own reads
        convert them for ``dialect`` (default: the bound database's, else SQLite's): JSON
        text becomes a dict, ISO text a date, scaled integers a Decimal. The record counts
        as loaded, so ``save()`` updates it.

        >>> from activeq import ActiveRecord, Field
        >>> class Trip(ActiveRecord):
        ...     __table_name__ = 'trips'
        ...     id: int = Field(primary_key=True)
        ...     done: bool
        ...     stops: list[str]
        >>> Trip.from_row((1, 0, '["Oslo", "Bergen"]')).stops
        ['Oslo', 'Bergen']
        >>> Trip.from_row({'id': 2, 'done': 1}).done
        True
        """
        info = cls.__aq__  # type: ignore[attr-defined]
        if dialect is None:
            db = cls.__database__
            dialect = "sqlite" if db is None else db.dialect
        if isinstance(row, typing.Mapping):
            names = []
            for key in row:
                column = info.by_name.get(key) or info.by_column.get(key)
                if column is None:
                    raise unknown_fields_error(cls, [key])
                names.append(column.name)
            values = tuple(row.values())
        else:
            values = tuple(row)
            names = list(info.names)
            if len(values) != len(names):
                raise ValidationError(
                    f"{cls.__name__}.from_row() takes {len(names)} values (one per field: "
                    f"{', '.join(names)}), not {len(values)}")
        return info.builder(tuple(names), dialect)([values], None)[0]  # type: ignore[no-any-return]

    @classmethod
    @dispatches
    def find_by_id(cls: type[M], id: Any) -> M | None:
        """The row with this primary key, or None."""
        # The model's finder (see activeq.finders), found without reading class attributes.
        find = FINDERS.get(cls)
        if find is None:
            find = cls.database()._finder(cls)
        return find(id)  # type: ignore[no-any-return]

    @classmethod
    def find_one(cls: type[M], *conditions: Any, **equals: Any) -> M | None:
        """The first row matching the conditions, or None."""
        return cls.query().where(*conditions, **equals).first()

    @classmethod
    def find_all(cls: type[M], *conditions: Any, **equals: Any) -> list[M]:
        """Every row matching the conditions."""
        return cls.query().where(*conditions, **equals).all()

    @classmethod
    def create(cls: type[M], **values: Any) -> M:
        """Validate, insert and return a new record."""
        unknown = [k for k in values if k not in cls.model_fields]
        if unknown:
            raise unknown_fields_error(cls, unknown)
        record = cls(**values)
        record.save()
        return record

    @classmethod
    def transaction(cls, mode: str = "immediate") -> Any:
        """``with User.transaction():`` on the model's database."""
        return cls.database().transaction(mode)

    @classmethod
    def insert_many(
        cls,
        rows: Any,
        *,
        on_conflict: str | None = None,
        conflict_columns: Any = None,
        update_columns: Any = None,
        returning: bool = False,
        chunk_size: int = 10_000,
        progress: Any = None,
    ) -> Any:
        """Insert many rows (dicts or instances) in one transaction, all or nothing.

        Every row is validated before anything is written; a bad row raises
        ``ValidationError`` naming its index and field. Rows are written with one
        ``executemany`` per ``chunk_size`` rows.

        Args:
            rows: dicts keyed by field name, or instances of this model (which get their
                primary keys and count as saved afterwards).
            on_conflict: 'ignore' (skip rows that collide), 'replace' (delete the old row,
                insert the new one) or 'update' (upsert: needs ``conflict_columns``).
            conflict_columns: the unique columns an upsert collides on.
            update_columns: the columns an upsert overwrites (default: every inserted
                column but the conflict columns and the primary key).
            returning: return the primary keys of the rows written instead of their count
                (rows skipped by 'ignore' have none).
            chunk_size: rows per statement batch.
            progress: called as ``progress(rows_done, total)`` after each chunk.

        Returns:
            The number of rows inserted (or upserted), or their primary keys.

        >>> from activeq import ActiveRecord, Database, Field
        >>> class Pet(ActiveRecord):
        ...     __table_name__ = 'pets'
        ...     id: int = Field(primary_key=True)
        ...     name: str = Field(unique=True)
        >>> db = Database(':memory:'); db.bind(Pet); db.create_tables(Pet)
        >>> Pet.insert_many([{'name': 'Rex'}, {'name': 'Tom'}])
        2
        >>> Pet.insert_many([{'name': 'Rex'}, {'name': 'Kit'}], on_conflict='ignore', returning=True)
        [3]
        """
        return batch.insert_many(cls, rows, on_conflict=on_conflict, conflict_columns=conflict_columns,
                           update_columns=update_columns, returning=returning,
                           chunk_size=chunk_size, progress=progress)

    @classmethod
    def update_many(cls, rows: Any, *, fields: Any = None, chunk_size: int = 10_000,
                    progress: Any = None) -> int:
        """Update many rows by primary key, each with its own values, in one transaction.

        Args:
            rows: dicts holding the primary key and the columns to set, or loaded instances
                (their changed fields are written).
            fields: the columns to set (default: each dict's keys, each instance's changes).
            chunk_size: rows per statement batch.
            progress: called as ``progress(rows_done, total)`` after each chunk.

        Returns:
            The number of rows changed.
        """
        return batch.update_many(cls, rows, fields=fields, chunk_size=chunk_size, progress=progress)

    # records -------------------------------------------------------------------------------
    @property
    def is_persisted(self) -> bool:
        """Whether this instance was loaded from or saved to the database."""
        return getattr(self, "_aq_ctx", None) is not None

    def save(self) -> int:
        """INSERT when new (setting the primary key), else UPDATE the changed fields only.

        Returns the number of rows written (0 when nothing changed).
        """
        return persistence.save(type(self).database(), self)

    def delete(self) -> int:
        """DELETE this row by primary key; returns the number of rows deleted."""
        return persistence.delete(type(self).database(), self)

    def refresh(self: M) -> M:
        """Reload every field from the database; raises NotFoundError when the row is gone."""
        return persistence.refresh(type(self).database(), self)  # type: ignore[no-any-return]

    def _pk_condition(self) -> Compare:
        info = type(self).__aq__
        if info.pk is None:
            raise ActiveqError(f"{type(self).__name__} has no primary key")
        value = self.__dict__.get(info.pk.name)
        if value is None:
            raise ActiveqError(f"this {type(self).__name__} has not been saved: its primary key is None")
        return Compare("=", info.refs[info.pk.name], Param(value))


_SET_CTX = ActiveRecord.__dict__["_aq_ctx"].__set__
use_relation_slot(ActiveRecord.__dict__["_aq_rel"])
_SET_FIELDS = set_fields_set
_SET_PRIVATE = set_private
