"""``func.<name>`` per dialect: activeq's portable functions, then sqlglot's catalogue.

A function call node is dialect-free; this module decides, when it is rendered for one dialect,
which SQL spells it there:

1. activeq's portable functions (``PORTABLE``) have one meaning on every engine and a
   rendering per dialect, or raise ``UnsupportedError`` where the engine has no equivalent
   (``strftime`` on PostgreSQL, ``date_trunc``'s week on MySQL).
2. A name sqlglot's catalogue knows becomes that sqlglot function, which sqlglot writes in each
   dialect's own form (``iif`` is ``IIF`` on SQLite and ``CASE WHEN`` on PostgreSQL).
3. A name only some dialects' catalogues know renders there and raises elsewhere, so no
   dialect's SQL ever holds another dialect's function.
4. Any other name (a user-defined function) is written as given; names are checked to be
   identifiers when the call is built.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sqlglot import exp, parser
from sqlglot.dialects.dialect import Dialect

from .errors import CompileError, UnsupportedError
from .expressions import DATE_DIFF_UNITS

__all__ = ["NEEDS_ORDER", "PORTABLE", "WINDOW_ONLY", "build_function", "sqlite_stamp"]

Builder = Callable[[list[exp.Expression], str], exp.Expression]

#: Window functions that are not aggregates, and those of them that need an ORDER BY.
WINDOW_ONLY = frozenset({"ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST",
                         "NTILE", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE"})
NEEDS_ORDER = frozenset({"ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST",
                         "NTILE", "LAG", "LEAD"})


def _anon(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _str(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _cast(node: exp.Expression, type_sql: str, dialect: str) -> exp.Expression:
    return exp.Cast(this=node, to=exp.DataType.build(type_sql, dialect=dialect))


def _word(arg: exp.Expression) -> str:
    return arg.name.lower()


def _arity(name: str, args: list[exp.Expression], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        raise CompileError(f"{name.lower()}() takes {count} arguments, got {len(args)}")


# --- dates and times ---------------------------------------------------------------------------

# SQLite keeps datetimes as fixed-width text with microseconds (see types.DateTimeType): each
# truncation is written in that form, so it compares and sorts with stored values.
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.000000"
_SQLITE_TRUNC: dict[str, tuple[str, tuple[str, ...]]] = {
    "year": (_SQLITE_STAMP, ("start of year",)),
    "month": (_SQLITE_STAMP, ("start of month",)),
    "day": (_SQLITE_STAMP, ("start of day",)),
    # weekday 1 moves forward to the next Monday, so step back six days first: ISO weeks.
    "week": (_SQLITE_STAMP, ("start of day", "-6 days", "weekday 1")),
    "hour": ("%Y-%m-%d %H:00:00.000000", ()),
    "minute": ("%Y-%m-%d %H:%M:00.000000", ()),
    "second": (_SQLITE_STAMP, ()),
}
_MYSQL_TRUNC = {
    "year": "%Y-01-01 00:00:00",
    "month": "%Y-%m-01 00:00:00",
    "day": "%Y-%m-%d 00:00:00",
    "hour": "%Y-%m-%d %H:00:00",
    "minute": "%Y-%m-%d %H:%i:00",
    "second": "%Y-%m-%d %H:%i:%s",
}


def date_trunc(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """The timestamp at the start of the unit (ISO week: Monday) holding ``args[1]``."""
    _arity("DATE_TRUNC", args, 2, 2)
    unit, value = _word(args[0]), args[1]
    if dialect in ("postgres", "duckdb"):
        return _anon("DATE_TRUNC", _str(unit), _cast(value, "TIMESTAMP", dialect))
    if dialect == "sqlite":
        if unit == "quarter":
            month = _cast(_anon("STRFTIME", _str("%m"), value), "INTEGER", dialect)
            back = exp.Mod(this=exp.Paren(this=exp.Sub(this=month, expression=exp.Literal.number(1))),
                           expression=exp.Literal.number(3))
            shift = exp.DPipe(this=exp.DPipe(this=_str("-"), expression=exp.Paren(this=back)),
                              expression=_str(" months"))
            return _anon("STRFTIME", _str(_SQLITE_STAMP), value, _str("start of month"), shift)
        fmt, modifiers = _SQLITE_TRUNC[unit]
        return _anon("STRFTIME", _str(fmt), value, *[_str(m) for m in modifiers])
    if dialect == "mysql" and unit in _MYSQL_TRUNC:
        return _cast(_anon("DATE_FORMAT", value, _str(_MYSQL_TRUNC[unit])), "DATETIME", dialect)
    raise UnsupportedError(f"date_trunc('{unit}')", dialect)


def date_diff(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """Whole units elapsed from ``args[1]`` to ``args[2]``, truncated toward zero."""
    _arity("DATE_DIFF", args, 3, 3)
    unit, start, end = _word(args[0]), args[1], args[2]
    seconds = DATE_DIFF_UNITS[unit]
    if dialect == "sqlite":
        # julianday() holds milliseconds exactly; rounding the scaled difference recovers them,
        # and integer division truncates toward zero as on the other engines.
        days = exp.Sub(this=_anon("JULIANDAY", end), expression=_anon("JULIANDAY", start))
        millis = _cast(_anon("ROUND", exp.Mul(this=exp.Paren(this=days),
                                              expression=exp.Literal.number(86400000))),
                       "INTEGER", dialect)
        return exp.Div(this=millis, expression=exp.Literal.number(seconds * 1000), typed=True)
    if dialect == "postgres":
        elapsed = exp.Sub(this=_cast(end, "TIMESTAMP", dialect),
                          expression=_cast(start, "TIMESTAMP", dialect))
        epoch = exp.Extract(this=exp.var("EPOCH"), expression=exp.Paren(this=elapsed))
        return _cast(_anon("TRUNC", exp.Div(this=epoch, expression=exp.Literal.number(seconds),
                                            typed=True)),
                     "BIGINT", dialect)
    if dialect == "duckdb":
        micros = exp.Sub(this=_anon("EPOCH_US", _cast(end, "TIMESTAMP", dialect)),
                         expression=_anon("EPOCH_US", _cast(start, "TIMESTAMP", dialect)))
        return _cast(_anon("TRUNC", exp.Div(this=exp.Paren(this=micros),
                                            expression=exp.Literal.number(seconds * 1_000_000),
                                            typed=True)),
                     "BIGINT", dialect)
    if dialect == "mysql":
        return _anon("TIMESTAMPDIFF", exp.var(unit.upper()), start, end)
    raise UnsupportedError(f"date_diff('{unit}')", dialect)


def strftime(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """SQLite's ``strftime(format, value)``; DuckDB has it with its arguments swapped."""
    _arity("STRFTIME", args, 2, 2)
    fmt, value = args
    if dialect == "sqlite":
        return _anon("STRFTIME", fmt, value)
    if dialect == "duckdb":
        return _anon("STRFTIME", _cast(value, "TIMESTAMP", dialect), fmt)
    raise UnsupportedError(
        "strftime()", dialect,
        "its format codes have no equivalent there; use func.date_trunc() or extract()")


def current_timestamp(args: list[exp.Expression], dialect: str) -> exp.Expression:
    _arity("CURRENT_TIMESTAMP", args, 0, 0)
    if dialect == "sqlite":
        return sqlite_stamp(_str("now"))
    return exp.CurrentTimestamp()


def sqlite_stamp(value: exp.Expression) -> exp.Expression:
    """``value`` as SQLite's stored datetime text (milliseconds are all SQLite keeps)."""
    return exp.Paren(this=exp.DPipe(this=_anon("STRFTIME", _str("%Y-%m-%d %H:%M:%f"), value),
                                    expression=_str("000")))


def current_time(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """The time of day now in UTC, without a time zone, on every engine (as
    ``current_timestamp`` is the moment in UTC). SQLite keeps milliseconds, as for its
    timestamps; PostgreSQL's own ``CURRENT_TIME`` would be the session's, with its offset."""
    _arity("CURRENT_TIME", args, 0, 0)
    if dialect == "sqlite":
        return _anon("STRFTIME", _str("%H:%M:%f"), _str("now"))
    if dialect == "mysql":
        return _anon("UTC_TIME", exp.Literal.number(6))
    return _cast(exp.AtTimeZone(this=exp.CurrentTimestamp(), zone=_str("UTC")), "TIME", dialect)


def current_date(args: list[exp.Expression], dialect: str) -> exp.Expression:
    _arity("CURRENT_DATE", args, 0, 0)
    return exp.CurrentDate()


# --- strings -----------------------------------------------------------------------------------


def substring(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """``substring(s, start[, length])``, 1-based as in SQL."""
    _arity("SUBSTRING", args, 2, 3)
    return exp.Substring(this=args[0], start=args[1], length=args[2] if len(args) > 2 else None)


def position(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """``position(needle, haystack)``: 1-based index of the first match, 0 when absent."""
    _arity("POSITION", args, 2, 2)
    return exp.StrPosition(this=args[1], substr=args[0])


def concat(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """``a || b || ...`` (CONCAT on MySQL): NULL when any part is NULL, on every engine."""
    if len(args) < 2:
        raise CompileError(f"concat() takes at least 2 arguments, got {len(args)}")
    return exp.Concat(expressions=args)


def concat_ws(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """The non-NULL parts ``args[1:]`` joined by the separator ``args[0]``; NULL when it is.

    Every engine has CONCAT_WS (SQLite since 3.44). PostgreSQL takes its parts as any type, so
    it cannot tell a bound value's: a value there is passed as text.
    """
    if len(args) < 2:
        raise CompileError(f"concat_ws() takes a separator and at least 1 part, got {len(args)} "
                           "arguments")
    if dialect == "postgres":
        args = [_cast(arg, "TEXT", dialect) if _is_bound(arg) else arg for arg in args]
    return _anon("CONCAT_WS", *args)


def _is_bound(arg: exp.Expression) -> bool:
    return isinstance(arg, exp.Var) and arg.name.startswith("__aqp")


def _trim(position_: str | None) -> Builder:
    def build(args: list[exp.Expression], dialect: str) -> exp.Expression:
        name = {None: "TRIM", "LEADING": "LTRIM", "TRAILING": "RTRIM"}[position_]
        _arity(name, args, 1, 2)
        # LTRIM/RTRIM/TRIM(s, chars) exist on SQLite, PostgreSQL and DuckDB; MySQL spells the
        # characters with TRIM(LEADING chars FROM s) and has no two-argument form.
        if dialect == "mysql":
            return exp.Trim(this=args[0], expression=args[1] if len(args) > 1 else None,
                            position=position_ or ("BOTH" if len(args) > 1 else None))
        return _anon(name, *args)

    return build


def replace(args: list[exp.Expression], dialect: str) -> exp.Expression:
    _arity("REPLACE", args, 3, 3)
    return _anon("REPLACE", *args)


# --- numbers -----------------------------------------------------------------------------------


def round_(args: list[exp.Expression], dialect: str) -> exp.Expression:
    """``round(x[, digits])``; PostgreSQL rounds to digits only on NUMERIC, so x is cast there."""
    _arity("ROUND", args, 1, 2)
    value = args[0]
    if len(args) == 2 and dialect == "postgres":
        value = _cast(value, "NUMERIC", dialect)
    return exp.Round(this=value, decimals=args[1] if len(args) == 2 else None)


PORTABLE: dict[str, Builder] = {
    "ROUND": round_,
    "CURRENT_DATE": current_date,
    "CURRENT_TIMESTAMP": current_timestamp,
    "NOW": current_timestamp,
    "CURRENT_TIME": current_time,
    "DATE_TRUNC": date_trunc,
    "DATE_DIFF": date_diff,
    "STRFTIME": strftime,
    "SUBSTRING": substring,
    "SUBSTR": substring,
    "POSITION": position,
    "CONCAT": concat,
    "CONCAT_WS": concat_ws,
    "TRIM": _trim(None),
    "LTRIM": _trim("LEADING"),
    "RTRIM": _trim("TRAILING"),
    "REPLACE": replace,
}

#: Names in sqlglot's shared catalogue that it writes unchanged, but only these engines have.
ONLY_ON: dict[str, frozenset[str]] = {
    "TYPEOF": frozenset({"sqlite", "duckdb"}),
}

_SHARED = parser.Parser.FUNCTIONS


@cache
def _dialect_functions(dialect: str) -> dict[str, Callable[..., exp.Expression]]:
    return Dialect.get_or_raise(dialect).parser_class.FUNCTIONS  # type: ignore[no-any-return]


def _owners(name: str) -> list[str]:
    return [d for d in ("sqlite", "postgres", "mysql", "duckdb") if name in _dialect_functions(d)]


def build_function(name: str, args: list[exp.Expression], dialect: str) -> exp.Expression:
    """The sqlglot node for ``name(args)`` in ``dialect`` (``name`` is upper case)."""
    portable = PORTABLE.get(name)
    if portable is not None:
        return portable(args, dialect)
    only = ONLY_ON.get(name)
    if only is not None and dialect not in only:
        raise UnsupportedError(f"{name.lower()}()", dialect,
                               f"a function of {', '.join(sorted(only))} only")
    if name in _SHARED:
        return _from_catalogue(name, args, None)
    if "." in name:
        return _anon(name, *args)
    if name in _dialect_functions(dialect):
        return _from_catalogue(name, args, dialect)
    owners = _owners(name)
    if owners:
        raise UnsupportedError(f"{name.lower()}()", dialect,
                               f"a function of {', '.join(owners)} only")
    return _anon(name, *args)


def _from_catalogue(name: str, args: list[exp.Expression], dialect: str | None) -> exp.Expression:
    try:
        node: exp.Expression = exp.func(name, *args, copy=False, dialect=dialect)  # type: ignore[assignment]
    except (ValueError, TypeError, IndexError) as e:
        raise CompileError(f"{name.lower()}(): {e}") from None
    for key in _KEYWORD_ARGS.get(type(node), ("unit",)):
        if key in node.arg_types and _from_arguments(node.args.get(key), args):
            raise CompileError(
                f"{name.lower()}(): the {'part' if key == 'this' else 'unit'} of "
                f"{name.upper()} is an SQL keyword, not a value or a column; use "
                "func.date_diff(unit, start, end), func.date_trunc(unit, value) or "
                "extract(part, value), which take it as a string on every engine (their "
                "argument order is the same everywhere), or arithmetic with a timedelta")
    return node


#: The arguments of a catalogue function that take a keyword (a date part or unit): one of the
#: call's own arguments there would be bound as a value, or written as text. ``unit`` otherwise.
_KEYWORD_ARGS: dict[type[exp.Expression], tuple[str, ...]] = {exp.Extract: ("this",)}


def _from_arguments(arg: exp.Expression | None, args: list[exp.Expression]) -> bool:
    """Whether ``arg`` holds one of the call's arguments: a bound value, a column or more."""
    if arg is None:
        return False
    if any(arg is given for given in args):
        return True
    return any(isinstance(node, exp.Column) or "__aqp" in node.name.lower()
               for node in arg.walk())
