"""Models of the typing checks: fields, a typed relation each way, an untyped one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from activeq import ActiveRecord, AsyncActiveRecord, Field, belongs_to, has_many


class User(ActiveRecord):
    __table_name__ = "typing_users"
    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=255, unique=True)
    age: int = 0
    meta: dict[str, Any] = Field(default_factory=dict)
    orders: list[Order] = has_many("Order", foreign_key="user_id")
    notes = has_many("Note", foreign_key="user_id")  # the un-annotated form


class Order(ActiveRecord):
    __table_name__ = "typing_orders"
    id: int = Field(primary_key=True)
    user_id: int
    total: float
    created_at: datetime = Field(default_factory=datetime.now)
    user: User | None = belongs_to("User", foreign_key="user_id")


class Note(ActiveRecord):
    __table_name__ = "typing_notes"
    id: int = Field(primary_key=True)
    user_id: int
    body: str


class Reader(AsyncActiveRecord):
    __table_name__ = "typing_readers"
    id: int = Field(primary_key=True)
    name: str
