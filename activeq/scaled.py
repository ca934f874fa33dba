"""Exact decimals on SQLite: operands brought to one form before SQL combines them.

SQLite has no exact decimal type, so a ``Decimal`` field declared with ``decimal_places=p`` is
stored there as an INTEGER holding ``value * 10**p`` (``types.DecimalType``). A stored value is
right on its own: in sums, in ORDER BY and compared with a bound value (which is scaled the same
way). SQL that combines it with anything else would read the scaled integer as the number, so
the compiler asks here for the form each operand must take:

- **exact**: every operand is an exact number (a scaled Decimal or an integer). Each is brought
  to the largest scale among them by multiplying it up, so integers stay exact.
- **float**: a float takes part, or a function that knows nothing of the scale reads the value.
  A scaled Decimal is divided back into a float (``CAST(x AS REAL) / 10**p``), as it would be
  compared in Python with a float.

Other engines store exact decimals natively, and their operands are left as they are.

>>> from activeq.types import decimal_type, INT, FLOAT
>>> common_form([decimal_type(10, 2), INT])
('exact', 2)
>>> common_form([decimal_type(10, 2), decimal_type(10, 3)])
('exact', 3)
>>> common_form([decimal_type(10, 2), FLOAT])
('float', 0)
>>> common_form([INT, FLOAT]) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from . import types as t

__all__ = ["as_float", "common_form", "exact_type", "in_form", "round_to_places", "to_places"]

_REAL = exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="REAL")


def _places(kind: Any) -> int | None:
    """The scale of an exact operand (0 for an integer); None for anything else."""
    if isinstance(kind, t.DecimalType):
        return kind.places
    if isinstance(kind, t.IntType):
        return 0
    return None


def _scaled(kind: Any) -> bool:
    return isinstance(kind, t.DecimalType) and kind.places > 0


def common_form(kinds: Sequence[Any]) -> tuple[str, int] | None:
    """How operands of these types combine on SQLite: ``("exact", places)``, ``("float", 0)``,
    or None when no operand is a scaled Decimal (nothing to do). Unknown types (None) and
    bound values take no part: a bound value is converted to the form chosen."""
    if not any(_scaled(kind) for kind in kinds):
        return None
    exact = [_places(kind) for kind in kinds if kind is not None]
    if any(places is None for places in exact):
        return ("float", 0) if any(isinstance(kind, t.FloatType) for kind in kinds) else None
    return ("exact", max(p for p in exact if p is not None))


def to_places(expr: exp.Expression, kind: Any, places: int) -> exp.Expression:
    """``expr`` (an exact operand of type ``kind``) as an integer scaled by ``10**places``."""
    have = _places(kind)
    if have is None or have >= places:
        return expr
    return exp.Paren(this=exp.Mul(this=_paren(expr),
                                  expression=exp.Literal.number(10 ** (places - have))))


def as_float(expr: exp.Expression, kind: Any) -> exp.Expression:
    """``expr`` as the number it stands for: a scaled Decimal divided back into a float."""
    if not _scaled(kind):
        return expr
    return exp.Paren(this=exp.Div(this=exp.Cast(this=expr, to=_REAL.copy()),
                                  expression=exp.Literal.number(10 ** kind.places), typed=True))


def in_form(expr: exp.Expression, kind: Any, form: tuple[str, int] | None) -> exp.Expression:
    """``expr`` brought to ``form`` (a result of ``common_form``)."""
    if form is None:
        return expr
    if form[0] == "exact":
        return to_places(expr, kind, form[1])
    return as_float(expr, kind)


def round_to_places(expr: exp.Expression, kind: Any, places: int) -> exp.Expression:
    """``expr`` (exact, of type ``kind``) stored at ``places``: multiplied up when it has fewer,
    rounded half away from zero (as PostgreSQL and DuckDB store NUMERIC) when it has more."""
    have = _places(kind)
    if have is None or have <= places:
        return to_places(expr, kind, places)
    step = 10 ** (have - places)
    # Integer division truncates toward zero in SQLite, so adding half a step away from zero
    # first rounds half away from zero, exactly.
    half = exp.Case(ifs=[exp.If(this=exp.LT(this=_paren(expr.copy()), expression=exp.Literal.number(0)),
                                true=exp.Literal.number(-(step // 2)))],
                    default=exp.Literal.number(step // 2))
    return exp.Paren(this=exp.Div(this=exp.Paren(this=exp.Add(this=_paren(expr), expression=half)),
                                  expression=exp.Literal.number(step), typed=True))


def exact_type(form: tuple[str, int] | None, kinds: Sequence[Any]) -> Any:
    """The Decimal type a value of ``form`` is stored as (its bind conversion scales a bound
    value the same way), or None when ``form`` is not exact."""
    if form is None or form[0] != "exact":
        return None
    digits = max((k.max_digits - k.places for k in kinds if isinstance(k, t.DecimalType)), default=18)
    return t.decimal_type(digits + form[1], form[1])


def _paren(expr: exp.Expression) -> exp.Expression:
    if isinstance(expr, (exp.Column, exp.Literal, exp.Paren, exp.Var, exp.Anonymous, exp.Func)):
        return expr
    return exp.Paren(this=expr)
