"""Mistakes both checkers report. Each line ending in ``# error:`` must be reported by the
checkers it names, with that code, and no other line may be: tests/test_typing.py checks it."""

from __future__ import annotations

from typing import assert_type

from models import Order, User

from activeq import Row, func

User(nmae="x", email="a@b.c")  # error: mypy[call-arg] pyright[reportCallIssue]
User(name=1, email="a@b.c")  # error: mypy[arg-type] pyright[reportArgumentType]
Order(user_id="1", total=2.0)  # error: mypy[arg-type] pyright[reportArgumentType]

first = User.query().first()
first.name  # error: mypy[union-attr] pyright[reportOptionalMemberAccess]
found: User = User.find_by_id(1)  # error: mypy[assignment] pyright[reportAssignmentType]
users: list[User] = User.query().select(User.c.name, func.count()).all()  # error: mypy[assignment] pyright[reportAssignmentType]
rows: list[Row] = User.query().all()  # error: mypy[assignment] pyright[reportAssignmentType]

order = Order(user_id=1, total=2.0)
order.user.name  # error: mypy[union-attr] pyright[reportOptionalMemberAccess]
user = User(name="Ada", email="a@b.c")
user.orders.append(user)  # error: mypy[arg-type] pyright[reportArgumentType]
assert_type(user.orders, list[User])  # error: mypy[assert-type] pyright[reportAssertTypeFailure]


async def not_async() -> None:
    await User.query().all()  # error: mypy[misc] pyright[reportGeneralTypeIssues]
