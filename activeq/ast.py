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

import itertools
import re
from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Generic, NoReturn, Self, SupportsIndex, cast

from typing_extensions import TypeVar

from .errors import (
    ArgumentTypeError,
    CompileError,
    InvalidNameError,
    ValidationError,
    ValueOutOfRangeError,
)

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
    "CompareValue",
    "Exists",
    "Expr",
    "Immutable",
    "Extract",
    "Func",
    "InList",
    "InQuery",
    "Selectable",
    "IsNull",
    "JsonColumn",
    "JsonPath",
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

T = TypeVar("T", default=Any)
"""The Python type of a column's values (``ColumnRef[int]``)."""
O = TypeVar("O", default=Any)  # noqa: E741
"""What a column belongs to: its model class, or the alias, subquery or CTE that holds it."""


class Immutable:
    """What every immutable object of activeq shares (tree nodes, queries, statements): a
    copy, shallow or deep, is the object itself, and pickling is refused.

    A query's shape key names its models by numbers this process hands out, so a query
    rebuilt from a pickle in another process could be given another model's cached SQL;
    ``to_sql()`` gives text and values that travel instead.

    >>> import copy, pickle
    >>> from activeq import ActiveRecord, ArgumentTypeError, Field
    >>> class Kiln(ActiveRecord):
    ...     id: int = Field(primary_key=True)
    >>> q = Kiln.query().where(Kiln.c.id > 1)
    >>> copy.deepcopy({"recent": q})["recent"] is q
    True
    >>> try:
    ...     pickle.dumps(q)
    ... except ArgumentTypeError as e:
    ...     print(e)
    a Query cannot be pickled: queries and expressions belong to the process that built them; pickle the text and values of its to_sql(), or build it again where it is needed
    """

    __slots__ = ()

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise ArgumentTypeError(
            f"a {type(self).__name__} cannot be pickled: queries and expressions belong to the "
            "process that built them; pickle the text and values of its to_sql(), or build it "
            "again where it is needed")


class Node(Immutable, tuple):  # type: ignore[type-arg]
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

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name != "model")
        return f"{type(self).__name__}({fields})"


_PLAIN = frozenset((int, str, float, bool, bytes, type(None)))

# A column type's ``accepts`` says which value types need no check; an int is bound as a signed
# 64-bit integer, so one of more than 63 bits (beyond the range, or -2**63 itself, which the
# check then takes) leaves that fast path for the type's own check.


def bindable_int(value: int) -> int:
    """``value`` when it fits the signed 64 bits every engine binds; else ValueOutOfRangeError.

    A column's comparisons check their values against its type; this is the same bound for a
    value with no column to answer for it (``func.abs(age) == v``, ``(age + 1) > v``): SQLite
    cannot bind a wider int at all, and the other engines would compare it as another type.
    """
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueOutOfRangeError(
            f"the int {value} is out of the signed 64-bit range a value is bound in "
            f"({-(1 << 63)} to {(1 << 63) - 1}); pass a float if an approximate value will do")
    return value


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
        raise ArgumentTypeError(
            "an SQL expression has no truth value: combine conditions with & (and), | (or) "
            "and ~ (not) instead of 'and', 'or', 'not', and parenthesise each comparison"
        )

    # comparisons -------------------------------------------------------------------------
    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if other is None:
                return IsNull(self, False)
            if type(other) is int and other.bit_length() > 63:
                bindable_int(other)
            return _compare_value("=", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "=", self[0], other[0]), self[1] + other[1], "=", self,
                                   other))
        return Compare("=", self, as_expr(other))

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if other is None:
                return IsNull(self, True)
            if type(other) is int and other.bit_length() > 63:
                bindable_int(other)
            return _compare_value("<>", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "<>", self[0], other[0]), self[1] + other[1], "<>", self,
                                   other))
        return Compare("<>", self, as_expr(other))

    def __lt__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if type(other) is int and other.bit_length() > 63:
                bindable_int(other)
            return _compare_value("<", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "<", self[0], other[0]), self[1] + other[1], "<", self,
                                   other))
        return Compare("<", self, as_expr(other))

    def __le__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if type(other) is int and other.bit_length() > 63:
                bindable_int(other)
            return _compare_value("<=", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", "<=", self[0], other[0]), self[1] + other[1], "<=", self,
                                   other))
        return Compare("<=", self, as_expr(other))

    def __gt__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if type(other) is int and other.bit_length() > 63:
                bindable_int(other)
            return _compare_value(">", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", ">", self[0], other[0]), self[1] + other[1], ">", self,
                                   other))
        return Compare(">", self, as_expr(other))

    def __ge__(self, other: Any) -> Expr:  # type: ignore[override]
        if type(other) in _PLAIN:
            if type(other) is int and other.bit_length() > 63:
                bindable_int(other)
            return _compare_value(">=", self, other)
        if isinstance(other, Expr):
            return _tnew(Compare, (("cmp", ">=", self[0], other[0]), self[1] + other[1], ">=", self,
                                   other))
        return Compare(">=", self, as_expr(other))

    # boolean algebra ---------------------------------------------------------------------
    condition: bool | None = None
    """Whether the expression is a condition: True, False, or None when its type is unknown
    (a function, a raw fragment), which ``&``, ``|`` and ``~`` take on trust."""

    def __and__(self, other: Any) -> Expr:
        if type(self) in _SIMPLE_CONDITIONS and type(other) in _SIMPLE_CONDITIONS:
            # Two comparisons: the node BoolOp.__new__ would build, without its frame.
            return _tnew(BoolOp, (("AND", self[0], other[0]), self[1] + other[1], "AND", (self, other)))
        return BoolOp("AND", (_condition(self, "&"), _condition(other, "&")))

    def __rand__(self, other: Any) -> Expr:
        return BoolOp("AND", (_condition(other, "&"), _condition(self, "&")))

    def __or__(self, other: Any) -> Expr:
        return BoolOp("OR", (_condition(self, "|"), _condition(other, "|")))

    def __ror__(self, other: Any) -> Expr:
        return BoolOp("OR", (_condition(other, "|"), _condition(self, "|")))

    def __invert__(self) -> Expr:
        return Not(_condition(self, "~"))

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
        return _in(self, _bindable_values(values), False)

    def not_in(self, values: Iterable[Any] | Query) -> Expr:
        """``self NOT IN (values)``; an empty list matches every row."""
        return _in(self, _bindable_values(values), True)

    def like(self, pattern: Any) -> Expr:
        """``self LIKE pattern`` (case sensitivity follows the database)."""
        return Like(self, as_expr(pattern), False, False)

    def not_like(self, pattern: Any) -> Expr:
        """``self NOT LIKE pattern``."""
        return Like(self, as_expr(pattern), False, True)

    def ilike(self, pattern: Any) -> Expr:
        """Case-insensitive LIKE (``ILIKE`` where the dialect has it, ``LOWER`` otherwise)."""
        return Like(self, as_expr(pattern), True, False)

    def contains(self, text: str) -> Expr:
        """Whether the text holds ``text`` anywhere: LIKE with ``%`` and ``_`` taken literally.

        >>> from activeq import ActiveRecord
        >>> class Memo(ActiveRecord):
        ...     __table_name__ = 'memos'
        ...     id: int | None = None
        ...     body: str
        >>> Memo.query().where(Memo.c.body.contains('50%')).to_sql()[1]
        ['%50!%%']
        """
        return _match(self, text, "%", "%", "contains")

    def startswith(self, text: str) -> Expr:
        """Whether the text starts with ``text`` (LIKE, ``%`` and ``_`` taken literally)."""
        return _match(self, text, "", "%", "startswith")

    def endswith(self, text: str) -> Expr:
        """Whether the text ends with ``text`` (LIKE, ``%`` and ``_`` taken literally)."""
        return _match(self, text, "%", "", "endswith")

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


def _condition(value: Any, op: str) -> Expr:
    """``value`` as an operand of ``op`` (``&``, ``|``, ``~``): a condition, else ArgumentTypeError.

    Refused when built: ``(age + 1) & ...`` or ``age & 3`` would reach the database as a
    number used as a truth value, which SQLite takes silently and PostgreSQL refuses.
    """
    expr = value if isinstance(value, Expr) else as_expr(value)
    if type(expr) in _CONDITIONS or expr.condition is not False:
        return expr
    raise ArgumentTypeError(
        f"{op} combines conditions (comparisons, bool columns, and their combinations); "
        f"{_describe(expr, value)} is not one: compare it first (== != < > is_null() ...)")


def _describe(expr: Expr, value: Any) -> str:
    if isinstance(expr, ColumnRef):
        owner = getattr(expr.model, "__name__", expr.table)
        return f"{owner}.{expr.name} ({expr.type.name})"
    return repr(value)


def require_condition(value: Any, clause: str) -> Expr:
    """``value`` when it can stand as the condition of ``clause`` (``where()``, ``having()``).

    A condition is a comparison, a bool column or expression, a combination of them with
    ``&``/``|``/``~``, EXISTS, or an expression of unknown type (a function, a ``text()``
    fragment, a scalar subquery), taken on trust as ``&`` takes it. Anything else is refused
    with ArgumentTypeError: a number used as a truth value is taken silently by SQLite and
    refused by PostgreSQL, and a Python bool or str means the condition was never built.
    """
    if isinstance(value, Expr):
        if type(value) in _CONDITIONS or value.condition is not False:
            return value
        raise ArgumentTypeError(
            f"{clause} takes a condition (a comparison, a bool column, a combination with "
            f"& | ~); {_describe(value, value)} is not one: compare it first "
            "(== != < > is_null() ...)")
    if isinstance(value, bool):
        raise ArgumentTypeError(
            f"{clause} got the Python bool {value!r}: a comparison was evaluated by Python "
            "instead of building SQL (use & | ~ instead of and/or/not, and == on columns)")
    if isinstance(value, str):
        raise ArgumentTypeError(
            f"{clause} takes a condition expression, not the str {value!r}: compare a column "
            f"(Model.c.name == value), or mark raw SQL as such with text({value!r})")
    raise ArgumentTypeError(
        f"{clause} takes a condition expression such as Model.c.x == 1, not "
        f"{type(value).__name__} {value!r}")


LIKE_ESCAPE = "!"
"""The escape character of the patterns ``contains``/``startswith``/``endswith`` build."""


def like_literal(text: str) -> str:
    """``text`` as a LIKE pattern matching only itself (``%``, ``_`` and ``!`` escaped)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _match(item: Expr, text: Any, before: str, after: str, name: str) -> Expr:
    if not isinstance(text, str):
        raise ValidationError(f"{name}() takes a str, not {type(text).__name__}: {text!r}")
    _need_text(item, f"{name}()")
    return Like(item, Param(before + like_literal(text) + after), False, False, LIKE_ESCAPE)


def _need_text(item: Expr, what: str) -> None:
    sqltype: Any = getattr(item, "type", None)
    if not getattr(sqltype, "textual", True):
        raise ValidationError(f"{what} needs a text column; {item!r} is {sqltype.name}",
                              field=getattr(item, "name", None))


class Selectable(Immutable):
    """Base of the statement objects usable as a subquery (``is_in(User.query()...)``).

    The query layer sits above the tree, so the tree knows queries only by this base: a
    ``Selectable`` carries the ``key`` and ``params`` of its SELECT like any node.
    """

    __slots__ = ()


def _bindable_values(values: Any) -> Any:
    # Values with no column type to check them: only the 64-bit bound applies.
    if isinstance(values, (str, bytes, Selectable)) or not isinstance(values, Iterable):
        return values  # _in refuses what is neither a list nor a query
    values = tuple(values)
    for value in values:
        if type(value) is int and value.bit_length() > 63:
            bindable_int(value)
    return values


def _in(item: Expr, values: Any, negated: bool) -> Expr:
    if isinstance(values, Selectable):
        return InQuery(item, cast("Query[Any]", values), negated)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ArgumentTypeError(
            f"is_in()/not_in() take a list or a query, not {type(values).__name__}"
            + (f" {values!r}: wrap a single value in a list" if isinstance(values, (str, bytes)) else ""))
    return InList(item, tuple(values), negated)


# A column's key is one string per (table, column, type key), not a tuple of them: every key
# that holds the column (a query's, a CTE's) is hashed on each cache lookup, and a string
# hashes once for its lifetime while a tuple is hashed anew each time. Numbers are never
# reused, so forgetting the strings (past the bound) costs cache misses, never a wrong match.
_COLUMN_KEYS: dict[tuple[str, str, Any], str] = {}
_COLUMN_KEYS_MAX = 65536
_column_numbers = itertools.count(1)


def _column_key(table: str, column: str, type_key: Any) -> str:
    parts = (table, column, type_key)
    key = _COLUMN_KEYS.get(parts)
    if key is None:
        if len(_COLUMN_KEYS) >= _COLUMN_KEYS_MAX:
            _COLUMN_KEYS.clear()
        key = _COLUMN_KEYS[parts] = f"col {table}.{column} #{_letters(next(_column_numbers))}"
    return key


def _letters(number: int) -> str:
    # The number in base 26 written with letters: a shape key shows no digits of its own, so
    # a value never seems to be part of it.
    out = ""
    while number:
        number, digit = divmod(number, 26)
        out = chr(97 + digit) + out
    return out


class ColumnRef(Expr, Generic[T, O]):
    """A column of a model's table: ``User.c.email``. One instance per model column.

    ``type`` is the column's SQL type (see ``activeq.types``): comparisons check their value
    against it when built (values of the types in ``accepts`` pass unchecked), and arithmetic
    asks it which operands it takes.

    For type checkers a column is ``ColumnRef[T, O]``: ``T`` the type of its values, ``O``
    what it belongs to (the model class, for ``User.c.age``). With the ``activeq.mypy``
    plugin, ``User.c.age`` is ``ColumnRef[int, User]``, so ``User.c.age > "x"`` and
    ``User.c.agee`` are reported; without it ``T`` is ``Any``.
    """

    __slots__ = ()
    _fields = ("model", "name", "column", "table", "type", "accepts")
    model: Any
    name: str
    column: str
    table: str
    type: Any
    accepts: frozenset[type]

    def __new__(cls, model: Any, name: str, column: str, table: str, type: Any):  # type: ignore[no-untyped-def]  # noqa: A002
        return _tnew(cls, (_column_key(table, column, type.key), (), model, name, column, table,
                           type, type.accepts))

    def __repr__(self) -> str:
        return f"ColumnRef({self.table}.{self.column})"

    @property
    def condition(self) -> bool:  # type: ignore[override]
        """A bool column is a condition (so is one of unknown type)."""
        return self.type.boolean  # type: ignore[no-any-return]

    # Comparisons check the value against the column's type; values of a type the column
    # accepts as is build the node _compare_value would, without its frame (a column has no
    # values of its own, so the comparison's values are the one value's).
    def __eq__(self, other: T | Expr | Query[Any] | None) -> Expr:  # type: ignore[override]
        if (kind := type(other)) in self.accepts and (kind is not int or other.bit_length() < 64):  # type: ignore[union-attr]
            return _tnew(CompareValue, (("cmp", "=", self[0], "?"), (other,), "=", self,  # type: ignore[no-any-return]
                                        other))
        if isinstance(other, Expr):
            # Two expressions (a join condition): the node Compare() would build, without
            # its frames; a column holds no values, so the comparison's are other's.
            return _tnew(Compare, (("cmp", "=", self[0], other[0]), other[1], "=",  # type: ignore[no-any-return]
                                   self, other))
        if other is None:
            return IsNull(self, False)
        return _checked("=", self, other)

    def __ne__(self, other: T | Expr | Query[Any] | None) -> Expr:  # type: ignore[override]
        if (kind := type(other)) in self.accepts and (kind is not int or other.bit_length() < 64):  # type: ignore[union-attr]
            return _tnew(CompareValue, (("cmp", "<>", self[0], "?"), (other,), "<>", self,  # type: ignore[no-any-return]
                                        other))
        if other is None:
            return IsNull(self, True)
        return _checked("<>", self, other)

    def __lt__(self, other: T | Expr | Query[Any]) -> Expr:  # type: ignore[override]
        if (kind := type(other)) in self.accepts and (kind is not int or other.bit_length() < 64):  # type: ignore[union-attr]
            return _tnew(CompareValue, (("cmp", "<", self[0], "?"), (other,), "<", self,  # type: ignore[no-any-return]
                                        other))
        return _checked("<", self, other)

    def __le__(self, other: T | Expr | Query[Any]) -> Expr:  # type: ignore[override]
        if (kind := type(other)) in self.accepts and (kind is not int or other.bit_length() < 64):  # type: ignore[union-attr]
            return _tnew(CompareValue, (("cmp", "<=", self[0], "?"), (other,), "<=", self,  # type: ignore[no-any-return]
                                        other))
        return _checked("<=", self, other)

    def __gt__(self, other: T | Expr | Query[Any]) -> Expr:  # type: ignore[override]
        if (kind := type(other)) in self.accepts and (kind is not int or other.bit_length() < 64):  # type: ignore[union-attr]
            return _tnew(CompareValue, (("cmp", ">", self[0], "?"), (other,), ">", self,  # type: ignore[no-any-return]
                                        other))
        return _checked(">", self, other)

    def __ge__(self, other: T | Expr | Query[Any]) -> Expr:  # type: ignore[override]
        if (kind := type(other)) in self.accepts and (kind is not int or other.bit_length() < 64):  # type: ignore[union-attr]
            return _tnew(CompareValue, (("cmp", ">=", self[0], "?"), (other,), ">=", self,  # type: ignore[no-any-return]
                                        other))
        return _checked(">=", self, other)

    __hash__ = object.__hash__

    def is_in(self, values: Iterable[T] | Query[Any]) -> Expr:
        """``self IN (values)``; each value is checked against the column's type."""
        return _in(self, self._values(values), False)

    def not_in(self, values: Iterable[T] | Query[Any]) -> Expr:
        """``self NOT IN (values)``; each value is checked against the column's type."""
        return _in(self, self._values(values), True)

    def between(self, low: T | Expr, high: T | Expr) -> Expr:
        """``self BETWEEN low AND high`` (both ends included, checked like comparisons)."""
        return Between(self, self._operand(low), self._operand(high), False)

    def not_between(self, low: T | Expr, high: T | Expr) -> Expr:
        """``self NOT BETWEEN low AND high``."""
        return Between(self, self._operand(low), self._operand(high), True)

    def _operand(self, value: Any) -> Expr:
        if (kind := type(value)) in self.accepts and (kind is not int or value.bit_length() < 64):
            return Param(value)
        if isinstance(value, Expr) or value is None:
            return as_expr(value)
        return as_expr(self.type.check(value, self))

    def _values(self, values: Any) -> Any:
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable) or hasattr(values, "_s"):
            return values
        accepts = self.accepts
        check = self.type.check
        return [v if (type(v) in accepts and (type(v) is not int or v.bit_length() < 64))
                or v is None else check(v, self) for v in values]

    # LIKE compares text: a column of another type is refused (its stored form differs per
    # engine, and PostgreSQL has no LIKE for it).
    def like(self, pattern: Any) -> Expr:
        """``self LIKE pattern`` (case sensitivity follows the database); text columns only."""
        _need_text(self, "like()")
        return Like(self, as_expr(pattern), False, False)

    def not_like(self, pattern: Any) -> Expr:
        """``self NOT LIKE pattern``; text columns only."""
        _need_text(self, "not_like()")
        return Like(self, as_expr(pattern), False, True)

    def ilike(self, pattern: Any) -> Expr:
        """Case-insensitive LIKE; text columns only."""
        _need_text(self, "ilike()")
        return Like(self, as_expr(pattern), True, False)

    def __neg__(self) -> Expr:
        if not self.type.signed:
            raise ValidationError(f"{self.model.__name__}.{self.name} ({self.type.name}) takes no "
                                  "unary minus: only numbers and timedeltas have one",
                                  field=self.name)
        return Arith("-", Param(0), self)

    # arithmetic: the column's type says which operands it takes --------------------------
    def __add__(self, other: Any) -> Expr:
        if type(other) is int and self.type.int_operand and other.bit_length() < 64:
            # ``id + 1``: the node Arith(Param) would build, without their frames.
            return _tnew(Arith, (("ar", "+", self[0], "?"), self[1] + (other,), "+", self,  # type: ignore[no-any-return]
                                 _tnew(Param, ("?", (other,), other))))
        return Arith("+", self, as_expr(self.type.arith_operand("+", other, self)))

    def __radd__(self, other: Any) -> Expr:
        value = as_expr(self.type.arith_operand("+", other, self))
        if self.type.temporal is not None:
            return Arith("+", self, value)  # timedelta + date: the date goes first
        return Arith("+", value, self)

    def __sub__(self, other: Any) -> Expr:
        return Arith("-", self, as_expr(self.type.arith_operand("-", other, self)))

    def __rsub__(self, other: Any) -> Expr:
        if self.type.temporal is not None:
            raise ValidationError(f"{other!r} - {self!r}: only a timedelta can be subtracted "
                                  "from a date or datetime column")
        return Arith("-", as_expr(self.type.arith_operand("-", other, self)), self)

    def __mul__(self, other: Any) -> Expr:
        return Arith("*", self, as_expr(self.type.arith_operand("*", other, self)))

    def __rmul__(self, other: Any) -> Expr:
        return Arith("*", as_expr(self.type.arith_operand("*", other, self)), self)

    def __truediv__(self, other: Any) -> Expr:
        return Arith("/", self, as_expr(self.type.arith_operand("/", other, self)))

    def __rtruediv__(self, other: Any) -> Expr:
        return Arith("/", as_expr(self.type.arith_operand("/", other, self)), self)

    def __mod__(self, other: Any) -> Expr:
        return Arith("%", self, as_expr(self.type.arith_operand("%", other, self)))


def _checked(op: str, column: ColumnRef, other: Any) -> Expr:
    if isinstance(other, Expr):
        # Two expressions (a join condition): the node Compare() would build, without its frame.
        # A column holds no values: the comparison's are other's.
        return _tnew(Compare, (("cmp", op, column[0], other[0]), other[1], op,  # type: ignore[no-any-return]
                               column, other))
    if getattr(other, "kind", None) == "select" and hasattr(other, "_s"):
        return Compare(op, column, as_expr(other))
    if other is None:
        return _compare_value(op, column, None)
    return _compare_value(op, column, column.type.check(other, column))


class JsonColumn(ColumnRef[T, O]):
    """A JSON column: ``Doc.c.meta["a"]["b"]`` is the value at that path (see ``JsonPath``)."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        if type(key) is int or type(key) is slice:
            return tuple.__getitem__(self, key)  # the node's own fields
        return JsonPath(self, _path_steps(key), None)

    # Whole documents compare for equality only: their order differs between engines (text
    # on SQLite, JSONB's own order on PostgreSQL). A path compares and sorts by value.
    def _unordered(self, op: str) -> Any:
        raise ValidationError(
            f"{self.model.__name__}.{self.name} is JSON: documents have no order to compare with "
            f"{op}; compare a value inside, such as {self.model.__name__}.c.{self.name}[\"key\"]",
            field=self.name)

    def __lt__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._unordered("<")  # type: ignore[no-any-return]

    def __le__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._unordered("<=")  # type: ignore[no-any-return]

    def __gt__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._unordered(">")  # type: ignore[no-any-return]

    def __ge__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._unordered(">=")  # type: ignore[no-any-return]

    def between(self, low: Any, high: Any) -> Expr:
        """Refused: JSON documents have no order (compare a path)."""
        return self._unordered("between()")  # type: ignore[no-any-return]

    def not_between(self, low: Any, high: Any) -> Expr:
        """Refused: JSON documents have no order (compare a path)."""
        return self._unordered("not_between()")  # type: ignore[no-any-return]

    def at(self, index: int) -> JsonPath:
        """The element at ``index`` of a JSON array."""
        return JsonPath(self, _path_steps((index,)), None)


def _path_steps(key: Any) -> tuple[Any, ...]:
    steps = key if type(key) is tuple else (key,)
    for step in steps:
        if not (isinstance(step, str) or (isinstance(step, int) and not isinstance(step, bool))):
            raise ValidationError(
                f"a JSON path step is a str key or an int index, not {step!r}")
    return steps


class JsonPath(Expr):
    """The value at a path inside a JSON column: ``Doc.c.meta["a"]["b"]``.

    String steps are object keys; an array element is ``.at(0)`` or an int in a tuple step
    (``meta["tags", 0]``). Compared with a value, the path is read as that value's kind
    (number, text, bool or JSON), so ``== 3`` and ``< 3`` compare numbers on every engine. The
    path itself is bound as a parameter; it never enters the SQL text.
    """

    __slots__ = ()
    _fields = ("item", "path", "kind")
    item: Expr
    path: tuple[Any, ...]
    kind: str | None
    """None (the JSON value), "number", "text", "bool" or "json"."""

    def __new__(cls, item: Expr, path: tuple[Any, ...], kind: str | None):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("jpath", kind, item.key), item.params + (path,), item, path, kind))

    def __getitem__(self, key: Any) -> Any:
        if type(key) is int or type(key) is slice:
            return tuple.__getitem__(self, key)
        return JsonPath(self.item, self.path + _path_steps(key), None)

    def at(self, index: int) -> JsonPath:
        """The element at ``index`` of the JSON array at this path."""
        return JsonPath(self.item, self.path + _path_steps((index,)), None)

    def as_(self, name: str) -> Alias:
        return Alias(self, name)

    def _as_kind(self, value: Any) -> JsonPath:
        return JsonPath(self.item, self.path, json_kind(value))

    def _cmp(self, op: str, value: Any) -> Expr:
        if isinstance(value, Expr):
            return Compare(op, self, value)
        return Compare(op, self._as_kind(value), Param(value))

    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        if other is None:
            return IsNull(self, False)
        return self._cmp("=", other)

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        if other is None:
            return IsNull(self, True)
        return self._cmp("<>", other)

    def __lt__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._cmp("<", other)

    def __le__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._cmp("<=", other)

    def __gt__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._cmp(">", other)

    def __ge__(self, other: Any) -> Expr:  # type: ignore[override]
        return self._cmp(">=", other)

    __hash__ = object.__hash__


def json_kind(value: Any) -> str:
    """How a JSON value compares: "bool", "number", "text" or "json" (objects and arrays)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return "number"
    if isinstance(value, str):
        return "text"
    return "json"


EXTRACT_PARTS = ("year", "month", "day", "hour", "minute", "second", "dow")


class Extract(Expr):
    """A part of a date or datetime as an integer: ``extract("year", Order.c.created_at)``.

    ``dow`` is the day of the week, Sunday = 0 ... Saturday = 6, on every engine.
    """

    __slots__ = ()
    condition = False
    _fields = ("part", "item")
    part: str
    item: Expr

    def __new__(cls, part: str, item: Expr):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("extract", part, item.key), item.params, part, item))


def extract(part: str, item: Any) -> Extract:
    """``part`` of a date, time or datetime expression as an integer (Sunday = 0 for ``dow``).

    Parts: year, month, day, hour, minute, second (whole seconds) and dow.

    >>> from activeq import extract
    >>> extract('week', None)
    Traceback (most recent call last):
    ...
    activeq.errors.ValidationError: extract() takes one of year, month, day, hour, minute, second, dow, not 'week'
    """
    if part not in EXTRACT_PARTS:
        raise ValidationError(f"extract() takes one of {', '.join(EXTRACT_PARTS)}, not {part!r}")
    if not isinstance(item, Expr):
        raise ValidationError(f"extract() takes a column or expression, not {item!r}")
    sqltype: Any = getattr(item, "type", None)
    temporal = getattr(sqltype, "temporal", "unknown")
    if temporal is None or (temporal == "date" and part in ("hour", "minute", "second")) or (
            temporal == "time" and part in ("year", "month", "day", "dow")):
        raise ValidationError(f"extract({part!r}) does not apply to {item!r} ({sqltype.name})")
    return Extract(part, item)


class Param(Expr):
    """A bound value. Its value never enters the SQL text or the shape key."""

    __slots__ = ()
    _fields = ("value",)
    value: Any

    def __new__(cls, value: Any):  # type: ignore[no-untyped-def]
        if type(value) is int and value.bit_length() > 63:
            bindable_int(value)
        return _tnew(cls, ("?", (value,), value))

    @property
    def condition(self) -> bool:  # type: ignore[override]
        """``True`` and ``False`` are conditions; other values are not."""
        return type(self.value) is bool


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
            raise InvalidNameError(f"BindParam name must be an identifier, got {name!r}")
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
    condition = False

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


class CompareValue(Compare):
    """``left <op> value`` for a plain Python value, the commonest filter: the node holds the
    value itself instead of a ``Param`` node, one allocation fewer per comparison. ``right``
    builds that ``Param`` on each read, so every reader sees the tree ``Compare`` holds; the
    shape key is the same, so both render from one cache entry.
    """

    __slots__ = ()

    def __new__(cls, op: str, left: Expr, right: Expr):  # type: ignore[no-untyped-def]
        # Built from fields (a copy, a rewrite): the plain Compare of those fields.
        return Compare(op, left, right)

    @property
    def right(self) -> Expr:  # type: ignore[override]
        """The value as the ``Param`` node ``Compare`` would hold."""
        value = self[4]
        return _tnew(Param, ("?", (value,), value))  # type: ignore[no-any-return]


class Arith(Expr):
    """Binary arithmetic: ``+``, ``-``, ``*``, ``/``, ``%``."""

    __slots__ = ()
    condition = False
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
    return _tnew(CompareValue, (("cmp", op, left[0], "?"), left[1] + (value,), op, left, value))


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
    """``LIKE`` / ``NOT LIKE`` / case-insensitive ``ILIKE``, with an optional ESCAPE character."""

    __slots__ = ()
    _fields = ("item", "pattern", "insensitive", "negated", "escape")
    item: Expr
    pattern: Expr
    insensitive: bool
    negated: bool
    escape: str | None

    def __new__(cls, item: Expr, pattern: Expr, insensitive: bool, negated: bool,  # type: ignore[no-untyped-def]
                escape: str | None = None):
        return _tnew(cls, (("like", insensitive, negated, escape, item.key, pattern.key), item.params + pattern.params, item, pattern, insensitive, negated, escape))


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


# A function name is written into the SQL text as is: only a plain (ASCII) identifier,
# optionally qualified by a schema (``schema.fn``), can never change what the statement does.
_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_checked_function_names: set[str] = set()


def check_function_name(name: Any) -> str:
    """``name`` when it is an identifier, optionally dotted; else InvalidNameError."""
    if type(name) is str and name in _checked_function_names:
        return name
    if not isinstance(name, str) or _FUNCTION_NAME.fullmatch(name) is None:
        raise InvalidNameError(
            f"a function name must be an identifier, optionally dotted (schema.fn); got {name!r}")
    if len(_checked_function_names) < 10_000:
        _checked_function_names.add(name)
    return name


class Func(Expr):
    """An SQL function call: ``func.lower(User.c.email)``, ``func.count()``."""

    __slots__ = ()
    _fields = ("name", "args", "distinct")
    name: str
    args: tuple[Expr, ...]
    distinct: bool

    def __new__(cls, name: str, args: tuple[Expr, ...], distinct: bool = False):  # type: ignore[no-untyped-def]
        check_function_name(name)
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
        if (type(order_by) in _ORDER_ITEMS and type(partition_by) is tuple and not partition_by
                and rows is None and range_ is None):
            # One sort item, no partition, no frame (rank(), row_number()): the node Window()
            # would build, without its frames.
            return _tnew(Window, (("over", self[0], (), (order_by[0],), None),  # type: ignore[no-any-return]
                                  self[1] + order_by[1], self, (), (order_by,), None))
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
    condition = False
    _fields = ("item", "name")
    item: Expr
    name: str

    def __new__(cls, item: Expr, name: str):  # type: ignore[no-untyped-def]
        if not isinstance(name, str) or not name:
            raise InvalidNameError(f"an alias must be a non-empty string, not {name!r}")
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


# Nodes that are always conditions; those without BoolOp need no flattening under & and |.
_SIMPLE_CONDITIONS = frozenset((Compare, CompareValue, Not, IsNull, InList, InQuery, Like, Between, Exists))
_CONDITIONS = _SIMPLE_CONDITIONS | {BoolOp}

# Sort items over() takes as they are: an ordering, or a column (sorted ascending).
_ORDER_ITEMS = frozenset((Ordering, ColumnRef))

#: Every node class that may appear in a tree; the compiler has one handler per entry.
NODE_TYPES: tuple[type[Node], ...] = (
    ColumnRef, JsonColumn, Param, BindParam, Star, Compare, CompareValue, Arith, BoolOp, Not, IsNull, InList,
    InQuery, Like, Between, Func, Alias, Ordering, OutputColumn, Exists, SubqueryExpr, Window,
    JsonPath, Extract,
)
