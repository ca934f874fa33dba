"""Placeholders in rendered SQL: the six DB-API paramstyles, and values inlined for reading.

The compiler renders a statement with one marker per bound value (``__aqp<slot>__``) and hands
the text here. A positional style (``qmark`` ``?``, ``format`` ``%s``) writes one placeholder
per marker and binds a value for each. A numbered or named style (``numeric`` ``:1``,
``dollar`` ``$1``, ``named`` ``:p1``, ``pyformat`` ``%(p1)s``) gives the markers of one shared
value the same number, so an expression repeated in SELECT, GROUP BY and ORDER BY reads the
same to the database and PostgreSQL or DuckDB can match it.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import math
import re
import uuid
from collections.abc import Callable, Collection
from typing import Any

from sqlglot import exp
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from .ast import Unbound
from .errors import CompileError
from .values import NO_FORM, stored_form

__all__ = ["PARAMSTYLES", "equality_pattern", "inline_values", "misplaced_marker", "place_markers",
           "same_values"]

SLOT = re.compile(r"__aqp(\d+)__")

#: paramstyle -> (placeholder for the n-th distinct value, counting from 1; numbered?)
PARAMSTYLES: dict[str, tuple[Callable[[int], str], bool]] = {
    "qmark": (lambda n: "?", False),
    "format": (lambda n: "%s", False),
    "numeric": (lambda n: f":{n}", True),
    "dollar": (lambda n: f"${n}", True),
    "named": (lambda n: f":p{n}", True),
    "pyformat": (lambda n: f"%(p{n})s", True),
}
NAMED = frozenset({"named", "pyformat"})


def check_paramstyle(style: str) -> None:
    if style not in PARAMSTYLES:
        raise CompileError(
            f"paramstyle must be one of {', '.join(PARAMSTYLES)}; got {style!r}")


def place_markers(text: str, style: str, alias: dict[int, int]
                  ) -> tuple[str, list[int], tuple[str, ...] | None]:
    """Replace markers by ``style``'s placeholders.

    Returns the text, the slot whose value each placeholder (or number) takes, and for named
    styles the parameter names in that order. ``alias`` maps a slot to the earlier slot that
    holds the same value in the same expression.
    """
    placeholder, numbered = PARAMSTYLES[style]
    if style in ("format", "pyformat") and SLOT.search(text):
        # pyformat drivers (psycopg, PyMySQL) read every % as a marker when given values: a
        # literal % is then %%. Without values they send the text as written, so a statement
        # with no placeholder keeps its % as is (else the server would run %%).
        text = text.replace("%", "%%")
    order: list[int] = []
    if not numbered:
        def positional(match: re.Match[str]) -> str:
            order.append(int(match.group(1)))
            return placeholder(len(order))

        return SLOT.sub(positional, text), order, None
    numbers: dict[int, int] = {}

    def number(match: re.Match[str]) -> str:
        slot = int(match.group(1))
        slot = alias.get(slot, slot)
        n = numbers.get(slot)
        if n is None:
            order.append(slot)
            n = numbers[slot] = len(order)
        return placeholder(n)

    text = SLOT.sub(number, text)
    names = tuple(f"p{i}" for i in range(1, len(order) + 1)) if style in NAMED else None
    return text, order, names


def misplaced_marker(text: str, slots: Collection[int], dialect: Any) -> str | None:
    """The first marker of ``text`` that is not a placeholder of its own, else None.

    sqlglot writes some functions with an argument folded into other text (SQLite's
    ``DATE(d, '+n day')``, a unit keyword taken from the argument's name): a bound value there
    would become part of a string or a keyword, or vanish, so the statement would not bind
    what was given. The marker of each of ``slots`` (the slots rendered: a CTE's values are
    numbered again where it is named again, but bound only in its definition) must stand as a
    token by itself. Only text holding a string literal, or fewer markers than slots, is
    tokenized.
    """
    found = SLOT.findall(text)
    if len(found) == text.lower().count("__aqp") and "'" not in text \
            and len(set(found)) == len(slots):
        return None
    try:
        tokens = dialect.tokenize(text)
    except TokenError:  # a raw text() fragment sqlglot cannot read: nothing to judge by
        tokens = []
    for token in tokens:
        if "__aqp" in token.text.lower() and (
                token.token_type is not TokenType.VAR or not SLOT.fullmatch(token.text)):
            return token.text
    present = {int(n) for n in found}
    for slot in slots:
        if slot not in present:
            return f"__aqp{slot}__"
    return None


def equality_pattern(params: tuple[Any, ...]) -> tuple[int, ...]:
    """For each value, the index of the first value equal to it (same type, equal value).

    Part of the shape key of a grouped query: it decides which repeated expressions share
    their placeholders, so it must be known before the cache is consulted.
    """
    out: list[int] = []
    for i, value in enumerate(params):
        kind = type(value)
        for j in range(i):
            other = params[j]
            if type(other) is kind and _same(other, value):
                out.append(out[j])
                break
        else:
            out.append(i)
    return tuple(out)


def same_values(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether two runs of values are equal value by value, types included."""
    return len(a) == len(b) and all(
        type(x) is type(y) and _same(x, y) for x, y in zip(a, b))


def _same(a: Any, b: Any) -> bool:
    if type(a) is Unbound:
        return a.name == b.name  # type: ignore[no-any-return]
    try:
        return bool(a == b)
    except Exception:  # values whose == does not give a truth value (arrays)
        return a is b


# --- inlined values ------------------------------------------------------------------------------


def inline_values(text: str, values: list[Any], dialect: Any) -> str:
    """``text`` with each marker replaced by its value as an SQL literal, quoted by sqlglot."""
    pos = iter(range(len(values)))

    def literal(match: re.Match[str]) -> str:
        return literal_sql(values[next(pos)], dialect)

    return SLOT.sub(literal, text)


def literal_sql(value: Any, dialect: Any) -> str:
    """One value as an SQL literal of ``dialect``."""
    return _literal(value, dialect).sql(dialect=dialect.SQLGLOT)


def _convert(value: Any) -> exp.Expression:
    node: exp.Expression = exp.convert(value)  # type: ignore[assignment]
    return node


def _literal(value: Any, dialect: Any) -> exp.Expression:
    if isinstance(value, Unbound):
        raise CompileError(
            f"literal_binds needs a value for every parameter; BindParam({value.name!r}) has none")
    if value is None or isinstance(value, (bool, int, str)):
        return _convert(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CompileError(f"literal_binds cannot write {value!r} as an SQL literal")
        return _convert(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if dialect.NAME == "postgres":
            return exp.Cast(this=exp.Literal.string("\\x" + raw.hex()),
                            to=exp.DataType.build("BYTEA"))
        return _convert(raw)
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[_literal(v, dialect) for v in value])
    if dialect.NAME == "sqlite":
        # The same text the binding would store: SQLite has no date or decimal type.
        form = stored_form(value)
        if form is not NO_FORM:
            return _literal(form, dialect)
    if isinstance(value, (_dt.datetime, _dt.date, decimal.Decimal)):
        return _convert(value)
    if isinstance(value, _dt.time):
        return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("TIME"))
    if isinstance(value, uuid.UUID):
        return exp.Literal.string(str(value))
    if isinstance(value, enum.Enum):
        return _literal(value.value, dialect)
    raise CompileError(f"literal_binds cannot write a {type(value).__name__} as an SQL literal")
