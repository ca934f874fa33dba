"""Lower activeq trees to sqlglot expressions, render them per dialect, cache by shape.

The cache key is ``(dialect, tree.key)``; the key excludes bound values, so a hit costs one
dict lookup. On a miss the tree is lowered through one ``lower_<node>`` handler per node class
(the ``LOWER`` table), rendered with sqlglot, and each parameter's slot is recorded in the order
its placeholder appears in the text.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from . import ast as a
from .dialects import get as get_dialect
from .errors import ArgumentTypeError, CompileError, UnsupportedError
from .values import NO_FORM, stored_form

__all__ = ["Compiled", "Compiler", "compiler"]

_SLOT = re.compile(r"__aqp(\d+)__")


class Compiled:
    """One cached rendering of a shape: SQL text, slot order and how to build results."""

    __slots__ = ("sql", "order", "converters", "mapper", "names", "dialect", "kind", "tables")

    def __init__(self, sql: str, order: tuple[int, ...] | None,
                 converters: tuple[tuple[int, Callable[[Any], Any]], ...],
                 mapper: Any, names: tuple[str, ...], dialect: str, kind: str,
                 tables: frozenset[str]) -> None:
        self.sql = sql
        self.order = order
        """Index into the tree's params for each placeholder in text order; None = identity."""
        self.converters = converters
        """(placeholder position, function) for values the dialect binds in another form."""
        self.mapper = mapper
        """``(rows, ctx) -> results`` for SELECTs; None for other statements."""
        self.names = names
        """Result column names (attribute name or alias), for ``dicts()``."""
        self.dialect = dialect
        self.kind = kind
        """``select``, ``insert``, ``update`` or ``delete``."""
        self.tables = tables
        """Tables the statement reads or writes (for cache invalidation)."""

    def values(self, params: tuple[Any, ...]) -> Any:
        """The values to bind, in placeholder order and driver form."""
        order = self.order
        if order is None and not self.converters:
            return params
        values = list(params) if order is None else [params[i] for i in order]
        for pos, convert in self.converters:
            values[pos] = convert(values[pos])
        return values


def _json_default(value: Any) -> Any:
    form = stored_form(value)
    if form is not NO_FORM:
        return form
    if isinstance(value, bytes):
        raise CompileError("bytes values cannot be bound in an IN list on this dialect")
    raise ArgumentTypeError(f"cannot bind {type(value).__name__} in an IN list")


def _json_array(values: Any) -> str:
    return json.dumps(list(values), default=_json_default, ensure_ascii=False)


def _as_list(values: Any) -> list[Any]:
    return list(values)


class Lowering:
    """State of one lowering: the dialect, the next parameter slot and per-slot converters."""

    __slots__ = ("dialect", "slot", "converters", "tables")

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.slot = 0
        self.converters: dict[int, Callable[[Any], Any]] = {}
        self.tables: set[str] = set()

    def placeholder(self, convert: Callable[[Any], Any] | None = None) -> exp.Expression:
        slot = self.slot
        self.slot += 1
        if convert is not None:
            self.converters[slot] = convert
        return exp.Var(this=f"__aqp{slot}__")

    def lower(self, node: Any) -> exp.Expression:
        try:
            handler = LOWER[type(node)]
        except KeyError:
            raise UnsupportedError(type(node).__name__, self.dialect.NAME) from None
        return handler(node, self)


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def table_exp(name: str) -> exp.Table:
    return exp.Table(this=ident(name))


def column_exp(table: str | None, column: str) -> exp.Column:
    if table is None:
        return exp.Column(this=ident(column))
    return exp.Column(this=ident(column), table=ident(table))


def _paren_if(node: exp.Expression, *kinds: type[exp.Expression]) -> exp.Expression:
    return exp.Paren(this=node) if isinstance(node, kinds) else node


def lower_column(node: a.ColumnRef, lw: Lowering) -> exp.Expression:
    lw.tables.add(node.table)
    return column_exp(node.table, node.column)


def lower_param(node: a.Param, lw: Lowering) -> exp.Expression:
    return lw.placeholder()


def lower_bind(node: a.BindParam, lw: Lowering) -> exp.Expression:
    return lw.placeholder()


def lower_star(node: a.Star, lw: Lowering) -> exp.Expression:
    return exp.Star()


_COMPARE: dict[str, type[exp.Expression]] = {
    "=": exp.EQ, "<>": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE,
}
_ARITH: dict[str, type[exp.Expression]] = {
    "+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div, "%": exp.Mod,
}
_LOGIC = (exp.And, exp.Or, exp.Not)
_BINARY = (exp.And, exp.Or, exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.Is, exp.In,
           exp.Like, exp.ILike, exp.Between, exp.Not)


def lower_compare(node: a.Compare, lw: Lowering) -> exp.Expression:
    left = _paren_if(lw.lower(node.left), *_BINARY)
    right = _paren_if(lw.lower(node.right), *_BINARY)
    return _COMPARE[node.op](this=left, expression=right)


def lower_arith(node: a.Arith, lw: Lowering) -> exp.Expression:
    # Parenthesise nested arithmetic so (a - b) * c and a - (b - c) keep their grouping.
    left = _paren_if(lw.lower(node.left), exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, *_BINARY)
    right = _paren_if(lw.lower(node.right), exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, *_BINARY)
    return _ARITH[node.op](this=left, expression=right)


def lower_boolop(node: a.BoolOp, lw: Lowering) -> exp.Expression:
    cls = exp.And if node.op == "AND" else exp.Or
    result: exp.Expression | None = None
    for item in node.items:
        part = _paren_if(lw.lower(item), exp.And, exp.Or)
        result = part if result is None else cls(this=result, expression=part)
    assert result is not None
    return result


def lower_not(node: a.Not, lw: Lowering) -> exp.Expression:
    return exp.Not(this=_paren_if(lw.lower(node.item), *_BINARY))


def lower_isnull(node: a.IsNull, lw: Lowering) -> exp.Expression:
    # Not(Null) inside Is renders "x IS NOT NULL"; Not(Is(...)) would give "NOT x IS NULL".
    null = exp.Not(this=exp.Null()) if node.negated else exp.Null()
    return exp.Is(this=_paren_if(lw.lower(node.item), *_BINARY), expression=null)


def lower_inlist(node: a.InList, lw: Lowering) -> exp.Expression:
    item = _paren_if(lw.lower(node.item), *_BINARY)
    strategy = lw.dialect.IN_LIST
    test: exp.Expression
    if strategy == "json_each":
        array = lw.placeholder(_json_array)
        sub = exp.select(exp.column("value", quoted=True)).from_(
            exp.Table(this=exp.Anonymous(this="json_each", expressions=[array])), copy=False
        )
        test = exp.In(this=item, query=exp.Subquery(this=sub))
    elif strategy == "any":
        test = exp.EQ(this=item, expression=exp.Any(this=exp.Paren(this=lw.placeholder(_as_list))))
    elif strategy == "unnest":
        sub = exp.select(exp.Unnest(expressions=[lw.placeholder(_as_list)]))
        test = exp.In(this=item, query=exp.Subquery(this=sub))
    elif strategy == "member_of":
        test = exp.JSONArrayContains(this=item, expression=lw.placeholder(_json_array))
    else:
        raise UnsupportedError("InList", lw.dialect.NAME, f"unknown strategy {strategy!r}")
    return exp.Not(this=exp.Paren(this=test)) if node.negated else test


def lower_inquery(node: a.InQuery, lw: Lowering) -> exp.Expression:
    item = _paren_if(lw.lower(node.item), *_BINARY)
    test = exp.In(this=item, query=exp.Subquery(this=lower_select(node.query, lw)))
    return exp.Not(this=exp.Paren(this=test)) if node.negated else test


def lower_like(node: a.Like, lw: Lowering) -> exp.Expression:
    item = _paren_if(lw.lower(node.item), *_BINARY)
    pattern = lw.lower(node.pattern)
    test = (exp.ILike if node.insensitive else exp.Like)(this=item, expression=pattern)
    return exp.Not(this=exp.Paren(this=test)) if node.negated else test


def lower_between(node: a.Between, lw: Lowering) -> exp.Expression:
    item = _paren_if(lw.lower(node.item), *_BINARY)
    test = exp.Between(this=item, low=lw.lower(node.low), high=lw.lower(node.high))
    return exp.Not(this=exp.Paren(this=test)) if node.negated else test


_FUNCS: dict[str, Callable[[list[exp.Expression]], exp.Expression]] = {
    "COUNT": lambda args: exp.Count(this=args[0] if args else exp.Star()),
    "SUM": lambda args: exp.Sum(this=args[0]),
    "AVG": lambda args: exp.Avg(this=args[0]),
    "MIN": lambda args: exp.Min(this=args[0]),
    "MAX": lambda args: exp.Max(this=args[0]),
    "LOWER": lambda args: exp.Lower(this=args[0]),
    "UPPER": lambda args: exp.Upper(this=args[0]),
    "LENGTH": lambda args: exp.Length(this=args[0]),
    "ABS": lambda args: exp.Abs(this=args[0]),
    "COALESCE": lambda args: exp.Coalesce(this=args[0], expressions=args[1:]),
}


def lower_func(node: a.Func, lw: Lowering) -> exp.Expression:
    args = [lw.lower(arg) for arg in node.args]
    if node.distinct:
        if len(args) != 1:
            raise CompileError(f"{node.name}(DISTINCT ...) takes exactly one argument")
        args = [exp.Distinct(expressions=args)]
    build = _FUNCS.get(node.name)
    if build is not None:
        try:
            return build(args)
        except IndexError:
            raise CompileError(f"{node.name}() needs an argument") from None
    return exp.Anonymous(this=node.name, expressions=args)


def lower_alias(node: a.Alias, lw: Lowering) -> exp.Expression:
    return exp.Alias(this=lw.lower(node.item), alias=ident(node.name))


def lower_ordering(node: Any, lw: Lowering) -> exp.Expression:
    if not isinstance(node, a.Ordering):
        # order_by() keeps a bare expression as is: ascending, database NULL placement.
        node = a.Ordering(node, False, None)
    item = lw.lower(node.item)
    if isinstance(item, exp.Alias):
        item = exp.Column(this=item.args["alias"])
    if node.nulls_last is not None:
        nulls_first = not node.nulls_last
    else:
        # Keep the database's own default placement so no NULLS clause is rendered.
        nulls = lw.dialect.NULLS_ARE
        nulls_first = (not node.desc) if nulls == "small" else node.desc if nulls == "large" else False
    return exp.Ordered(this=item, desc=True if node.desc else None, nulls_first=nulls_first)


def lower_exists(node: a.Exists, lw: Lowering) -> exp.Expression:
    return exp.Exists(this=lower_select(node.query, lw))


def lower_subquery(node: a.SubqueryExpr, lw: Lowering) -> exp.Expression:
    return exp.Subquery(this=lower_select(node.query, lw))


def lower_select(query: Any, lw: Lowering) -> exp.Select:
    """Lower a Query; children are visited in the order ``Query.params`` lists their values."""
    s = query._s
    model = s["model"]
    info = model.__aq__
    lw.tables.add(info.table)
    select = exp.Select()
    columns = s["columns"]
    if columns is None:
        refs = info.refs
        select.set("expressions", [lower_column(refs[n], lw) for n in info.names])
    else:
        select.set("expressions", [lw.lower(c) for c in columns])
    select.set("from_", exp.From(this=table_exp(info.table)))
    joins = []
    for kind, target, on in s["joins"]:
        lw.tables.add(target.__aq__.table)
        join = exp.Join(this=table_exp(target.__aq__.table), on=lw.lower(on))
        if kind == "left":
            join.set("side", "LEFT")
        joins.append(join)
    if joins:
        select.set("joins", joins)
    wheres = s["wheres"]
    if wheres:
        select.set("where", exp.Where(this=_conjunction([lw.lower(w) for w in wheres])))
    if s["groups"]:
        select.set("group", exp.Group(expressions=[lw.lower(g) for g in s["groups"]]))
    if s["havings"]:
        select.set("having", exp.Having(this=_conjunction([lw.lower(h) for h in s["havings"]])))
    if s["orders"]:
        select.set("order", exp.Order(expressions=[lower_ordering(o, lw) for o in s["orders"]]))
    if s["limit"] is not None:
        select.set("limit", exp.Limit(expression=lw.lower(s["limit"])))
    if s["offset"] is not None:
        if s["limit"] is None and lw.dialect.OFFSET_WITHOUT_LIMIT is not None:
            select.set("limit", exp.Limit(
                expression=exp.Literal.number(lw.dialect.OFFSET_WITHOUT_LIMIT)))
        select.set("offset", exp.Offset(expression=lw.lower(s["offset"])))
    if s["distinct"]:
        select.set("distinct", exp.Distinct())
    if s["count_wrap"]:
        return exp.select(exp.Count(this=exp.Star())).from_(
            exp.Subquery(this=select, alias=exp.TableAlias(this=ident("counted"))), copy=False
        )
    return select


def _conjunction(parts: list[exp.Expression]) -> exp.Expression:
    result = _paren_if(parts[0], exp.Or) if len(parts) > 1 else parts[0]
    for part in parts[1:]:
        result = exp.And(this=result, expression=_paren_if(part, exp.Or))
    return result


def lower_update(stmt: Any, lw: Lowering) -> exp.Expression:
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    sets = [
        exp.EQ(this=exp.Column(this=ident(col.column)), expression=lw.lower(value))
        for col, value in stmt.assignments
    ]
    update = exp.Update(this=table_exp(info.table), expressions=sets)
    if stmt.wheres:
        update.set("where", exp.Where(this=_conjunction([lw.lower(w) for w in stmt.wheres])))
    return update


def lower_delete(stmt: Any, lw: Lowering) -> exp.Expression:
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    delete = exp.Delete(this=table_exp(info.table))
    if stmt.wheres:
        delete.set("where", exp.Where(this=_conjunction([lw.lower(w) for w in stmt.wheres])))
    return delete


def lower_insert(stmt: Any, lw: Lowering) -> exp.Expression:
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    cols = [info.by_name[n].column for n in stmt.names]
    values = exp.Tuple(expressions=[lw.placeholder() for _ in cols])
    insert = exp.Insert(
        this=exp.Schema(this=table_exp(info.table), expressions=[ident(c) for c in cols]),
        expression=exp.Values(expressions=[values]),
    )
    conflict = stmt.on_conflict
    dialect = lw.dialect
    if conflict is not None:
        action = conflict[0]
        if dialect.UPSERT == "on_duplicate_key":
            updates = () if action == "ignore" else (
                info.names if action == "replace" else conflict[2])
            sets = [_excluded_set(info.by_name[n].column, dialect) for n in updates
                    if n in stmt.names]
            if sets:
                insert.set("conflict", exp.OnConflict(
                    duplicate=True, action=exp.var("UPDATE"), expressions=sets))
            else:
                insert.set("ignore", True)
        elif action == "ignore":
            insert.set("conflict", exp.OnConflict(action=exp.var("DO NOTHING")))
        elif action == "replace" and dialect.NAME == "sqlite":
            insert.set("alternative", "REPLACE")
        else:
            targets = (conflict[1] if len(conflict) > 1 else ()) or (
                (info.pk.name,) if info.pk else ())
            updates = conflict[2] if action == "update" else tuple(
                n for n in stmt.names if n not in targets)
            keys = [ident(info.by_name[n].column) for n in targets]
            if updates:
                insert.set("conflict", exp.OnConflict(
                    conflict_keys=keys, action=exp.var("DO UPDATE"),
                    expressions=[_excluded_set(info.by_name[n].column, dialect) for n in updates],
                ))
            else:
                # Nothing left to update: every inserted column is a conflict target.
                insert.set("conflict", exp.OnConflict(conflict_keys=keys,
                                                      action=exp.var("DO NOTHING")))
    if stmt.returning and dialect.RETURNING and info.pk is not None:
        insert.set("returning", exp.Returning(expressions=[exp.Column(this=ident(info.pk.column))]))
    return insert


def _excluded_set(column: str, dialect: Any) -> exp.Expression:
    if dialect.UPSERT == "on_duplicate_key":
        value: exp.Expression = exp.Anonymous(this="VALUES", expressions=[exp.Column(this=ident(column))])
    else:
        value = exp.Column(this=ident(column), table=exp.Identifier(this="excluded"))
    return exp.EQ(this=exp.Column(this=ident(column)), expression=value)


LOWER: dict[type, Callable[[Any, Lowering], exp.Expression]] = {
    a.ColumnRef: lower_column,
    a.Param: lower_param,
    a.BindParam: lower_bind,
    a.Star: lower_star,
    a.Compare: lower_compare,
    a.Arith: lower_arith,
    a.BoolOp: lower_boolop,
    a.Not: lower_not,
    a.IsNull: lower_isnull,
    a.InList: lower_inlist,
    a.InQuery: lower_inquery,
    a.Like: lower_like,
    a.Between: lower_between,
    a.Func: lower_func,
    a.Alias: lower_alias,
    a.Ordering: lower_ordering,
    a.Exists: lower_exists,
    a.SubqueryExpr: lower_subquery,
}


class Compiler:
    """Renders statements per dialect and keeps a bounded LRU of renderings keyed by shape.

    A hit stamps its entry with a use counter instead of reordering the cache: reordering
    hashes the (nested) shape key a second time, on every query. When an insertion overflows
    ``maxsize``, the least recently used eighth of the entries (at least one) goes at once,
    so the sort that finds them is paid once per many misses.

    Thread-safe: a miss may render twice under contention, never store a wrong entry.
    """

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._cache: dict[Any, list[Any]] = {}
        """key -> [Compiled, last use]"""
        self._uses = itertools.count()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def lookup(self, key: Any) -> Compiled | None:
        slot = self._cache.get(key)
        if slot is None:
            return None
        self.hits += 1
        slot[1] = next(self._uses)
        return slot[0]  # type: ignore[no-any-return]

    def compile(self, stmt: Any, dialect: str = "sqlite") -> tuple[Compiled, bool]:
        """The rendering of ``stmt`` for ``dialect`` and whether it came from the cache."""
        key = (dialect, stmt.key)
        entry = self.lookup(key)
        if entry is not None:
            return entry, True
        entry = self.render(stmt, dialect)
        with self._lock:
            self.misses += 1
            cache = self._cache
            cache[key] = [entry, next(self._uses)]
            if len(cache) > self.maxsize:
                count = len(cache) - self.maxsize + self.maxsize // 8
                for old in sorted(cache, key=lambda k: cache[k][1])[:count]:
                    del cache[old]
        return entry, False

    def render(self, stmt: Any, dialect_name: str) -> Compiled:
        dialect = get_dialect(dialect_name)
        lw = Lowering(dialect)
        kind = stmt.kind
        tree = STATEMENTS[kind](stmt, lw)
        text = tree.sql(dialect=dialect.SQLGLOT, copy=False)
        if dialect.PLACEHOLDER == "%s":
            # pyformat drivers (psycopg, PyMySQL) read every % as a marker: a literal % is %%.
            text = text.replace("%", "%%")
        order: list[int] = []

        def mark(match: re.Match[str]) -> str:
            order.append(int(match.group(1)))
            return dialect.PLACEHOLDER  # type: ignore[no-any-return]

        text = _SLOT.sub(mark, text)
        converters = tuple(
            (pos, lw.converters[slot]) for pos, slot in enumerate(order) if slot in lw.converters
        )
        identity = order == list(range(lw.slot))
        mapper: Any = None
        names: tuple[str, ...] = ()
        if kind == "select":
            from .results import make_mapper

            mapper, names = make_mapper(stmt)
        return Compiled(
            text, None if identity else tuple(order), converters, mapper, names,
            dialect.NAME, kind, frozenset(lw.tables),
        )

    def clear(self) -> None:
        """Forget every cached rendering (counters are kept)."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)


STATEMENTS: dict[str, Callable[[Any, Lowering], exp.Expression]] = {
    "select": lower_select,
    "update": lower_update,
    "delete": lower_delete,
    "insert": lower_insert,
}

#: The process-wide shape cache.
compiler = Compiler()
