"""SQL types: one per field and per expression.

A type is resolved once, when a model class is created (``column_type``), and owns:

* its column DDL in each dialect (``ddl``) and its name in ``CAST`` (``cast_name``);
* the conversion of a Python value to the form the driver stores (``bind``) and back
  (``result``), each per dialect and ``None`` when the driver's own value is already right, so
  plain int, str and float columns cost nothing per value;
* the check of a value compared with a column when the expression is built (``check``), and the
  operators the type takes (``arith_operand``).

Stored forms are chosen so that SQL equality and ordering agree with Python's. On SQLite:

=====================  ==============================================================
type                   stored as
=====================  ==============================================================
``Decimal(p, s)``      INTEGER, the value times 10**s (p <= 18); exact, and sums exactly
``datetime``           fixed-width ISO text ``YYYY-MM-DD HH:MM:SS.ffffff``; an aware value of
                       a plain ``datetime`` field is stored as its UTC time, one of an
                       ``AwareDatetime`` field also keeps a ``+00:00`` suffix
``date`` / ``time``    fixed-width ISO text (``time`` with microseconds)
``timedelta``          INTEGER microseconds
``UUID``               canonical lower-case text (its order is the UUIDs' order)
``bool``               0 / 1
``Enum``               its value (an ``IntEnum`` as INTEGER, a ``str`` enum as TEXT)
JSON                   canonical JSON text (sorted keys, no spaces)
=====================  ==============================================================

DuckDB and PostgreSQL use their native types (DECIMAL, TIMESTAMP, TIMESTAMPTZ for
``pydantic.AwareDatetime``, INTERVAL, UUID, JSON/JSONB).

>>> from decimal import Decimal
>>> price = decimal_type(12, 2)
>>> price.ddl('sqlite'), price.ddl('postgres')
('INTEGER', 'NUMERIC(12, 2)')
>>> price.bind('sqlite')(Decimal('19.99')), price.result('sqlite')(1999)
(1999, Decimal('19.99'))
>>> INT.bind('sqlite') is None and INT.result('sqlite') is None
True
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import itertools
import json
import math
import types as _pytypes
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Literal, Union

import annotated_types
import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticSerializationError

from . import ast as a
from . import expressions as x
from .errors import ColumnTypeError, ValidationError, ValueOutOfRangeError

__all__ = [
    "ANY",
    "AWARE_DATETIME",
    "BOOL",
    "BYTES",
    "DATE",
    "DATETIME",
    "FLOAT",
    "INT",
    "NAIVE_DATETIME",
    "TEXT",
    "TIME",
    "TIMEDELTA",
    "UUID",
    "Converter",
    "SQLType",
    "cast_type",
    "column_type",
    "common_type",
    "decimal_type",
    "expr_type",
    "row_converter",
]

Converter = Callable[[Any], Any]

DIALECTS = ("sqlite", "postgres", "mysql", "duckdb")

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_UTC = _dt.UTC
_TOKENS = itertools.count(1)


def _where(column: Any) -> str:
    """How an error names a column: ``User.age`` for a column reference, else its text."""
    model = getattr(column, "model", None)
    name = getattr(column, "name", None)
    if model is not None and name is not None:
        return f"{model.__name__}.{name}"
    return str(column)


def _refuse(column: Any, value: Any, wanted: str) -> ValidationError:
    return ValidationError(
        f"{_where(column)} is {wanted}: cannot compare it with {value!r} "
        f"({type(value).__name__})",
        field=getattr(column, "name", None),
    )


class SQLType:
    """The SQL side of one Python type (see the module docstring).

    Subclasses set the class attributes and override the ``_bind``/``_result`` factories;
    the public ``bind``/``result`` cache one converter per dialect.
    """

    name = "any"
    """Short name used in messages."""
    python_type: Any = object
    accepts: frozenset[type] = frozenset()
    """Exact Python types a compared value may have without a check (the fast path)."""
    numeric = False
    text = False
    temporal: str | None = None
    """``"date"``, ``"datetime"`` or ``"time"`` for temporal types."""
    json = False
    textual = False
    """Its values are text: LIKE and its helpers apply."""
    signed = False
    """Unary minus applies (numbers and durations)."""
    int_operand = False
    """``+ - * /`` take an int operand as it is: ``arith_operand`` returns it unchecked."""
    boolean = False
    """A column of this type is a condition on its own (``&``, ``|`` and ``~`` take it)."""

    def __init__(self) -> None:
        self.key: Any = self.name
        """Part of a column's shape key: a hashable of strings and ints."""
        self._binds: dict[str, Converter | None] = {}
        self._results: dict[str, Converter | None] = {}

    # DDL ---------------------------------------------------------------------------------
    def ddl(self, dialect: str) -> str:
        """The column type name in ``dialect``."""
        raise NotImplementedError

    def cast_name(self, dialect: str) -> str:
        """The type name in ``CAST(x AS ...)`` for ``dialect``."""
        return self.ddl(dialect)

    # conversions -------------------------------------------------------------------------
    def bind(self, dialect: str) -> Converter | None:
        """Python value -> the driver's stored form in ``dialect`` (None: no conversion)."""
        try:
            return self._binds[dialect]
        except KeyError:
            conv = self._binds[dialect] = self._bind(dialect)
            return conv

    def result(self, dialect: str) -> Converter | None:
        """The driver's value in ``dialect`` -> the Python value (None: no conversion)."""
        try:
            return self._results[dialect]
        except KeyError:
            conv = self._results[dialect] = self._result(dialect)
            return conv

    def compare_bind(self, dialect: str, op: str) -> Converter | None:
        """How a value compared with ``op`` against this type is bound (default: ``bind``)."""
        return self.bind(dialect)

    def _bind(self, dialect: str) -> Converter | None:
        return None

    def _result(self, dialect: str) -> Converter | None:
        return None

    # expressions -------------------------------------------------------------------------
    def check(self, value: Any, column: Any) -> Any:
        """The value to bind for a comparison with ``column``; ValidationError if it cannot be."""
        return value

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        """Check the other operand of ``column <op> value``; returns the value to bind."""
        raise ValidationError(
            f"{_where(column)} ({self.name}) takes no {op!r} operator",
            field=getattr(column, "name", None))

    def __repr__(self) -> str:
        return f"<SQL type {self.key!r}>"


# numbers ------------------------------------------------------------------------------------
def _finite(value: Any, column: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        raise ValidationError(f"{_where(column)}: NaN compares with nothing; use is_null() or a number",
                              field=getattr(column, "name", None))
    return value


def _int64(value: int, column: Any, integers: bool = True) -> int:
    """``value`` when it fits the signed 64 bits every engine binds; else ValueOutOfRangeError.

    ``integers`` False: the column holds other numbers, and a float would do.
    """
    if not INT64_MIN <= value <= INT64_MAX:
        if integers:
            text = f"{_where(column)} holds 64-bit integers: {value} is out of range"
        else:
            text = (f"{_where(column)}: the int {value} is out of the 64-bit range a value is "
                    "bound in; pass a float")
        raise ValueOutOfRangeError(text, field=getattr(column, "name", None))
    return value


def _numeric_operand(sqltype: SQLType, op: str, value: Any, column: Any) -> Any:
    if op not in ("+", "-", "*", "/", "%"):
        return SQLType.arith_operand(sqltype, op, value, column)
    if op == "%":
        return _remainder_operand(sqltype, value, column)
    if isinstance(value, a.Expr):
        if op == "/" and isinstance(expr_type(value), DecimalType):
            raise ValidationError(
                f"{_where(column)} / an exact Decimal: '/' has no exact result in SQL; compute "
                "it in Python or cast the Decimal to float", field=getattr(column, "name", None))
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _int64(value, column, integers=isinstance(sqltype, IntType))
    if isinstance(value, (float, decimal.Decimal)):
        return _finite(value, column)
    raise _refuse(column, value, f"{sqltype.name}, a number")


def _remainder_operand(sqltype: SQLType, value: Any, column: Any) -> Any:
    # % is exact and the same on every engine for integers only: SQLite's % truncates floats
    # to integers and PostgreSQL has none for double precision. Its sign is the dividend's, as
    # in SQL (Python's % takes the divisor's).
    if not isinstance(sqltype, IntType):
        raise ValidationError(
            f"{_where(column)} is a {sqltype.name}: % takes integer columns only (SQLite's % "
            "truncates to integers, PostgreSQL has none for floats); compute it in Python",
            field=getattr(column, "name", None))
    if isinstance(value, a.Expr):
        if isinstance(expr_type(value), (IntType, AnyType)) or expr_type(value) is None:
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return sqltype.check(value, column)
    raise ValidationError(f"{_where(column)} % takes an integer, not {value!r}",
                          field=getattr(column, "name", None))


class IntType(SQLType):
    """A 64-bit integer."""

    name = "int"
    python_type = int
    accepts = frozenset((int,))
    numeric = True
    signed = True
    int_operand = True

    def ddl(self, dialect: str) -> str:
        return "INTEGER" if dialect == "sqlite" else "BIGINT"

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, bool) or isinstance(value, enum.Enum):
            return value.value if isinstance(value, enum.Enum) else int(value)
        if isinstance(value, int):
            return _int64(value, column)
        if isinstance(value, (float, decimal.Decimal)):
            return _finite(value, column)
        raise _refuse(column, value, "an integer")

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        return _numeric_operand(self, op, value, column)


class FloatType(SQLType):
    """A double-precision float."""

    name = "float"
    python_type = float
    accepts = frozenset((int,))  # a float goes through check(), which refuses NaN
    numeric = True
    signed = True
    int_operand = True

    def ddl(self, dialect: str) -> str:
        return {"sqlite": "REAL", "postgres": "DOUBLE PRECISION"}.get(dialect, "DOUBLE")

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return _int64(value, column, integers=False)
        if isinstance(value, float):
            return _finite(value, column)
        if isinstance(value, decimal.Decimal):
            return float(value)
        raise _refuse(column, value, "a float")

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        return _numeric_operand(self, op, value, column)


def _to_bool(value: Any) -> Any:
    return value if value is None else bool(value)


class BoolType(SQLType):
    """A boolean: BOOLEAN where the database has one, 0/1 on SQLite."""

    name = "bool"
    python_type = bool
    accepts = frozenset((bool,))
    boolean = True

    def ddl(self, dialect: str) -> str:
        return "BOOLEAN"

    def _result(self, dialect: str) -> Converter | None:
        return _to_bool if dialect in ("sqlite", "mysql") else None

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise _refuse(column, value, "a bool")


class DecimalType(SQLType):
    """An exact decimal with ``max_digits`` digits, ``decimal_places`` of them after the point.

    On SQLite it is an INTEGER holding the value times ``10**decimal_places``: equality,
    ordering and sums are exact. That holds up to 18 digits; more are refused on SQLite.
    """

    name = "Decimal"
    python_type = decimal.Decimal
    numeric = True
    signed = True
    SQLITE_MAX_DIGITS = 18

    def __init__(self, max_digits: int, decimal_places: int) -> None:
        super().__init__()
        self.max_digits = max_digits
        self.places = decimal_places
        self.key = ("dec", max_digits, decimal_places)
        self.unit = decimal.Decimal(1).scaleb(-decimal_places)

    def _scaled_ok(self, dialect: str) -> None:
        if dialect in ("sqlite",) and self.max_digits > self.SQLITE_MAX_DIGITS:
            raise ColumnTypeError(
                f"Decimal(max_digits={self.max_digits}, decimal_places={self.places}) has more "
                f"digits than SQLite can store exactly (at most {self.SQLITE_MAX_DIGITS}, as a "
                f"scaled INTEGER): declare Field(max_digits=..., decimal_places=...) with "
                f"max_digits <= {self.SQLITE_MAX_DIGITS}")
        if dialect == "duckdb" and self.max_digits > 38:
            raise ColumnTypeError(
                f"Decimal(max_digits={self.max_digits}) exceeds DuckDB's 38 digits: declare "
                "Field(max_digits=..., decimal_places=...) with max_digits <= 38")

    def ddl(self, dialect: str) -> str:
        self._scaled_ok(dialect)
        if dialect == "sqlite":
            return "INTEGER"
        name = "NUMERIC" if dialect == "postgres" else "DECIMAL"
        return f"{name}({self.max_digits}, {self.places})"

    def cast_name(self, dialect: str) -> str:
        return self.ddl(dialect)

    def _scale(self, value: Any) -> int:
        # Exact: the validated value has at most ``places`` digits after the point.
        scaled = decimal.Decimal(value).scaleb(self.places)
        integral = scaled.to_integral_value()
        if integral != scaled:
            raise ValidationError(
                f"{value} has more than {self.places} decimal places")
        return int(integral)

    def _bind(self, dialect: str) -> Converter | None:
        self._scaled_ok(dialect)
        if dialect != "sqlite":
            return None
        scale = self._scale

        def to_scaled(value: Any) -> Any:
            return value if value is None else scale(value)

        return to_scaled

    def _result(self, dialect: str) -> Converter | None:
        self._scaled_ok(dialect)
        if dialect == "sqlite":
            places = -self.places

            def from_scaled(value: Any) -> Any:
                if value is None:
                    return None
                if isinstance(value, float):
                    # An aggregate other than SUM (AVG of scaled integers) is a float.
                    return decimal.Decimal(repr(value)).scaleb(places)
                return decimal.Decimal(value).scaleb(places)

            return from_scaled
        if dialect == "mysql":
            return None

        def to_decimal(value: Any) -> Any:
            return value if value is None or isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))

        return to_decimal

    def compare_bind(self, dialect: str, op: str) -> Converter | None:
        if dialect != "sqlite":
            return self.bind(dialect)
        self._scaled_ok(dialect)
        factor = self.places

        def compared(value: Any) -> Any:
            if value is None:
                return None
            exact = decimal.Decimal(value).scaleb(factor)  # exact for int, float, Decimal
            if exact == exact.to_integral_value():
                return int(exact)
            # A value between two stored steps: the nearest step on the side that keeps the
            # comparison's answer; = never holds and <> always does.
            if op in ("<", ">="):
                return int(exact.to_integral_value(decimal.ROUND_CEILING))
            if op in ("<=", ">"):
                return int(exact.to_integral_value(decimal.ROUND_FLOOR))
            return None if op == "=" else "not a stored value"

        return compared

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, (int, decimal.Decimal, float)) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise _refuse(column, value, "an exact Decimal")
            if isinstance(value, decimal.Decimal) and not value.is_finite():
                raise _refuse(column, value, "an exact Decimal")
            return value
        raise _refuse(column, value, "a Decimal")

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        where = _where(column)
        if op in ("+", "-"):
            if isinstance(value, a.Expr):
                other = expr_type(value)
                if isinstance(other, DecimalType) and other.places != self.places:
                    raise ValidationError(
                        f"{where} {op} a Decimal of {other.places} places: both sides need "
                        f"{self.places} decimal places to add exactly")
                return value
            value = self.check(value, column)
            exact = decimal.Decimal(value).scaleb(self.places)
            if exact != exact.to_integral_value():
                raise ValidationError(f"{where} has {self.places} decimal places: {value} has more")
            return value
        if op == "*":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, a.Expr) and isinstance(expr_type(value), IntType):
                return value
            raise ValidationError(
                f"{where} is an exact Decimal: multiply it by an integer only (got {value!r})")
        raise ValidationError(
            f"{where} is an exact Decimal: {op!r} has no exact result in SQL; "
            "compute it in Python or cast the column to float")


def decimal_type(max_digits: int, decimal_places: int) -> DecimalType:
    """The exact decimal type ``NUMERIC(max_digits, decimal_places)``."""
    return DecimalType(max_digits, decimal_places)


class _FloatResult(FloatType):
    """A float on every engine where PostgreSQL gives NUMERIC: AVG of integers or decimals,
    ROUND of a float (the compiler reads a decimal stored scaled on SQLite as its number)."""

    def __init__(self) -> None:
        super().__init__()
        self.key = "float result"

    def _result(self, dialect: str) -> Converter | None:
        if dialect == "sqlite":
            return None
        return lambda v: v if v is None else float(v)


_FLOAT_RESULT = _FloatResult()


# text and bytes ------------------------------------------------------------------------------
class TextType(SQLType):
    """Text, VARCHAR(n) when a ``max_length`` is declared."""

    name = "str"
    python_type = str
    accepts = frozenset((str,))
    text = True
    textual = True

    def __init__(self, max_length: int | None = None) -> None:
        super().__init__()
        self.max_length = max_length
        if max_length is not None:
            self.key = ("str", max_length)

    def ddl(self, dialect: str) -> str:
        if self.max_length is not None:
            return f"VARCHAR({self.max_length})"
        return "TEXT"

    def cast_name(self, dialect: str) -> str:
        return "CHAR" if dialect == "mysql" else "TEXT"

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, str):
            return value.value if isinstance(value, enum.Enum) else value
        raise _refuse(column, value, "text")

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        if op != "+":
            return SQLType.arith_operand(self, op, value, column)
        if isinstance(value, a.Expr):
            return value
        return self.check(value, column)


class BytesType(SQLType):
    """Binary data."""

    name = "bytes"
    python_type = bytes
    accepts = frozenset((bytes,))

    def ddl(self, dialect: str) -> str:
        return {"postgres": "BYTEA", "mysql": "LONGBLOB"}.get(dialect, "BLOB")

    def _bind(self, dialect: str) -> Converter | None:
        return None

    def _result(self, dialect: str) -> Converter | None:
        if dialect == "sqlite":
            return None
        return lambda v: v if v is None or type(v) is bytes else bytes(v)

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        raise _refuse(column, value, "bytes")


# dates and times -----------------------------------------------------------------------------
def _iso_date(value: Any) -> Any:
    return value if value is None else value.isoformat()


def _iso_time(value: Any) -> Any:
    return value if value is None else value.isoformat("microseconds")


def _iso_aware(value: Any) -> Any:
    # Fixed width, so text order is time order; aware values as UTC with a +00:00 suffix.
    if value is None:
        return None
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(_UTC).isoformat(" ", "microseconds")
    return value.isoformat(" ", "microseconds")


def _iso_naive(value: Any) -> Any:
    # A plain datetime column holds naive text: an aware value is written as its UTC time.
    if value is None:
        return None
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


def _utc_naive(value: Any) -> Any:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(_UTC).replace(tzinfo=None)


def _utc_aware(value: Any) -> Any:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(_UTC)


def _read_date(value: Any) -> Any:
    return _dt.date.fromisoformat(value) if isinstance(value, str) else value


def _read_time(value: Any) -> Any:
    return _dt.time.fromisoformat(value) if isinstance(value, str) else value


def _read_naive(value: Any) -> Any:
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if value is not None and value.tzinfo is not None:
        # Text another writer left with an offset: the same instant, as UTC time.
        return value.astimezone(_UTC).replace(tzinfo=None)
    return value


def _read_aware(value: Any) -> Any:
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def _parse(parse: Callable[[str], Any], text: str, column: Any, wanted: str) -> Any:
    # ISO text is taken for dates and times, as pydantic takes it when validating a field.
    try:
        return parse(text)
    except ValueError:
        raise _refuse(column, text, f"{wanted} (ISO text is taken)") from None


class DateType(SQLType):
    """A calendar date."""

    name = "date"
    python_type = _dt.date
    temporal = "date"

    def ddl(self, dialect: str) -> str:
        return "DATE"

    def _bind(self, dialect: str) -> Converter | None:
        return _iso_date if dialect == "sqlite" else None

    def _result(self, dialect: str) -> Converter | None:
        return _read_date if dialect == "sqlite" else None

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, str):
            value = _parse(_dt.date.fromisoformat, value, column, "a date")
        if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
            return value
        raise _refuse(column, value, "a date")

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        return _shift_operand(self, op, value, column)


class TimeType(SQLType):
    """A time of day (microseconds kept)."""

    name = "time"
    python_type = _dt.time
    temporal = "time"

    def ddl(self, dialect: str) -> str:
        return "TIME(6)" if dialect == "mysql" else "TIME"

    def _bind(self, dialect: str) -> Converter | None:
        return _iso_time if dialect == "sqlite" else None

    def _result(self, dialect: str) -> Converter | None:
        if dialect == "sqlite":
            return _read_time
        if dialect == "mysql":
            # MySQL drivers return TIME as a timedelta since midnight.
            return lambda v: (_dt.datetime.min + v).time() if isinstance(v, _dt.timedelta) else v
        return None

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, str):
            value = _parse(_dt.time.fromisoformat, value, column, "a time")
        if isinstance(value, _dt.time):
            return value
        raise _refuse(column, value, "a time")


class DateTimeType(SQLType):
    """A timestamp: naive, aware (``pydantic.AwareDatetime``), or either (plain ``datetime``).

    An ``AwareDatetime`` field is TIMESTAMPTZ (on SQLite, UTC text with a ``+00:00`` suffix):
    values are stored in UTC, compared by instant, and come back aware, in UTC.

    A plain ``datetime`` field is TIMESTAMP, a column without a time zone, on every engine.
    Naive values round-trip as they are. An aware value given to it is stored as its UTC
    time, so SQL compares and sorts by instant, and comes back naive (that UTC time), the same
    on SQLite, DuckDB and PostgreSQL: a TIMESTAMP column cannot say which rows were aware.
    Annotate ``AwareDatetime`` to get aware values back.
    """

    name = "datetime"
    python_type = _dt.datetime
    temporal = "datetime"

    def __init__(self, aware: bool | None) -> None:
        super().__init__()
        self.aware = aware
        """True: aware values only; False: naive only; None: either."""
        self.key = {None: "datetime", True: "datetime_tz", False: "datetime_naive"}[aware]

    def ddl(self, dialect: str) -> str:
        if dialect == "mysql":
            return "DATETIME(6)"
        return "TIMESTAMPTZ" if self.aware and dialect in ("postgres", "duckdb") else "TIMESTAMP"

    def _bind(self, dialect: str) -> Converter | None:
        if dialect == "sqlite":
            return _iso_aware if self.aware else _iso_naive
        if self.aware and dialect in ("postgres", "duckdb"):
            # In UTC: PostgreSQL refuses offsets past 15:59 in a list (Python allows 23:59).
            return _utc_aware
        return _utc_naive

    def _result(self, dialect: str) -> Converter | None:
        if self.aware:
            return _read_aware
        if dialect == "sqlite":
            return _read_naive
        return None

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, str):
            value = _parse(_dt.datetime.fromisoformat, value, column, "a datetime")
        if not isinstance(value, _dt.datetime):
            raise _refuse(column, value, "a datetime")
        is_aware = value.tzinfo is not None and value.utcoffset() is not None
        if self.aware is not None and is_aware != self.aware:
            raise ValidationError(
                f"{_where(column)} holds {'aware' if self.aware else 'naive'} datetimes: cannot "
                f"compare it with the {'aware' if is_aware else 'naive'} {value!r}",
                field=getattr(column, "name", None))
        return value

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        return _shift_operand(self, op, value, column)


def _shift_operand(sqltype: SQLType, op: str, value: Any, column: Any) -> Any:
    if op not in ("+", "-"):
        return SQLType.arith_operand(sqltype, op, value, column)
    if isinstance(value, a.Expr):
        if isinstance(expr_type(value), TimedeltaType):
            return value
        raise ValidationError(f"{_where(column)} {op} needs a timedelta, not {value!r}")
    if isinstance(value, _dt.timedelta):
        return value
    raise ValidationError(
        f"{_where(column)} is a {sqltype.name}: {op} takes a timedelta, not {value!r}",
        field=getattr(column, "name", None))


_MICRO = _dt.timedelta(microseconds=1)


def _micros(value: Any) -> Any:
    return value if value is None else value // _MICRO


def _from_micros(value: Any) -> Any:
    return value if value is None else _dt.timedelta(microseconds=value)


class TimedeltaType(SQLType):
    """A duration: INTERVAL where the database has one, else INTEGER microseconds."""

    name = "timedelta"
    python_type = _dt.timedelta
    signed = True

    def ddl(self, dialect: str) -> str:
        return {"sqlite": "INTEGER", "mysql": "BIGINT"}.get(dialect, "INTERVAL")

    def _bind(self, dialect: str) -> Converter | None:
        return _micros if dialect in ("sqlite", "mysql") else None

    def _result(self, dialect: str) -> Converter | None:
        return _from_micros if dialect in ("sqlite", "mysql") else None

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, _dt.timedelta):
            return value
        raise _refuse(column, value, "a timedelta")

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        if op not in ("+", "-"):
            return SQLType.arith_operand(self, op, value, column)
        if isinstance(value, a.Expr):
            return value
        return self.check(value, column)


# identifiers, enums, literals ----------------------------------------------------------------
def _uuid_text(value: Any) -> Any:
    return value if value is None else str(value)


def _read_uuid(value: Any) -> Any:
    return uuid.UUID(value) if isinstance(value, str) else value


class UUIDType(SQLType):
    """A UUID: the UUID type where the database has one, canonical text elsewhere."""

    name = "UUID"
    python_type = uuid.UUID

    def ddl(self, dialect: str) -> str:
        return {"sqlite": "TEXT", "mysql": "CHAR(36)"}.get(dialect, "UUID")

    def _bind(self, dialect: str) -> Converter | None:
        return _uuid_text if dialect in ("sqlite", "mysql") else None

    def _result(self, dialect: str) -> Converter | None:
        return _read_uuid

    def check(self, value: Any, column: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
        raise _refuse(column, value, "a UUID")


class EnumType(SQLType):
    """An Enum stored by value: as an integer when every value is one, else as text."""

    name = "Enum"

    def __init__(self, enum_cls: type[enum.Enum], where: str) -> None:
        super().__init__()
        values = [m.value for m in enum_cls]
        self.python_type = enum_cls
        self.enum_cls = enum_cls
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            self.base: SQLType = INT
        elif all(isinstance(v, str) for v in values):
            self.base = TEXT
        else:
            raise ColumnTypeError(
                f"{where}: {enum_cls.__name__} mixes value types; an Enum column stores its "
                "values, which must be all integers or all strings")
        self.name = enum_cls.__name__
        self.key = ("enum", _token(enum_cls))
        self.textual = self.base is TEXT

    def ddl(self, dialect: str) -> str:
        return self.base.ddl(dialect)

    def _bind(self, dialect: str) -> Converter | None:
        def by_value(value: Any) -> Any:
            return value.value if isinstance(value, enum.Enum) else value

        return by_value

    def _result(self, dialect: str) -> Converter | None:
        enum_cls = self.enum_cls

        def to_member(value: Any) -> Any:
            return value if value is None else enum_cls(value)

        return to_member

    def check(self, value: Any, column: Any) -> Any:
        try:
            return self.enum_cls(value)
        except ValueError:
            raise _refuse(column, value, f"a {self.enum_cls.__name__}") from None


class LiteralType(SQLType):
    """``Literal[...]`` of ints, strings or bools: stored as that base type."""

    name = "Literal"

    def __init__(self, values: tuple[Any, ...], where: str) -> None:
        super().__init__()
        self.values = values
        kinds = {bool if isinstance(v, bool) else int if isinstance(v, int) else
                 str if isinstance(v, str) else type(v) for v in values}
        if kinds == {bool}:
            self.base: SQLType = BOOL
        elif kinds == {int}:
            self.base = INT
        elif kinds == {str}:
            self.base = TEXT
        else:
            raise ColumnTypeError(
                f"{where}: Literal{list(values)} mixes value types; a Literal column needs "
                "values of one type (int, str or bool)")
        self.python_type = self.base.python_type
        self.accepts = self.base.accepts
        self.boolean = self.base.boolean
        self.key = ("lit", self.base.key)
        self.textual = self.base is TEXT

    def ddl(self, dialect: str) -> str:
        return self.base.ddl(dialect)

    def _bind(self, dialect: str) -> Converter | None:
        return self.base.bind(dialect)

    def _result(self, dialect: str) -> Converter | None:
        return self.base.result(dialect)

    def check(self, value: Any, column: Any) -> Any:
        return self.base.check(value, column)


# JSON ----------------------------------------------------------------------------------------
_PLAIN_JSON = (dict, list, Any, typing.Any)


def _positional_json(data: Any) -> str:
    """Canonical JSON of ``data`` with floats of 1e16 and more written positionally (``1.0e16``
    as ``10000000000000000.0``)."""
    if isinstance(data, float) and math.isfinite(data) and abs(data) >= 1e16:
        return f"{data:.1f}"
    if isinstance(data, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _positional_json(v)
                              for k, v in sorted(data.items())) + "}"
    if isinstance(data, list):
        return "[" + ",".join(map(_positional_json, data)) + "]"
    return json.dumps(data, ensure_ascii=False, allow_nan=False)


class JSONType(SQLType):
    """``dict``, ``list``, TypedDict, pydantic models and other structures, as JSON.

    TEXT with JSON functions on SQLite, JSONB on PostgreSQL, JSON on DuckDB and MySQL. Stored as
    canonical JSON (sorted keys, no spaces), so whole documents compare by content.
    """

    name = "JSON"
    json = True

    def __init__(self, annotation: Any) -> None:
        super().__init__()
        self.annotation = annotation
        self.python_type = annotation
        self.adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(annotation)
        origin = typing.get_origin(annotation) or annotation
        args = typing.get_args(annotation)
        # Plain containers of JSON values need no validation when read back.
        self.plain = origin in (dict, list) and all(x in (str, Any, typing.Any, int, float, bool) for x in args)
        self.key = "json" if self.plain else ("json", _token(annotation))

    def ddl(self, dialect: str) -> str:
        return {"sqlite": "TEXT", "postgres": "JSONB"}.get(dialect, "JSON")

    def dumps(self, value: Any) -> Any:
        """The canonical JSON text of ``value``."""
        if value is None:
            return None
        try:
            data = self.adapter.dump_python(value, mode="json")
            return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)
        except (ValueError, TypeError, PydanticSerializationError) as e:
            raise ValidationError(f"cannot store {value!r} as JSON: {e}") from e

    def _dumps_jsonb(self, value: Any) -> Any:
        # JSONB keeps numbers as NUMERIC and prints 1e16 back as 10000000000000000, an int:
        # whole floats written with an exponent go in positional form with a ".0" scale, which
        # JSONB keeps, so they come back as the same floats. Only such text takes the slow path.
        text = self.dumps(value)
        if text is None or "e+" not in text:
            return text
        return _positional_json(self.adapter.dump_python(value, mode="json"))

    def _bind(self, dialect: str) -> Converter | None:
        return self._dumps_jsonb if dialect == "postgres" else self.dumps

    def _result(self, dialect: str) -> Converter | None:
        loads = json.loads
        if self.plain:
            if dialect == "postgres":
                return None
            return lambda v: v if v is None else loads(v)
        validate = self.adapter.validate_python
        if dialect == "postgres":
            return lambda v: v if v is None else validate(v)
        return lambda v: v if v is None else validate(loads(v))

    def check(self, value: Any, column: Any) -> Any:
        self.dumps(value)
        return value


class AnyType(SQLType):
    """An expression of unknown type (a computed column of a derived table): values pass as
    they come, compared and combined without a check."""

    name = "any"
    accepts = frozenset((int, float, str, bool, bytes))
    textual = True
    signed = True
    boolean = True

    def ddl(self, dialect: str) -> str:
        return "TEXT"

    def check(self, value: Any, column: Any) -> Any:
        if type(value) is int:
            return _int64(value, column, integers=False)
        return value

    def arith_operand(self, op: str, value: Any, column: Any) -> Any:
        if type(value) is int:
            return _int64(value, column, integers=False)
        return value


ANY = AnyType()


class OpaqueType(SQLType):
    """A type activeq has no SQL form for: TEXT, values bound as they come."""

    name = "opaque"
    textual = True

    def __init__(self, python_type: Any) -> None:
        super().__init__()
        self.python_type = python_type
        self.key = ("opaque", _token(python_type))

    def ddl(self, dialect: str) -> str:
        return "TEXT"


_TOKEN_OF: dict[Any, int] = {}


def _token(obj: Any) -> int:
    # Shape keys hold ints and strings only; classes and annotations get a number each.
    try:
        return _TOKEN_OF[obj]
    except KeyError:
        token = _TOKEN_OF[obj] = next(_TOKENS)
        return token
    except TypeError:  # an unhashable annotation
        return next(_TOKENS)


INT = IntType()
FLOAT = FloatType()
BOOL = BoolType()
TEXT = TextType()
BYTES = BytesType()
DATE = DateType()
TIME = TimeType()
DATETIME = DateTimeType(None)
AWARE_DATETIME = DateTimeType(True)
NAIVE_DATETIME = DateTimeType(False)
TIMEDELTA = TimedeltaType()
UUID = UUIDType()

_SIMPLE: dict[Any, SQLType] = {
    int: INT,
    float: FLOAT,
    bool: BOOL,
    str: TEXT,
    bytes: BYTES,
    _dt.date: DATE,
    _dt.time: TIME,
    _dt.datetime: DATETIME,
    _dt.timedelta: TIMEDELTA,
    uuid.UUID: UUID,
    pydantic.AwareDatetime: AWARE_DATETIME,
    pydantic.NaiveDatetime: NAIVE_DATETIME,
    # pydantic's constrained dates are classes of their own at run time, not Annotated.
    pydantic.PastDatetime: DATETIME,
    pydantic.FutureDatetime: DATETIME,
    pydantic.PastDate: DATE,
    pydantic.FutureDate: DATE,
}


# resolution ----------------------------------------------------------------------------------
def _strip(annotation: Any, metadata: list[Any]) -> Any:
    """Remove Optional and Annotated layers, collecting Annotated metadata."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            for extra in args[1:]:
                if isinstance(extra, FieldInfo):
                    metadata.extend(extra.metadata)
                else:
                    metadata.append(extra)
            annotation = args[0]
            continue
        if origin is Union or origin is _pytypes.UnionType:
            members = [x for x in typing.get_args(annotation) if x is not type(None)]
            if len(members) == 1:
                annotation = members[0]
                continue
        return annotation


def _option(metadata: Sequence[Any], name: str) -> Any:
    for item in metadata:
        value = getattr(item, name, None)
        if value is not None:
            return value
    return None


def column_type(annotation: Any, metadata: Sequence[Any] = (), where: str = "field") -> SQLType:
    """The SQL type of a field annotated ``annotation`` with pydantic ``metadata``.

    Optional and Annotated are looked through; ``max_length``, ``max_digits`` and
    ``decimal_places`` come from the metadata. ``where`` names the field in errors.

    >>> column_type(int | None).key
    'int'
    >>> column_type(str, [annotated_types.MaxLen(20)]).ddl('postgres')
    'VARCHAR(20)'
    """
    meta = list(metadata)
    tp = _strip(annotation, meta)
    if tp is decimal.Decimal:
        digits = _option(meta, "max_digits")
        places = _option(meta, "decimal_places")
        if digits is None or places is None:
            raise ColumnTypeError(
                f"{where}: a Decimal field needs its precision to be stored exactly: declare "
                "Field(max_digits=..., decimal_places=...), e.g. "
                "price: Decimal = Field(max_digits=12, decimal_places=2)")
        return DecimalType(int(digits), int(places))
    if tp is str:
        max_length = _option(meta, "max_length")
        return TextType(max_length) if max_length is not None else TEXT
    if tp is _dt.datetime:
        tz = next((m for m in meta if isinstance(m, annotated_types.Timezone)), None)
        if tz is not None:
            return NAIVE_DATETIME if tz.tz is None else AWARE_DATETIME
        return DATETIME
    simple = _SIMPLE.get(tp) if _hashable(tp) else None
    if simple is not None:
        return simple
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return EnumType(tp, where)
    if typing.get_origin(tp) is Literal:
        return LiteralType(typing.get_args(tp), where)
    if isinstance(tp, type) and issubclass(tp, (bool, int, str, float, bytes)) and not issubclass(tp, enum.Enum):
        for base in (bool, int, float, str, bytes):
            if issubclass(tp, base):
                return _SIMPLE[base]
    return _structured(tp, where)


def _hashable(tp: Any) -> bool:
    try:
        hash(tp)
    except TypeError:
        return False
    return True


def _structured(tp: Any, where: str) -> SQLType:
    try:
        return JSONType(tp)
    except (pydantic.PydanticUserError, pydantic.errors.PydanticUndefinedAnnotation, NameError):
        # Only a model with arbitrary types allowed gets here: keep binding its values as
        # they come (a __mapping__ override usually declares the column).
        return OpaqueType(tp)


def cast_type(python_type: Any) -> SQLType:
    """The SQL type of ``cast(expr, python_type)``: int, float, str, bool, Decimal, date, ...

    A bare ``Decimal`` is NUMERIC without a fixed scale (TEXT-free on every dialect but
    SQLite, where the value comes back through a float: use ``decimal_type`` for exactness).
    """
    if python_type is decimal.Decimal:
        return _UNSCALED
    found = _SIMPLE.get(python_type) if _hashable(python_type) else None
    if found is not None:
        return found
    if isinstance(python_type, SQLType):
        return python_type
    return column_type(python_type, (), f"cast to {python_type!r}")


class _UnscaledDecimal(SQLType):
    """A decimal of no fixed scale, the value of ``cast(x, Decimal)`` or ``round(decimal)``."""

    name = "Decimal"
    python_type = decimal.Decimal
    numeric = True
    signed = True

    def ddl(self, dialect: str) -> str:
        return {"sqlite": "NUMERIC", "postgres": "NUMERIC"}.get(dialect, "DECIMAL(38, 10)")

    def _bind(self, dialect: str) -> Converter | None:
        if dialect != "sqlite":
            return None
        # SQLite computes a NUMERIC value as a float or an integer; a Decimal compared with it
        # is bound as a float (bound as it is, it would be text, which equals no number).
        return lambda v: v if v is None or isinstance(v, int) else float(v)

    def _result(self, dialect: str) -> Converter | None:
        def to_decimal(value: Any) -> Any:
            if value is None or isinstance(value, decimal.Decimal):
                return value
            return decimal.Decimal(repr(value) if isinstance(value, float) else str(value))

        return to_decimal


_UNSCALED = _UnscaledDecimal()

#: The result type of ``cast(expr, T)`` for each target ``activeq.expressions.cast`` names.
_CAST_TARGETS: dict[str, SQLType] = {
    "int": INT, "float": FLOAT, "str": TEXT, "decimal": _UNSCALED, "date": DATE,
    "datetime": DATETIME, "bool": BOOL,
}


# expression types ----------------------------------------------------------------------------
class _PostgresInt(IntType):
    """An int on every engine where PostgreSQL gives NUMERIC or a float: SUM of integers, a
    date part (its EXTRACT), SIGN. A NaN, which only PostgreSQL stores, is left as it is."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def _result(self, dialect: str) -> Converter | None:
        if dialect != "postgres":
            return None
        return lambda v: v if v is None or v != v else int(v)


_INT_RESULT = _PostgresInt("intsum")
_SIGN = _PostgresInt("sign")

#: Result types of functions whose type does not depend on their arguments.
_FUNC_TYPES: dict[str, SQLType] = {
    **dict.fromkeys(("COUNT", "LENGTH", "POSITION", "DATE_DIFF", "ROW_NUMBER", "RANK",
                     "DENSE_RANK", "NTILE"), INT),
    **dict.fromkeys(("LOWER", "UPPER", "TRIM", "LTRIM", "RTRIM", "REPLACE", "SUBSTR",
                     "SUBSTRING", "CONCAT", "CONCAT_WS", "STRFTIME"), TEXT),
    # SQLite has no boolean aggregates: sqlglot writes MIN and MAX of the 0/1 conditions.
    **dict.fromkeys(("BOOL_AND", "BOOL_OR", "LOGICAL_AND", "LOGICAL_OR"), BOOL),
    # Floats on every engine: PostgreSQL computes these in NUMERIC for integer arguments.
    **dict.fromkeys(("SQRT", "EXP", "LN", "LOG", "LOG10", "LOG2", "POWER", "POW", "PI"),
                    _FLOAT_RESULT),
    # Statistics are floats on every engine (NUMERIC on PostgreSQL for integers and decimals).
    **dict.fromkeys(("STDDEV", "STDDEV_SAMP", "STDDEV_POP", "VARIANCE", "VAR_SAMP", "VAR_POP"),
                    _FLOAT_RESULT),
    # Date parts are ints (PostgreSQL writes them as EXTRACT, which gives NUMERIC); DATE(x) is
    # a date (text on SQLite).
    **dict.fromkeys(("YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "DAYOFWEEK", "DAYOFYEAR"),
                    _INT_RESULT),
    "DATE": DATE,
    "PERCENT_RANK": FLOAT,
    "CUME_DIST": FLOAT,
    "DATE_TRUNC": DATETIME,
    "CURRENT_DATE": DATE,
    "CURRENT_TIME": TIME,
    # The moment in UTC, aware: SQLite's text has no offset, the others' is the session's.
    "CURRENT_TIMESTAMP": AWARE_DATETIME,
    "NOW": AWARE_DATETIME,
}


def _func_type(node: a.Func) -> SQLType | None:
    name = node.name
    fixed = _FUNC_TYPES.get(name)
    if fixed is not None:
        return fixed
    first = expr_type(node.args[0]) if node.args else None
    if name in ("COALESCE", "IFNULL", "GREATEST", "LEAST") or (name in ("MIN", "MAX") and len(node.args) > 1):
        return common_type([expr_type(arg) for arg in node.args])
    if name in ("MIN", "MAX", "ABS", "LAG", "LEAD", "FIRST_VALUE", "LAST_VALUE", "NTH_VALUE"):
        return first
    if name == "SUM":
        if first is BOOL or isinstance(first, LiteralType) or isinstance(first, IntType):
            return _INT_RESULT
        return first
    if name == "AVG":
        if isinstance(first, (DecimalType, IntType)):
            return _FLOAT_RESULT
        return FLOAT if first is not None and first.numeric else first
    if name == "NULLIF":
        return first
    if name == "SIGN" and first is not None and first.numeric:
        return _SIGN
    if name in ("ROUND", "FLOOR", "CEIL", "CEILING", "TRUNC"):
        if isinstance(first, (DecimalType, _UnscaledDecimal)):
            return _UNSCALED
        if isinstance(first, FloatType):
            return _FLOAT_RESULT
    return None


def common_type(kinds: Sequence[SQLType | None]) -> SQLType | None:
    """The type of a value that may come from any of ``kinds`` (CASE branches, COALESCE
    arguments): exact decimals and integers give the Decimal with the most places, a float
    among numbers gives float, else the first type known.

    >>> common_type([decimal_type(10, 2), INT, decimal_type(8, 3)])
    <SQL type ('dec', 11, 3)>
    >>> common_type([decimal_type(10, 2), FLOAT]) is FLOAT
    True
    """
    known = [kind for kind in kinds if kind is not None]
    decimals = [kind for kind in known if isinstance(kind, DecimalType)]
    if decimals and all(isinstance(kind, (DecimalType, IntType)) for kind in known):
        places = max(kind.places for kind in decimals)
        widest = max(decimals, key=lambda kind: (kind.places, kind.max_digits))
        digits = max(kind.max_digits - kind.places for kind in decimals)
        if widest.places == places and widest.max_digits - places == digits:
            return widest
        return decimal_type(digits + places, places)
    if decimals and all(kind.numeric for kind in known) and any(isinstance(kind, FloatType) for kind in known):
        return FLOAT
    return known[0] if known else None


def _arith_type(node: a.Arith) -> SQLType | None:
    left = expr_type(node.left)
    right = expr_type(node.right)
    if (left is not None and left.text) or (right is not None and right.text):
        return TEXT if node.op == "+" else None
    if left is not None and left.temporal in ("date", "datetime"):
        return left
    if left is None or right is None:
        return left if right is None else right
    if isinstance(left, TimedeltaType) and isinstance(right, TimedeltaType):
        return left
    if left is FLOAT or right is FLOAT:
        return FLOAT
    if isinstance(left, DecimalType):
        return left
    if isinstance(right, DecimalType):
        return right
    return left


def _subquery_type(node: Any) -> SQLType | None:
    columns = node.query._s["columns"]
    if columns and len(columns) == 1:
        return expr_type(columns[0])
    return None


def _cast_type(node: x.Cast) -> SQLType | None:
    if node.type == "decimal":
        # An exact decimal stays one, with its scale (on SQLite the cast keeps it scaled).
        item_type = expr_type(node.item)
        if isinstance(item_type, DecimalType):
            return item_type
    return _CAST_TARGETS.get(node.type)


def _case_type(node: x.Case) -> SQLType | None:
    branches = [value for _, value in node.whens]
    if node.else_ is not None:
        branches.append(node.else_)
    return common_type([expr_type(value) for value in branches])


def _json_value_type(node: a.JsonPath) -> SQLType | None:
    return None if node.kind is not None else _JSON_VALUE


class _JsonValue(SQLType):
    """The value at a JSON path: JSON text (decoded already by psycopg on PostgreSQL)."""

    name = "JSON value"
    json = True

    def ddl(self, dialect: str) -> str:
        return JSONType.ddl(self, dialect)  # type: ignore[arg-type]

    def _result(self, dialect: str) -> Converter | None:
        if dialect == "postgres":
            return None
        loads = json.loads
        return lambda v: v if v is None else loads(v)


_JSON_VALUE = _JsonValue()

EXPR_TYPES: dict[type, Callable[[Any], SQLType | None]] = {
    a.ColumnRef: lambda n: n.type,
    a.Alias: lambda n: expr_type(n.item),
    a.Func: _func_type,
    a.Arith: _arith_type,
    a.Compare: lambda n: BOOL,
    a.CompareValue: lambda n: BOOL,
    a.BoolOp: lambda n: BOOL,
    a.Not: lambda n: BOOL,
    a.IsNull: lambda n: BOOL,
    a.InList: lambda n: BOOL,
    a.InQuery: lambda n: BOOL,
    a.Like: lambda n: BOOL,
    a.Between: lambda n: BOOL,
    a.Exists: lambda n: BOOL,
    a.SubqueryExpr: _subquery_type,
    a.JsonPath: _json_value_type,
    a.Extract: lambda n: INT,
    x.Cast: _cast_type,
    x.Case: _case_type,
    a.Window: lambda n: expr_type(n.func),
}
"""How each node class gets its result type; nodes not listed have none (values as fetched)."""


def expr_type(node: Any) -> SQLType | None:
    """The SQL type of an expression's value, or None when unknown (values pass as fetched).

    >>> from activeq import func
    >>> expr_type(func.count()) is INT
    True
    """
    handler = EXPR_TYPES.get(type(node))
    if handler is None:
        for cls in type(node).__mro__[1:]:
            handler = EXPR_TYPES.get(cls)
            if handler is not None:
                break
        else:
            return None
    return handler(node)


def row_converter(types: Sequence[SQLType | None], dialect: str) -> Callable[[list[Any]], list[Any]] | None:
    """A function converting fetched rows to Python values, or None when no column needs it."""
    convs = [(i, t.result(dialect)) for i, t in enumerate(types) if t is not None]
    convs = [(i, c) for i, c in convs if c is not None]
    if not convs:
        return None
    width = len(types)
    env: dict[str, Any] = {}
    parts = []
    for i in range(width):
        conv = next((c for j, c in convs if j == i), None)
        if conv is None:
            parts.append(f"r[{i}]")
        else:
            env[f"c{i}"] = conv
            parts.append(f"c{i}(r[{i}])")
    src = f"def convert(rows):\n    return [({', '.join(parts)},) for r in rows]\n"
    exec(src, env)  # noqa: S102 - generated from column positions only
    return env["convert"]  # type: ignore[no-any-return]
