"""Column proxies (``Model.c``) and SQL functions (``func``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar

from .ast import ColumnRef, Exists, Expr, Func, O, Star, as_expr, check_function_name
from .errors import CompileError, UnknownColumnError
from .expressions import KEYWORD_ARGS, Keyword

__all__ = ["ColumnSet", "ModelColumns", "exists", "func"]

_Owner = TypeVar("_Owner")


class ColumnSet(Generic[O]):
    """The ``Model.c`` namespace: one prebuilt ``ColumnRef`` per field, no allocation per access.

    For type checkers ``User.c`` is ``ColumnSet[User]`` and each column a
    ``ColumnRef[Any, User]``; the ``activeq.mypy`` plugin gives each its field's type and
    reports names that are no column.

    >>> from activeq import ActiveRecord, Field
    >>> class Item(ActiveRecord):
    ...     __table_name__ = 'items'
    ...     id: int = Field(primary_key=True)
    ...     title: str
    >>> Item.c.title
    ColumnRef(items.title)
    """

    _columns: dict[str, ColumnRef[Any, O]]
    _all: tuple[ColumnRef[Any, O], ...]
    _model_name: str

    def __init__(self, model_name: str, columns: dict[str, ColumnRef[Any, Any]]) -> None:
        self.__dict__.update(columns)
        self.__dict__["_model_name"] = model_name
        self.__dict__["_columns"] = columns
        # Every column in order, built once: a query over a derived table selects them all.
        self.__dict__["_all"] = tuple(columns.values())

    def __getattr__(self, name: str) -> ColumnRef[Any, O]:
        if name.startswith("__"):
            raise AttributeError(name)
        close = difflib.get_close_matches(name, list(self._columns), n=3)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise UnknownColumnError(f"{self._model_name} has no column {name!r}{hint}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("model columns are fixed when the class is defined")

    def __iter__(self) -> Iterator[ColumnRef[Any, O]]:
        return iter(self._columns.values())

    def __len__(self) -> int:
        return len(self._columns)

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __getitem__(self, name: str) -> ColumnRef[Any, O]:
        try:
            return self._columns[name]
        except KeyError:
            return self.__getattr__(name)

    def __repr__(self) -> str:
        return f"<columns of {self._model_name}: {', '.join(self._columns)}>"


class ModelColumns(Protocol):
    """How type checkers see ``Model.c``: on a model class ``User``, ``User.c`` is a
    ``ColumnSet[User]`` (at run time each model class holds its ``ColumnSet`` itself)."""

    def __get__(self, instance: object, owner: type[_Owner], /) -> ColumnSet[_Owner]: ...


def function_call(name: str, args: tuple[Any, ...], distinct: bool = False) -> Func:
    """``name(args)`` as a node; the name must be an identifier, optionally dotted."""
    return _function_node(name, check_function_name(name).upper(), args, distinct)


def _function_node(name: str, upper: str, args: tuple[Any, ...], distinct: bool) -> Func:
    if upper == "COUNT" and not args:
        return Func("COUNT", (Star(),), distinct)
    words = KEYWORD_ARGS.get(upper)
    if words is not None:
        if not args or not isinstance(args[0], str) or args[0] not in words:
            got = repr(args[0]) if args else "nothing"
            raise CompileError(
                f"{name}() takes a unit first, one of {', '.join(words)}; got {got}")
        return Func(upper, (Keyword(args[0]), *[as_expr(a) for a in args[1:]]), distinct)
    return Func(upper, tuple(as_expr(a) for a in args), distinct)


class _FunctionFactory:
    """Builds SQL function calls: ``func.count()``, ``func.lower(User.c.email)``, ``func.anything(...)``.

    Each dialect gets its own spelling of a function sqlglot knows (``func.iif`` is ``IIF`` on
    SQLite and ``CASE WHEN`` on PostgreSQL); activeq's portable functions have one meaning on
    every engine: ``substring``, ``position``, ``trim``, ``replace``, ``concat``,
    ``concat_ws(separator, ...)``, ``current_date``, ``current_time``, ``current_timestamp``,
    ``date_trunc(unit, value)`` and ``date_diff(unit, start, end)``. A function an engine lacks raises UnsupportedError when
    rendered for it; any other name is written as given (user-defined functions), so it must
    be an identifier, optionally qualified (``getattr(func, 'schema.fn')``): anything else
    raises ``InvalidNameError`` (a ``CompileError``) as soon as it is named.

    >>> from activeq import func
    >>> func.count().name
    'COUNT'
    >>> func.date_trunc('month', '2024-05-17').args[0].word
    'month'
    >>> getattr(func, 'abs(1); DROP TABLE t; SELECT abs')
    Traceback (most recent call last):
    ...
    activeq.errors.InvalidNameError: a function name must be an identifier, optionally dotted (schema.fn); got 'abs(1); DROP TABLE t; SELECT abs'
    """

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        upper = check_function_name(name).upper()
        if upper == "COUNT" or upper in KEYWORD_ARGS:
            def call(*args: Any, distinct: bool = False) -> Func:
                return _function_node(name, upper, args, distinct)
        else:
            def call(*args: Any, distinct: bool = False) -> Func:
                # No argument or one expression (the usual calls): the node Func() would
                # build, without its frame.
                if not args:
                    return _tnew(Func, (("fn", upper, distinct), (), upper, args, distinct))
                if len(args) == 1 and isinstance(args[0], Expr):
                    arg = args[0]
                    return _tnew(Func, (("fn", upper, distinct, arg[0]), arg[1], upper, args,
                                        distinct))
                return _function_node(name, upper, args, distinct)

        call.__name__ = name
        # Kept as an instance attribute: the next ``func.<name>`` skips __getattr__.
        self.__dict__[name] = call
        return call

    def count(self, *args: Any, distinct: bool = False) -> Func:
        """``COUNT(*)`` without arguments, ``COUNT(expr)`` or ``COUNT(DISTINCT expr)``."""
        if not args:
            return _COUNT_STAR
        return Func("COUNT", tuple(as_expr(a) for a in args), distinct)


func = _FunctionFactory()
_COUNT_STAR = Func("COUNT", (Star(),))
_tnew = tuple.__new__


def exists(query: Any) -> Expr:
    """``EXISTS (query)`` as a predicate.

    >>> from activeq import ActiveRecord, Field, exists
    >>> class Fan(ActiveRecord):
    ...     __table_name__ = 'fans'
    ...     id: int = Field(primary_key=True)
    >>> class Like(ActiveRecord):
    ...     __table_name__ = 'likes'
    ...     id: int = Field(primary_key=True)
    ...     fan_id: int
    >>> q = Fan.query().where(exists(Like.query().where(Like.c.fan_id == Fan.c.id)))
    >>> q.sql()
    'SELECT "fans"."id" FROM "fans" WHERE EXISTS(SELECT "likes"."id", "likes"."fan_id" FROM "likes" WHERE "likes"."fan_id" = "fans"."id")'
    """
    return Exists(query)
