"""Turn result rows into models, partial models or namespaced rows, chosen once per shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .ast import Alias, ColumnRef, JsonColumn
from .types import expr_type, row_converter

_COLUMNS = (ColumnRef, JsonColumn)

__all__ = ["Row", "make_mapper"]


class Row:
    """A result row of a select spanning several models or computed columns.

    Each model in the select list is a namespace holding an instance of that model with the
    selected fields set (``row.User.name``, ``row.Order.id``); aliases and, when unambiguous,
    plain column names are attributes too (``row.n``, ``row.total``). A Row is also a tuple
    of the raw values (``row[0]``, ``len(row)``, unpacking).
    """

    __slots__ = ("_values", "__dict__")

    def __init__(self, values: tuple[Any, ...], attrs: dict[str, Any]) -> None:
        self._values = values
        self.__dict__.update(attrs)

    def __getitem__(self, index: int) -> Any:
        return self._values[index]

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

    def _asdict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items())
        return f"Row({inner})"


def result_names(query: Any) -> tuple[str, ...]:
    """Column names of a select's result: attribute names, aliases, or the function text."""
    s = query._s
    info = s["model"].__aq__
    if s["columns"] is None:
        return info.names
    names: list[str] = []
    for i, item in enumerate(s["columns"]):
        if isinstance(item, Alias):
            name = item.name
        elif isinstance(item, ColumnRef):
            name = item.name if item.name not in names else f"{item.model.__name__}.{item.name}"
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
    columns = s["columns"]
    if columns is None:
        convert = row_converter([c.type for c in info.columns], dialect)
        return info.builder(info.names, dialect), names, convert
    convert = row_converter([expr_type(c) for c in columns], dialect)
    if all(type(c) in _COLUMNS and c.model is model for c in columns) and len(
        {c.name for c in columns}
    ) == len(columns):
        return info.builder(tuple(c.name for c in columns), dialect), names, convert
    return _row_mapper(columns, names, dialect, convert), names, convert


def _row_mapper(columns: tuple[Any, ...], names: tuple[str, ...], dialect: str,
                convert: Any) -> Any:
    # Group plain columns by model: each model gets a partial-instance builder over its positions.
    groups: dict[Any, list[tuple[int, str]]] = {}
    for i, item in enumerate(columns):
        if type(item) in _COLUMNS:
            groups.setdefault(item.model, []).append((i, item.name))
    builders = []
    for model, positions in groups.items():
        unique = {n for _, n in positions}
        if len(unique) != len(positions):
            positions = list({n: (i, n) for i, n in positions}.values())
        idx = tuple(i for i, _ in positions)
        builders.append((model.__name__, idx,
                         model.__aq__.builder(tuple(n for _, n in positions), dialect)))
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
