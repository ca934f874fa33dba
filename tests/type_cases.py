"""Every type of the type table: a model with one column of it, Hypothesis strategies for its
values, and its edge values. Shared by the round-trip and the operator tests."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Any, Literal

import pydantic
from hypothesis import strategies as st
from typing_extensions import TypedDict

from activeq import ActiveRecord, Field


class Level(enum.IntEnum):
    LOW = 1
    MID = 5
    HIGH = 10


class Shade(enum.StrEnum):
    DARK = "dark"
    LIGHT = "light"
    PALE = "pale"


class Point(pydantic.BaseModel):
    x: int
    label: str


class Span(TypedDict):
    start: int
    tags: list[str]


def _aware(draw_tz: Any) -> Any:
    return st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31),
                        timezones=draw_tz)


def _utc_time(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


offsets = st.builds(lambda m: dt.timezone(dt.timedelta(minutes=m)), st.integers(-23 * 60, 23 * 60))
int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
INT64_EDGES = [-(2**63), 2**63 - 1, 0, -1, 1]
PLUS_2359 = dt.timezone(dt.timedelta(hours=23, minutes=59))
MINUS_2359 = dt.timezone(-dt.timedelta(hours=23, minutes=59))


def texts(nul: bool, max_size: int) -> Any:
    """Text; without NUL for PostgreSQL, which stores none."""
    return st.text(max_size=max_size) if nul else st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                                                           max_size=max_size)


def json_values(nul: bool) -> Any:
    scalars = st.one_of(st.none(), st.booleans(), int64, st.floats(allow_nan=False, allow_infinity=False),
                        texts(nul, 8))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(texts(nul, 5), inner, max_size=3)), max_leaves=6)


@dataclass
class Case:
    name: str
    annotation: Any
    strategy: Callable[[bool], Any]
    """The values to draw, given whether NUL characters may be in text."""
    edges: list[Any]
    orderable: bool = True
    field: dict[str, Any] | None = None
    read: Callable[[Any], Any] = dc_field(default=lambda v: v)
    """What a written value reads back as (itself, but for the cases that say otherwise)."""


CASES = [
    Case("int", int, lambda nul: int64, INT64_EDGES),
    Case("bool", bool, lambda nul: st.booleans(), [True, False]),
    Case("float", float, lambda nul: st.floats(allow_nan=False),
         [float("-inf"), float("inf"), -0.0, 0.0, 5e-324, -5e-324, 1.7976931348623157e308,
          -1.7976931348623157e308, 0.1, 1e16, 2.0**53 + 2]),
    Case("decimal", Decimal, lambda nul: st.decimals(
        min_value=Decimal("-99999999999999.9999"), max_value=Decimal("99999999999999.9999"), places=4,
        allow_nan=False, allow_infinity=False),
         [Decimal("-99999999999999.9999"), Decimal("99999999999999.9999"), Decimal("0.0001"),
          Decimal("-0.0001"), Decimal("0"), Decimal("0.1000")],
         field={"max_digits": 18, "decimal_places": 4}),
    Case("str", str, lambda nul: texts(nul, 20),
         ["", " ", "%_\\", "a'b\"c", "Zo\u00eb \U0001f642", "\uffff", "x" * 20, "A", "a"],
         field={"max_length": 20}),
    Case("bytes", bytes, lambda nul: st.binary(max_size=20),
         [b"", b"\x00", b"\x00\x00", b"\xff" * 20, b"\x7f\x80", b"'"]),
    Case("date", dt.date, lambda nul: st.dates(), [dt.date.min, dt.date.max, dt.date(2024, 2, 29)]),
    Case("time", dt.time, lambda nul: st.times(),
         [dt.time.min, dt.time.max, dt.time(0, 0, 0, 1), dt.time(12)]),
    Case("datetime", dt.datetime, lambda nul: st.datetimes(),
         [dt.datetime.min, dt.datetime.max, dt.datetime(1970, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 59, 999999)]),
    Case("aware", pydantic.AwareDatetime, lambda nul: _aware(offsets),
         [dt.datetime(2, 1, 1, tzinfo=PLUS_2359), dt.datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=MINUS_2359),
          dt.datetime(2024, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))),
          dt.datetime(2024, 1, 1, 4, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
          dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC)]),
    # A plain datetime field given aware values keeps them as their UTC time (naive).
    Case("datetime_given_aware", dt.datetime, lambda nul: _aware(offsets),
         [dt.datetime(2, 1, 1, tzinfo=PLUS_2359), dt.datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=MINUS_2359),
          dt.datetime(2024, 1, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))),
          dt.datetime(2024, 1, 1, 4, tzinfo=dt.timezone(dt.timedelta(hours=-5)))],
         read=_utc_time),
    Case("timedelta", dt.timedelta, lambda nul: st.timedeltas(min_value=dt.timedelta(days=-100_000),
                                                             max_value=dt.timedelta(days=100_000)),
         [dt.timedelta(0), dt.timedelta(microseconds=1), dt.timedelta(microseconds=-1),
          dt.timedelta(days=-1, microseconds=1), dt.timedelta(days=1), dt.timedelta(hours=24, microseconds=1),
          dt.timedelta(days=100_000), dt.timedelta(days=-100_000)]),
    Case("uuid", uuid.UUID, lambda nul: st.uuids(),
         [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.UUID(int=2**127), uuid.UUID(int=2**127 - 1),
          uuid.UUID(int=1)]),
    Case("intenum", Level, lambda nul: st.sampled_from(Level), list(Level)),
    Case("strenum", Shade, lambda nul: st.sampled_from(Shade), list(Shade)),
    Case("literal", Literal["b", "a", "c"], lambda nul: st.sampled_from(["b", "a", "c"]), ["c", "a", "b"]),
    Case("dict", dict[str, Any], lambda nul: st.dictionaries(texts(nul, 5), json_values(nul), max_size=4),
         [{}, {"": None}, {"a": {"b": [1, 2.5, None, True, "x"]}}, {"\u00fc": "\u2603", "n": -(2**63)},
          {"big": 2.735229110272337e16, "tiny": 5e-324, "max": 1.7976931348623157e308, "whole": 1.0}],
         orderable=False),
    Case("list", list[int], lambda nul: st.lists(int64, max_size=4), [[], INT64_EDGES], orderable=False),
    Case("model", Point, lambda nul: st.builds(Point, x=int64, label=texts(nul, 6)),
         [Point(x=-(2**63), label=""), Point(x=2**63 - 1, label="'\"")], orderable=False),
    Case("typeddict", Span, lambda nul: st.fixed_dictionaries(
        {"start": int64, "tags": st.lists(texts(nul, 3), max_size=2)}),
         [{"start": 0, "tags": []}, {"start": -(2**63), "tags": ["", "a"]}], orderable=False),
]


def _model(case: Case) -> type[ActiveRecord]:
    field = Field(default=None, **(case.field or {}))
    namespace = {
        "__module__": __name__,
        "__table_name__": f"rt_{case.name}",
        "__annotations__": {"id": int, "v": case.annotation | None},
        "id": Field(primary_key=True),
        "v": field,
    }
    return type(f"RoundTrip_{case.name}", (ActiveRecord,), namespace)  # type: ignore[return-value]


MODELS = {case.name: _model(case) for case in CASES}


def sort_key(value: Any) -> Any:
    # bytes, enums and the rest sort as Python sorts them; a str enum by its text.
    return value.value if isinstance(value, Shade) else value


def python_order(values: list[Any]) -> list[Any]:
    return sorted(values, key=sort_key)
