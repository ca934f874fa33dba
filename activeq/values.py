"""How Python values SQLite has no type for are stored: the one canonical form of each.

Bound parameters, JSON arrays of IN lists and paging cursors all use it, so a value compares
equal to what was stored whichever way it reached the database.

One float has no stored form at all: SQLite stores NULL in place of NaN, so a NaN written would
come back as None. Writes refuse it instead (``refuse_nan``, ``refuse_nan_in_rows``); infinities
are stored and read back as they are.

>>> import datetime, decimal
>>> stored_form(datetime.datetime(2024, 5, 1, 12, 30))
'2024-05-01 12:30:00'
>>> stored_form(decimal.Decimal('1.50'))
'1.50'
>>> stored_form(object()) is NO_FORM
True
>>> unstorable_reason(2 ** 64)
"integer 18446744073709551616 is outside SQLite's 64-bit range"
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import uuid
from collections.abc import Iterable, Sequence
from math import isnan
from operator import itemgetter, ne
from typing import Any, NoReturn

from .errors import ValidationError, ValueOutOfRangeError

__all__ = ["INT64_MAX", "INT64_MIN", "NO_FORM", "nan_error", "raise_unbindable",
           "raise_unbindable_row", "refuse_nan", "refuse_nan_in_rows", "stored_form",
           "unstorable_error", "unstorable_reason"]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

NO_FORM: Any = object()
"""Returned by ``stored_form`` for a value it has no stored form for."""


def stored_form(value: Any) -> Any:
    """Datetimes, dates and times as ISO text, decimals and UUIDs as text, enums as their value."""
    if isinstance(value, _dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return NO_FORM


def unstorable_reason(value: Any) -> str | None:
    """Why SQLite cannot store ``value`` as given (an integer beyond 64 bits, text with a lone
    surrogate), or None when it can."""
    if isinstance(value, int) and not isinstance(value, bool):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        digits = str(value) if value.bit_length() < 200 else f"of {value.bit_length()} bits"
        return f"integer {digits} is outside SQLite's 64-bit range"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            return (f"text holds a lone surrogate {value[e.start]!r} at position {e.start}, "
                    "which UTF-8 cannot store")
    return None


def unstorable_error(values: Iterable[Any], names: Iterable[str] | None = None, *,
                     where: str = "", index: int | None = None) -> ValidationError | None:
    """The error for the first value SQLite cannot store, or None when every value can be.

    Called after the driver refused to bind (``OverflowError``, ``UnicodeEncodeError``):
    ``names`` label the values (field names), ``where`` starts the message
    (``"invalid User: "``), ``index`` is the row of a batch.
    """
    labels = list(names) if names is not None else None
    for i, value in enumerate(values.values() if isinstance(values, dict) else values):
        reason = unstorable_reason(value)
        if reason is None:
            continue
        field = labels[i] if labels is not None and i < len(labels) else None
        if field is None and isinstance(values, dict):
            field = str(list(values)[i])
        row = f"row {index}: " if index is not None else ""
        label = f"{field}: " if field is not None else f"parameter {i + 1}: "
        cls = ValueOutOfRangeError if isinstance(value, int) else ValidationError
        return cls(f"{row}{where}{label}{reason}", index=index, field=field)
    return None


def raise_unbindable(error: Exception, values: Any, *,
                     where: str = "cannot bind ",
                     names: Iterable[str] | None = None, index: int | None = None) -> NoReturn:
    """Raise the ValidationError for the value that made the driver refuse to bind
    (``error``: OverflowError, UnicodeEncodeError), or ``error`` itself when none explains it.
    """
    found = unstorable_error(values, names, where=where, index=index)
    if found is None:
        raise error
    raise found from error


def raise_unbindable_row(error: Exception, rows: Sequence[Any], names: Iterable[str], *,
                         where: str, positions: Sequence[int]) -> NoReturn:
    """``raise_unbindable`` for a batch: the first row holding such a value, by its index."""
    names = list(names)
    for row, index in zip(rows, positions):
        found = unstorable_error(row, names, where=where, index=index)
        if found is not None:
            raise found from error
    raise error


def nan_error(model: Any, field: str, index: int | None = None) -> ValidationError:
    """The error for a NaN about to be written to ``model.field`` (in batch row ``index``)."""
    where = f"row {index}: " if index is not None else ""
    return ValidationError(
        f"{where}{model.__name__}.{field} is NaN, which activeq stores on no engine (SQLite "
        "would keep NULL in its place); write None for a missing value", index=index, field=field)


def refuse_nan(model: Any, names: Sequence[str], values: Sequence[Any],
               index: int | None = None) -> None:
    """Raise ``nan_error`` for the first NaN among one row's ``values`` (named by ``names``).

    Only NaN differs from itself, so one pass of ``!=`` in C clears a row without NaN.
    """
    if any(map(ne, values, values)):
        for name, value in zip(names, values):
            if isinstance(value, float) and isnan(value):
                raise nan_error(model, name, index)


def refuse_nan_in_rows(model: Any, names: Sequence[str], rows: Sequence[dict[str, Any]],
                       base: int = 0, positions: Sequence[int] | None = None) -> None:
    """Raise ``nan_error`` for the first NaN in float columns ``names`` of validated ``rows``
    (dicts holding every name). Rows are numbered ``base + i``, or ``positions[i]`` when given.
    """
    for name in names:
        # A NaN makes the column's sum NaN (so do +inf and -inf together: then the exact scan
        # finds nothing); summing floats runs in C. filter(None) drops the None values.
        total = sum(filter(None, map(itemgetter(name), rows)), 0.0)
        if total != total:
            for i, row in enumerate(rows):
                value = row.get(name)
                if isinstance(value, float) and isnan(value):
                    raise nan_error(model, name, positions[i] if positions is not None else base + i)
