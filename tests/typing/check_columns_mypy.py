"""Column value types, as the activeq.mypy plugin gives them (mypy only: pyright has no
plugins, and there ``User.c.age`` is ``ColumnRef[Any, User]``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, assert_type

from models import Order, User

from activeq.ast import ColumnRef, Expr, JsonColumn

assert_type(User.c.age, ColumnRef[int, User])
assert_type(User.c.name, ColumnRef[str, User])
assert_type(User.c.meta, JsonColumn[dict[str, Any], User])
assert_type(Order.c.created_at, ColumnRef[datetime, Order])
assert_type(User.c.age > 30, Expr)
assert_type(Order.c.total >= 2, Expr)  # an int is a float for checkers, as in Python
assert_type(Order.c.created_at + timedelta(days=1), Expr)
assert_type(User.c.meta["tier"] == 2, Any)
assert_type(User.c.age == None, Expr)  # noqa: E711 - IS NULL
