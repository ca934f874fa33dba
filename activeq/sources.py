"""What a SELECT reads from besides a model's own table: aliases, derived tables and CTEs;
and the set operations (UNION, INTERSECT, EXCEPT) that combine two queries.

FROM items are frozen nodes like expressions: each carries its shape ``key`` (no values) and
its bound ``params``, and ``c`` holds one prebuilt column reference per output column, so
``s.c.total`` costs no allocation. A FROM item is named in the SQL by ``name``; the compiler
refuses two FROM items of one clause under the same name.

Queries over a FROM item (``m.query()``, ``s.query()``) come from the query class of the
query or model the item was made from, so an async model gives async queries.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .ast import Alias, ColumnRef, JsonColumn, Node
from .columns import ColumnSet
from .errors import CompileError
from .types import ANY, SQLType, expr_type

if TYPE_CHECKING:
    from .query import Query
    from .results import Row

__all__ = [
    "CTE",
    "SOURCE_TYPES",
    "FromItem",
    "SetOperation",
    "Subquery",
    "TableAlias",
    "output_columns",
]

_tnew = tuple.__new__


# A derived table's columns depend on its shape only, and a query that builds the same derived
# table on every call (the usual way) finds them here instead of rebuilding each reference.
# The shape itself is stood for by a number: an enclosing query's key then holds that number,
# not the whole nested shape, and hashing it on every compile-cache lookup stays cheap. Numbers
# are never reused, so forgetting the table (past its bound) costs a cache miss, never a wrong
# statement.
# Beside the number it keeps what else depends on the shape only: the columns, and whether
# the query groups (within) by an expression holding values (``Query.shares_values``), so an
# enclosing query asks the item instead of walking its query again.
_SHAPES: dict[Any, tuple[int, ColumnSet, bool]] = {}
_SHAPES_MAX = 4096
_numbers = itertools.count(1)


def _shape_number(shape: Any, columns: Callable[[], ColumnSet],
                  groups: Callable[[], bool]) -> tuple[int, ColumnSet, bool]:
    found = _SHAPES.get(shape)
    if found is None:
        found = (next(_numbers), columns(), groups())
        if len(_SHAPES) >= _SHAPES_MAX:
            _SHAPES.clear()
        _SHAPES[shape] = found
    return found


def _derived_shape(what: str, shape: Any, select: Query[Any],
                   name: str) -> tuple[int, ColumnSet, bool]:
    # _shape_number for a derived table or CTE, without the two closures a hit would not use.
    found = _SHAPES.get(shape)
    if found is None:
        found = _shape_number(shape, lambda: _column_set(select, name, what),
                              lambda: select.shares_values)
    return found


def _no_groups() -> bool:
    return False


def _check_name(what: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise CompileError(f"{what} needs a non-empty name, not {name!r}")
    return name


class FromItem(Node):
    """Base of the named items a FROM clause may hold besides a model's table.

    Subclasses hold the fields ``name`` (the name the SQL knows the item by) and ``c`` (its
    columns); ``query()`` starts a query that selects from the item.
    """

    __slots__ = ()
    name: str
    c: ColumnSet[FromItem]

    def query(self) -> Query[Any]:
        """A query selecting every column of this item (narrow it with ``select``)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class TableAlias(FromItem):
    """A model's table under another name: ``m = User.alias("m")``.

    Its columns (``m.c.name``) are qualified by the alias, so one statement can read the same
    table twice: a self-join, or a correlated ``EXISTS`` over ``m.query()``.

    >>> from activeq import ActiveRecord, Field
    >>> class Staff(ActiveRecord):
    ...     __table_name__ = 'staff'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    ...     boss_id: int | None = None
    >>> boss = Staff.alias('boss')
    >>> q = Staff.query().join(boss, Staff.c.boss_id == boss.c.id).select(Staff.c.name, boss.c.name.as_('boss'))
    >>> q.sql()
    'SELECT "staff"."name", "boss"."name" AS "boss" FROM "staff" JOIN "staff" AS "boss" ON "staff"."boss_id" = "boss"."id"'
    """

    __slots__ = ()
    _fields = ("model", "name", "c")
    model: Any

    def __new__(cls, model: Any, name: str):  # type: ignore[no-untyped-def]
        _check_name("alias()", name)
        info = model.__aq__
        key = ("alias", info.token, name)
        found = _SHAPES.get(key)
        if found is None:
            def columns() -> ColumnSet:
                return ColumnSet(name, {col.name: (JsonColumn if col.type.json else ColumnRef)(
                    model, col.name, col.column, name, col.type) for col in info.columns})

            found = _shape_number(key, columns, _no_groups)
        return _tnew(cls, (key, (), model, name, found[1]))

    def query(self) -> Query[Any]:
        """A query over the aliased table; its results are instances of the model."""
        return self.model.query()._over(  # type: ignore[no-any-return]
            self, self.model, self.c._all)


class _Derived(FromItem):
    """A FROM item made from a query: a derived table or a CTE."""

    __slots__ = ()
    select: Query[Any]
    groups: bool
    """Whether ``select`` (or a query it reads) groups by an expression holding values."""

    def query(self) -> Query[Row]:
        """A query over this item's columns; its results are ``Row``s."""
        return self.select._over(self, self.select._s["model"], self.c._all)


class Subquery(_Derived):
    """A query used as a table: ``s = q.subquery("s")``, rendered ``(SELECT ...) AS "s"``.

    ``s.c.<name>`` are its output columns, by attribute name or alias; join it like a model,
    or select from it with ``s.query()``.
    """

    __slots__ = ()
    _fields = ("select", "name", "c", "groups")

    def __new__(cls, select: Query[Any], name: str):  # type: ignore[no-untyped-def]
        return derived_table(select, name)


class CTE(_Derived):
    """A named query of a WITH clause: ``c = q.cte("c")``, used like a subquery.

    Wherever a statement uses it (FROM, a join, a subquery), its definition is rendered once
    in the statement's WITH clause. ``recursive=True`` makes ``WITH RECURSIVE``: the CTE's
    ``union_all(step)`` (or ``union``) adds a step query that reads the CTE itself.
    """

    __slots__ = ()
    _fields = ("select", "name", "c", "groups", "recursive")
    recursive: bool

    def __new__(cls, select: Query[Any], name: str, recursive: bool = False):  # type: ignore[no-untyped-def]
        return common_table(select, name, recursive)

    def union_all(self, step: Query[Any]) -> CTE:
        """This CTE with ``UNION ALL step`` added to its definition (the recursive step)."""
        return CTE(self.select.union_all(step), self.name, self.recursive)

    def union(self, step: Query[Any]) -> CTE:
        """This CTE with ``UNION step`` added (a recursive step whose duplicates stop it)."""
        return CTE(self.select.union(step), self.name, self.recursive)


def derived_table(select: Query[Any], name: str, memo: tuple[Any, Any] | None = None) -> Subquery:
    """``Subquery(select, name)``: what ``Query.subquery`` builds, without a class call's
    frames (a report builds a few per statement). ``memo`` is the select's ``(key, params)``
    when the caller has it at hand."""
    if type(name) is not str or not name:
        _check_name("subquery()", name)
    key, params = (select.key, select.params) if memo is None else memo
    shape = ("subquery", name, key)
    found = _SHAPES.get(shape)
    if found is None:
        found = _derived_shape("subquery", shape, select, name)
    return _tnew(Subquery, (("subquery", found[0]), params, select, name, found[1],  # type: ignore[no-any-return]
                            found[2]))


def common_table(select: Query[Any], name: str, recursive: bool = False,
                 memo: tuple[Any, Any] | None = None) -> CTE:
    """``CTE(select, name, recursive)``: what ``Query.cte`` builds, without a class call's
    frames (a report builds a few per statement). ``memo`` is the select's ``(key, params)``
    when the caller has it at hand."""
    if type(name) is not str or not name:
        _check_name("cte()", name)
    recursive = recursive is True or bool(recursive)
    key, params = (select.key, select.params) if memo is None else memo
    shape = ("cte", name, recursive, key)
    found = _SHAPES.get(shape)
    if found is None:
        found = _derived_shape("cte", shape, select, name)
    return _tnew(CTE, (("cte", found[0]), params, select, name, found[1], found[2],  # type: ignore[no-any-return]
                       recursive))


class SetOperation(Node):
    """``left UNION [ALL] | INTERSECT | EXCEPT right``: the body of a compound query."""

    __slots__ = ()
    _fields = ("op", "left", "right", "groups")
    op: str
    left: Query[Any]
    right: Query[Any]
    groups: bool
    """Whether either member (or a query it reads) groups by an expression holding values."""

    def __new__(cls, op: str, left: Query[Any], right: Query[Any]):  # type: ignore[no-untyped-def]
        number, _, groups = _shape_number(
            ("setop", op, left.key, right.key), _NO_COLUMNS,
            lambda: left.shares_values or right.shares_values)
        return _tnew(cls, (("setop", number), left.params + right.params, op, left, right, groups))


#: Every node class of this module; the compiler has one handler per entry.
SOURCE_TYPES: tuple[type[Node], ...] = (TableAlias, Subquery, CTE, SetOperation)


def output_columns(query: Query[Any]) -> list[tuple[str, str]]:
    """``(attribute name, SQL output name)`` of each column a query selects, in order.

    Raises CompileError for a computed column without a name: SQL names it differently in
    each dialect, so nothing could refer to it.
    """
    s = query._s
    extra = s["extra"]
    if extra is not None and extra.compound is not None:
        return output_columns(extra.compound.left)
    columns = s["columns"]
    if columns is None:
        return [(col.name, col.column) for col in s["model"].__aq__.columns]
    out = []
    for i, item in enumerate(columns):
        if isinstance(item, Alias):
            out.append((item.name, item.name))
        elif isinstance(item, ColumnRef):
            out.append((item.name, item.column))
        else:
            raise CompileError(
                f"column {i + 1} of the query ({type(item).__name__}) has no name: "
                "name it with .as_('name') to use the query as a table")
    return out


def _NO_COLUMNS() -> ColumnSet:  # noqa: N802 - a constant's factory
    return ColumnSet("set operation", {})


def output_types(query: Query[Any]) -> list[SQLType]:
    """The SQL type of each column a query selects (``ANY`` where it has none)."""
    s = query._s
    extra = s["extra"]
    if extra is not None and extra.compound is not None:
        return output_types(extra.compound.left)
    columns = s["columns"]
    if columns is None:
        return [col.type for col in s["model"].__aq__.columns]
    return [expr_type(item) or ANY for item in columns]


def _column_set(select: Query[Any], name: str, what: str) -> ColumnSet:
    refs: dict[str, ColumnRef] = {}
    for (attr, column), sqltype in zip(output_columns(select), output_types(select)):
        if attr in refs:
            raise CompileError(
                f"{what} {name!r} would have two columns named {attr!r}: "
                "rename one with .as_('other')")
        refs[attr] = (JsonColumn if sqltype.json else ColumnRef)(None, attr, column, name, sqltype)
    return ColumnSet(name, refs)
