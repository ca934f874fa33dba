"""Large result sets: keyset chunks, page-number pages and opaque cursors.

Chunks and cursors page by key (``WHERE key > last_seen ORDER BY key LIMIT n``), never by
OFFSET: each page costs one index seek however deep it is, and rows inserted or deleted
meanwhile cannot shift a row into two pages or out of all of them.

>>> from activeq import ActiveRecord, Database, Field
>>> class Item(ActiveRecord):
...     __table_name__ = 'items'
...     id: int = Field(primary_key=True)
...     label: str
>>> db = Database(':memory:'); db.bind(Item); db.create_tables(Item)
>>> Item.insert_many([{'label': f'item {i}'} for i in range(7)])
7
>>> [[item.id for item in chunk] for chunk in Item.query().chunks(3)]
[[1, 2, 3], [4, 5, 6], [7]]
>>> page = Item.query().paginate(2, per_page=3)
>>> [item.id for item in page.items], page.total, page.pages
([4, 5, 6], 7, 3)
>>> first = Item.query().order_by(Item.c.label.desc()).cursor_page(4)
>>> second = Item.query().order_by(Item.c.label.desc()).cursor_page(4, after=first.next_cursor)
>>> [item.label for item in second.items], second.next_cursor
(['item 2', 'item 1', 'item 0'], None)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .ast import ColumnRef, Expr, Ordering, Param
from .errors import CompileError, ValidationError
from .values import NO_FORM, stored_form

if TYPE_CHECKING:
    from .query import Query

__all__ = ["CursorPage", "Page", "chunks", "cursor_page", "paginate"]

M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    """One page of a page-number listing (``query.paginate(page, per_page)``).

    >>> from activeq import ActiveRecord, Database, Field
    >>> class Line(ActiveRecord):
    ...     __table_name__ = 'lines'
    ...     id: int = Field(primary_key=True)
    ...     text: str
    >>> db = Database(':memory:'); db.bind(Line); db.create_tables(Line)
    >>> Line.insert_many([{'text': str(i)} for i in range(5)])
    5
    >>> page = Line.query().order_by(Line.c.id).paginate(2, per_page=2)
    >>> [l.id for l in page.items], page.total, page.page
    ([3, 4], 5, 2)
    """

    items: list[M]
    """The results on this page."""
    total: int
    """Rows matching the query across all pages."""
    page: int
    """This page's number, from 1."""
    per_page: int
    """The page size asked for."""

    @property
    def pages(self) -> int:
        """How many pages there are (at least 1)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        """Whether a later page has rows."""
        return self.page * self.per_page < self.total

    @property
    def has_prev(self) -> bool:
        """Whether this is not the first page."""
        return self.page > 1


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[M]):
    """One page of a cursor listing (``query.cursor_page(size, after=cursor)``).

    >>> from activeq import ActiveRecord, Database, Field
    >>> class Step(ActiveRecord):
    ...     __table_name__ = 'steps'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    >>> db = Database(':memory:'); db.bind(Step); db.create_tables(Step)
    >>> Step.insert_many([{'name': n} for n in 'abc'])
    3
    >>> first = Step.query().cursor_page(2)
    >>> [s.id for s in first.items], first.has_more
    ([1, 2], True)
    >>> last = Step.query().cursor_page(2, after=first.next_cursor)
    >>> [s.id for s in last.items], last.has_more
    ([3], False)
    """

    items: list[M]
    """The results on this page."""
    next_cursor: str | None
    """Pass as ``after=`` for the next page; None on the last page."""

    @property
    def has_more(self) -> bool:
        """Whether another page follows."""
        return self.next_cursor is not None


class _Key:
    """A keyset: the ordered columns that identify a position in the results."""

    __slots__ = ("columns", "desc", "orders")

    def __init__(self, columns: tuple[ColumnRef, ...], desc: tuple[bool, ...]) -> None:
        self.columns = columns
        self.desc = desc
        self.orders = tuple(Ordering(c, d, None) for c, d in zip(columns, desc))

    @property
    def signature(self) -> list[str]:
        return [f"{'-' if d else ''}{c.table}.{c.column}" for c, d in zip(self.columns, self.desc)]

    def values(self, result: Any) -> tuple[Any, ...]:
        out = []
        for col in self.columns:
            try:
                value = getattr(result, col.name)
            except AttributeError:
                raise CompileError(
                    f"the results do not carry the key column {col.name!r}: select it too"
                ) from None
            if value is None:
                raise CompileError(
                    f"key column {col.model.__name__}.{col.name} is NULL in a row; page by "
                    "columns that are never NULL"
                )
            out.append(value)
        return tuple(out)

    def after(self, last: tuple[Any, ...]) -> Expr:
        """Rows strictly after ``last`` in key order (an OR of equal prefixes)."""
        result: Expr | None = None
        for i, (col, desc) in enumerate(zip(self.columns, self.desc)):
            term: Expr = (col < last[i]) if desc else (col > last[i])
            for j in range(i - 1, -1, -1):
                term = (self.columns[j] == last[j]) & term
            result = term if result is None else result | term
        assert result is not None
        return result


def _keyset(query: Query[Any], by: Any) -> _Key:
    s = query._s
    model = s["model"]
    info = model.__aq__
    if by is None:
        items = list(s["orders"])
        tiebreak = True
    else:
        items = [query._ordering(b) for b in (by if isinstance(by, (tuple, list)) else (by,))]
        tiebreak = False
    columns: list[ColumnRef] = []
    desc: list[bool] = []
    for item in items:
        # An ordering may be stored as a bare expression, meaning ascending.
        col, descending = (item.item, bool(item.desc)) if isinstance(item, Ordering) else (item, False)
        if not isinstance(col, ColumnRef) or col.model is not model:
            raise CompileError(
                f"keyset paging orders by columns of {model.__name__}, not {col!r}; pass by="
            )
        columns.append(col)
        desc.append(descending)
    if tiebreak or not columns:
        if info.pk is None:
            raise CompileError(f"{model.__name__} has no primary key: pass by= a unique column")
        pk = info.refs[info.pk.name]
        if not any(c.key == pk.key for c in columns):
            columns.append(pk)
            desc.append(desc[-1] if desc else False)
    selected = s["columns"]
    if selected is not None:
        have = {c.key for c in selected if isinstance(c, ColumnRef)}
        missing = [c.name for c in columns if c.key not in have]
        if missing:
            raise CompileError(
                f"the results do not carry the key column {missing[0]!r}: select it too")
    return _Key(tuple(columns), tuple(desc))


def _check_size(name: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise CompileError(f"{name} must be a positive integer, not {value!r}")
    return value


def chunks(query: Query[M], size: int = 1000, by: Any = None) -> Iterator[list[M]]:
    """Lists of at most ``size`` results, in key order, one keyset query each."""
    _check_size("chunk size", size)
    s = query._s
    if s["offset"] is not None:
        raise CompileError("chunks() pages by key, not by offset: remove offset()")
    if s["groups"] or s["distinct"]:
        raise CompileError("chunks() pages by key: it cannot page grouped or DISTINCT results")
    remaining = s["limit"].value if s["limit"] is not None else None
    key = _keyset(query, by)
    # Checked above, before the first next(): bad arguments fail where chunks() is called.
    return _chunks(query._replace(orders=key.orders, limit=None), key, size, remaining)


def _chunks(base: Query[M], key: _Key, size: int, remaining: int | None) -> Iterator[list[M]]:
    last: tuple[Any, ...] | None = None
    while remaining is None or remaining > 0:
        n = size if remaining is None else min(size, remaining)
        page_query = base if last is None else base.where(key.after(last))
        page = page_query._replace(limit=Param(n)).all()
        if not page:
            return
        yield page
        if len(page) < n:
            return
        if remaining is not None:
            remaining -= len(page)
        last = key.values(page[-1])


def paginate(query: Query[M], page: int, per_page: int = 20) -> Page[M]:
    """Page ``page`` (from 1) of ``per_page`` results, with the total row count."""
    _check_size("page", page)
    _check_size("per_page", per_page)
    s = query._s
    if s["limit"] is not None or s["offset"] is not None:
        raise CompileError("paginate() sets limit and offset itself: remove limit()/offset()")
    ordered = query
    if not s["orders"]:
        # Without an order the database may return the same row on two pages.
        info = s["model"].__aq__
        if info.pk is not None:
            ordered = query._replace(orders=(Ordering(info.refs[info.pk.name], False, None),))
    total = query.count()
    items = ordered._replace(limit=Param(per_page), offset=Param((page - 1) * per_page)).all()
    return Page(items, total, page, per_page)


def cursor_page(query: Query[M], size: int = 20, after: str | None = None,
                by: Any = None) -> CursorPage[M]:
    """``size`` results following the position ``after`` encodes (the start when None)."""
    _check_size("size", size)
    s = query._s
    if s["limit"] is not None or s["offset"] is not None:
        raise CompileError("cursor_page() sets the limit itself: remove limit()/offset()")
    key = _keyset(query, by)
    q = query._replace(orders=key.orders)
    if after is not None:
        q = q.where(key.after(decode_cursor(after, key)))
    rows = q._replace(limit=Param(size + 1)).all()
    if len(rows) <= size:
        return CursorPage(rows, None)
    items = rows[:size]
    return CursorPage(items, encode_cursor(key, key.values(items[-1])))


def _plain(column: ColumnRef, value: Any) -> Any:
    """A key value in its column's stored form (SQLite's), which JSON can carry."""
    bind = column.type.bind("sqlite")
    if bind is not None and value is not None:
        value = bind(value)
    form = stored_form(value)
    if form is not NO_FORM:
        return form
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CompileError(f"cannot put a {type(value).__name__} key value in a cursor")


def _restored(column: ColumnRef, value: Any) -> Any:
    """A key value read from a cursor, back in its column's Python type."""
    result = column.type.result("sqlite")
    if result is None or value is None:
        return value
    try:
        return result(value)
    except (ValueError, TypeError, ArithmeticError):
        raise ValidationError("malformed cursor", field="after") from None


def encode_cursor(key: _Key, values: tuple[Any, ...]) -> str:
    """An opaque, URL-safe cursor for the position after a row with these key values."""
    payload = json.dumps({"k": key.signature,
                          "v": [_plain(c, v) for c, v in zip(key.columns, values)]},
                         separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: _Key) -> tuple[Any, ...]:
    """The key values in a cursor; ValidationError when it is malformed or for another key."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = data["v"]
        signature = data["k"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise ValidationError("malformed cursor", field="after") from None
    if signature != key.signature or not isinstance(values, list) or len(values) != len(key.columns):
        made_for = ", ".join(map(str, signature)) if isinstance(signature, list) else repr(signature)
        raise ValidationError(
            f"this cursor was made for another ordering ({made_for}, not "
            f"{', '.join(key.signature)})", field="after")
    return tuple(_restored(c, v) for c, v in zip(key.columns, values))
