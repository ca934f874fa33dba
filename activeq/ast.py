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
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .errors import CompileError

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
    "OutputColumn",
    "Param",
    "Star",
    "SubqueryExpr",
    "Window",
    "as_expr",
]

try:  # the C accessor namedtuple uses; property(itemgetter) elsewhere
    from collections import _tuplegetter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    def _tuplegetter(index: int, doc: str) -> Any:  # type: ignore[misc]
        return property(itemgetter(index), doc=doc)

_tnew = tuple.__new__


class Node(tuple):  # type: ignore[type-arg]
    """Base of all tree nodes: an immutable tuple ``(key, params, *fields)``.

    Nodes are tuples so that building one is a single C-level allocation and no attribute can
    ever be reassigned; each field is a read-only accessor declared by ``_fields``.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    key: Any = _tuplegetter(0, "The shape: a hashable tuple without bound values.")
    params: tuple[Any, ...] = _tuplegetter(1, "Bound values in the order the compiler meets them.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for i, name in enumerate(cls.__dict__.get("_fields", ())):
            setattr(cls, name, _tuplegetter(i + 2, name))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self[2:])

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name != "model")
        return f"{type(self).__name__}({fields})"


_PLAIN = frozenset((int, str, float, bool, bytes, type(None)))


def as_expr(value: Any) -> Expr:
    """Wrap a Python value as a bound ``Param`` unless it already is an expression."""
    if type(value) in _PLAIN:
        return Param(value)
    if isinstance(value, Expr):
        return value
    if getattr(value, "kind", None) == "select" and hasattr(value, "_s"):
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
        if type(other) in _PLAIN:
            if other is None:
                return IsNull(self, False)
            return _compare_value("=", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "=", self[0], other[0]), self[1] + other[1], "=", self,
                                   other))
        return Compare("=", self, as_expr(other))

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if other is None:
                return IsNull(self, True)
            return _compare_value("<>", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "<>", self[0], other[0]), self[1] + other[1], "<>", self,
                                   other))
        return Compare("<>", self, as_expr(other))

    def __lt__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            return _compare_value("<", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "<", self[0], other[0]), self[1] + other[1], "<", self,
                                   other))
        return Compare("<", self, as_expr(other))

    def __le__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            return _compare_value("<=", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "<=", self[0], other[0]), self[1] + other[1], "<=", self,
                                   other))
        return Compare("<=", self, as_expr(other))

    def __gt__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            return _compare_value(">", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", ">", self[0], other[0]), self[1] + other[1], ">", self,
                                   other))
        return Compare(">", self, as_expr(other))

    def __ge__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            return _compare_value(">=", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", ">=", self[0], other[0]), self[1] + other[1], ">=", self,
                                   other))
        return Compare(">=", self, as_expr(other))

    # boolean algebra ---------------------------------------------------------------------
    def __and__(self, other: Any) -> Expr:
        if type(self) is not BoolOp and type(other) is not BoolOp and isinstance(other, Expr):
            # Two plain operands: the node BoolOp.__new__ would build, without its frame.
            return _tnew(BoolOp, (("AND", self[0], other[0]), self[1] + other[1], "AND", (self, other)))
        return BoolOp("AND", (self, other if isinstance(other, Expr) else as_expr(other)))

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
        if type(name) is str and name:
            # The node Alias() would build, without the frames of its construction.
            return _tnew(Alias, (("as", name, self[0]), self[1], self, name))  # type: ignore[no-any-return]
        return Alias(self, name)

    def asc(self) -> Ordering:
        """Ascending order for ``order_by``."""
        return _tnew(Ordering, (("ord", False, None, self[0]), self[1], self, False, None))  # type: ignore[no-any-return]

    def desc(self) -> Ordering:
        """Descending order for ``order_by``."""
        return _tnew(Ordering, (("ord", True, None, self[0]), self[1], self, True, None))  # type: ignore[no-any-return]


def _in(item: Expr, values: Any, negated: bool) -> Expr:
    from .query import Query

    if isinstance(values, Query):
        return InQuery(item, values, negated)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"is_in()/not_in() take a list or a query, not {type(values).__name__}")
    return InList(item, tuple(values), negated)


class ColumnRef(Expr):
    """A column of a model's table: ``User.c.email``. One instance per model column."""

    __slots__ = ()
    _fields = ("model", "name", "column", "table")
    model: Any
    name: str
    column: str
    table: str

    def __new__(cls, model: Any, name: str, column: str, table: str):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("col", table, column), (), model, name, column, table))

    def __repr__(self) -> str:
        return f"ColumnRef({self.table}.{self.column})"


class Param(Expr):
    """A bound value. Its value never enters the SQL text or the shape key."""

    __slots__ = ()
    _fields = ("value",)
    value: Any

    def __new__(cls, value: Any):  # type: ignore[no-untyped-def]
        return _tnew(cls, ("?", (value,), value))


class BindParam(Expr):
    """A named placeholder for a compiled, reusable statement: ``BindParam('email')``.

    >>> from activeq import BindParam
    >>> BindParam('email').name
    'email'
    """

    __slots__ = ()
    _fields = ("name",)
    name: str

    def __new__(cls, name: str):  # type: ignore[no-untyped-def]
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"BindParam name must be an identifier, got {name!r}")
        return _tnew(cls, (("bind", name), (Unbound(name),), name))


class Unbound:
    """Stands in the parameter list for a ``BindParam`` until a value is supplied."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<value of BindParam({self.name!r})>"


class Star(Expr):
    """``*`` (inside ``COUNT(*)``)."""

    __slots__ = ()

    def __new__(cls):  # type: ignore[no-untyped-def]
        return _tnew(cls, ("*", ()))


class Compare(Expr):
    """A binary comparison: ``=``, ``<>``, ``<``, ``<=``, ``>``, ``>=``."""

    __slots__ = ()
    _fields = ("op", "left", "right")
    op: str
    left: Expr
    right: Expr

    def __new__(cls, op: str, left: Expr, right: Expr):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("cmp", op, left.key, right.key), left.params + right.params, op, left, right))


class Arith(Expr):
    """Binary arithmetic: ``+``, ``-``, ``*``, ``/``, ``%``."""

    __slots__ = ()
    _fields = ("op", "left", "right")
    op: str
    left: Expr
    right: Expr

    def __new__(cls, op: str, left: Expr, right: Expr):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("ar", op, left.key, right.key), left.params + right.params, op, left, right))


def _compare_value(op: str, left: Expr, value: Any) -> Expr:
    # ``left <op> value`` for a plain Python value, the most common node a query holds: built
    # as Compare(op, left, Param(value)) would be, minus two calls through type.__call__ and
    # __new__, which cost twice as much as the allocations themselves.
    return _tnew(Compare, (("cmp", op, left[0], "?"), left[1] + (value,), op, left,
                           _tnew(Param, ("?", (value,), value))))


class BoolOp(Expr):
    """``AND`` / ``OR`` over two or more operands, flattened when nested with the same op."""

    __slots__ = ()
    _fields = ("op", "items")
    op: str
    items: tuple[Expr, ...]

    def __new__(cls, op: str, items: tuple[Expr, ...]):  # type: ignore[no-untyped-def]
        if len(items) == 2:
            x, y = items
            if not (type(x) is BoolOp and x.op == op) and not (type(y) is BoolOp and y.op == op):
                return _tnew(cls, ((op, x.key, y.key), x.params + y.params, op, items))
        flat: list[Expr] = []
        for item in items:
            if type(item) is BoolOp and item.op == op:
                flat.extend(item.items)
            else:
                flat.append(item)
        params: tuple[Any, ...] = ()
        for i in flat:
            params += i.params
        return _tnew(cls, ((op, *[i.key for i in flat]), params, op, tuple(flat)))


class Not(Expr):
    """Logical negation."""

    __slots__ = ()
    _fields = ("item",)
    item: Expr

    def __new__(cls, item: Expr):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("not", item.key), item.params, item))


class IsNull(Expr):
    """``IS NULL`` / ``IS NOT NULL``."""

    __slots__ = ()
    _fields = ("item", "negated")
    item: Expr
    negated: bool

    def __new__(cls, item: Expr, negated: bool):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("isnull", negated, item.key), item.params, item, negated))


class InList(Expr):
    """``IN`` / ``NOT IN`` a list of values, bound as one array parameter.

    The list length is not part of the shape: one cached statement serves every length, and
    SQLite's bound-variable limit never applies.
    """

    __slots__ = ()
    _fields = ("item", "values", "negated")
    item: Expr
    values: tuple[Any, ...]
    negated: bool

    def __new__(cls, item: Expr, values: tuple[Any, ...], negated: bool):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("inlist", negated, item.key), item.params + (values,), item, values, negated))


class InQuery(Expr):
    """``IN`` / ``NOT IN`` a subquery."""

    __slots__ = ()
    _fields = ("item", "query", "negated")
    item: Expr
    query: Query[Any]
    negated: bool

    def __new__(cls, item: Expr, query: Query, negated: bool):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("inquery", negated, item.key, query.key), item.params + query.params, item, query, negated))


class Like(Expr):
    """``LIKE`` / ``NOT LIKE`` / case-insensitive ``ILIKE``."""

    __slots__ = ()
    _fields = ("item", "pattern", "insensitive", "negated")
    item: Expr
    pattern: Expr
    insensitive: bool
    negated: bool

    def __new__(cls, item: Expr, pattern: Expr, insensitive: bool, negated: bool):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("like", insensitive, negated, item.key, pattern.key), item.params + pattern.params, item, pattern, insensitive, negated))


class Between(Expr):
    """``BETWEEN low AND high``."""

    __slots__ = ()
    _fields = ("item", "low", "high", "negated")
    item: Expr
    low: Expr
    high: Expr
    negated: bool

    def __new__(cls, item: Expr, low: Expr, high: Expr, negated: bool):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("between", negated, item.key, low.key, high.key), item.params + low.params + high.params, item, low, high, negated))


class Func(Expr):
    """An SQL function call: ``func.lower(User.c.email)``, ``func.count()``."""

    __slots__ = ()
    _fields = ("name", "args", "distinct")
    name: str
    args: tuple[Expr, ...]
    distinct: bool

    def __new__(cls, name: str, args: tuple[Expr, ...], distinct: bool = False):  # type: ignore[no-untyped-def]
        params: tuple[Any, ...] = ()
        for a in args:
            params += a.params
        return _tnew(cls, (("fn", name, distinct, *[a.key for a in args]), params, name, args, distinct))

    def over(self, partition_by: Any = (), order_by: Any = (), *,
             rows: tuple[int | None, int | None] | None = None,
             range_: tuple[int | None, int | None] | None = None) -> Window:
        """This function as a window function: ``func.row_number().over(order_by=...)``.

        ``partition_by`` and ``order_by`` take one expression or a list (orderings such as
        ``col.desc()`` too). A frame is ``rows=(start, end)`` or ``range_=(start, end)``:
        None is UNBOUNDED, 0 the current row, a negative number rows PRECEDING and a positive
        one rows FOLLOWING, so ``rows=(None, 0)`` is a running total.
        """
        return Window(self, _expr_tuple(partition_by, "partition_by"),
                      _expr_tuple(order_by, "order_by"), _frame(rows, range_))


def _expr_tuple(items: Any, what: str) -> tuple[Any, ...]:
    if isinstance(items, (Expr, Ordering)):
        return (items,)
    if not isinstance(items, (list, tuple)):
        raise CompileError(f"over({what}=...) takes an expression or a list of them, not {items!r}")
    out = tuple(items)
    for item in out:
        if not isinstance(item, (Expr, Ordering)):
            raise CompileError(f"over({what}=...) takes SQL expressions, not {item!r}")
    return out


def _frame(rows: Any, range_: Any) -> tuple[Any, ...] | None:
    if rows is not None and range_ is not None:
        raise CompileError("over() takes rows= or range_=, not both")
    kind, bounds = ("ROWS", rows) if rows is not None else ("RANGE", range_)
    if bounds is None:
        return None
    if not isinstance(bounds, tuple) or len(bounds) != 2 or not all(
            b is None or (type(b) is int) for b in bounds):
        raise CompileError(
            f"over({kind.lower()}...=) takes a (start, end) pair of ints or None, not {bounds!r}")
    start, end = bounds
    if start is not None and end is not None and start > end:
        raise CompileError(f"over() frame starts after it ends: {bounds!r}")
    return (kind, start, end)


class Alias(Expr):
    """An expression named in the select list."""

    __slots__ = ()
    _fields = ("item", "name")
    item: Expr
    name: str

    def __new__(cls, item: Expr, name: str):  # type: ignore[no-untyped-def]
        if not isinstance(name, str) or not name:
            raise ValueError("an alias must be a non-empty string")
        return _tnew(cls, (("as", name, item.key), item.params, item, name))


class Ordering(Node):
    """A sort key: expression, direction and optional NULLS FIRST/LAST."""

    __slots__ = ()
    _fields = ("item", "desc", "nulls_last")
    item: Expr
    desc: bool
    nulls_last: bool | None

    def __new__(cls, item: Expr, desc: bool, nulls_last: bool | None):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("ord", desc, nulls_last, item.key), item.params, item, desc, nulls_last))

    def nulls_first(self) -> Ordering:
        """Sort NULLs before other values."""
        return Ordering(self.item, self.desc, False)

    def nulls_last_(self) -> Ordering:
        """Sort NULLs after other values."""
        return Ordering(self.item, self.desc, True)


class OutputColumn(Expr):
    """A column of the select list, by its output name or 1-based position.

    What ``order_by("n")``, ``order_by("-n")`` and ``group_by(2)`` refer to when the name is
    an alias of the select list (or the query is a set operation, whose columns have only
    output names). Renders the quoted name, or the position as an ordinal.
    """

    __slots__ = ()
    _fields = ("ref",)
    ref: str | int

    def __new__(cls, ref: str | int):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("out", ref), (), ref))


class Exists(Expr):
    """``EXISTS (subquery)``."""

    __slots__ = ()
    _fields = ("query",)
    query: Query[Any]

    def __new__(cls, query: Query):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("exists", query.key), query.params, query))


class SubqueryExpr(Expr):
    """A subquery used as a scalar value."""

    __slots__ = ()
    _fields = ("query",)
    query: Query[Any]

    def __new__(cls, query: Query):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("subq", query.key), query.params, query))


class Window(Expr):
    """``function OVER (PARTITION BY ... ORDER BY ... frame)``."""

    __slots__ = ()
    _fields = ("func", "partition_by", "order_by", "frame")
    func: Func
    partition_by: tuple[Expr, ...]
    order_by: tuple[Any, ...]
    frame: tuple[Any, ...] | None

    def __new__(cls, func: Func, partition_by: tuple[Expr, ...], order_by: tuple[Any, ...],  # type: ignore[no-untyped-def]
                frame: tuple[Any, ...] | None):
        params = func.params
        for p in partition_by:
            params += p.params
        for o in order_by:
            params += o.params
        key = ("over", func.key, tuple([p.key for p in partition_by]),
               tuple([o.key for o in order_by]), frame)
        return _tnew(cls, (key, params, func, partition_by, order_by, frame))


#: Every node class that may appear in a tree; the compiler has one handler per entry.
NODE_TYPES: tuple[type[Node], ...] = (
    ColumnRef, Param, BindParam, Star, Compare, Arith, BoolOp, Not, IsNull, InList, InQuery,
    Like, Between, Func, Alias, Ordering, OutputColumn, Exists, SubqueryExpr, Window,
)
