"""Frozen expression nodes.

Every node carries two precomputed attributes besides its children:

* ``key``: the node's *shape*, a hashable tuple that excludes bound values. Two trees with the
  same key render to the same SQL text, so the key indexes the compile cache.
* ``params``: the bound values in the order the compiler meets them while lowering.

Both are computed once, when the node is built, from the children's own ``key`` and ``params``:
a query is therefore keyed without a separate tree walk. Python operators on expressions build
new nodes; nothing here knows about dialects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .query import Query

__all__ = [
    "Alias",
    "Arith",
    "Between",
    "BindParam",
    "BoolOp",
    "ColumnRef",
    "Compare",
    "Exists",
    "Expr",
    "Func",
    "InList",
    "InQuery",
    "IsNull",
    "Like",
    "Node",
    "Not",
    "Ordering",
    "Param",
    "Star",
    "SubqueryExpr",
    "as_expr",
]

_set = object.__setattr__


class FrozenNodeError(AttributeError):
    """Raised on any attempt to change a node after construction."""


class Node:
    """Base of all tree nodes: slotted and immutable."""

    __slots__ = ("key", "params")
    key: Any
    params: tuple[Any, ...]

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenNodeError(f"{type(self).__name__} is immutable; build a new node instead")

    def __delattr__(self, name: str) -> None:
        raise FrozenNodeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in type(self).__slots__ if name != "model"
        )
        return f"{type(self).__name__}({fields})"


def as_expr(value: Any) -> Expr:
    """Wrap a Python value as a bound ``Param`` unless it already is an expression."""
    if isinstance(value, Expr):
        return value
    from .query import Query

    if isinstance(value, Query):
        return SubqueryExpr(value)
    return Param(value)


class Expr(Node):
    """An SQL value expression; Python operators build new expression nodes.

    ``==`` and ``!=`` build comparisons (``== None`` is ``IS NULL``), so expressions are hashed
    by identity and must not be used in boolean context: combine predicates with ``&``, ``|``
    and ``~``.
    """

    __slots__ = ()

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError(
            "an SQL expression has no truth value: combine conditions with & (and), | (or) "
            "and ~ (not) instead of 'and', 'or', 'not', and parenthesise each comparison"
        )

    # comparisons -------------------------------------------------------------------------
    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        if other is None:
            return IsNull(self, False)
        return Compare("=", self, as_expr(other))

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        if other is None:
            return IsNull(self, True)
        return Compare("<>", self, as_expr(other))

    def __lt__(self, other: Any) -> Expr:
        return Compare("<", self, as_expr(other))

    def __le__(self, other: Any) -> Expr:
        return Compare("<=", self, as_expr(other))

    def __gt__(self, other: Any) -> Expr:
        return Compare(">", self, as_expr(other))

    def __ge__(self, other: Any) -> Expr:
        return Compare(">=", self, as_expr(other))

    # boolean algebra ---------------------------------------------------------------------
    def __and__(self, other: Any) -> Expr:
        return BoolOp("AND", (self, as_expr(other)))

    def __rand__(self, other: Any) -> Expr:
        return BoolOp("AND", (as_expr(other), self))

    def __or__(self, other: Any) -> Expr:
        return BoolOp("OR", (self, as_expr(other)))

    def __ror__(self, other: Any) -> Expr:
        return BoolOp("OR", (as_expr(other), self))

    def __invert__(self) -> Expr:
        return Not(self)

    # arithmetic --------------------------------------------------------------------------
    def __add__(self, other: Any) -> Expr:
        return Arith("+", self, as_expr(other))

    def __radd__(self, other: Any) -> Expr:
        return Arith("+", as_expr(other), self)

    def __sub__(self, other: Any) -> Expr:
        return Arith("-", self, as_expr(other))

    def __rsub__(self, other: Any) -> Expr:
        return Arith("-", as_expr(other), self)

    def __mul__(self, other: Any) -> Expr:
        return Arith("*", self, as_expr(other))

    def __rmul__(self, other: Any) -> Expr:
        return Arith("*", as_expr(other), self)

    def __truediv__(self, other: Any) -> Expr:
        return Arith("/", self, as_expr(other))

    def __rtruediv__(self, other: Any) -> Expr:
        return Arith("/", as_expr(other), self)

    def __mod__(self, other: Any) -> Expr:
        return Arith("%", self, as_expr(other))

    def __neg__(self) -> Expr:
        return Arith("-", Param(0), self)

    # named predicates --------------------------------------------------------------------
    def is_in(self, values: Iterable[Any] | Query) -> Expr:
        """``self IN (values)``; values is a list (bound as one array) or a subquery.

        An empty list matches nothing, on every dialect.
        """
        return _in(self, values, False)

    def not_in(self, values: Iterable[Any] | Query) -> Expr:
        """``self NOT IN (values)``; an empty list matches every row."""
        return _in(self, values, True)

    def like(self, pattern: Any) -> Expr:
        """``self LIKE pattern`` (case sensitivity follows the database)."""
        return Like(self, as_expr(pattern), False, False)

    def not_like(self, pattern: Any) -> Expr:
        """``self NOT LIKE pattern``."""
        return Like(self, as_expr(pattern), False, True)

    def ilike(self, pattern: Any) -> Expr:
        """Case-insensitive LIKE (``ILIKE`` where the dialect has it, ``LOWER`` otherwise)."""
        return Like(self, as_expr(pattern), True, False)

    def between(self, low: Any, high: Any) -> Expr:
        """``self BETWEEN low AND high`` (both ends included)."""
        return Between(self, as_expr(low), as_expr(high), False)

    def not_between(self, low: Any, high: Any) -> Expr:
        """``self NOT BETWEEN low AND high``."""
        return Between(self, as_expr(low), as_expr(high), True)

    def is_null(self) -> Expr:
        """``self IS NULL``."""
        return IsNull(self, False)

    def is_not_null(self) -> Expr:
        """``self IS NOT NULL``."""
        return IsNull(self, True)

    # naming and ordering -----------------------------------------------------------------
    def as_(self, name: str) -> Alias:
        """Name this expression in a select list: ``func.count().as_('n')``."""
        return Alias(self, name)

    def asc(self) -> Ordering:
        """Ascending order for ``order_by``."""
        return Ordering(self, False, None)

    def desc(self) -> Ordering:
        """Descending order for ``order_by``."""
        return Ordering(self, True, None)


def _in(item: Expr, values: Any, negated: bool) -> Expr:
    from .query import Query

    if isinstance(values, Query):
        return InQuery(item, values, negated)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"is_in()/not_in() take a list or a query, not {type(values).__name__}")
    return InList(item, tuple(values), negated)


class ColumnRef(Expr):
    """A column of a model's table: ``User.c.email``. One instance per model column."""

    __slots__ = ("model", "name", "column", "table")

    def __init__(self, model: Any, name: str, column: str, table: str) -> None:
        _set(self, "model", model)
        _set(self, "name", name)
        _set(self, "column", column)
        _set(self, "table", table)
        _set(self, "key", ("col", table, column))
        _set(self, "params", ())

    def __repr__(self) -> str:
        return f"ColumnRef({self.table}.{self.column})"


class Param(Expr):
    """A bound value. Its value never enters the SQL text or the shape key."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        _set(self, "value", value)
        _set(self, "key", "?")
        _set(self, "params", (value,))


class BindParam(Expr):
    """A named placeholder for a compiled, reusable statement: ``BindParam('email')``.

    >>> from activeq import BindParam
    >>> BindParam('email').name
    'email'
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"BindParam name must be an identifier, got {name!r}")
        _set(self, "name", name)
        _set(self, "key", ("bind", name))
        _set(self, "params", (self,))


class Star(Expr):
    """``*`` (inside ``COUNT(*)``)."""

    __slots__ = ()

    def __init__(self) -> None:
        _set(self, "key", "*")
        _set(self, "params", ())


class Compare(Expr):
    """A binary comparison: ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``."""

    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        _set(self, "op", op)
        _set(self, "left", left)
        _set(self, "right", right)
        _set(self, "key", ("cmp", op, left.key, right.key))
        _set(self, "params", left.params + right.params)


class Arith(Expr):
    """Binary arithmetic: ``+``, ``-``, ``*``, ``/``, ``%``."""

    __slots__ = ("op", "left", "right")

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        _set(self, "op", op)
        _set(self, "left", left)
        _set(self, "right", right)
        _set(self, "key", ("ar", op, left.key, right.key))
        _set(self, "params", left.params + right.params)


class BoolOp(Expr):
    """``AND`` / ``OR`` over two or more operands, flattened when nested with the same op."""

    __slots__ = ("op", "items")

    def __init__(self, op: str, items: tuple[Expr, ...]) -> None:
        flat: list[Expr] = []
        for item in items:
            if type(item) is BoolOp and item.op == op:
                flat.extend(item.items)
            else:
                flat.append(item)
        _set(self, "op", op)
        _set(self, "items", tuple(flat))
        _set(self, "key", (op, *[i.key for i in flat]))
        params: tuple[Any, ...] = ()
        for i in flat:
            params += i.params
        _set(self, "params", params)


class Not(Expr):
    """Logical negation."""

    __slots__ = ("item",)

    def __init__(self, item: Expr) -> None:
        _set(self, "item", item)
        _set(self, "key", ("not", item.key))
        _set(self, "params", item.params)


class IsNull(Expr):
    """``IS NULL`` / ``IS NOT NULL``."""

    __slots__ = ("item", "negated")

    def __init__(self, item: Expr, negated: bool) -> None:
        _set(self, "item", item)
        _set(self, "negated", negated)
        _set(self, "key", ("isnull", negated, item.key))
        _set(self, "params", item.params)


class InList(Expr):
    """``IN`` / ``NOT IN`` a list of values, bound as one array parameter.

    The list length is not part of the shape: one cached statement serves every length, and
    SQLite's bound-variable limit never applies.
    """

    __slots__ = ("item", "values", "negated")

    def __init__(self, item: Expr, values: tuple[Any, ...], negated: bool) -> None:
        _set(self, "item", item)
        _set(self, "values", values)
        _set(self, "negated", negated)
        _set(self, "key", ("inlist", negated, item.key))
        _set(self, "params", item.params + (values,))


class InQuery(Expr):
    """``IN`` / ``NOT IN`` a subquery."""

    __slots__ = ("item", "query", "negated")

    def __init__(self, item: Expr, query: Query, negated: bool) -> None:
        _set(self, "item", item)
        _set(self, "query", query)
        _set(self, "negated", negated)
        _set(self, "key", ("inquery", negated, item.key, query.key))
        _set(self, "params", item.params + query.params)


class Like(Expr):
    """``LIKE`` / ``NOT LIKE`` / case-insensitive ``ILIKE``."""

    __slots__ = ("item", "pattern", "insensitive", "negated")

    def __init__(self, item: Expr, pattern: Expr, insensitive: bool, negated: bool) -> None:
        _set(self, "item", item)
        _set(self, "pattern", pattern)
        _set(self, "insensitive", insensitive)
        _set(self, "negated", negated)
        _set(self, "key", ("like", insensitive, negated, item.key, pattern.key))
        _set(self, "params", item.params + pattern.params)


class Between(Expr):
    """``BETWEEN low AND high``."""

    __slots__ = ("item", "low", "high", "negated")

    def __init__(self, item: Expr, low: Expr, high: Expr, negated: bool) -> None:
        _set(self, "item", item)
        _set(self, "low", low)
        _set(self, "high", high)
        _set(self, "negated", negated)
        _set(self, "key", ("between", negated, item.key, low.key, high.key))
        _set(self, "params", item.params + low.params + high.params)


class Func(Expr):
    """An SQL function call: ``func.lower(User.c.email)``, ``func.count()``."""

    __slots__ = ("name", "args", "distinct")

    def __init__(self, name: str, args: tuple[Expr, ...], distinct: bool = False) -> None:
        _set(self, "name", name)
        _set(self, "args", args)
        _set(self, "distinct", distinct)
        _set(self, "key", ("fn", name, distinct, *[a.key for a in args]))
        params: tuple[Any, ...] = ()
        for a in args:
            params += a.params
        _set(self, "params", params)


class Alias(Expr):
    """An expression named in the select list."""

    __slots__ = ("item", "name")

    def __init__(self, item: Expr, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("an alias must be a non-empty string")
        _set(self, "item", item)
        _set(self, "name", name)
        _set(self, "key", ("as", name, item.key))
        _set(self, "params", item.params)


class Ordering(Node):
    """A sort key: expression, direction and optional NULLS FIRST/LAST."""

    __slots__ = ("item", "desc", "nulls_last")

    def __init__(self, item: Expr, desc: bool, nulls_last: bool | None) -> None:
        _set(self, "item", item)
        _set(self, "desc", desc)
        _set(self, "nulls_last", nulls_last)
        _set(self, "key", ("ord", desc, nulls_last, item.key))
        _set(self, "params", item.params)

    def nulls_first(self) -> Ordering:
        """Sort NULLs before other values."""
        return Ordering(self.item, self.desc, False)

    def nulls_last_(self) -> Ordering:
        """Sort NULLs after other values."""
        return Ordering(self.item, self.desc, True)


class Exists(Expr):
    """``EXISTS (subquery)``."""

    __slots__ = ("query",)

    def __init__(self, query: Query) -> None:
        _set(self, "query", query)
        _set(self, "key", ("exists", query.key))
        _set(self, "params", query.params)


class SubqueryExpr(Expr):
    """A subquery used as a scalar value."""

    __slots__ = ("query",)

    def __init__(self, query: Query) -> None:
        _set(self, "query", query)
        _set(self, "key", ("subq", query.key))
        _set(self, "params", query.params)


#: Every node class that may appear in a tree; the compiler has one handler per entry.
NODE_TYPES: tuple[type[Node], ...] = (
    ColumnRef, Param, BindParam, Star, Compare, Arith, BoolOp, Not, IsNull, InList, InQuery,
    Like, Between, Func, Alias, Ordering, Exists, SubqueryExpr,
)
