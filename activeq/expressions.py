"""Expression nodes beyond comparisons: CASE, CAST, raw SQL fragments and keyword arguments.

Like every node (see ``ast``), each is an immutable tuple ``(key, params, *fields)`` whose key
is its shape without values. The builders here (``case``, ``cast``, ``text``) check their input
when the expression is built, so a mistake is reported where it was made, not at execution.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import re
from typing import Any

from .ast import Expr, Param, _tnew, as_expr, bindable_int
from .errors import CompileError

__all__ = ["CAST_TYPES", "KEYWORD_ARGS", "Case", "Cast", "Keyword", "Text", "case", "cast", "text"]

DATE_TRUNC_UNITS = ("year", "quarter", "month", "week", "day", "hour", "minute", "second")
#: Units of ``date_diff`` and their length in seconds.
DATE_DIFF_UNITS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}

#: Functions whose first argument is a word spelled inline (part of the shape), and its words.
KEYWORD_ARGS: dict[str, tuple[str, ...]] = {
    "DATE_TRUNC": DATE_TRUNC_UNITS,
    "DATE_DIFF": tuple(DATE_DIFF_UNITS),
}


class Case(Expr):
    """``CASE WHEN cond THEN value ... ELSE value END``."""

    __slots__ = ()
    _fields = ("whens", "else_")
    whens: tuple[tuple[Expr, Expr], ...]
    else_: Expr | None

    def __new__(cls, whens: tuple[tuple[Expr, Expr], ...], else_: Expr | None):  # type: ignore[no-untyped-def]
        params: tuple[Any, ...] = ()
        for cond, value in whens:
            params += cond.params + value.params
        if else_ is not None:
            params += else_.params
        key = ("case", tuple([(c.key, v.key) for c, v in whens]),
               None if else_ is None else else_.key)
        return _tnew(cls, (key, params, whens, else_))


#: The Python types ``cast()`` accepts, by the name the compiler renders them under.
CAST_TYPES: dict[type, str] = {
    int: "int",
    float: "float",
    str: "str",
    decimal.Decimal: "decimal",
    _dt.date: "date",
    _dt.datetime: "datetime",
    bool: "bool",
}


class Cast(Expr):
    """``CAST(item AS type)``; ``type`` is one of the names in ``CAST_TYPES``."""

    __slots__ = ()
    _fields = ("item", "type")
    item: Expr
    type: str

    def __new__(cls, item: Expr, type: str):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("cast", type, item.key), item.params, item, type))

    @property
    def condition(self) -> bool:  # type: ignore[override]
        """A cast to bool is a condition; to another type it is not."""
        return self.type == "bool"


class Keyword(Expr):
    """A word from a fixed set that the SQL spells inline (``'month'`` in ``date_trunc``).

    Unlike a ``Param`` its text is part of the shape: the rendering depends on it (SQLite has
    no ``date_trunc`` and spells each unit differently), so it is checked against the words
    the function allows when the expression is built.
    """

    __slots__ = ()
    condition = False
    _fields = ("word",)
    word: str

    def __new__(cls, word: str):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("kw", word), (), word))


class Text(Expr):
    """A raw SQL fragment whose ``:name`` markers are bound parameters.

    ``parts`` holds the fragment's text between markers (one more part than values):
    ``text("length(name) > :n", n=3)`` has parts ``("length(name) > ", "")`` and values
    ``(3,)``. The text is part of the shape; the values are bound, never written into the SQL.
    """

    __slots__ = ()
    _fields = ("parts", "values")
    parts: tuple[str, ...]
    values: tuple[Any, ...]

    def __new__(cls, parts: tuple[str, ...], values: tuple[Any, ...]):  # type: ignore[no-untyped-def]
        return _tnew(cls, (("text", parts), values, parts, values))


# --- builders --------------------------------------------------------------------------------


def case(*whens: tuple[Any, Any], else_: Any = None) -> Case:
    """``CASE WHEN ... THEN ... ELSE ... END`` from ``(condition, value)`` pairs.

    Values are bound parameters or expressions; without ``else_`` an unmatched row gives NULL.

    >>> from activeq import ActiveRecord, Field, case
    >>> class Temp(ActiveRecord):
    ...     __table_name__ = 'temps'
    ...     id: int = Field(primary_key=True)
    ...     deg: int
    >>> label = case((Temp.c.deg < 10, 'cold'), (Temp.c.deg < 25, 'mild'), else_='hot')
    >>> Temp.query().select(label.as_('feel')).to_sql()
    ('SELECT CASE WHEN "temps"."deg" < ? THEN ? WHEN "temps"."deg" < ? THEN ? ELSE ? END AS "feel" FROM "temps"', [10, 'cold', 25, 'mild', 'hot'])
    """
    if not whens:
        raise CompileError("case() needs at least one (condition, value) pair")
    pairs = []
    for i, when in enumerate(whens):
        if not isinstance(when, tuple) or len(when) != 2:
            raise CompileError(
                f"case() takes (condition, value) pairs; argument {i} is {when!r}")
        cond, value = when
        if not isinstance(cond, Expr):
            raise CompileError(
                f"case() condition {i} must be an SQL condition such as Model.c.x > 1, "
                f"not {cond!r} (a Python comparison evaluated too early?)")
        pairs.append((cond, as_expr(value)))
    return Case(tuple(pairs), None if else_ is None else as_expr(else_))


def cast(value: Any, to: type) -> Cast:
    """``CAST(value AS type)`` for ``int``, ``float``, ``str``, ``Decimal``, ``date``,
    ``datetime`` or ``bool``, spelled in each dialect's own type names.

    >>> from activeq import ActiveRecord, Field, cast
    >>> class Reading(ActiveRecord):
    ...     __table_name__ = 'readings'
    ...     id: int = Field(primary_key=True)
    ...     raw: str
    >>> Reading.query().select(cast(Reading.c.raw, int).as_('n')).to_sql('postgres')
    ('SELECT CAST("readings"."raw" AS BIGINT) AS "n" FROM "readings"', [])
    """
    name = CAST_TYPES.get(to) if isinstance(to, type) else None
    if name is None:
        allowed = ", ".join(t.__name__ for t in CAST_TYPES)
        raise CompileError(f"cast() takes one of the types {allowed}; got {to!r}")
    return Cast(as_expr(value), name)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def text(sql: str, **values: Any) -> Text:
    """A raw SQL fragment usable wherever an expression is; ``:name`` marks a bound value.

    The fragment is copied into the statement as written, so it must come from the program,
    not from user input; values given by keyword are always bound as parameters. A fragment
    may not contain ``;``, comments, ``?`` or ``$n`` placeholders (use ``:name``).

    >>> from activeq import ActiveRecord, Field, text
    >>> class Word(ActiveRecord):
    ...     __table_name__ = 'words'
    ...     id: int = Field(primary_key=True)
    ...     body: str
    >>> Word.query().select('id').where(text("length(body) > :n", n=3)).to_sql()
    ('SELECT "words"."id" FROM "words" WHERE (length(body) > ?)', [3])
    """
    if not isinstance(sql, str) or not sql.strip():
        raise CompileError("text() needs a non-empty SQL fragment")
    parts, names = _split_fragment(sql)
    missing = sorted(set(names) - values.keys())
    if missing:
        raise CompileError(
            f"text() fragment uses :{', :'.join(missing)} but no value was given for it")
    unused = sorted(values.keys() - set(names))
    if unused:
        raise CompileError(f"text() got values the fragment does not use: {', '.join(unused)}")
    for name, value in values.items():
        if isinstance(value, Expr) and not isinstance(value, Param):
            raise CompileError(
                f"text() value {name!r} is an SQL expression; values are bound, so pass a plain "
                "Python value (or build the expression without text())")
    bound = tuple(values[n].value if isinstance(values[n], Param) else values[n] for n in names)
    for value in bound:
        if type(value) is int:
            bindable_int(value)
    return Text(tuple(parts), bound)


def _split_fragment(sql: str) -> tuple[list[str], list[str]]:
    """Split a fragment at its ``:name`` markers, refusing what could escape the fragment."""
    parts: list[str] = []
    names: list[str] = []
    start = i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            end = sql.find(ch, i + 1)
            while end != -1 and end + 1 < n and sql[end + 1] == ch:  # doubled quote = escape
                end = sql.find(ch, end + 2)
            if end == -1:
                raise CompileError(f"text() fragment has an unterminated {ch} quote: {sql!r}")
            i = end + 1
            continue
        if ch == ";":
            raise CompileError(f"text() fragment may not contain ';' (one expression only): {sql!r}")
        if sql.startswith("--", i) or sql.startswith("/*", i):
            raise CompileError(f"text() fragment may not contain comments: {sql!r}")
        if ch == "?" or (ch == "$" and i + 1 < n and sql[i + 1].isdigit()):
            raise CompileError(
                f"text() fragment may not contain {ch!r} placeholders; mark values as :name: {sql!r}")
        if sql.startswith("__aqp", i):
            raise CompileError(f"text() fragment may not contain '__aqp' (reserved): {sql!r}")
        if ch == ":":
            if i + 1 < n and sql[i + 1] == ":":  # PostgreSQL's ::type cast
                i += 2
                continue
            match = _NAME.match(sql, i + 1)
            if match is not None and (i == 0 or sql[i - 1] != ":"):
                parts.append(sql[start:i])
                names.append(match.group(0))
                start = i = match.end()
                continue
        i += 1
    parts.append(sql[start:])
    return parts, names


#: Node classes defined here; the compiler has one handler per entry.
EXPRESSION_NODES: tuple[type[Expr], ...] = (Case, Cast, Keyword, Text)
