"""Per-instance private state (pydantic's PrivateAttr) works on new and loaded records alike."""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr

from activeq import ActiveRecord, Database, Field


class Counter(ActiveRecord):
    __table_name__ = "private_counters"

    id: int = Field(primary_key=True)
    name: str
    _hits: int = PrivateAttr(default=0)
    _seen = PrivateAttr(default_factory=list)
    shared_registry = {}  # a plain class attribute, shared by every instance


def test_private_attributes_on_new_and_loaded_records(tmp_path: Any) -> None:
    db = Database(str(tmp_path / "p.db"))
    db.bind(Counter)
    db.create_tables(Counter)
    new = Counter(name="a")
    assert new._hits == 0 and new._seen == []
    new._hits += 2
    new.save()

    loaded = Counter.find_by_id(new.id)
    assert loaded is not None
    assert loaded._hits == 0 and loaded._seen == []
    loaded._seen.append("x")
    other = Counter.query().first()
    assert other is not None and other._seen == []  # not shared between instances
    assert loaded._seen == ["x"] and new._hits == 2

    Counter.shared_registry["k"] = 1
    assert other.shared_registry == {"k": 1}
    assert "_hits" not in Counter.model_fields and "shared_registry" not in Counter.model_fields
    db.close()
