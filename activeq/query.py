"""The immutable query builder and its terminals.

Every builder method returns a new ``Query``; the original is never changed. State lives in
one dict that is copied (shallowly: its values are tuples and frozen nodes) on each call. The
dict also memoizes the query's shape key and bound values, computed on first use.
"""

from __future__ import annotations

import difflib
import gc
import importlib
from collections.abc import Callable, Iterator
from operator import itemgetter
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar, overload

import pydantic

from . import paging

try:
    # Imported by name: the layer contracts' import graph reads Python sources only, and
    # would take an import of a compiled module for one of the package itself.
    _speedups: Any = importlib.import_module("activeq._speedups")
except ImportError:  # built where a C compiler was at hand (see setup.py)
    _speedups = None
from .ast import (
    _CONDITIONS,
    Alias,
    BindParam,
    ColumnRef,
    Expr,
    Func,
    Node,
    Ordering,
    OutputColumn,
    Param,
    Selectable,
    Star,
    SubqueryExpr,
    Unbound,
    as_expr,
    bindable_int,
    require_condition,
)
from .compiler import Compiled, compiler, render_sql, to_sqlglot
from .errors import (
    ActiveqError,
    CompileError,
    MultipleResultsError,
    NotFoundError,
    UnknownColumnError,
    ValidationError,
    unknown_fields_error,
)
from .loading import check_fetch_mode, load_includes, normalize_includes
from .paramstyles import same_values
from .results import Row
from .sources import (
    CTE,
    FromItem,
    SetOperation,
    Subquery,
    TableAlias,
    common_table,
    derived_table,
    output_columns,
)
from .statements import returning_columns, rows_of
from .values import nan_error, unstorable_error

if TYPE_CHECKING:
    from .database import Database

__all__ = ["CompiledQuery", "Delete", "Insert", "Query", "Update"]

M = TypeVar("M")
_Q = TypeVar("_Q", bound="Query[Any]")
_tnew = tuple.__new__

_EMPTY: dict[str, Any] = {
    "columns": None,
    "joins": (),
    "wheres": (),
    "groups": (),
    "havings": (),
    "orders": (),
    "limit": None,
    "offset": None,
    "distinct": False,
    "count_wrap": False,
    "includes": (),
    "options": {},
    # The parts most queries never use (an Extra), or None.
    "extra": None,
    # Whether the query has the common shape: the model's own table and whole row, with
    # filters, ordering and a limit only. Such a query is keyed by fewer parts.
    "common": True,
    # Memo: ``(shape key, bound values)``, None until first computed. One entry, so each
    # builder call resets it with a single store.
    "_memo": None,
}

# The state parts that decide whether a query has the common shape.
_SHAPE_PARTS = frozenset(("columns", "joins", "groups", "havings", "extra"))

# Nodes are tuples ``(key, params, *fields)`` (see ast.Node): a C-level accessor for the key.
_KEY = itemgetter(0)


class Extra(NamedTuple):
    """Parts of a SELECT most queries never use, kept in one state entry (None when unused).

    Their shape joins the query's ``token``, so queries without them are keyed and
    parameterised exactly as before they existed.
    """

    source: FromItem | None = None
    """The FROM item read instead of the model's table (alias, derived table, CTE)."""
    compound: SetOperation | None = None
    """The set operation this query is (UNION, INTERSECT, EXCEPT), or None."""
    distinct_on: tuple[Expr, ...] = ()
    """DISTINCT ON expressions (PostgreSQL)."""
    lock: tuple[bool, bool] | None = None
    """FOR UPDATE as ``(skip_locked, nowait)``, or None."""
    returning: tuple[Expr, ...] = ()
    """RETURNING items for ``update()`` and ``delete()``. A SELECT refuses them: being in the
    shape, they cannot hide behind the rendering of the same query without them."""

    @property
    def key(self) -> Any:
        return (
            None if self.source is None else self.source.key,
            None if self.compound is None else self.compound.key,
            tuple(map(_KEY, self.distinct_on)),
            self.lock,
            tuple(map(_KEY, self.returning)),
        )


# The FROM item classes, for an exact type test on the path every join key takes.
_FROM_ITEMS = frozenset((TableAlias, Subquery, CTE))


def _sharing_signature(query: Query[Any],
                       params: tuple[Any, ...]) -> tuple[tuple[int, ...], ...]:
    """For each expression with values that occurs more than once in the statement, which of
    its occurrences hold values equal to an earlier one's: the compiler lets those share
    placeholders, so this is part of the shape (other equal values are not). ``params`` are
    the query's own values (its memo is written once the key is complete)."""
    found: dict[Any, list[tuple[Any, ...]]] = {}

    # A node's values are its children's (and its own), so a part without values has no
    # expression with values anywhere inside it: it is not entered.
    def visit(items: Any) -> None:
        for item in items:
            if isinstance(item, Node):
                if item[1]:
                    if type(item) not in _LONE_VALUES:
                        found.setdefault(item[0], []).append(item[1])
                    visit(item[2:])
            elif type(item) is tuple:
                visit(item)
            elif isinstance(item, Query) and (params if item is query else item.params):
                q = item._s
                if q["columns"]:
                    visit(q["columns"])
                for _, target, on in q["joins"]:
                    visit((target, on))
                for part in ("wheres", "groups", "havings", "orders"):
                    if q[part]:
                        visit(q[part])
                if q["extra"] is not None:
                    visit((q["extra"].source, q["extra"].compound))

    visit((query,))
    signature = []
    for occurrences in found.values():
        if len(occurrences) > 1:
            signature.append(tuple(
                next(j for j in range(i + 1) if same_values(occurrences[j], values))
                for i, values in enumerate(occurrences)))
    return tuple(signature)


class _Mark:
    """A place in a key that no node key or value equals (it is equal to itself only)."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


# Closes each part in the flat key of a query (see _shape).
_PART_END = _Mark("|")
# Stands for the LIMIT count in Query.count_free_key.
_ANY_COUNT = _Mark("LIMIT n")


def _py_shape(query: Query[Any]) -> tuple[Any, tuple[Any, ...]]:
    """The key and the bound values of a query without the common shape, found together in
    one pass over its parts and memoized (see ``Query.key`` and ``Query.params``).

    The key lists the keys of the parts' items in one flat run, each part closed by
    ``_PART_END`` (which no node key equals), so no part needs a tuple of its own. Values come
    in the order the compiler lowers the parts (see compiler.lower_select).
    """
    s = query._s
    params: tuple[Any, ...] = ()
    extra = s["extra"]
    if extra is not None:
        for node in extra.distinct_on:
            params += node[1]
    columns = s["columns"]
    joins = s["joins"]
    wheres = s["wheres"]
    groups = s["groups"]
    havings = s["havings"]
    orders = s["orders"]
    limit = s["limit"]
    # The count itself, not whether there is one: PostgreSQL's text holds it (see
    # compiler._lower_limit), so each count is a shape of its own.
    items: list[Any] = ["select", s["token"], columns is None, None if limit is None else limit[2],
                        s["offset"] is None, s["distinct"], s["count_wrap"]]
    add = items.append
    # Most nodes hold no values: their params are not added.
    if columns:
        for node in columns:
            add(node[0])
            if node[1]:
                params += node[1]
    add(_PART_END)
    # Whether the query or one it reads from groups by values (see _groups_within), found on
    # the way rather than by walking the parts again.
    within = False
    if extra is not None:
        source = extra.source
        if source is not None:
            params += source[1]
            if type(source) in _DERIVED and source.groups:
                within = True
        if extra.compound is not None:
            params += extra.compound[1]
            if extra.compound.groups:
                within = True
    for kind, target, on in joins:
        add(kind)
        if type(target) in _FROM_ITEMS:
            add(target[0])
            params += target[1]
            if not within and type(target) in _DERIVED and target.groups:
                within = True
        else:
            add(target.__aq__.token)
        if on is None:
            add(None)
        else:
            add(on[0])
            if on[1]:
                params += on[1]
    add(_PART_END)
    for node in wheres:
        add(node[0])
        if node[1]:
            params += node[1]
    add(_PART_END)
    for node in groups:
        add(node[0])
        if node[1]:
            params += node[1]
            within = True
        elif type(node) is OutputColumn:
            within = True
    add(_PART_END)
    for part in (havings, orders):
        for node in part:
            add(node[0])
            if node[1]:
                params += node[1]
        add(_PART_END)
    if s["limit"] is not None:
        params += s["limit"][1]
    if s["offset"] is not None:
        params += s["offset"][1]
    key: tuple[Any, ...] = tuple(items)
    if within:
        # Which repeated expressions hold equal values decides which share placeholders.
        key = (*key, _sharing_signature(query, params))
    memo = s["_memo"] = (key, params)
    return memo


def _py_common_shape(query: Query[Any]) -> tuple[Any, tuple[Any, ...]]:
    """``_shape`` for a query of the common shape (the model's own table and whole row, with
    filters, ordering and a limit only), keyed by fewer parts: its length sets it apart."""
    s = query._s
    wheres = s["wheres"]
    orders = s["orders"]
    limit = s["limit"]
    offset = s["offset"]
    key = (s["token"], tuple(map(_KEY, wheres)), tuple(map(_KEY, orders)),
           None if limit is None else limit[2],
           offset is None, s["distinct"], s["count_wrap"])
    params: tuple[Any, ...] = ()
    for node in wheres:
        params += node[1]
    for node in orders:
        params += node[1]
    if limit is not None:
        params += limit[1]
    if offset is not None:
        params += offset[1]
    memo = s["_memo"] = (key, params)
    return memo


_LONE_VALUES = (Param, BindParam)


def _groups_within(query: Query[Any]) -> bool:
    """Whether ``query`` or a query it reads from (derived table, CTE, set member) groups by
    an expression holding values, or by a position or name of its select list.

    Only there must an expression render as its grouped twin does: grouping by columns and
    value-free expressions, every expression with values may keep placeholders of its own.
    """
    s = query._s
    for group in s["groups"]:
        if group[1] or type(group) is OutputColumn:
            return True
    extra = s["extra"]
    if extra is None and not s["joins"]:
        return False
    # Derived tables, CTEs and set operations know it of their queries (see sources).
    for _, target, _ in s["joins"]:
        if type(target) in _DERIVED and target.groups:
            return True
    if extra is not None:
        if extra.source is not None and type(extra.source) in _DERIVED and extra.source.groups:
            return True
        if extra.compound is not None and extra.compound.groups:
            return True
    return False


_DERIVED = frozenset((Subquery, CTE))


class Query(Selectable, Generic[M]):
    """A SELECT over a model's table, built by chaining; terminals run it.

    >>> from activeq import ActiveRecord, Field
    >>> class Person(ActiveRecord):
    ...     __table_name__ = 'people'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    ...     age: int
    >>> q = Person.query().where(Person.c.age > 30).order_by(Person.c.name).limit(5)
    >>> q.to_sql()
    ('SELECT "people"."id", "people"."name", "people"."age" FROM "people" WHERE "people"."age" > ? ORDER BY "people"."name" LIMIT ?', [30, 5])
    """

    __slots__ = ("_s",)
    kind = "select"
    _s: dict[str, Any]

    # No __init__: a builder makes its new query with a bare type(self)() (a C-level call,
    # cheaper than object.__new__ through its Python wrapper) and writes the state once.
    @classmethod
    def of(cls, model: type[M]) -> Self:
        """A new query over every row of ``model``'s table, for code that holds the model
        class only; ``Model.query()`` is the same query, built once per model and shared.

        >>> from activeq import ActiveRecord, Field, Query
        >>> class Kettle(ActiveRecord):
        ...     id: int = Field(primary_key=True)
        >>> Query.of(Kettle).to_sql() == Kettle.query().to_sql()
        True
        """
        q = cls()
        _SET_STATE(q, {"model": model, "token": model.__aq__.token, **_EMPTY})  # type: ignore[attr-defined]
        return q

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"Query is immutable: cannot set {name!r}; builder methods return a new Query"
        )

    def _replace(self, **changes: Any) -> Self:
        state = {**self._s, **changes}
        state["_memo"] = None
        if not _SHAPE_PARTS.isdisjoint(changes):
            state["common"] = (
                state["columns"] is None and not state["joins"] and not state["groups"]
                and not state["havings"] and state["extra"] is None
            )
        q = type(self)()
        _SET_STATE(q, state)
        return q

    def _with_shape(self, part: str, value: Any) -> Self:
        # _with for a part that decides the common shape (see _SHAPE_PARTS); the new state is
        # the new query's own until it is returned.
        q = _derive(self, part, value)
        state = q._s
        state["common"] = not value and (
            state["columns"] is None and not state["joins"] and not state["groups"]
            and not state["havings"] and state["extra"] is None
        )
        return q

    def _with(self, part: str, value: Any) -> Self:
        # _replace for one part: the path every chained builder call takes.
        return _derive(self, part, value)

    @property
    def model(self) -> type[M]:
        """The model whose table is queried."""
        return self._s["model"]  # type: ignore[no-any-return]

    # shape ---------------------------------------------------------------------------------
    @property
    def key(self) -> Any:
        """The shape of the SQL this query renders to (values excluded)."""
        memo = self._s["_memo"]
        if memo is not None:
            return memo[0]
        return (_common_shape(self) if self._s["common"] else _shape(self))[0]

    @property
    def count_free_key(self) -> Any:
        """The shape with its LIMIT count left out, or None when it has no count: where the
        dialect binds the count, queries that differ by their count alone share a rendering
        (see ``Compiler.compile``)."""
        key = self.key
        # Both key layouts (_shape's and _common_shape's) hold the count fourth.
        if type(key[3]) is not int:
            return None
        return (*key[:3], _ANY_COUNT, *key[4:])

    @property
    def shares_values(self) -> bool:
        """Whether a value repeated in equal expressions is rendered once: when the query, or a
        derived table, CTE or set-operation member in it, groups by an expression holding
        values or by a select-list position or name."""
        return _groups_within(self)

    @property
    def params(self) -> tuple[Any, ...]:
        """Bound values in the order the compiler visits them."""
        memo = self._s["_memo"]
        if memo is not None:
            return memo[1]  # type: ignore[no-any-return]
        return (_common_shape(self) if self._s["common"] else _shape(self))[1]

    # builders ------------------------------------------------------------------------------
    @overload
    def select(self, *columns: str | ColumnRef[Any, M]) -> Self: ...

    @overload
    def select(self, *columns: Any) -> Query[Row]: ...

    def select(self, *columns: Any) -> Any:
        """Choose the select list: field names, columns, functions, aliased expressions.

        Only base-model columns give (partial) model instances; anything else gives ``Row``s.
        Type checkers follow: names and the model's own columns keep ``Query[User]``, any
        other item (a function, an alias, another model's column) makes it ``Query[Row]``.
        """
        if not columns:
            extra = self._s["extra"]
            if extra is not None and extra.source is not None:
                return self._replace(columns=tuple(extra.source.c))
            return self._replace(columns=None)
        for c in columns:
            if not isinstance(c, Expr):
                # map() over a bound method, here and in the other builders: a comprehension
                # naming self would make it a closure cell, allocated on every call.
                return self._with_shape("columns", tuple(map(self._column, columns)))
        # _with_shape without its test, for the usual call with expressions.
        return _derive_uncommon(self, "columns", columns)

    def where(self, *conditions: Any, **equals: Any) -> Self:
        """Add conditions, ANDed with any already present; ``name=value`` means equality."""
        if len(conditions) == 1 and not equals and type(conditions[0]) in _CONDITIONS:
            # _with without its frame: the path most filters take.
            return _derive(self, "wheres", self._s["wheres"] + conditions)
        if conditions and not equals:
            for c in conditions:
                if type(c) not in _CONDITIONS:
                    break
            else:
                return self._with("wheres", self._s["wheres"] + conditions)
        conds = tuple([require_condition(c, "where()") for c in conditions])
        if equals:
            conds += self._equalities(equals)
        if not conds:
            return self
        return self._replace(wheres=self._s["wheres"] + conds)

    filter = where

    def order_by(self, *orderings: Any) -> Self:
        """Sort by columns or expressions (``.desc()`` for descending, ``'-name'`` too).

        A string names a column or alias of the select list, else a field of the model;
        ``'-name'`` sorts it descending; an int is a 1-based position in the select list.
        Replaces any previous ordering; ``order_by()`` with no arguments removes it.
        """
        if len(orderings) == 1 and isinstance(orderings[0], (Expr, Ordering)):
            # _with without its frame: the usual call, one sort item.
            return _derive(self, "orders", orderings)
        for o in orderings:
            if not isinstance(o, (Expr, Ordering)):
                return self._replace(orders=tuple(map(self._ordering, orderings)))
        return self._with("orders", orderings)

    def limit(self, n: int | None) -> Self:
        """At most ``n`` rows (bound as a parameter); None removes the limit."""
        if type(n) is int and 0 <= n <= 9223372036854775807:  # the 64-bit range
            # _with without its frame: most queries end with a limit.
            return _derive(self, "limit", _tnew(Param, ("?", (n,), n)))
        if n is None:
            return self._with("limit", None)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CompileError(f"limit() takes a non-negative integer, not {n!r}")
        # Param refuses an int beyond 64 bits, as for any bound value.
        return self._with("limit", Param(n))

    def offset(self, n: int | None) -> Self:
        """Skip ``n`` rows (bound as a parameter); None removes the offset."""
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
            raise CompileError(f"offset() takes a non-negative integer, not {n!r}")
        return self._replace(offset=None if n is None else Param(n))

    def distinct(self, flag: bool = True) -> Self:
        """SELECT DISTINCT."""
        return self._replace(distinct=bool(flag))

    def group_by(self, *columns: Any) -> Self:
        """GROUP BY these columns or expressions (replaces a previous grouping).

        A string names a column or alias of the select list, else a field of the model; an
        int is a 1-based position in the select list.
        """
        for c in columns:
            if not isinstance(c, Expr):
                return self._with_shape("groups", tuple(map(self._grouping, columns)))
        if not columns:
            return self._with_shape("groups", columns)
        # _with_shape without its test, for the usual call with expressions.
        return _derive_uncommon(self, "groups", columns)

    def having(self, *conditions: Any) -> Self:
        """Conditions on groups, ANDed with any already present."""
        return self._with_shape(
            "havings", self._s["havings"] + tuple([require_condition(c, "having()")
                                                   for c in conditions]))

    def join(self, target: Any, on: Any = None) -> Self:
        """INNER JOIN a model's table, an alias, a subquery or a CTE on a condition.

        Between two models the condition may be omitted when a relation links them.
        """
        if isinstance(on, Expr) and (type(target) in _FROM_ITEMS or (
                type(on) in _CONDITIONS and isinstance(target, type) and hasattr(target, "__aq__"))):
            # _with_shape without its test: a report chains several joins (of FROM items, or
            # of models on a comparison, the checks _join makes).
            return _derive_uncommon(self, "joins", self._s["joins"] + (("inner", target, on),))
        return self._join("inner", target, on)

    def left_join(self, target: Any, on: Any = None) -> Self:
        """LEFT OUTER JOIN a model's table, an alias, a subquery or a CTE."""
        if isinstance(on, Expr) and (type(target) in _FROM_ITEMS or (
                type(on) in _CONDITIONS and isinstance(target, type) and hasattr(target, "__aq__"))):
            # _with_shape without its test: a report chains several joins (of FROM items, or
            # of models on a comparison, the checks _join makes).
            return _derive_uncommon(self, "joins", self._s["joins"] + (("left", target, on),))
        return self._join("left", target, on)

    def cross_join(self, target: Any) -> Self:
        """CROSS JOIN: every row paired with every row of ``target`` (model or FROM item)."""
        _check_join_target("cross_join", target)
        return self._with_shape("joins", self._s["joins"] + (("cross", target, None),))

    def _join(self, kind: str, target: Any, on: Any) -> Self:
        if type(target) in _FROM_ITEMS and isinstance(on, Expr):
            return self._with_shape("joins", self._s["joins"] + ((kind, target, on),))
        _check_join_target("join", target)
        if on is None:
            if isinstance(target, FromItem):
                raise CompileError(
                    f"join() of {target!r} needs its condition: no relation reaches an alias, "
                    "a subquery or a CTE")
            on = _infer_join(self.model, target)
        return self._with_shape("joins", self._s["joins"] + ((kind, target, require_condition(on, "join()")),))

    # FROM items, set operations and rare clauses -------------------------------------------
    def _over(self, source: FromItem, model: Any, columns: tuple[Expr, ...]) -> Query[Any]:
        # A new query of this class selecting ``columns`` from ``source``; ``model`` binds it
        # to a database.
        extra = _tnew(Extra, (source, None, (), None, ()))
        state = _EMPTY.copy()
        state["model"] = model
        state["columns"] = columns
        state["extra"] = extra
        state["common"] = False
        # The model's token, from this query's own when it is of the same model (a class
        # attribute of a model costs a call through pydantic's metaclass).
        s = self._s
        if s["model"] is model:
            token = s["token"] if s["extra"] is None else s["token"][0]
        else:
            token = model.__aq__.token
        state["token"] = (token, (source[0], None, (), None, ()))
        q = type(self)()
        _SET_STATE(q, state)
        return q

    def _with_extra(self, **changes: Any) -> Self:
        s = self._s
        extra = (s["extra"] or _NO_EXTRA)._replace(**changes)
        token = s["model"].__aq__.token
        return self._replace(extra=extra, token=(token, extra.key))

    def subquery(self, name: str) -> Subquery:
        """This query as a derived table named ``name``: join it, or ``.query()`` it.

        Its columns are ``s.c.<attribute name or alias>``; computed columns need an alias.

        >>> from activeq import ActiveRecord, Field, func
        >>> class Sale(ActiveRecord):
        ...     __table_name__ = 'sales'
        ...     id: int = Field(primary_key=True)
        ...     region: str
        ...     amount: float
        >>> per_region = Sale.query().select(Sale.c.region, func.sum(Sale.c.amount).as_('total')).group_by('region').subquery('r')
        >>> per_region.query().where(per_region.c.total > 100).sql()
        'SELECT "r"."region", "r"."total" FROM (SELECT "sales"."region", SUM("sales"."amount") AS "total" FROM "sales" GROUP BY "sales"."region") AS "r" WHERE "r"."total" > ?'
        """
        s = self._s
        return derived_table(self, name,
                             s["_memo"] or (_common_shape(self) if s["common"] else _shape(self)))

    def cte(self, name: str, recursive: bool = False) -> CTE:
        """This query as a common table expression named ``name``, used like a subquery.

        A statement that uses it renders its definition once, in a WITH clause. For
        ``recursive=True`` add the recursive step with ``cte.union_all(step)``, where the
        step query reads the CTE itself:

        >>> from activeq import ActiveRecord, Field
        >>> class Node(ActiveRecord):
        ...     __table_name__ = 'nodes'
        ...     id: int = Field(primary_key=True)
        ...     parent_id: int | None = None
        >>> tree = Node.query().select(Node.c.id).where(Node.c.id == 1).cte('tree', recursive=True)
        >>> tree = tree.union_all(Node.query().select(Node.c.id).join(tree, Node.c.parent_id == tree.c.id))
        >>> tree.query().sql()
        'WITH RECURSIVE "tree" AS (SELECT "nodes"."id" FROM "nodes" WHERE "nodes"."id" = ? UNION ALL SELECT "nodes"."id" FROM "nodes" JOIN "tree" ON "nodes"."parent_id" = "tree"."id") SELECT "tree"."id" FROM "tree"'
        """
        s = self._s
        return common_table(self, name, recursive,
                            s["_memo"] or (_common_shape(self) if s["common"] else _shape(self)))

    def union(self, other: Query[Any]) -> Query[Row]:
        """``self UNION other`` (duplicates removed): a query of ``Row``s.

        Order, limit and every terminal apply to the combined result; ``order_by`` takes
        output column names or positions. Both queries must select as many columns.
        """
        return self._compound("UNION", other)

    def union_all(self, other: Query[Any]) -> Query[Row]:
        """``self UNION ALL other`` (duplicates kept); see :meth:`union`."""
        return self._compound("UNION ALL", other)

    def intersect(self, other: Query[Any]) -> Query[Row]:
        """``self INTERSECT other``: rows in both; see :meth:`union`."""
        return self._compound("INTERSECT", other)

    def except_(self, other: Query[Any]) -> Query[Row]:
        """``self EXCEPT other``: rows of self not in other; see :meth:`union`."""
        return self._compound("EXCEPT", other)

    def _compound(self, op: str, other: Any) -> Query[Row]:
        if not isinstance(other, Query):
            raise CompileError(f"{op} combines two queries, not {other!r}")
        extra = Extra(compound=SetOperation(op, self, other))
        model = self._s["model"]
        state = {**_EMPTY, "model": model, "extra": extra, "common": False,
                 "token": (model.__aq__.token, extra.key)}
        q: Query[Row] = type(self)()  # type: ignore[assignment]
        _SET_STATE(q, state)
        return q

    def distinct_on(self, *columns: Any) -> Self:
        """``SELECT DISTINCT ON (columns)``: the first row of each group (PostgreSQL only).

        Order by the same columns first to choose which row is kept. Other dialects raise
        UnsupportedError when the query is rendered.
        """
        if not columns:
            return self._with_extra(distinct_on=())
        return self._with_extra(distinct_on=tuple(map(self._column, columns)))

    def for_update(self, skip_locked: bool = False, nowait: bool = False) -> Self:
        """``SELECT ... FOR UPDATE``: lock the selected rows until the transaction ends.

        PostgreSQL and MySQL render it, with ``SKIP LOCKED`` or ``NOWAIT``. SQLite has no
        row locks: there it renders nothing, because the write lock ``db.transaction()``
        takes at ``BEGIN IMMEDIATE`` (its default) already keeps every row from changing
        until commit; ``skip_locked`` and ``nowait`` cannot be honoured there and raise
        UnsupportedError, as does any FOR UPDATE on DuckDB, whose transactions take no locks.
        """
        if skip_locked and nowait:
            raise CompileError("for_update() takes skip_locked or nowait, not both")
        return self._with_extra(lock=(bool(skip_locked), bool(nowait)))

    def includes(self, *relations: Any) -> Self:
        """Eager-load relations: names, dotted paths, or dicts of name -> refinement/nested."""
        spec = normalize_includes(self.model, relations)
        return self._replace(includes=self._s["includes"] + spec)

    def options(self, **options: Any) -> Self:
        """Per-query options that do not change the SQL (e.g. ``fetch_mode='raise'``)."""
        return self._replace(options={**self._s["options"], **options})

    def fetch_mode(self, mode: str) -> Self:
        """How unloaded relations behave on results: 'lazy', 'peers' or 'raise'."""
        return self.options(fetch_mode=check_fetch_mode(mode))

    def cache(self, ttl: float | None = None, *, enabled: bool = True) -> Self:
        """Serve repeated runs from the database's result cache (keyed by SQL and values).

        Results stay valid until a write through activeq touches one of the query's tables,
        another connection commits, or ``ttl`` seconds pass (None: the database's
        ``cache_ttl``). ``enabled=False`` opts out of ``Database(query_cache=True)``.

        >>> from activeq import ActiveRecord, Database, Field
        >>> class Gem(ActiveRecord):
        ...     __table_name__ = 'gems'
        ...     id: int = Field(primary_key=True)
        ...     name: str
        >>> db = Database(':memory:'); db.bind(Gem); db.create_tables(Gem)
        >>> q = Gem.query().cache(ttl=300)
        >>> len(q.all()), len(q.all())
        (0, 0)
        >>> _ = Gem.create(name='opal')
        >>> [g.name for g in q.all()]
        ['opal']
        """
        if not enabled:
            return self.options(cache=False)
        if ttl is not None and (type(ttl) not in (int, float) or ttl <= 0):
            raise ActiveqError(f"ttl must be a positive number of seconds or None, not {ttl!r}")
        return self._with("options", {**self._s["options"], "cache": True if ttl is None else ttl})

    def scalar_subquery(self) -> Expr:
        """This query as a single value inside another: in select, where or having.

        The query should select one column and give at most one row.

        >>> from activeq import ActiveRecord, Field, func
        >>> class Score(ActiveRecord):
        ...     __table_name__ = 'scores'
        ...     id: int = Field(primary_key=True)
        ...     points: int
        >>> best = Score.query().select(func.max(Score.c.points)).scalar_subquery()
        >>> Score.query().select('id').where(Score.c.points == best).to_sql()[0]
        'SELECT "scores"."id" FROM "scores" WHERE "scores"."points" = (SELECT MAX("scores"."points") FROM "scores")'
        """
        return SubqueryExpr(self)

    # helpers -------------------------------------------------------------------------------
    def _column(self, item: Any) -> Expr:
        if isinstance(item, str):
            return self._named(item)
        if isinstance(item, Expr):
            return item
        raise CompileError(f"expected a column name or expression, got {item!r}")

    def _equalities(self, equals: dict[str, Any]) -> tuple[Expr, ...]:
        # ``where(name=value)``: kept out of where() itself, whose frame then holds no closure
        # cell (the builders run on every query, this form rarely).
        column = self._column
        return tuple([column(name) == value for name, value in equals.items()])

    def _named(self, name: str) -> ColumnRef:
        s = self._s
        model = s["model"]
        extra = s["extra"]
        columns = model.__aq__.refs if extra is None or extra.source is None else extra.source.c
        ref = columns.get(name) if extra is None else _get_column(columns, name)
        if ref is None:
            if "." in name:
                table, _, col = name.partition(".")
                for _, target, _ in s["joins"]:
                    if isinstance(target, FromItem):
                        if target.name == table and col in target.c:
                            return target.c[col]
                    elif target.__name__ == table or target.__aq__.table == table:
                        found = target.__aq__.refs.get(col)
                        if found is not None:
                            return found  # type: ignore[no-any-return]
            known = list(columns if isinstance(columns, dict) else columns._columns)
            owner = model.__name__ if extra is None or extra.source is None else extra.source.name
            raise UnknownColumnError(f"{owner} has no column {name!r}{_did_you_mean(name, known)}")
        return ref  # type: ignore[no-any-return]

    def _selected(self, name: str) -> Expr | None:
        """What ``name`` means in the select list: an alias, or a column selected by name."""
        s = self._s
        extra = s["extra"]
        if extra is not None and extra.compound is not None:
            for attr, column in output_columns(extra.compound.left):
                if attr == name:
                    return OutputColumn(column)
            return None
        columns = s["columns"]
        if columns is None:
            return None
        for item in columns:
            if type(item) is Alias and item.name == name:
                return OutputColumn(name)
        for item in columns:
            if isinstance(item, ColumnRef) and item.name == name:
                return item
        return None

    def _by_name(self, name: str) -> Expr:
        """A string of order_by/group_by: a select-list name first, else a column."""
        found = self._selected(name)
        if found is not None:
            return found
        extra = self._s["extra"]
        if extra is not None and extra.compound is not None:
            names = [attr for attr, _ in output_columns(extra.compound.left)]
            raise CompileError(
                f"the set operation has no output column {name!r}{_did_you_mean(name, names)}")
        try:
            return self._named(name)
        except CompileError as e:
            columns = self._s["columns"] or ()
            aliases = [c.name for c in columns if type(c) is Alias]
            if not aliases or "." in name:
                raise
            owner = str(e).partition(" has no column ")[0]
            names = [*aliases, *(self._s["model"].__aq__.refs if owner == self.model.__name__
                                 else ())]
            raise UnknownColumnError(
                f"{owner} has no column {name!r}{_did_you_mean(name, names)}") from None

    def _grouping(self, item: Any) -> Expr:
        if isinstance(item, str):
            return self._by_name(item)
        if type(item) is int:
            return _ordinal(item, "group_by")
        if isinstance(item, Expr):
            return item
        raise CompileError(f"group_by() takes columns, expressions, names or positions, not {item!r}")

    def _ordering(self, item: Any) -> Ordering:
        if isinstance(item, (Ordering, Expr)):
            return item  # type: ignore[return-value]
        if isinstance(item, str):
            if item.startswith("-"):
                return Ordering(self._by_name(item[1:]), True, None)
            return Ordering(self._by_name(item), False, None)
        if type(item) is int:
            return Ordering(_ordinal(item, "order_by"), False, None)
        raise CompileError(
            f"order_by() takes columns, expressions, names or positions, not {item!r}")

    # compilation ---------------------------------------------------------------------------
    def _database(self) -> Database:
        return self._s["model"].database()  # type: ignore[no-any-return]

    def to_sql(self, dialect: str = "sqlite", paramstyle: str | None = None,
               literal_binds: bool = False) -> tuple[str, Any]:
        """The SQL text and bound values for ``dialect``: sqlite, postgres, mysql or duckdb.

        Values come as a list in placeholder order, or as a dict for the named paramstyles.
        ``paramstyle`` picks the placeholders: ``qmark`` (``?``), ``numeric`` (``:1``),
        ``named`` (``:p1``), ``format`` (``%s``), ``pyformat`` (``%(p1)s``) or ``dollar``
        (``$1``, for asyncpg; psycopg takes ``format`` or ``pyformat``). With numbered and named
        styles a value used twice in the same expression gets one placeholder.
        ``literal_binds=True`` writes the values into the text, quoted by sqlglot, for reading
        (the values list is then empty); never run text built from untrusted values that way.

        The text is the statement as activeq runs it, and as the query log, ``explain()`` and
        error messages show it. With the ``format``/``pyformat`` placeholders (PostgreSQL's
        default, for psycopg) and values to bind, a literal ``%`` (the ``%`` operator, a ``%``
        inside a ``text()`` fragment) is written ``%%``: the driver reads the text as a format
        string, so ``cursor.execute(*query.to_sql("postgres"))`` runs it unchanged (SQLAlchemy's
        psycopg dialect shows the same). Without values the driver sends the text as written,
        so it keeps a single ``%``; for text to paste into psql use ``literal_binds=True``
        (or ``paramstyle="dollar"``), whose ``%`` is single too.

        >>> from activeq import ActiveRecord, Field
        >>> class Pen(ActiveRecord):
        ...     __table_name__ = 'pens'
        ...     id: int = Field(primary_key=True)
        ...     ink: str
        >>> q = Pen.query().select('id').where(Pen.c.ink == "it's blue")
        >>> q.to_sql('postgres', paramstyle='dollar')
        ('SELECT "pens"."id" FROM "pens" WHERE "pens"."ink" = $1', ["it's blue"])
        >>> q.to_sql('sqlite', paramstyle='named')
        ('SELECT "pens"."id" FROM "pens" WHERE "pens"."ink" = :p1', {'p1': "it's blue"})
        >>> print(q.to_sql('postgres', literal_binds=True)[0])
        SELECT "pens"."id" FROM "pens" WHERE "pens"."ink" = 'it''s blue'
        >>> odd = Pen.query().select('id').where(Pen.c.id % 2 == 1)
        >>> odd.to_sql('postgres')
        ('SELECT "pens"."id" FROM "pens" WHERE "pens"."id" %% %s = %s', [2, 1])
        >>> print(odd.to_sql('postgres', literal_binds=True)[0])
        SELECT "pens"."id" FROM "pens" WHERE "pens"."id" % 2 = 1
        """
        if paramstyle is None and not literal_binds:
            # The memo read here rather than through key and params: two property calls fewer.
            s = self._s
            key, params = s["_memo"] or (_common_shape(self) if s["common"] else _shape(self))
            slot = _compiled_slot((dialect, key))
            if slot is not None:
                # Compiler.lookup inline, as in _run: a rendering of a cached shape.
                compiler.hits += 1
                slot[1] = _next_use()
                entry = slot[0]
            else:
                entry, _ = compiler.compile(self, dialect)
            values = params if entry.direct else entry.values(params)
            # values() hands back a dict, a list of its own, or the memoized tuple of values.
            return entry.sql, list(values) if type(values) is tuple else values
        return render_sql(self, dialect, paramstyle, literal_binds)

    def to_sqlglot(self, dialect: str = "sqlite") -> Any:
        """The query as a sqlglot expression (a fresh tree, the caller's to change).

        Each bound value is an ``exp.Placeholder``; the values in order are
        ``to_sql(dialect, paramstyle="qmark")[1]``.

        >>> from activeq import ActiveRecord, Field
        >>> class Cup(ActiveRecord):
        ...     __table_name__ = 'cups'
        ...     id: int = Field(primary_key=True)
        ...     size: int
        >>> tree = Cup.query().select('id').where(Cup.c.size > 2).to_sqlglot('duckdb')
        >>> tree.sql('duckdb')
        'SELECT "cups"."id" FROM "cups" WHERE "cups"."size" > ?'
        """
        return to_sqlglot(self, dialect)

    def sql(self, dialect: str = "sqlite") -> str:
        """Only the SQL text for ``dialect``."""
        return compiler.compile(self, dialect)[0].sql

    def compile(self, dialect: str | None = None) -> CompiledQuery[M]:
        """A reusable prepared statement; values come from ``BindParam`` names at execute time.

        >>> from activeq import ActiveRecord, BindParam, Field
        >>> class Account(ActiveRecord):
        ...     __table_name__ = 'accounts'
        ...     id: int = Field(primary_key=True)
        ...     email: str
        >>> stmt = Account.query().where(Account.c.email == BindParam('email')).compile('sqlite')
        >>> stmt.sql
        'SELECT "accounts"."id", "accounts"."email" FROM "accounts" WHERE "accounts"."email" = ?'
        """
        return CompiledQuery(self, dialect)

    def _run(self, query: Query[Any] | None = None) -> tuple[list[Any], Compiled, Database]:
        q = self if query is None else query
        model = q._s["model"]
        db = model.__database__ or model.database()
        t0 = perf_counter_ns()
        s = q._s
        key, params = s["_memo"] or (_common_shape(q) if s["common"] else _shape(q))
        slot = _compiled_slot((db.dialect, key))
        if slot is not None:
            # Compiler.lookup inline: the path of every query run again.
            compiler.hits += 1
            slot[1] = _next_use()
            entry, hit = slot[0], True
        else:
            entry, hit = compiler.compile(q, db.dialect)
        values = params if entry.direct else entry.values(params)
        opts = s["options"]
        if opts and "cache" in opts or db._cache_all:
            rows = db._cache.select(entry, values, key, perf_counter_ns() - t0, hit, opts.get("cache"))
        else:
            rows = db._select(entry, values, key, perf_counter_ns() - t0, hit)
        return rows, entry, db

    # terminals -----------------------------------------------------------------------------
    def all(self) -> list[M]:
        """Run the query and return every result (models, partial models or Rows)."""
        limit = self._s["limit"]
        if (limit is None or limit.value >= 500) and gc.isenabled():
            # A large or unbounded result allocates a tuple and a model per row, none of which can be
            # part of a reference cycle yet: pausing the cyclic collector while they are built
            # spares it repeated scans of a fast-growing heap.
            gc.disable()
            try:
                rows, entry, db = self._run()
                results = entry.mapper(rows, db._context(self))
            finally:
                gc.enable()
        else:
            rows, entry, db = self._run()
            # The context of a query without options on a lazy database, without the call.
            ctx = db._default_ctx if not self._s["options"] and db.fetch_mode == "lazy" \
                else db._context(self)
            results = entry.mapper(rows, ctx)
        return self._finish(results, db) if self._s["includes"] else results

    def _finish(self, results: list[Any], db: Database) -> list[Any]:
        includes = self._s["includes"]
        if includes and results:
                load_includes(db, self.model, results, includes)
        return results

    def __iter__(self) -> Iterator[M]:
        return self.iter()

    def _at_most(self, n: int) -> Self:
        # A terminal that needs at most n rows keeps a smaller limit of the caller's (and the
        # offset, which _with leaves alone).
        limit = self._s["limit"]
        if limit is not None and limit.value <= n:
            return self
        return self._with("limit", _tnew(Param, ("?", (n,), n)))

    def first(self) -> M | None:
        """The first result, or None (adds LIMIT 1)."""
        results = self._at_most(1).all()
        return results[0] if results else None

    def one(self) -> M:
        """Exactly one result; NotFoundError when none, MultipleResultsError when more.

        A ``limit()`` of 1 (or 0) and an ``offset()`` on the query are kept: ``one()`` asks
        whether the rows the query describes are exactly one.
        """
        results = self._at_most(2).all()
        if not results:
            raise NotFoundError(f"no {self.model.__name__} matches the query")
        if len(results) > 1:
            raise MultipleResultsError(f"more than one {self.model.__name__} matches the query")
        return results[0]  # type: ignore[no-any-return]

    def one_or_none(self) -> M | None:
        """One result or None; MultipleResultsError when more."""
        results = self._at_most(2).all()
        if len(results) > 1:
            raise MultipleResultsError(f"more than one {self.model.__name__} matches the query")
        return results[0] if results else None

    def count(self) -> int:
        """The number of rows the query returns (ignoring ordering)."""
        s = self._s
        extra = s["extra"]
        if extra is not None and extra.lock is not None:
            # Counting locks nothing, and PostgreSQL refuses FOR UPDATE beside an aggregate.
            return self._with_extra(lock=None).count()
        if (s["limit"] is None and s["offset"] is None and not s["distinct"] and not s["groups"]
                and (extra is None or (extra.compound is None and not extra.distinct_on))):
            q = self._replace(columns=(Func("COUNT", (Star(),)),), orders=())
        else:
            q = self._replace(count_wrap=True, orders=() if s["limit"] is None else s["orders"])
        rows, _, _ = self._run(q)
        return int(rows[0][0])

    def exists(self) -> bool:
        """Whether at least one row matches."""
        if self._s["extra"] is not None:
            return bool(self._run(self._at_most(1))[0])
        info = self.model.__aq__  # type: ignore[attr-defined]
        col = info.refs[info.pk.name] if info.pk else info.refs[info.names[0]]
        rows, _, _ = self._run(self._at_most(1)._replace(columns=(col,), orders=()))
        return bool(rows)

    def scalar(self) -> Any:
        """The first column of the first row (in its Python type), or None."""
        rows, entry, _ = self._run(self._at_most(1))
        return entry.convert_rows(rows)[0][0] if rows else None

    def pluck(self, *columns: Any) -> list[Any]:
        """Values of one column (a flat list) or of several (a list of tuples)."""
        if not columns:
            raise CompileError("pluck() needs at least one column")
        rows, entry, _ = self._run(self.select(*columns))
        rows = entry.convert_rows(rows)
        if len(columns) == 1:
            return [r[0] for r in rows]
        return rows

    def tuples(self) -> list[tuple[Any, ...]]:
        """Rows as tuples: no models, no validation; values in their columns' Python types."""

        def fetch() -> list[tuple[Any, ...]]:
            rows, entry, _ = self._run()
            convert = entry.row_convert
            return rows if convert is None else convert(rows)  # type: ignore[no-any-return]

        return self._without_gc(fetch)

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by attribute name or alias (values converted as in tuples())."""

        def fetch() -> list[dict[str, Any]]:
            rows, entry, _ = self._run()
            names = entry.names
            convert = entry.row_convert
            if convert is not None:
                rows = convert(rows)
            return [dict(zip(names, r)) for r in rows]

        return self._without_gc(fetch)

    def _without_gc(self, fetch: Callable[[], Any]) -> Any:
        # Same reasoning as in all(): fresh rows cannot be in reference cycles yet.
        limit = self._s["limit"]
        if (limit is None or limit.value >= 500) and gc.isenabled():
            gc.disable()
            try:
                return fetch()
            finally:
                gc.enable()
        return fetch()

    def from_rows(self, rows: Any, dialect: str | None = None) -> list[M]:
        """The results this query gives, built from ``rows`` fetched elsewhere by running
        its ``to_sql(dialect)`` (with any driver): models, partial models or ``Row``s, values
        converted as activeq's own reads convert them for ``dialect`` (default: the bound
        database's, else SQLite's).

        >>> import sqlite3
        >>> from activeq import ActiveRecord, Field
        >>> class Kit(ActiveRecord):
        ...     __table_name__ = 'kits'
        ...     id: int = Field(primary_key=True)
        ...     parts: dict
        >>> con = sqlite3.connect(':memory:')
        >>> _ = con.execute('CREATE TABLE kits (id INTEGER PRIMARY KEY, parts TEXT)')
        >>> _ = con.execute('''INSERT INTO kits VALUES (1, '{"bolt": 4}')''')
        >>> q = Kit.query().where(Kit.c.id == 1)
        >>> q.from_rows(con.execute(*q.to_sql()).fetchall())[0].parts
        {'bolt': 4}
        """
        if dialect is None:
            db = self._s["model"].__database__
            dialect = "sqlite" if db is None else db.dialect
        entry, _ = compiler.compile(self, dialect)
        return entry.mapper([tuple(r) for r in rows], None)  # type: ignore[no-any-return]

    def iter(self, batch: int = 1000) -> Iterator[M]:
        """Stream results without building the whole list (one cursor, fetched in batches)."""
        db = self._database()
        t0 = perf_counter_ns()
        entry, hit = compiler.compile(self, db.dialect)
        values = entry.values(self.params)
        ctx = db._context(self)
        for rows in db._stream(entry, values, self.key, perf_counter_ns() - t0, hit, batch):
            yield from self._finish(entry.mapper(rows, ctx), db)

    def chunks(self, size: int = 1000, *, by: Any = None) -> Iterator[list[M]]:
        """Lists of at most ``size`` results, one keyset query each (never OFFSET).

        Pages by the primary key, or by this query's ordering with the primary key as a
        tie-break, or by ``by`` (column names or orderings that are unique together).
        Rows inserted past the current position while iterating are still visited once.
        """
        return paging.chunks(self, size, by)

    def paginate(self, page: int, per_page: int = 20) -> Any:
        """Page ``page`` (from 1) as a ``Page``: ``.items``, ``.total``, ``.pages``, ``.has_next``."""
        return paging.paginate(self, page, per_page)

    def cursor_page(self, size: int = 20, after: str | None = None, *, by: Any = None) -> Any:
        """``size`` results after an opaque cursor, as a ``CursorPage``.

        ``.items`` holds the results and ``.next_cursor`` the cursor of the next page
        (None on the last one); keyed like :meth:`chunks`.
        """
        return paging.cursor_page(self, size, after, by)

    def explain(self, analyze: bool = False) -> Any:
        """The query plan as a ``Plan`` (``.rows``, ``.full_scans``, ``.indexes``, ``str()``)."""
        db = self._database()
        entry, _ = compiler.compile(self, db.dialect)
        return db.explain(entry.sql, entry.values(self.params), analyze=analyze)

    # writes --------------------------------------------------------------------------------
    def update(self, values: dict[str, Any] | None = None, *, all_rows: bool = False,
               **kw: Any) -> int:
        """UPDATE the matching rows in one statement; returns the number of rows changed.

        Values may be expressions (``User.c.visits + 1``). Refused without a where clause
        unless ``all_rows=True``.
        """
        stmt = Update.build(self, {**(values or {}), **kw}, all_rows)
        if stmt.returns:
            return rows_of(stmt.returns, self._database()._write_rows(stmt))  # type: ignore[return-value]
        return self._database()._write(stmt)

    def delete(self, *, all_rows: bool = False) -> int:
        """DELETE the matching rows in one statement; returns the number of rows deleted.

        After ``returning(...)``, returns the deleted rows' values as ``Row``s instead.
        """
        stmt = Delete.build(self, all_rows)
        if stmt.returns:
            return rows_of(stmt.returns, self._database()._write_rows(stmt))  # type: ignore[return-value]
        return self._database()._write(stmt)

    def returning(self, *columns: Any) -> ReturningQuery[M]:
        """Make ``update()`` and ``delete()`` give back these columns of each row they change
        (every field without arguments) as ``Row``s instead of a count.

        RETURNING is not available on MySQL: rendering it there raises UnsupportedError.

        >>> from activeq import ActiveRecord, Database, Field
        >>> class Jar(ActiveRecord):
        ...     __table_name__ = 'jars'
        ...     id: int = Field(primary_key=True)
        ...     beans: int
        >>> db = Database(':memory:'); db.bind(Jar); db.create_tables(Jar)
        >>> _ = Jar.create(beans=3)
        >>> rows = Jar.query().where(Jar.c.id == 1).returning('id', 'beans').update({'beans': 4})
        >>> [(r.id, r.beans) for r in rows]
        [(1, 4)]
        """
        # The same query at run time; type checkers see ReturningQuery, whose writes give Rows.
        return self._with_extra(returning=returning_columns(self._s["model"], columns))  # type: ignore[return-value]

    def __repr__(self) -> str:
        try:
            return f"<Query {self.to_sql()[0]}>"
        except ActiveqError as e:
            return f"<Query of {self.model.__name__} (cannot render: {e})>"


if TYPE_CHECKING:
    class ReturningQuery(Query[M]):
        """A query after ``returning(...)`` as type checkers see it: ``update()`` and
        ``delete()`` give back the changed rows as ``Row``s instead of a count. (At run time
        it is the same ``Query``.)"""

        def update(self, values: dict[str, Any] | None = None, *,  # type: ignore[override]
                   all_rows: bool = False, **kw: Any) -> list[Row]: ...

        def delete(self, *, all_rows: bool = False) -> list[Row]: ...  # type: ignore[override]


# Queries are immutable to users; their own state is written once through the slot descriptor.
_SET_STATE = Query.__dict__["_s"].__set__


def _py_derive(query: _Q, part: str, value: Any) -> _Q:
    """A new query of ``query``'s class: its state with ``part`` set to ``value`` and no
    memo. What every builder makes."""
    state = query._s.copy()
    state[part] = value
    state["_memo"] = None
    q = type(query)()
    _SET_STATE(q, state)
    return q


def _py_derive_uncommon(query: _Q, part: str, value: Any) -> _Q:
    """``_py_derive`` for a part that takes the query out of the common shape (a select
    list, a join, a grouping)."""
    q = _py_derive(query, part, value)
    q._s["common"] = False
    return q


# The walks (_py_shape, _py_common_shape) and the builders' step (_py_derive,
# _py_derive_uncommon) in C where activeq._speedups is built: a report query spends a fifth of
# its build and render time in the walk and as much again in the steps. The Python functions
# stay the definitions the C ones must equal.
_shape: Callable[[Query[Any]], tuple[Any, tuple[Any, ...]]] = _py_shape
_common_shape: Callable[[Query[Any]], tuple[Any, tuple[Any, ...]]] = _py_common_shape
_derive = _py_derive
_derive_uncommon = _py_derive_uncommon
if _speedups is not None:
    _speedups.configure(_PART_END, _FROM_ITEMS, _DERIVED, OutputColumn, _sharing_signature,
                        Query.__dict__["_s"])
    _shape = _speedups.shape
    _common_shape = _speedups.common_shape
    _derive = _speedups.derive
    _derive_uncommon = _speedups.derive_uncommon

# The compile cache's dict read and use stamp, bound once for Query._run (see Compiler.lookup).
_compiled_slot = compiler._cache.get
_next_use = compiler._uses.__next__


_NO_EXTRA = Extra()


def _did_you_mean(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _get_column(columns: Any, name: str) -> ColumnRef | None:
    return columns[name] if name in columns else None


def _ordinal(position: int, what: str) -> OutputColumn:
    if position < 1:
        raise CompileError(f"{what}() positions count from 1, not {position}")
    return OutputColumn(position)


def _check_join_target(what: str, target: Any) -> None:
    if not isinstance(target, FromItem) and not hasattr(target, "__aq__"):
        raise CompileError(
            f"{what}() takes a model class, an alias, a subquery or a CTE, not {target!r}")


def _infer_join(model: Any, target: Any) -> Expr:
    for rel in model.__aq__.relations.values():
        if rel.target_model() is target:
            return rel.join_condition()  # type: ignore[no-any-return]
    for rel in target.__aq__.relations.values():
        if rel.target_model() is model:
            return rel.join_condition()  # type: ignore[no-any-return]
    raise CompileError(
        f"no relation links {model.__name__} and {target.__name__}: pass the join condition"
    )


class _Statement:
    """Base for write statements; keyed and parameterised like expression nodes."""

    __slots__ = ("model", "wheres", "kind", "key", "params")


class Update(_Statement):
    """``UPDATE table SET ... WHERE ... [RETURNING ...]`` built from a query."""

    __slots__ = ("assignments", "returns")

    def __init__(self, model: Any, assignments: tuple[tuple[Any, Expr], ...],
                 wheres: tuple[Expr, ...], returns: tuple[Expr, ...] = ()) -> None:
        self.model = model
        self.assignments = assignments
        self.wheres = wheres
        self.returns = returns
        self.kind = "update"
        self.key = (("update", model.__aq__.token, tuple((c.name, e.key) for c, e in assignments),
                           tuple(w.key for w in wheres), tuple(r.key for r in returns)))
        params: tuple[Any, ...] = ()
        for _, e in assignments:
            params += e.params
        for w in wheres:
            params += w.params
        for r in returns:
            params += r.params
        self.params = params

    @classmethod
    def build(cls, query: Query[Any], values: dict[str, Any], all_rows: bool) -> Update:
        s = query._s
        model = s["model"]
        info = model.__aq__
        _check_plain_write(query, "update")
        if not s["wheres"] and not all_rows:
            raise CompileError(
                f"update() without where() would change every row of {info.table}; "
                "pass all_rows=True to mean it"
            )
        if not values:
            raise CompileError("update() needs at least one column to set")
        unknown = [k for k in values if k not in info.by_name]
        if unknown:
            raise unknown_fields_error(model, unknown)
        assignments = []
        for name, value in values.items():
            if not isinstance(value, Expr):
                try:
                    value = info.adapter(name).validate_python(value)
                except pydantic.ValidationError as e:
                    raise ValidationError.from_pydantic(model.__name__, e, field=name) from e
                # Refused here, with the field named, rather than by the driver while binding.
                bad = unstorable_error((value,), (name,), where=f"invalid {model.__name__}: ")
                if bad is not None:
                    raise bad
                if isinstance(value, float) and value != value:
                    raise nan_error(model, name)
            assignments.append((info.by_name[name], as_expr(value)))
        return cls(model, tuple(assignments), s["wheres"], _returning(query))


class Delete(_Statement):
    """``DELETE FROM table WHERE ... [RETURNING ...]`` built from a query."""

    __slots__ = ("returns",)

    def __init__(self, model: Any, wheres: tuple[Expr, ...],
                 returns: tuple[Expr, ...] = ()) -> None:
        self.model = model
        self.wheres = wheres
        self.returns = returns
        self.kind = "delete"
        self.key = ("delete", model.__aq__.token, tuple(w.key for w in wheres),
                    tuple(r.key for r in returns))
        params: tuple[Any, ...] = ()
        for w in wheres:
            params += w.params
        for r in returns:
            params += r.params
        self.params = params

    @classmethod
    def build(cls, query: Query[Any], all_rows: bool) -> Delete:
        s = query._s
        _check_plain_write(query, "delete")
        if not s["wheres"] and not all_rows:
            raise CompileError(
                f"delete() without where() would remove every row of {s['model'].__aq__.table}; "
                "pass all_rows=True to mean it"
            )
        return cls(s["model"], s["wheres"], _returning(query))


def _returning(query: Query[Any]) -> tuple[Expr, ...]:
    extra = query._s["extra"]
    return () if extra is None else extra.returning  # type: ignore[no-any-return]


def _check_plain_write(query: Query[Any], what: str) -> None:
    s = query._s
    extra = s["extra"]
    if extra is not None and (extra.source is not None or extra.compound is not None
                              or extra.distinct_on or extra.lock is not None):
        raise CompileError(
            f"{what}() writes the model's own table: it cannot use an alias, a subquery, a "
            "CTE, a set operation, distinct_on() or for_update(); filter with where()")
    for part in ("joins", "groups", "havings"):
        if s[part]:
            raise CompileError(f"{what}() cannot use {part[:-1]}; filter with where() (subqueries work)")
    if s["limit"] is not None or s["offset"] is not None:
        raise CompileError(f"{what}() cannot use limit/offset; filter with where()")


class Insert(_Statement):
    """``INSERT INTO table (names) VALUES (...)`` with an optional conflict clause."""

    __slots__ = ("names", "on_conflict", "returning")

    def __init__(self, model: Any, names: tuple[str, ...], on_conflict: Any = None,
                 returning: bool = False) -> None:
        self.model = model
        self.names = names
        self.on_conflict = on_conflict
        self.returning = returning
        self.wheres = ()
        self.kind = "insert"
        self.key = ("insert", model.__aq__.token, names, on_conflict, returning)
        self.params = ()


class CompiledQuery(Generic[M]):
    """A query compiled once with ``BindParam`` placeholders, executed many times.

    ``execute(**values)`` returns the list of results, ``first(**values)`` one or None.

    >>> from activeq import ActiveRecord, BindParam, Database, Field
    >>> class Seat(ActiveRecord):
    ...     __table_name__ = 'seats'
    ...     id: int = Field(primary_key=True)
    ...     row: str
    >>> db = Database(':memory:'); db.bind(Seat); db.create_tables(Seat)
    >>> _ = Seat.create(row='A')
    >>> in_row = Seat.query().where(Seat.c.row == BindParam('row')).compile()
    >>> in_row.parameters
    frozenset({'row'})
    >>> [s.id for s in in_row.execute(row='A')], in_row.execute(row='B')
    ([1], [])
    """

    def __init__(self, query: Query[M], dialect: str | None) -> None:
        self.query = query
        db = query._s["model"].__database__
        self.dialect = dialect or (db.dialect if db is not None else "sqlite")
        self._entry, _ = compiler.compile(query, self.dialect)
        params = query.params
        self._names = {p.name for p in params if isinstance(p, Unbound)}
        self._slots = [(i, p.name) for i, p in enumerate(params) if isinstance(p, Unbound)]
        self._params = list(params)

    @property
    def sql(self) -> str:
        """The SQL text, with the dialect's placeholders."""
        return self._entry.sql

    @property
    def parameters(self) -> frozenset[str]:
        """Names the statement expects."""
        return frozenset(self._names)

    def _bind(self, values: dict[str, Any]) -> Any:
        missing = self._names - values.keys()
        if missing:
            raise CompileError(f"missing value for parameter(s): {', '.join(sorted(missing))}")
        unknown = values.keys() - self._names
        if unknown:
            raise CompileError(
                f"unknown parameter(s): {', '.join(sorted(unknown))}; "
                f"expected: {', '.join(sorted(self._names)) or '(none)'}"
            )
        params = self._params
        for i, name in self._slots:
            value = params[i] = values[name]
            if type(value) is int and value.bit_length() > 63:
                bindable_int(value)
        return self._entry.values(tuple(params))

    def execute(self, **values: Any) -> list[M]:
        """Run with these parameter values; returns the results as ``all()`` would."""
        values_ = self._bind(values)
        query = self.query
        db = query._s["model"].database()
        opts = query._s["options"]
        if opts and "cache" in opts or db._cache_all:
            rows = db._cache.select(self._entry, values_, query.key, 0, True, opts.get("cache"))
        else:
            rows = db._select(self._entry, values_, query.key, 0, True)
        return query._finish(self._entry.mapper(rows, db._context(query)), db)

    def first(self, **values: Any) -> M | None:
        """The first result or None."""
        results = self.execute(**values)
        return results[0] if results else None

    def __repr__(self) -> str:
        return f"<CompiledQuery {self.sql}>"


