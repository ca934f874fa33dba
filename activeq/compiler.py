"""Lower activeq trees to sqlglot expressions, render them per dialect, cache by shape.

The cache key is ``(dialect, tree.key)``; the key excludes bound values, so a hit costs one
dict lookup. On a miss the tree is lowered through one ``lower_<node>`` handler per node class
(the ``LOWER`` table), rendered with sqlglot, and each parameter's slot is recorded in the order
its placeholder appears in the text.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import json
import re
import threading
from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.errors import UnsupportedError as SqlglotUnsupported

from . import ast as a
from . import expressions as x
from . import scaled
from . import sources as src
from . import types as t
from .dialects import get as get_dialect
from .errors import ArgumentTypeError, CompileError, UnsupportedError, ValidationError
from .paramstyles import (
    SLOT,
    check_paramstyle,
    equality_pattern,
    inline_values,
    misplaced_marker,
    place_markers,
)
from .results import make_mapper
from .sqlfunctions import NEEDS_ORDER, WINDOW_ONLY, build_function, sqlite_stamp
from .values import NO_FORM, stored_form

__all__ = ["Compiled", "Compiler", "compiler", "render_sql", "to_sqlglot"]


class Compiled:
    """One cached rendering of a shape: SQL text, slot order and how to build results."""

    __slots__ = ("sql", "order", "converters", "mapper", "names", "dialect", "kind", "tables",
                 "keys", "row_convert", "_pick", "direct")

    def __init__(self, sql: str, order: tuple[int, ...] | None,
                 converters: tuple[tuple[int, Callable[[Any], Any]], ...],
                 mapper: Any, names: tuple[str, ...], dialect: str, kind: str,
                 tables: frozenset[str], keys: tuple[str, ...] | None = None,
                 row_convert: Any = None) -> None:
        self.sql = sql
        self.order = order
        # Takes the values in ``order`` in one C call (an itemgetter of two or more indexes
        # gives a tuple); None when there is no order or it has fewer than two slots.
        self._pick = itemgetter(*order) if order is not None and len(order) > 1 else None
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
        self.keys = keys
        """Parameter names of a named paramstyle, in ``order``; None for the others."""
        self.direct = order is None and not converters
        """Whether ``values(params)`` is ``params`` itself (the tree's values, in placeholder
        order and needing no conversion), so a caller on the hot path may skip the call."""
        self.row_convert = row_convert
        """``rows -> rows`` turning fetched values into Python values (tuples(), dicts(),
        scalars); None when every result column comes back from the driver as it should."""

    def values(self, params: Any) -> Any:
        """The values to bind, in placeholder order and driver form (a dict when named)."""
        if self.direct:
            return params
        order = self.order
        if order is None:
            values = list(params)
        elif self._pick is not None:
            values = list(self._pick(params))
        else:
            values = [params[order[0]]] if order else []
        for pos, convert in self.converters:
            value = values[pos]
            if type(value) is not a.Unbound:
                values[pos] = convert(value)
        if self.keys is not None:
            return dict(zip(self.keys, values))
        return values

    def convert_rows(self, rows: list[Any]) -> list[Any]:
        """Fetched rows with every column in its Python type."""
        convert = self.row_convert
        return rows if convert is None else convert(rows)


def _json_default(value: Any) -> Any:
    form = stored_form(value)
    if form is not NO_FORM:
        return form
    if isinstance(value, bytes):
        raise CompileError("bytes values cannot be bound in an IN list on this dialect")
    raise ArgumentTypeError(f"cannot bind {type(value).__name__} in an IN list")


def _json_array(values: Any) -> str:
    return json.dumps(list(values), default=_json_default, ensure_ascii=False)


def _hex_array(values: Any) -> str:
    return json.dumps([None if v is None else bytes(v).hex() for v in values])


def _as_list(values: Any) -> list[Any]:
    return list(values)


class Lowering:
    """State of one lowering: the dialect, the next parameter slot and per-slot converters.

    CTEs met anywhere in the statement are collected in ``ctes`` (by name, in dependency
    order) and rendered once, in the WITH clause of the whole statement.

    With ``pattern`` (see ``paramstyles.equality_pattern``) it also finds expressions that
    occur twice with equal values and records, in ``alias``, which slots repeat earlier ones.
    """

    __slots__ = ("dialect", "slot", "converters", "tables", "ctes", "defining", "recursive",
                 "derived", "pattern", "seen", "alias", "bare", "skipped")

    def __init__(self, dialect: Any, pattern: tuple[int, ...] | None = None,
                 bare: bool = False) -> None:
        self.dialect = dialect
        self.bare = bare
        """Whether columns are written without their table (a statement on one table)."""
        self.slot = 0
        self.skipped: set[int] = set()
        """Slots numbered by ``skip``: their values are bound where they were first rendered
        (a CTE named again), or written in the text (PostgreSQL's LIMIT)."""
        self.converters: dict[int, Callable[[Any], Any]] = {}
        self.tables: set[str] = set()
        self.pattern = pattern
        self.seen: dict[Any, int] = {}
        self.alias: dict[int, int] = {}
        self.ctes: dict[str, tuple[Any, exp.CTE]] = {}
        """name -> (the CTE's shape: recursive flag and query key, its rendered definition)"""
        self.defining: set[str] = set()
        """Names of the CTEs whose definitions are being lowered (a recursive one reads itself)."""
        self.recursive = False
        self.derived = 0
        """Derived tables named by the compiler so far (set-operation members)."""

    def skip(self, node: Any) -> None:
        """Number ``node``'s parameters without rendering them: a CTE is defined only once, a
        LIMIT count may be written as a number."""
        start = self.slot
        self.slot += len(node.params)
        self.skipped.update(range(start, self.slot))

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
        if self.pattern is None or not node[1] or type(node) in _UNSHARED:
            return handler(node, self)
        start = self.slot
        result = handler(node, self)
        pattern = self.pattern
        signature = (node[0], tuple([pattern[i] for i in range(start, self.slot)]))
        first = self.seen.setdefault(signature, start)
        if first != start:
            alias = self.alias
            for k in range(self.slot - start):
                alias[start + k] = alias.get(first + k, first + k)
        return result


# A lone value equal to another is not the same expression: sharing its placeholder could make
# PostgreSQL deduce two types for one parameter.
_UNSHARED = (a.Param, a.BindParam)


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def table_exp(name: str, schema: str | None = None) -> exp.Table:
    if schema is None:
        return exp.Table(this=ident(name))
    return exp.Table(this=ident(name), db=ident(schema))


def model_table(info: Any) -> exp.Table:
    """A model's table, qualified by its ``__schema__`` when it has one."""
    return table_exp(info.table, info.schema)


def column_exp(table: str | None, column: str) -> exp.Column:
    if table is None:
        return exp.Column(this=ident(column))
    return exp.Column(this=ident(column), table=ident(table))


def _paren_if(node: exp.Expression, *kinds: type[exp.Expression]) -> exp.Expression:
    return exp.Paren(this=node) if isinstance(node, kinds) else node


def lower_column(node: a.ColumnRef, lw: Lowering) -> exp.Expression:
    # The tables read are recorded by the FROM items; a column's qualifier may be an alias.
    return column_exp(None if lw.bare else node.table, node.column)


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


_BOUND = (a.Param, a.BindParam)
_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def lower_value(node: Any, lw: Lowering, converter: Callable[[Any], Any] | None) -> exp.Expression:
    """Lower ``node``; when it is a bound value, bind it through ``converter``."""
    if type(node) in _BOUND:
        return lw.placeholder(converter)
    return lw.lower(node)


def compared_value(kind: Any, dialect: str, op: str, bound: Any, other: Any) -> Callable[[Any], Any] | None:
    """How the value of ``bound`` compared (``op``) with ``other`` (of type ``kind``) is bound.

    A ``Param`` was checked against the type when the expression was built; a ``BindParam``
    gets its value at execute(), and is checked then, before anything runs.
    """
    convert = None if kind is None else kind.compare_bind(dialect, op)
    if kind is None or type(bound) is not a.BindParam:
        return convert
    check = kind.check

    def checked(value: Any) -> Any:
        if value is None:
            return None
        value = check(value, other)
        return value if convert is None else convert(value)

    return checked


def lower_compare(node: a.Compare, lw: Lowering) -> exp.Expression:
    left_node, right_node = node.left, node.right
    if type(left_node) is a.JsonPath and left_node.kind is not None:
        return lower_json_compare(node, lw)
    name = lw.dialect.NAME
    if type(right_node) in _BOUND:
        kind = t.expr_type(left_node)
        left = lw.lower(left_node)
        right = lw.placeholder(compared_value(kind, name, node.op, right_node, left_node))
    elif type(left_node) in _BOUND:
        kind = t.expr_type(right_node)
        left = lw.placeholder(compared_value(kind, name, _FLIPPED[node.op], left_node, right_node))
        right = lw.lower(right_node)
    else:
        left = lw.lower(left_node)
        right = lw.lower(right_node)
        if name == "sqlite":
            left, right = _same_form(((left, t.expr_type(left_node)), (right, t.expr_type(right_node))))
    return _COMPARE[node.op](this=_paren_if(left, *_BINARY), expression=_paren_if(right, *_BINARY))


_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.DPipe)


def lower_arith(node: a.Arith, lw: Lowering) -> exp.Expression:
    left_type = t.expr_type(node.left)
    right_type = t.expr_type(node.right)
    if node.op in ("+", "-") and left_type is not None and left_type.temporal in ("date", "datetime"):
        return lower_date_shift(node, left_type, lw)
    name = lw.dialect.NAME
    # A bound operand takes the other side's stored form (a scaled Decimal, microseconds).
    converter_left = right_type.bind(name) if right_type is not None and node.op in ("+", "-") else None
    converter_right = left_type.bind(name) if left_type is not None and node.op in ("+", "-") else None
    left = lower_value(node.left, lw, converter_left)
    right = lower_value(node.right, lw, converter_right)
    if name == "sqlite" and node.op in ("+", "-", "*"):
        form = scaled.common_form((left_type, right_type))
        # A scaled Decimal times an integer stays scaled once; anything else meets one form.
        if form is not None and (node.op != "*" or form[0] == "float"):
            left = scaled.in_form(left, left_type, form)
            right = scaled.in_form(right, right_type, form)
    # Parenthesise nested arithmetic so (a - b) * c and a - (b - c) keep their grouping.
    left = _paren_if(left, *_ARITHMETIC, *_BINARY)
    right = _paren_if(right, *_ARITHMETIC, *_BINARY)
    if node.op == "+" and ((left_type is not None and left_type.text)
                           or (right_type is not None and right_type.text)):
        # Text + text concatenates (CONCAT on MySQL).
        return exp.DPipe(this=left, expression=right, safe=True)
    return _ARITH[node.op](this=left, expression=right)


_DAY_MICROS = 86_400_000_000


def _shift_micros(op: str) -> Callable[[Any], Any]:
    sign = 1 if op == "+" else -1

    def micros(value: Any) -> Any:
        if not isinstance(value, _dt.timedelta):
            raise ValidationError(f"a date or datetime {op} takes a timedelta, not {value!r}")
        return sign * (value // _MICRO)

    return micros


def _shift_days(op: str, as_micros: bool) -> Callable[[Any], Any]:
    # date +/- timedelta moves by whole days, as Python does: date - td is date + (-td.days).
    sign = 1 if op == "+" else -1

    def days(value: Any) -> Any:
        if not isinstance(value, _dt.timedelta):
            raise ValidationError(f"a date {op} takes a timedelta, not {value!r}")
        return sign * value.days * _DAY_MICROS if as_micros else _dt.timedelta(days=value.days)

    return days


def _num(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def _floor_mod(x: exp.Expression, n: int) -> exp.Expression:
    # SQLite's % keeps the dividend's sign: ((x % n) + n) % n is the floor modulo.
    inner = exp.Paren(this=exp.Add(this=exp.Paren(this=exp.Mod(this=x.copy(), expression=_num(n))),
                                   expression=_num(n)))
    return exp.Paren(this=exp.Mod(this=inner, expression=_num(n)))


def _floor_div(x: exp.Expression, n: int) -> exp.Expression:
    # typed: integer division as the engine does it (exact here: the dividend is a multiple of n).
    return exp.Paren(this=exp.Div(this=exp.Paren(this=exp.Sub(this=x.copy(), expression=_floor_mod(x, n))),
                                  expression=_num(n), typed=True))


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def lower_date_shift(node: a.Arith, kind: Any, lw: Lowering) -> exp.Expression:
    """``date/datetime +/- timedelta`` as a date/datetime on every engine.

    SQLite keeps the stored text form: a datetime is moved by whole seconds with strftime and
    its six fractional digits are carried by integer arithmetic, so microseconds stay exact
    and the result compares with stored values.
    """
    name = lw.dialect.NAME
    op = node.op
    is_date = kind.temporal == "date"
    base = lw.lower(node.left)
    delta_node = node.right
    bound = type(delta_node) in _BOUND
    if name in ("sqlite", "mysql"):
        if bound:
            delta = lw.placeholder(_shift_days(op, True) if is_date else _shift_micros(op))
        else:
            delta = lw.lower(delta_node)  # a timedelta column: INTEGER microseconds
            if op == "-":
                delta = exp.Neg(this=exp.Paren(this=delta))
        if name == "mysql":
            if is_date:
                return exp.DateAdd(this=base, expression=_floor_div(delta, _DAY_MICROS), unit=exp.var("DAY"))
            return exp.DateAdd(this=base, expression=delta, unit=exp.var("MICROSECOND"))
        if is_date:
            modifier = exp.DPipe(this=_floor_div(delta, _DAY_MICROS), expression=exp.Literal.string(" days"))
            return _fn("date", base, modifier)
        fraction = exp.Add(this=_fn("substr", base.copy(), _num(21), _num(6)), expression=delta)
        seconds = exp.DPipe(this=_floor_div(fraction, 1_000_000), expression=exp.Literal.string(" seconds"))
        moved = _fn("strftime", exp.Literal.string("%Y-%m-%d %H:%M:%S"),
                    _fn("substr", base.copy(), _num(1), _num(19)), seconds)
        micros = _fn("printf", exp.Literal.string("%06d"), _floor_mod(fraction, 1_000_000))
        # substr(x, 27) is the "+00:00" of an aware value ('' for a naive one).
        return exp.DPipe(this=exp.DPipe(this=exp.DPipe(this=moved, expression=exp.Literal.string(".")),
                                        expression=micros),
                         expression=_fn("substr", base.copy(), _num(27)))
    delta = lw.placeholder(_shift_days(op, False) if is_date else None) if bound else lw.lower(delta_node)
    shifted = (exp.Add if op == "+" else exp.Sub)(this=_paren_if(base, *_ARITHMETIC), expression=_paren_if(delta, *_ARITHMETIC))
    if is_date:
        return exp.Cast(this=shifted, to=exp.DataType.build("DATE"))
    return shifted


_MICRO = _dt.timedelta(microseconds=1)


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


def _each(convert: Callable[[Any], Any] | None, then: Callable[[Any], Any]) -> Callable[[Any], Any]:
    if convert is None:
        return then
    return lambda values: then([convert(v) for v in values])


def lower_inlist(node: a.InList, lw: Lowering) -> exp.Expression:
    item = _paren_if(lw.lower(node.item), *_BINARY)
    strategy = lw.dialect.IN_LIST
    kind = t.expr_type(node.item)
    convert = None if kind is None else kind.compare_bind(lw.dialect.NAME, "=")
    _json = _each(convert, _json_array)
    _list = _each(convert, _as_list)
    test: exp.Expression
    if strategy == "json_each":
        value: exp.Expression = exp.column("value", quoted=True)
        if isinstance(kind, t.BytesType):
            # JSON holds no bytes: the list goes as hex text, turned back into blobs in SQL.
            _json = _each(convert, _hex_array)
            value = _fn("unhex", value)
        array = lw.placeholder(_json)
        sub = exp.select(value).from_(
            exp.Table(this=exp.Anonymous(this="json_each", expressions=[array])), copy=False
        )
        test = exp.In(this=item, query=exp.Subquery(this=sub))
    elif strategy == "any":
        test = exp.EQ(this=item, expression=exp.Any(this=exp.Paren(this=lw.placeholder(_list))))
    elif strategy == "unnest":
        sub = exp.select(exp.Unnest(expressions=[lw.placeholder(_list)]))
        test = exp.In(this=item, query=exp.Subquery(this=sub))
    elif strategy == "member_of":
        test = exp.JSONArrayContains(this=item, expression=lw.placeholder(_json))
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
    test: exp.Expression = (exp.ILike if node.insensitive else exp.Like)(this=item, expression=pattern)
    escape = node.escape
    if escape is None and lw.dialect.NAME == "postgres":
        # PostgreSQL alone takes a backslash in a pattern as an escape by default; SQLite and
        # DuckDB match it literally. ESCAPE '' makes PostgreSQL match it literally too.
        escape = ""
    if escape is not None:
        test = exp.Escape(this=test, expression=exp.Literal.string(escape))
    return exp.Not(this=exp.Paren(this=test)) if node.negated else test


def lower_between(node: a.Between, lw: Lowering) -> exp.Expression:
    item = _paren_if(lw.lower(node.item), *_BINARY)
    kind = t.expr_type(node.item)
    name = lw.dialect.NAME
    form = None
    if name == "sqlite":
        kinds = (kind, t.expr_type(node.low), t.expr_type(node.high))
        form = scaled.common_form(kinds)
        if form is not None:
            # Bound bounds are scaled to the form chosen (none for a float comparison).
            item = scaled.in_form(item, kind, form)
            kind = scaled.exact_type(form, kinds)
    low = lower_value(node.low, lw, compared_value(kind, name, ">=", node.low, node.item))
    high = lower_value(node.high, lw, compared_value(kind, name, "<=", node.high, node.item))
    if form is not None:
        low = scaled.in_form(low, t.expr_type(node.low), form)
        high = scaled.in_form(high, t.expr_type(node.high), form)
    test = exp.Between(this=item, low=low, high=high)
    return exp.Not(this=exp.Paren(this=test)) if node.negated else test


def _sql_path(steps: Any) -> str:
    parts = ["$"]
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        else:
            parts.append('."' + step.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "".join(parts)


def _pg_path(steps: Any) -> list[str]:
    return [str(step) for step in steps]


def _path_placeholder(lw: Lowering) -> exp.Expression:
    return lw.placeholder(_pg_path if lw.dialect.NAME == "postgres" else _sql_path)


def lower_json_path(node: a.JsonPath, lw: Lowering) -> exp.Expression:
    """The JSON value at a path, as JSON (a value of its kind is read by a comparison)."""
    item = lw.lower(node.item)
    path = _path_placeholder(lw)
    name = lw.dialect.NAME
    # JSON null is SQL NULL: IS NULL holds for it and for a missing key alike.
    if name == "sqlite":
        # ->, unlike json_extract, keeps a string's quotes, so "3" and 3 stay apart.
        return exp.Nullif(this=exp.Paren(this=exp.JSONExtract(this=item, expression=path)),
                          expression=exp.Literal.string("null"))
    value = exp.JSONBExtract(this=item, expression=path) if name == "postgres" else _fn(
        "json_extract", item, path)
    null = exp.Cast(this=exp.Literal.string("null"),
                    to=exp.DataType.build("JSONB" if name == "postgres" else "JSON"))
    return exp.Nullif(this=value, expression=null)


def _json_text(value: Any) -> Any:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_json_default)


def _json_number(value: Any) -> Any:
    return float(value) if type(value).__name__ == "Decimal" else value


def lower_json_compare(node: a.Compare, lw: Lowering) -> exp.Expression:
    """``path <op> value``, reading the path as the value's kind on each engine."""
    path_node: Any = node.left
    kind = path_node.kind
    name = lw.dialect.NAME
    item = lw.lower(path_node.item)
    path = _path_placeholder(lw)
    left: exp.Expression
    value: exp.Expression
    if name == "postgres":
        # jsonb compares by type: numbers numerically, strings as text.
        left = exp.JSONBExtract(this=item, expression=path)
        value = exp.Cast(this=lower_value(node.right, lw, _json_text), to=exp.DataType.build("JSONB"))
    elif name == "sqlite":
        # json_extract gives SQL values: numbers, text, 0/1; objects and arrays as JSON text.
        # Only a value of the compared kind takes part (the string "3" is not the number 3).
        left = _fn("json_extract", item, path)
        if kind != "json":
            is_kind = exp.In(this=_fn("json_type", item.copy(), path.copy()),
                             expressions=[exp.Literal.string(t) for t in _SQLITE_JSON_TYPES[kind]])
            left = exp.Case(ifs=[exp.If(this=is_kind, true=left)])
        value = lower_value(node.right, lw, _json_text if kind == "json" else
                            _json_number if kind == "number" else None)
    elif name == "duckdb":
        if kind == "json":
            left = exp.Cast(this=_fn("json_extract", item, path), to=exp.DataType.build("VARCHAR"))
        else:
            left = _duck_json_as(item, path, kind)
        value = lower_value(node.right, lw, _json_text if kind == "json" else
                            _json_number if kind == "number" else None)
    else:  # mysql
        extracted = _fn("JSON_EXTRACT", item, path)
        if kind == "text":
            left = _fn("JSON_UNQUOTE", extracted)
            value = lower_value(node.right, lw, None)
        elif kind == "number":
            left = extracted
            value = lower_value(node.right, lw, _json_number)
        else:
            left = extracted
            value = exp.Cast(this=lower_value(node.right, lw, _json_text), to=exp.DataType.build("JSON"))
    return _COMPARE[node.op](this=left, expression=value)


def json_order_keys(node: a.JsonPath, lw: Lowering) -> list[exp.Expression]:
    """Sort keys for a JSON path: numbers by value before text, as SQLite's json_extract sorts."""
    name = lw.dialect.NAME
    if name == "sqlite":
        return [_fn("json_extract", lw.lower(node.item), _path_placeholder(lw))]
    if name != "duckdb":
        return [lower_json_path(node, lw)]
    item = lw.lower(node.item)
    path = _path_placeholder(lw)
    return [
        _duck_json_as(item, path, "number"),
        _duck_json_as(item, path, "integer"),
        _duck_json_as(item, path, "text"),
    ]


#: SQLite's json_type() names of each kind a compared value can have.
_SQLITE_JSON_TYPES = {"number": ("integer", "real"), "text": ("text",), "bool": ("true", "false")}

#: DuckDB's json_type() names of each kind a compared value can have.
_DUCK_JSON_TYPES = {
    "number": ("BIGINT", "UBIGINT", "DOUBLE"), "integer": ("BIGINT", "UBIGINT"),
    "text": ("VARCHAR",), "bool": ("BOOLEAN",),
}
_DUCK_JSON_CASTS = {"number": "DOUBLE", "integer": "HUGEINT", "bool": "BOOLEAN"}


def _duck_json_as(item: exp.Expression, path: exp.Expression, kind: str) -> exp.Expression:
    """The value at ``path`` as SQL of ``kind`` when the JSON value is of that kind, else NULL
    (so the string "3" is not the number 3, as in SQLite)."""
    scalar = _fn("json_extract_string", item.copy(), path.copy())
    cast = _DUCK_JSON_CASTS.get(kind)
    value = scalar if cast is None else exp.Cast(this=scalar, to=exp.DataType.build(cast))
    is_kind = exp.In(this=_fn("json_type", item.copy(), path.copy()),
                     expressions=[exp.Literal.string(t) for t in _DUCK_JSON_TYPES[kind]])
    return exp.Case(ifs=[exp.If(this=is_kind, true=value)])


_STRFTIME = {"year": "%Y", "month": "%m", "day": "%d", "hour": "%H", "minute": "%M",
             "second": "%S", "dow": "%w"}
_MYSQL_PARTS = {"year": "YEAR", "month": "MONTH", "day": "DAY", "hour": "HOUR", "minute": "MINUTE",
                "second": "SECOND", "dow": "DAYOFWEEK"}
_INTEGER = exp.DataType.build("INT")


def lower_extract(node: a.Extract, lw: Lowering) -> exp.Expression:
    """A date part as an integer; ``dow`` counts from Sunday = 0 on every engine."""
    name = lw.dialect.NAME
    item = lw.lower(node.item)
    part = node.part
    if name == "sqlite":
        return exp.Cast(this=_fn("strftime", exp.Literal.string(_STRFTIME[part]), item), to=_INTEGER)
    if name == "mysql":
        value = _fn(_MYSQL_PARTS[part], item)
        return exp.Sub(this=value, expression=_num(1)) if part == "dow" else value
    kind = t.expr_type(node.item)
    if kind is not None and getattr(kind, "aware", None):
        item = exp.AtTimeZone(this=item, zone=exp.Literal.string("UTC"))
    field = exp.var("DOW" if part == "dow" else part.upper())
    extracted: exp.Expression = exp.Extract(this=field, expression=item)
    if name == "postgres":
        # PostgreSQL's EXTRACT is numeric, with the fraction of a second.
        extracted = exp.Floor(this=extracted) if part == "second" else extracted
        return exp.Cast(this=extracted, to=_INTEGER)
    return extracted


_FUNCS: dict[str, Callable[[list[exp.Expression]], exp.Expression]] = {
    "COUNT": lambda args: exp.Count(this=args[0] if args else exp.Star()),
    "SUM": lambda args: exp.Sum(this=args[0]),
    "AVG": lambda args: exp.Avg(this=args[0]),
    # With several arguments, the scalar smallest/largest (LEAST/GREATEST where it has a name).
    "MIN": lambda args: exp.Min(this=args[0]) if len(args) == 1 else exp.Least(this=args[0], expressions=args[1:]),
    "MAX": lambda args: exp.Max(this=args[0]) if len(args) == 1 else exp.Greatest(this=args[0], expressions=args[1:]),
    "LOWER": lambda args: exp.Lower(this=args[0]),
    "UPPER": lambda args: exp.Upper(this=args[0]),
    "LENGTH": lambda args: exp.Length(this=args[0]),
    "ABS": lambda args: exp.Abs(this=args[0]),
    "COALESCE": lambda args: exp.Coalesce(this=args[0], expressions=args[1:]),
}


def lower_func(node: a.Func, lw: Lowering) -> exp.Expression:
    if lw.dialect.NAME == "sqlite" and node.args:
        args = _sqlite_func_args(node, lw)
    else:
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
    built = build_function(node.name, args, lw.dialect.NAME)
    built.meta["func"] = node.name  # names the call in an error found once it is written
    return built


#: Functions whose result is their first argument's value (or a count): a scaled Decimal there
#: stays scaled, and the result type scales it back.
_KEEPS_SCALE = frozenset(("SUM", "MIN", "MAX", "ABS", "COUNT", "FIRST_VALUE", "LAST_VALUE",
                          "NTH_VALUE", "LAG", "LEAD"))
#: Functions whose result is one of their arguments' values: every value argument meets one form.
_ONE_OF_ARGS = frozenset(("COALESCE", "IFNULL", "GREATEST", "LEAST", "NULLIF", "MIN", "MAX"))


def _same_form(pairs: Any) -> list[exp.Expression]:
    """Lowered ``(expression, type)`` operands brought to one form on SQLite (``scaled``)."""
    form = scaled.common_form([kind for _, kind in pairs])
    return [scaled.in_form(expr, kind, form) for expr, kind in pairs]


def _sqlite_func_args(node: a.Func, lw: Lowering) -> list[exp.Expression]:
    # Exact decimals are scaled integers on SQLite (see activeq.scaled).
    kinds = [t.expr_type(arg) for arg in node.args]
    form = scaled.common_form(kinds)
    if form is None:
        return [lw.lower(arg) for arg in node.args]
    name = node.name
    if name in _ONE_OF_ARGS and (len(node.args) > 1 or name not in _KEEPS_SCALE):
        exact = scaled.exact_type(form, kinds)
        convert = None if exact is None else (
            exact.compare_bind("sqlite", "=") if name == "NULLIF" else exact.bind("sqlite"))
        return [scaled.in_form(lower_value(arg, lw, convert), kind, form)
                for arg, kind in zip(node.args, kinds)]
    if name in ("LAG", "LEAD") and len(node.args) > 2:
        # The default value (third argument) stands for the first's value; the offset is a count.
        first, offset, default = node.args[:3]
        value_form = scaled.common_form((kinds[0], kinds[2]))
        exact = scaled.exact_type(value_form, (kinds[0], kinds[2]))
        return [scaled.in_form(lw.lower(first), kinds[0], value_form), lw.lower(offset),
                scaled.in_form(lower_value(default, lw, None if exact is None else exact.bind("sqlite")),
                               kinds[2], value_form),
                *[lw.lower(arg) for arg in node.args[3:]]]
    if name in _KEEPS_SCALE:
        return [lw.lower(arg) for arg in node.args]
    # Any other function (AVG, ROUND, printf, ...) reads the number itself.
    return [scaled.as_float(lw.lower(arg), kind) for arg, kind in zip(node.args, kinds)]


def lower_alias(node: a.Alias, lw: Lowering) -> exp.Expression:
    return exp.Alias(this=lw.lower(node.item), alias=ident(node.name))


def lower_ordering(node: Any, lw: Lowering) -> exp.Expression:
    orders = lower_orderings(node, lw)
    if len(orders) != 1:
        raise CompileError("this sort key takes several ORDER BY terms; use it in order_by()")
    return orders[0]


def lower_orderings(node: Any, lw: Lowering) -> list[exp.Expression]:
    """The ORDER BY terms of one sort key (a JSON path may need several)."""
    if not isinstance(node, a.Ordering):
        # order_by() keeps a bare expression as is: ascending, database NULL placement.
        node = a.Ordering(node, False, None)
    if type(node.item) is a.JsonPath and node.item.kind is None:
        items = json_order_keys(node.item, lw)
    else:
        item = lw.lower(node.item)
        if isinstance(item, exp.Alias):
            item = exp.Column(this=item.args["alias"])
        items = [item]
    if node.nulls_last is not None:
        nulls_first = not node.nulls_last
    else:
        # Keep the database's own default placement so no NULLS clause is rendered.
        nulls = lw.dialect.NULLS_ARE
        nulls_first = (not node.desc) if nulls == "small" else node.desc if nulls == "large" else False
    return [exp.Ordered(this=item, desc=True if node.desc else None, nulls_first=nulls_first)
            for item in items]


def lower_output(node: a.OutputColumn, lw: Lowering) -> exp.Expression:
    ref = node.ref
    if isinstance(ref, int):
        return exp.Literal.number(ref)
    return exp.Column(this=ident(ref))


def lower_exists(node: a.Exists, lw: Lowering) -> exp.Expression:
    return exp.Exists(this=lower_select(node.query, lw))


def lower_subquery(node: a.SubqueryExpr, lw: Lowering) -> exp.Expression:
    return exp.Subquery(this=lower_select(node.query, lw))


def lower_select(query: Any, lw: Lowering) -> exp.Expression:
    """Lower a Query; children are visited in the order ``Query.params`` lists their values."""
    s = query._s
    extra = s["extra"]
    if extra is not None and extra.returning:
        raise CompileError(
            f"returning() gives rows of update() and delete() only; a SELECT of "
            f"{s['model'].__name__} cannot use it (on {lw.dialect.NAME}): choose its columns "
            "with select()")
    if extra is not None and extra.compound is not None:
        tree = lower_compound(query, lw)
    else:
        tree = _lower_plain_select(query, lw)
    if s["count_wrap"]:
        return exp.select(exp.Count(this=exp.Star())).from_(
            exp.Subquery(this=tree, alias=exp.TableAlias(this=ident("counted"))), copy=False
        )
    return tree


def _lower_plain_select(query: Any, lw: Lowering) -> exp.Select:
    s = query._s
    model = s["model"]
    info = model.__aq__
    extra = s["extra"]
    select = exp.Select()
    if extra is not None and extra.distinct_on:
        if not lw.dialect.DISTINCT_ON:
            raise UnsupportedError("DISTINCT ON", lw.dialect.NAME,
                                   "it is PostgreSQL's; use GROUP BY or a window instead")
        select.set("distinct", exp.Distinct(
            on=exp.Tuple(expressions=[lw.lower(e) for e in extra.distinct_on])))
    columns = s["columns"]
    if columns is None:
        refs = info.refs
        select.set("expressions", [lower_column(refs[n], lw) for n in info.names])
    else:
        select.set("expressions", [lw.lower(c) for c in columns])
    source = None if extra is None else extra.source
    if source is None:
        lw.tables.add(info.table)
        select.set("from_", exp.From(this=model_table(info)))
        names = [info.table]
    else:
        select.set("from_", exp.From(this=lw.lower(source)))
        names = [source.name]
    joins = []
    for kind, target, on in s["joins"]:
        if isinstance(target, src.FromItem):
            names.append(target.name)
            join = exp.Join(this=lw.lower(target))
        else:
            target_info = target.__aq__
            names.append(target_info.table)
            lw.tables.add(target_info.table)
            join = exp.Join(this=model_table(target_info))
        if kind == "cross":
            join.set("kind", "CROSS")
        else:
            join.set("on", lw.lower(on))
            if kind == "left":
                join.set("side", "LEFT")
        joins.append(join)
    if joins:
        select.set("joins", joins)
        _check_distinct_names(names, lw)
    wheres = s["wheres"]
    if wheres:
        select.set("where", exp.Where(this=_conjunction([lw.lower(w) for w in wheres])))
    if s["groups"]:
        select.set("group", exp.Group(expressions=[
            _lower_grouping(g, query, lw) for g in s["groups"]]))
    if s["havings"]:
        select.set("having", exp.Having(this=_conjunction([lw.lower(h) for h in s["havings"]])))
    if s["orders"]:
        for o in s["orders"]:
            item = o.item if isinstance(o, a.Ordering) else o
            if type(item) is a.OutputColumn:
                _output_position(item, query, lw)
        select.set("order", exp.Order(expressions=[
            term for o in s["orders"] for term in lower_orderings(o, lw)]))
    _lower_limit(select, s, lw)
    if s["distinct"]:
        select.set("distinct", exp.Distinct())
    if extra is not None and extra.lock is not None:
        _lower_lock(select, extra.lock, lw)
    return select


def _lower_limit(tree: exp.Expression, s: dict[str, Any], lw: Lowering) -> None:
    limit = s["limit"]
    if limit is not None:
        if lw.dialect.LIMIT_IN_TEXT:
            # PostgreSQL keeps one generic plan for a prepared statement only when that plan
            # is no dearer than planning each run; with LIMIT $n it cannot know how many rows
            # are wanted, guesses a tenth of the table and so plans every run again. The count
            # is part of the shape (see query._shape), so the text may hold it; its value
            # keeps its slot, unbound. int.__int__ writes the number itself: an int subclass
            # could make its own str() any text at all.
            lw.skip(limit)
            tree.set("limit", exp.Limit(expression=exp.Literal.number(int.__int__(limit.value))))
        else:
            tree.set("limit", exp.Limit(expression=lw.lower(limit)))
    if s["offset"] is not None:
        if s["limit"] is None and lw.dialect.OFFSET_WITHOUT_LIMIT is not None:
            tree.set("limit", exp.Limit(
                expression=exp.Literal.number(lw.dialect.OFFSET_WITHOUT_LIMIT)))
        tree.set("offset", exp.Offset(expression=lw.lower(s["offset"])))


def _lower_lock(select: exp.Select, lock: tuple[bool, bool], lw: Lowering) -> None:
    skip_locked, nowait = lock
    mode = lw.dialect.FOR_UPDATE
    if mode == "render":
        wait = False if skip_locked else True if nowait else None
        select.set("locks", [exp.Lock(update=True, wait=wait)])
    elif mode is None:
        raise UnsupportedError("FOR UPDATE", lw.dialect.NAME,
                               "its transactions take no row locks")
    elif skip_locked or nowait:
        option = "SKIP LOCKED" if skip_locked else "NOWAIT"
        raise UnsupportedError(f"FOR UPDATE {option}", lw.dialect.NAME,
                               "the write lock is the whole transaction's")


def _check_distinct_names(names: list[str], lw: Lowering) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise CompileError(
                f"join: two FROM items of one query are named {name!r} ({lw.dialect.NAME} "
                "dialect); give one another name, e.g. Model.alias('other')")
        seen.add(name)


def _output_position(node: a.OutputColumn, query: Any, lw: Lowering) -> int:
    """The 1-based position an output column reference stands for, checked."""
    names = output_names(query)
    ref = node.ref
    if type(ref) is int:
        if ref > len(names):
            raise CompileError(
                f"position {ref} is past the {len(names)} columns of the select list "
                f"({lw.dialect.NAME} dialect)")
        return ref
    if ref not in names:
        raise CompileError(
            f"{ref!r} names no column of the select list ({lw.dialect.NAME} dialect); "
            f"it has {', '.join(repr(n) for n in names)}")
    return names.index(ref) + 1


def output_names(query: Any) -> list[str | None]:
    """The names SQL gives the columns of a query's result (None for an unnamed one)."""
    s = query._s
    extra = s["extra"]
    if extra is not None and extra.compound is not None:
        return output_names(extra.compound.left)
    columns = s["columns"]
    if columns is None:
        return [c.column for c in s["model"].__aq__.columns]
    return [c.name if type(c) is a.Alias else c.column if isinstance(c, a.ColumnRef) else None
            for c in columns]


def _lower_grouping(node: Any, query: Any, lw: Lowering) -> exp.Expression:
    if type(node) is a.Alias:
        # group_by(expr.as_("x")) groups by the expression: GROUP BY has no aliases to define.
        return lw.lower(node.item)
    if type(node) is not a.OutputColumn:
        return lw.lower(node)
    position = _output_position(node, query, lw)
    if type(node.ref) is str and node.ref not in _input_names(query):
        return exp.Column(this=ident(node.ref))
    # PostgreSQL reads a GROUP BY name as an input column first: when the alias is also a
    # column of a FROM item, the position is the only spelling that means the alias.
    return exp.Literal.number(position)


def _input_names(query: Any) -> set[str]:
    s = query._s
    extra = s["extra"]
    items = [s["model"] if extra is None or extra.source is None else extra.source]
    items += [target for _, target, _ in s["joins"]]
    names: set[str] = set()
    for item in items:
        if isinstance(item, src.FromItem):
            names.update(c.column for c in item.c)
        else:
            names.update(c.column for c in item.__aq__.columns)
    return names


_SET_OPS: dict[str, tuple[type[exp.Expression], bool]] = {
    "UNION": (exp.Union, True),
    "UNION ALL": (exp.Union, False),
    "INTERSECT": (exp.Intersect, True),
    "EXCEPT": (exp.Except, True),
}


def lower_compound(query: Any, lw: Lowering) -> exp.Expression:
    s = query._s
    compound = s["extra"].compound
    op = compound.op
    for part in ("joins", "wheres", "groups", "havings"):
        if s[part]:
            raise CompileError(
                f"{op}: its result takes order_by, limit and offset only, not {part[:-1]} "
                f"({lw.dialect.NAME} dialect); select from q.subquery('name') to filter it")
    if s["columns"] is not None or s["distinct"] or s["extra"].distinct_on or s["extra"].lock:
        raise CompileError(
            f"{op}: its result takes order_by, limit and offset only ({lw.dialect.NAME} "
            "dialect); select from q.subquery('name') to reshape it")
    tree = lower_set_operation(compound, lw)
    if s["orders"]:
        tree.set("order", exp.Order(expressions=[
            lower_ordering(_compound_ordering(o, compound.left, lw), lw) for o in s["orders"]]))
    _lower_limit(tree, s, lw)
    return tree


def lower_set_operation(node: src.SetOperation, lw: Lowering) -> exp.Expression:
    op, left, right = node.op, node.left, node.right
    width_left, width_right = len(output_names(left)), len(output_names(right))
    if width_left != width_right:
        raise CompileError(
            f"{op}: the first query selects {width_left} columns and the second "
            f"{width_right} ({lw.dialect.NAME} dialect); both must select as many")
    cls, distinct = _SET_OPS[op]
    return cls(this=_set_member(left, op, False, lw), expression=_set_member(right, op, True, lw),
               distinct=distinct)


def _set_member(query: Any, op: str, right: bool, lw: Lowering) -> exp.Expression:
    s = query._s
    extra = s["extra"]
    inner = None if extra is None else extra.compound
    # A member may be rendered bare only when the text keeps its meaning in every dialect:
    # no ORDER BY or LIMIT of its own (SQLite refuses them in a member), and for a nested set
    # operation, the left side of one that binds as tightly (INTERSECT binds tighter than
    # UNION and EXCEPT in PostgreSQL, not in SQLite).
    bare = not s["orders"] and s["limit"] is None and s["offset"] is None and not s["count_wrap"]
    if inner is not None:
        bare = bare and not right and (inner.op == "INTERSECT") == (op == "INTERSECT")
    tree = lower_select(query, lw)
    if bare:
        return tree
    lw.derived += 1
    return exp.select(exp.Star()).from_(
        exp.Subquery(this=tree, alias=exp.TableAlias(this=ident(f"_set{lw.derived}"))),
        copy=False)


def _compound_ordering(node: Any, left: Any, lw: Lowering) -> a.Ordering:
    # A set operation's result is known by its output columns only: a column of its first
    # query stands for the output column it fills.
    if not isinstance(node, a.Ordering):
        node = a.Ordering(node, False, None)
    item = node.item
    if isinstance(item, a.ColumnRef):
        columns = left._s["columns"]
        if columns is None:
            columns = tuple(left._s["model"].__aq__.refs.values())
        for position, selected in enumerate(columns):
            if selected.key == item.key:
                item = a.OutputColumn(output_names(left)[position] or position + 1)
                break
        else:
            raise CompileError(
                f"order_by({item!r}) on a set operation: its first query does not select it "
                f"({lw.dialect.NAME} dialect)")
    elif type(item) is a.OutputColumn:
        _output_position(item, left, lw)
    return a.Ordering(item, node.desc, node.nulls_last)


def lower_table_alias(node: src.TableAlias, lw: Lowering) -> exp.Expression:
    info = node.model.__aq__
    lw.tables.add(info.table)
    table = model_table(info)
    table.set("alias", exp.TableAlias(this=ident(node.name)))
    return table


def lower_derived(node: src.Subquery, lw: Lowering) -> exp.Expression:
    return exp.Subquery(this=lower_select(node.select, lw),
                        alias=exp.TableAlias(this=ident(node.name)))


def lower_cte(node: src.CTE, lw: Lowering) -> exp.Expression:
    name = node.name
    if name in lw.defining:
        # The recursive step reading the CTE being defined.
        lw.skip(node)
    elif name in lw.ctes:
        if lw.ctes[name][0] != (node.recursive, node.select.key):
            raise CompileError(
                f"WITH: two different CTEs are named {name!r} in one statement "
                f"({lw.dialect.NAME} dialect); rename one")
        lw.skip(node)
    else:
        lw.defining.add(name)
        body = lower_select(node.select, lw)
        lw.defining.discard(name)
        if node.recursive:
            lw.recursive = True
        lw.ctes[name] = ((node.recursive, node.select.key),
                         exp.CTE(this=body, alias=exp.TableAlias(this=ident(name))))
    return exp.Table(this=ident(name))


def _conjunction(parts: list[exp.Expression]) -> exp.Expression:
    result = _paren_if(parts[0], exp.Or) if len(parts) > 1 else parts[0]
    for part in parts[1:]:
        result = exp.And(this=result, expression=_paren_if(part, exp.Or))
    return result


def lower_update(stmt: Any, lw: Lowering) -> exp.Expression:
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    if not stmt.assignments:
        raise CompileError(f"update({stmt.model.__name__}) has no values() to set")
    name = lw.dialect.NAME
    sets = [
        exp.EQ(this=exp.Column(this=ident(col.column)),
               expression=_assigned(col.type, value, lower_value(value, lw, col.type.bind(name)), name))
        for col, value in stmt.assignments
    ]
    update = exp.Update(this=model_table(info), expressions=sets)
    if stmt.wheres:
        update.set("where", exp.Where(this=_conjunction([lw.lower(w) for w in stmt.wheres])))
    _lower_returning(update, stmt.returns, lw)
    return update


def _assigned(target: Any, value: Any, lowered: exp.Expression, dialect: str) -> exp.Expression:
    """An expression ``value`` in the stored form of a column of type ``target``: on SQLite an
    exact decimal column holds scaled integers, stored as NUMERIC(p, s) rounds elsewhere."""
    if dialect != "sqlite" or type(value) in _BOUND:
        return lowered
    kind = t.expr_type(value)
    if isinstance(target, t.DecimalType):
        if isinstance(kind, t.FloatType):
            return exp.Cast(this=exp.Round(this=exp.Mul(this=_paren_if(lowered, *_ARITHMETIC),
                                                        expression=exp.Literal.number(10 ** target.places))),
                            to=exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="INTEGER"))
        return scaled.round_to_places(lowered, kind, target.places)
    if isinstance(kind, t.DecimalType):
        if isinstance(target, t.IntType):
            return scaled.round_to_places(lowered, kind, 0)
        if isinstance(target, t.FloatType):
            return scaled.as_float(lowered, kind)
    return lowered


def lower_delete(stmt: Any, lw: Lowering) -> exp.Expression:
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    delete = exp.Delete(this=model_table(info))
    if stmt.wheres:
        delete.set("where", exp.Where(this=_conjunction([lw.lower(w) for w in stmt.wheres])))
    _lower_returning(delete, stmt.returns, lw)
    return delete


def _lower_returning(node: exp.Expression, items: tuple[Any, ...], lw: Lowering) -> None:
    if not items:
        return
    if not lw.dialect.RETURNING:
        raise UnsupportedError(
            "RETURNING", lw.dialect.NAME,
            "a write there gives back no rows; select them in a second statement")
    if not lw.dialect.RETURNING_PARAMS and any(item.params for item in items):
        raise UnsupportedError(
            "RETURNING with a bound value", lw.dialect.NAME,
            "its statements cannot bind parameters there; return the columns instead")
    node.set("returning", exp.Returning(expressions=[lw.lower(item) for item in items]))


def lower_insert_rows(stmt: Any, lw: Lowering) -> exp.Expression:
    """``insert(Model).values(...)`` / ``.from_select(...)``: values bound from the tree."""
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    source: exp.Expression
    if stmt.select is not None:
        source = STATEMENTS["select"](stmt.select, lw)
    elif stmt.rows:
        # Each value is bound through its column's type, as a record's save binds it.
        binds = [info.by_name[n].type.bind(lw.dialect.NAME) for n in stmt.names]
        source = exp.Values(expressions=[
            exp.Tuple(expressions=[lower_value(value, lw, bind) for value, bind in zip(row, binds)])
            for row in stmt.rows])
    else:
        raise CompileError(f"insert({stmt.model.__name__}) has no values() or from_select()")
    insert = exp.Insert(
        this=exp.Schema(this=model_table(info),
                        expressions=[ident(info.by_name[n].column) for n in stmt.names]),
        expression=source,
    )
    if stmt.conflict is not None:
        _lower_conflict(insert, stmt.names, stmt.conflict, info, lw.dialect)
    _lower_returning(insert, stmt.returns, lw)
    return insert


def lower_insert(stmt: Any, lw: Lowering) -> exp.Expression:
    info = stmt.model.__aq__
    lw.tables.add(info.table)
    cols = [info.by_name[n].column for n in stmt.names]
    name = lw.dialect.NAME
    values = exp.Tuple(expressions=[lw.placeholder(info.by_name[n].type.bind(name))
                                    for n in stmt.names])
    conflict = stmt.on_conflict
    dialect = lw.dialect
    if cols:
        insert = exp.Insert(
            this=exp.Schema(this=model_table(info), expressions=[ident(c) for c in cols]),
            expression=exp.Values(expressions=[values]),
        )
    elif conflict is not None and dialect.UPSERT == "on_conflict" and not (
            conflict[0] == "replace" and name == "sqlite"):
        insert = _insert_key_default(info, dialect)
    else:
        insert = _insert_defaults(info, dialect)
    if conflict is not None:
        _lower_conflict(insert, stmt.names, conflict, info, dialect)
    if stmt.returning and info.pk is not None:
        if not dialect.RETURNING:
            raise UnsupportedError(
                "RETURNING", dialect.NAME,
                "a write there gives back no rows, so no new primary keys either")
        insert.set("returning", exp.Returning(expressions=[exp.Column(this=ident(info.pk.column))]))
    return insert


def _insert_defaults(info: Any, dialect: Any) -> exp.Insert:
    """A row of column defaults only (a model whose one field is its database-assigned key):
    an empty column list is a syntax error, so the dialect's own spelling is used."""
    if dialect.DEFAULT_VALUES:
        return exp.Insert(this=model_table(info), default=True)
    # sqlglot drops an empty column list; an empty identifier keeps MySQL's "()" in place.
    return exp.Insert(
        this=exp.Schema(this=model_table(info), expressions=[exp.Identifier(this="", quoted=False)]),
        expression=exp.Values(expressions=[exp.Tuple(expressions=[])]),
    )


def _insert_key_default(info: Any, dialect: Any) -> exp.Insert:
    """A row of column defaults that takes an ON CONFLICT clause: ``(key) VALUES (DEFAULT)``.

    SQLite allows no upsert clause after DEFAULT VALUES, and has no DEFAULT in VALUES: there
    an integer key is given NULL, which makes it a new rowid as DEFAULT VALUES would.
    """
    pk = info.pk
    if pk is None:
        raise CompileError(
            f"{info.table}: a row of defaults has no column to name in an ON CONFLICT insert; "
            "give the row a value or insert it without on_conflict")
    if dialect.NAME == "sqlite":
        if not isinstance(pk.type, t.IntType):
            raise UnsupportedError(
                "ON CONFLICT on a row of defaults", "sqlite",
                f"SQLite takes no upsert after DEFAULT VALUES, and {info.table}.{pk.column} is "
                "not an integer key NULL would number; give the row a value")
        value: exp.Expression = exp.Null()
    else:
        value = exp.var("DEFAULT")
    return exp.Insert(
        this=exp.Schema(this=model_table(info), expressions=[ident(pk.column)]),
        expression=exp.Values(expressions=[exp.Tuple(expressions=[value])]),
    )


def _lower_conflict(insert: exp.Insert, names: tuple[str, ...], conflict: Any, info: Any,
                    dialect: Any) -> None:
    action = conflict[0]
    targets = (conflict[1] if len(conflict) > 1 else ()) or ((info.pk.name,) if info.pk else ())
    # An update without update columns updates every inserted column but the conflict targets.
    chosen = (conflict[2] if len(conflict) > 2 else None) or tuple(
        n for n in names if n not in targets)
    if dialect.UPSERT == "on_duplicate_key":
        updates = () if action == "ignore" else (
            info.names if action == "replace" else chosen)
        sets = [_excluded_set(info.by_name[n].column, dialect) for n in updates
                if n in names]
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
        updates = chosen
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


def _excluded_set(column: str, dialect: Any) -> exp.Expression:
    if dialect.UPSERT == "on_duplicate_key":
        value: exp.Expression = exp.Anonymous(this="VALUES", expressions=[exp.Column(this=ident(column))])
    else:
        value = exp.Column(this=ident(column), table=exp.Identifier(this="excluded"))
    return exp.EQ(this=exp.Column(this=ident(column)), expression=value)


# --- CASE, CAST, raw fragments, keywords and windows ------------------------------------------


def lower_case(node: x.Case, lw: Lowering) -> exp.Expression:
    form = convert = None
    if lw.dialect.NAME == "sqlite":
        # Every branch gives its value in one form (exact decimals are scaled integers there).
        branches = [value for _, value in node.whens]
        if node.else_ is not None:
            branches.append(node.else_)
        kinds = [t.expr_type(value) for value in branches]
        form = scaled.common_form(kinds)
        exact = scaled.exact_type(form, kinds)
        convert = None if exact is None else exact.bind("sqlite")

    def branch(value: Any) -> exp.Expression:
        lowered = lower_value(value, lw, convert)
        return lowered if form is None else scaled.in_form(lowered, t.expr_type(value), form)

    ifs = [exp.If(this=lw.lower(cond), true=branch(value)) for cond, value in node.whens]
    default = None if node.else_ is None else branch(node.else_)
    return exp.Case(ifs=ifs, default=default)


#: SQL type per dialect for each ``cast()`` target; None = spelled by ``_CAST_FUNCTIONS``.
_CAST_TYPES: dict[str, dict[str, str | None]] = {
    "sqlite": {"int": "INTEGER", "float": "REAL", "str": "TEXT", "decimal": "NUMERIC",
               "date": None, "datetime": None, "bool": None},
    "postgres": {"int": "BIGINT", "float": "DOUBLE PRECISION", "str": "TEXT",
                 "decimal": "NUMERIC", "date": "DATE", "datetime": "TIMESTAMP", "bool": None},
    # MySQL's DECIMAL alone means DECIMAL(10, 0): give it the widest scale instead.
    "mysql": {"int": "SIGNED", "float": "DOUBLE", "str": "CHAR", "decimal": "DECIMAL(65, 30)",
              "date": "DATE", "datetime": "DATETIME(6)", "bool": None},
    # DuckDB's DECIMAL alone means DECIMAL(18, 3).
    "duckdb": {"int": "BIGINT", "float": "DOUBLE", "str": "TEXT", "decimal": "DECIMAL(38, 10)",
               "date": "DATE", "datetime": "TIMESTAMP", "bool": "BOOLEAN"},
}


_FRACTIONAL = (float, Decimal)


def lower_cast(node: x.Cast, lw: Lowering) -> exp.Expression:
    """``cast()`` gives what Python's ``int()``, ``float()``, ``str()`` and ``bool()`` give on
    every engine: a fraction is truncated toward zero, any non-zero number is true, and an
    exact decimal stored scaled on SQLite is unscaled first."""
    item = lw.lower(node.item)
    name = lw.dialect.NAME
    target = node.type
    item_type = t.expr_type(node.item)
    fractional = getattr(item_type, "python_type", None) in _FRACTIONAL
    if fractional and target == "bool":
        # Casting to an integer first would make 0.4 false (or, rounding, 0.6 true).
        return exp.Paren(this=exp.NEQ(this=item, expression=exp.Literal.number(0)))
    if name == "sqlite" and isinstance(item_type, t.DecimalType) and item_type.places:
        scaled = _cast_scaled(item, target, item_type.places)
        if scaled is not None:
            return scaled
    elif target == "int" and fractional and name != "sqlite":
        # SQLite truncates a fraction toward zero, as int() does; the others round
        # (PostgreSQL even to even): truncating first gives the same integer everywhere.
        # MySQL's TRUNCATE takes the number of decimals, which sqlglot before 30.30 leaves out.
        item = exp.Trunc(this=item, decimals=exp.Literal.number(0) if name == "mysql" else None)
    type_sql = _CAST_TYPES[name][target]
    if type_sql is not None:
        # SQLite's type names are spelled as written: sqlglot would map NUMERIC to REAL there.
        to = (exp.DataType(this=exp.DataType.Type.USERDEFINED, kind=type_sql) if name == "sqlite"
              else exp.DataType.build(type_sql, dialect=lw.dialect.SQLGLOT))
        return exp.Cast(this=item, to=to)
    if target == "bool":
        number = exp.Cast(this=item, to=exp.DataType.build(
            "INT" if name == "postgres" else _CAST_TYPES[name]["int"] or "INTEGER",
            dialect=lw.dialect.SQLGLOT))
        if name == "postgres":
            # PostgreSQL casts only a 4-byte integer to boolean, not BIGINT or NUMERIC.
            return exp.Cast(this=number, to=exp.DataType.build("BOOLEAN"))
        # SQLite and MySQL have no boolean type: a number is true when it is not zero.
        return exp.Paren(this=exp.NEQ(this=number, expression=exp.Literal.number(0)))
    # SQLite's CAST(... AS DATE) would apply numeric affinity ('2024-05-01' -> 2024): its date
    # functions give the stored text forms instead.
    if target == "date":
        return exp.Anonymous(this="DATE", expressions=[item])
    return sqlite_stamp(item)


def _cast_scaled(item: exp.Expression, target: str, places: int) -> exp.Expression | None:
    # An exact decimal on SQLite is an INTEGER holding value * 10**places.
    unit = exp.Literal.number(10 ** places)
    if target == "int":
        # Integer division truncates toward zero, as int() does.
        return exp.Cast(this=exp.Div(this=item, expression=unit, typed=True),
                        to=exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="INTEGER"))
    if target == "float":
        return exp.Div(this=exp.Cast(this=item, to=exp.DataType(
            this=exp.DataType.Type.USERDEFINED, kind="REAL")), expression=unit, typed=True)
    if target == "decimal":
        # Already exact: the result type unscales it (see types._cast_type).
        return item
    if target == "str":
        # The digits with every decimal place, as PostgreSQL and DuckDB print the decimal.
        sign = exp.Case(ifs=[exp.If(this=exp.LT(this=item.copy(), expression=exp.Literal.number(0)),
                                    true=exp.Literal.string("-"))],
                        default=exp.Literal.string(""))
        return exp.Anonymous(this="PRINTF", expressions=[
            exp.Literal.string(f"%s%d.%0{places}d"), sign,
            exp.Div(this=exp.Abs(this=item.copy()), expression=unit, typed=True),
            exp.Mod(this=exp.Abs(this=item), expression=unit.copy())])
    return None


def lower_keyword(node: x.Keyword, lw: Lowering) -> exp.Expression:
    return exp.Literal.string(node.word)


def lower_text(node: x.Text, lw: Lowering) -> exp.Expression:
    parts = node.parts
    pieces = [parts[0]]
    for part in parts[1:]:
        pieces.append(lw.placeholder().name)
        pieces.append(part)
    return exp.Paren(this=exp.Var(this="".join(pieces)))


def _frame_bound(value: int | None, unbounded_side: str) -> tuple[Any, str | None]:
    if value is None:
        return "UNBOUNDED", unbounded_side
    if value == 0:
        return "CURRENT ROW", None
    return exp.Literal.number(abs(value)), "PRECEDING" if value < 0 else "FOLLOWING"


def lower_window(node: a.Window, lw: Lowering) -> exp.Expression:
    name = node.func.name
    if name in NEEDS_ORDER and not node.order_by:
        raise CompileError(
            f"{name.lower()}() OVER (...) needs order_by on {lw.dialect.NAME}: without an "
            "order its result is arbitrary")
    func = lw.lower(node.func)
    if name not in WINDOW_ONLY and not isinstance(func, exp.AggFunc):
        raise CompileError(
            f"{name.lower()}() is neither an aggregate nor a window function, so it cannot "
            f"take OVER (...) on {lw.dialect.NAME}")
    window = exp.Window(this=func)
    if node.partition_by:
        window.set("partition_by", [lw.lower(p) for p in node.partition_by])
    if node.order_by:
        window.set("order", exp.Order(expressions=[lower_ordering(o, lw) for o in node.order_by]))
    if node.frame is not None:
        kind, start, end = node.frame
        start_value, start_side = _frame_bound(start, "PRECEDING")
        end_value, end_side = _frame_bound(end, "FOLLOWING")
        window.set("spec", exp.WindowSpec(kind=kind, start=start_value, start_side=start_side,
                                          end=end_value, end_side=end_side))
    return window


LOWER: dict[type, Callable[[Any, Lowering], exp.Expression]] = {
    a.ColumnRef: lower_column,
    a.JsonColumn: lower_column,
    a.JsonPath: lower_json_path,
    a.Extract: lower_extract,
    a.Param: lower_param,
    a.BindParam: lower_bind,
    a.Star: lower_star,
    a.Compare: lower_compare,
    a.CompareValue: lower_compare,
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
    a.OutputColumn: lower_output,
    a.Exists: lower_exists,
    a.SubqueryExpr: lower_subquery,
    a.Window: lower_window,
    x.Case: lower_case,
    x.Cast: lower_cast,
    x.Keyword: lower_keyword,
    x.Text: lower_text,
    src.TableAlias: lower_table_alias,
    src.Subquery: lower_derived,
    src.CTE: lower_cte,
    src.SetOperation: lower_set_operation,
}


@functools.cache
def _sqlglot_dialect(name: str) -> Dialect:
    return Dialect.get_or_raise(name)


_SQLGLOT_NODE = re.compile(r"for expression '(\w+)'")


def _unsupported_call(tree: exp.Expression, message: str) -> str | None:
    """The ``func.<name>()`` call sqlglot's ``message`` refuses, when it names one."""
    found = _SQLGLOT_NODE.search(message)
    if found is not None:
        for node in tree.walk():
            if type(node).__name__ == found.group(1) and "func" in node.meta:
                return f"{node.meta['func'].lower()}()"
    return None


def _holder(tree: exp.Expression, marker: str) -> str:
    """The ``func.<name>()`` call whose argument ``marker`` is, for an error message."""
    for var in tree.find_all(exp.Var):
        if marker.lower() in var.name.lower():
            node: exp.Expression | None = var
            while node is not None:
                if "func" in node.meta:
                    return f"{node.meta['func'].lower()}()"
                node = node.parent  # type: ignore[assignment]
    return "a bound value"


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

    def compile(self, stmt: Any, dialect: str = "sqlite",
                paramstyle: str | None = None) -> tuple[Compiled, bool]:
        """The rendering of ``stmt`` for ``dialect`` and whether it came from the cache.

        ``paramstyle`` chooses placeholders other than the dialect's usual ones.
        """
        key = (dialect, stmt.key) if paramstyle is None else (dialect, stmt.key, paramstyle)
        # lookup() inlined: every to_sql() of a cached shape comes this way.
        slot = self._cache.get(key)
        if slot is not None:
            self.hits += 1
            slot[1] = next(self._uses)
            return slot[0], True
        if paramstyle is not None:
            check_paramstyle(paramstyle)
        # A LIMIT count the dialect binds leaves the text as it is: a query that differs from
        # a rendered one by its count alone takes that rendering (PostgreSQL writes the count
        # into the text, so there each count is rendered; see query._shape).
        shared = None
        count_free = getattr(stmt, "count_free_key", None)
        if count_free is not None and not get_dialect(dialect).LIMIT_IN_TEXT:
            shared = (key[0], count_free, *key[2:])
            slot = self._cache.get(shared)
            if slot is not None:
                entry = slot[0]
                with self._lock:
                    self.hits += 1
                    slot[1] = use = next(self._uses)
                    self._store(key, entry, use)
                return entry, True
        entry = self.render(stmt, dialect, paramstyle)
        with self._lock:
            self.misses += 1
            use = next(self._uses)
            if shared is not None:
                self._store(shared, entry, use)
            self._store(key, entry, use)
        return entry, False

    def _store(self, key: Any, entry: Compiled, use: int) -> None:
        # Under self._lock.
        cache = self._cache
        cache[key] = [entry, use]
        if len(cache) > self.maxsize:
            self._evict()

    def _evict(self) -> None:
        # Kept out of compile(): the lambda would make a closure cell there, allocated on
        # every call, cache hits included.
        cache = self._cache
        count = len(cache) - self.maxsize + self.maxsize // 8
        for old in sorted(cache, key=lambda k: cache[k][1])[:count]:
            del cache[old]

    def lower(self, stmt: Any, dialect: Any,
              bare: bool = False) -> tuple[exp.Expression, Lowering]:
        """The sqlglot tree of ``stmt`` with ``__aqp<slot>__`` markers, and its lowering state."""
        pattern = equality_pattern(stmt.params) if getattr(stmt, "shares_values", False) else None
        lw = Lowering(dialect, pattern, bare)
        tree = STATEMENTS[stmt.kind](stmt, lw)
        if lw.ctes:
            tree.set("with_", exp.With(expressions=[cte for _, cte in lw.ctes.values()],
                                       recursive=lw.recursive or None))
        return tree, lw

    def text(self, stmt: Any, dialect: Any, bare: bool = False) -> tuple[str, Lowering]:
        """The SQL text of ``stmt`` with markers in place of its values."""
        tree, lw = self.lower(stmt, dialect, bare)
        try:
            text = tree.sql(dialect=dialect.SQLGLOT, copy=False,
                            unsupported_level=ErrorLevel.RAISE)
        except SqlglotUnsupported as e:
            raise UnsupportedError(_unsupported_call(tree, str(e)) or stmt.kind, dialect.NAME,
                                   str(e)) from None
        rendered = [slot for slot in range(lw.slot) if slot not in lw.skipped]
        marker = misplaced_marker(text, rendered, _sqlglot_dialect(dialect.SQLGLOT))
        if marker is not None:
            raise UnsupportedError(
                _holder(tree, marker), dialect.NAME,
                "its SQL there writes that argument into the statement's text (as a keyword or "
                "inside a string) where a bound value cannot stand; give it a constant with "
                "text() or use a portable function")
        return text, lw

    def render(self, stmt: Any, dialect_name: str, paramstyle: str | None = None, *,
               bare: bool = False) -> Compiled:
        """``stmt`` rendered for ``dialect_name``, without the cache.

        ``bare`` writes columns without their table: only for a statement that reads one
        table and nothing else (no join, subquery or CTE), where that is unambiguous.
        """
        dialect = get_dialect(dialect_name)
        text, lw = self.text(stmt, dialect, bare)
        style = paramstyle or dialect.PARAMSTYLE
        if lw.alias and paramstyle is None and dialect.SHARED_PARAMSTYLE is not None:
            # The usual placeholders cannot repeat a value: switch to ones that can.
            style = dialect.SHARED_PARAMSTYLE
        text, order, keys = place_markers(text, style, lw.alias)
        converters = tuple(
            (pos, lw.converters[slot]) for pos, slot in enumerate(order) if slot in lw.converters
        )
        identity = keys is None and order == list(range(lw.slot))
        mapper: Any = None
        names: tuple[str, ...] = ()
        row_convert = None
        kind = stmt.kind
        if kind == "select":
            mapper, names, row_convert = make_mapper(stmt, dialect.NAME)
        return Compiled(
            text, None if identity else tuple(order), converters, mapper, names,
            dialect.NAME, kind, frozenset(lw.tables), keys, row_convert,
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
    "insert_rows": lower_insert_rows,
}

#: The process-wide shape cache.
compiler = Compiler()


def render_sql(stmt: Any, dialect: str = "sqlite", paramstyle: str | None = None,
               literal_binds: bool = False) -> tuple[str, Any]:
    """``(sql, values)`` of a statement: what every ``to_sql()`` returns.

    ``values`` is a list, or a dict for the named paramstyles; with ``literal_binds`` the values
    are written into the text as literals (quoted by sqlglot) and ``values`` is empty.
    """
    if literal_binds:
        if paramstyle is not None:
            check_paramstyle(paramstyle)
        entry, _ = compiler.compile(stmt, dialect, "qmark")
        text, _ = compiler.text(stmt, get_dialect(dialect))
        return inline_values(text, list(entry.values(stmt.params)), get_dialect(dialect)), []
    entry, _ = compiler.compile(stmt, dialect, paramstyle)
    values = entry.values(stmt.params)
    return entry.sql, values if type(values) is dict else list(values)


def to_sqlglot(stmt: Any, dialect: str = "sqlite") -> exp.Expression:
    """The sqlglot expression of a statement, each bound value an ``exp.Placeholder``.

    The values, in placeholder order, are ``to_sql(dialect, paramstyle="qmark")[1]``; a raw
    ``text()`` fragment keeps its SQL verbatim, with ``?`` where its values go.
    """
    tree, _ = compiler.lower(stmt, get_dialect(dialect))
    for var in list(tree.find_all(exp.Var)):
        name = var.name
        if SLOT.fullmatch(name):
            var.replace(exp.Placeholder())
        elif "__aqp" in name:
            var.set("this", SLOT.sub("?", name))
    return tree
