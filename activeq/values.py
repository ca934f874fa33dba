"""How Python values SQLite has no type for are stored: the one canonical form of each.

Bound parameters, JSON arrays of IN lists and paging cursors all use it, so a value compares
equal to what was stored whichever way it reached the database.

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
from typing import Any

__all__ = ["NO_FORM", "stored_form"]

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
