"""Turn result rows into models, partial models or namespaced rows, chosen once per shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .ast import Alias, ColumnRef, JsonColumn
from .errors import RowKeyError
from .sources import output_types
from .types import expr_type, row_converter

_COLUMNS = (ColumnRef, JsonColumn)

__all__ = ["Row", "make_mapper"]


class Row:
    """A result row of a select spanning several models or computed columns.

    Each model in the select list is a namespace holding an instance of that model with the
    selected fields set (``row.User.name``, ``row.Order.id``); aliases and, when unambiguous,
    plain column names are attributes too (``row.n``, ``row.total``). A Row is also a tuple
    of the raw values (``row[0]``, ``len(row)``, unpacking), and a mapping by name
    (``row["total"]``).

    >>> from activeq import ActiveRecord, Database, Field, func
    >>> class Fruit(ActiveRecord):
    ...     __table_name__ = 'fruits'
    ...     id: int = Field(primary_key=True)
    ...     kind: str
    >>> db = Database(':memory:'); db.bind(Fruit); db.create_tables(Fruit)
    >>> Fruit.insert_many([{'kind': 'apple'}, {'kind': 'apple'}, {'kind': 'pear'}])
    3
    >>> row = Fruit.query().select(Fruit.c.kind, func.count().as_('n')).group_by(Fruit.c.kind).first()
    >>> row.kind, row.n, row['n'], tuple(row)
    ('apple', 2, 2, ('apple', 2))
    """

    __slots__ = ("_values", "__dict__")

    def __init__(self, values: tuple[Any, ...], attrs: dict[str, Any]) -> None:
        self._values = values
        self.__dict__.update(attrs)

    def __getitem__(self, index: int | str) -> Any:
        if type(index) is str:
            try:
                return self.__dict__[index]
            except KeyError:
                raise RowKeyError(index, self.__dict__) from None
        return self._values[index]  # type: ignore[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row):
            return self._values == other._values
        if isinstance(other, tuple):
            return self._values == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    if TYPE_CHECKING:
        # Attributes are the row's columns, set per row: type checkers take any name.
        def __getattr__(self, name: str) -> Any: ...

    def _asdict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"Row({inner})"


def _namespace(ref: ColumnRef) -> str | None:
    """The Row attribute holding a model column's instance: the model, or the alias's name."""
    model = ref.model
    if model is None:
        return None
    return model.__name__ if ref.table == model.__aq__.table else ref.table  # type: ignore[no-any-return]


def result_names(query: Any) -> tuple[str, ...]:
    """Column names of a select's result: attribute names, aliases, or the function text."""
    s = query._s
    extra = s["extra"]
    if extra is not None and extra.compound is not None:
        return result_names(extra.compound.left)
    info = s["model"].__aq__
    if s["columns"] is None:
        return info.names  # type: ignore[no-any-return]
    names: list[str] = []
    for i, item in enumerate(s["columns"]):
        if isinstance(item, Alias):
            name = item.name
        elif isinstance(item, ColumnRef):
            name = item.name if item.name not in names else f"{_namespace(item) or item.table}.{item.name}"
        else:
            name = f"col{i}"
        names.append(name)
    return tuple(names)


def make_mapper(query: Any, dialect: str = "sqlite") -> tuple[Any, tuple[str, ...], Any]:
    """For a select: ``(rows, ctx) -> results``, the result column names, and the converter
    of raw rows to Python values (None when the driver's values already are)."""
    s = query._s
    model = s["model"]
    info = model.__aq__
    names = result_names(query)
    extra = s["extra"]
    if extra is not None and extra.compound is not None:
        convert = row_converter(output_types(extra.compound.left), dialect)
        return _flat_mapper(names, convert), names, convert
    columns = s["columns"]
    if columns is None:
        convert = row_converter([c.type for c in info.columns], dialect)
        return info.builder(info.names, dialect), names, convert
    convert = row_converter([expr_type(c) for c in columns], dialect)
    table = info.table if extra is None or extra.source is None else extra.source.name
    if all(type(c) in _COLUMNS and c.model is model and c.table == table for c in columns) and len(
        {c.name for c in columns}
    ) == len(columns):
        return info.builder(tuple(c.name for c in columns), dialect), names, convert
    return _row_mapper(columns, names, dialect, convert), names, convert


def _flat_mapper(names: tuple[str, ...], convert: Any) -> Any:
    def map_rows(rows: list[tuple[Any, ...]], ctx: Any) -> list[Row]:
        values = rows if convert is None else convert(rows)
        return [Row(r, dict(zip(names, r))) for r in values]

    return map_rows


def _row_mapper(columns: tuple[Any, ...], names: tuple[str, ...], dialect: str,
                convert: Any) -> Any:
    # Group model columns by namespace (the model, or its alias): each gets a partial-instance
    # builder over its positions. Columns of derived tables are plain attributes.
    groups: dict[str, tuple[Any, list[tuple[int, str]]]] = {}
    for i, item in enumerate(columns):
        if type(item) in _COLUMNS and item.model is not None:
            space = _namespace(item)
            assert space is not None
            groups.setdefault(space, (item.model, []))[1].append((i, item.name))
    builders = []
    for space, (model, positions) in groups.items():
        unique = {n for _, n in positions}
        if len(unique) != len(positions):
            positions = list({n: (i, n) for i, n in positions}.values())
        idx = tuple(i for i, _ in positions)
        builders.append((space, idx, model.__aq__.builder(tuple(n for _, n in positions), dialect)))
    flat = []
    counts: dict[str, int] = {}
    for item in columns:
        if type(item) in _COLUMNS:
            counts[item.name] = counts.get(item.name, 0) + 1
    namespace_names = {name for name, _, _ in builders}
    for i, (item, name) in enumerate(zip(columns, names)):
        if isinstance(item, Alias):
            flat.append((name, i))
        elif type(item) in _COLUMNS:
            if counts[item.name] == 1 and item.name not in namespace_names:
                flat.append((item.name, i))
            elif item.model is None:
                flat.append((name, i))
        else:
            flat.append((name, i))

    def map_rows(rows: list[tuple[Any, ...]], ctx: Any) -> list[Row]:
        out = []
        values = rows if convert is None else convert(rows)
        for r, v in zip(rows, values):
            attrs = {name: build([tuple(r[i] for i in idx)], ctx)[0] for name, idx, build in builders}
            for name, i in flat:
                attrs[name] = v[i]
            out.append(Row(v, attrs))
        return out

    return map_rows
