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
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import uuid
from collections.abc import Sequence
from math import isnan
from operator import itemgetter, ne
from typing import Any

from .errors import ValidationError

__all__ = ["NO_FORM", "nan_error", "refuse_nan", "refuse_nan_in_rows", "stored_form"]

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


def nan_error(model: Any, field: str, index: int | None = None) -> ValidationError:
    """The error for a NaN about to be written to ``model.field`` (in batch row ``index``)."""
    where = f"row {index}: " if index is not None else ""
    return ValidationError(
        f"{where}{model.__name__}.{field} is NaN, which SQLite cannot store (it would keep NULL "
        "in its place); write None for a missing value", index=index, field=field)


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
