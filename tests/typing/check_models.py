"""What the checkers infer for ordinary activeq code; run as a script it also checks that the
run-time values are of the types inferred (``python check_models.py``)."""

from __future__ import annotations

from typing import Any, assert_type

from models import Note, Order, User

from activeq import Database, Query, Row, func
from activeq.ast import ColumnRef, Expr, JsonColumn
from activeq.columns import ColumnSet


def main() -> None:
    db = Database(":memory:")
    db.bind(User, Order, Note)
    db.create_tables(User, Order, Note)

    # constructors take the fields, typed
    ada = User(name="Ada", email="ada@example.com", age=36)
    ada.save()
    assert_type(ada.id, int)
    assert_type(ada.name, str)
    Order.create(user_id=ada.id, total=9.5).save()
    Note.create(user_id=ada.id, body="hello")

    # terminals
    users = User.query().where(User.c.age > 30).order_by(User.c.id).all()
    assert_type(users, list[User])
    assert [u.name for u in users] == ["Ada"]
    first = User.query().first()
    assert_type(first, User | None)
    assert first is not None and first.name == "Ada"
    found = User.find_by_id(ada.id)
    assert_type(found, User | None)
    assert found is not None and found.email == "ada@example.com"
    assert_type(User.query().one(), User)
    assert_type(User.query().count(), int)
    assert_type(User.find_all(User.c.name == "Ada"), list[User])
    assert_type(User.query(), Query[User])

    # a select of the model's own columns keeps the model; anything else gives Rows
    partial = User.query().select(User.c.id, User.c.name).all()
    assert_type(partial, list[User])
    assert isinstance(partial[0], User)
    named = User.query().select("id", "name").all()
    assert_type(named, list[User])
    counts = User.query().select(User.c.age, func.count().as_("n")).group_by(User.c.age).all()
    assert_type(counts, list[Row])
    assert isinstance(counts[0], Row) and counts[0].n == 1
    joined = (User.query().join(Order, User.c.id == Order.c.user_id)
              .select(User.c.name, Order.c.total).all())
    assert_type(joined, list[Row])
    assert isinstance(joined[0], Row) and joined[0].User.name == "Ada"
    union = User.query().select(User.c.name).union(Note.query().select(Note.c.body))
    assert_type(union.all(), list[Row])

    # relations: the annotation types the attribute; the un-annotated form stays Any
    loaded = User.query().includes("orders", "notes").first()
    assert loaded is not None
    assert_type(loaded.orders, list[Order])
    assert [o.total for o in loaded.orders] == [9.5]
    order = Order.query().includes("user").first()
    assert order is not None
    assert_type(order.user, User | None)
    assert order.user is not None and order.user.name == "Ada"
    assert_type(loaded.notes, Any)
    assert [n.body for n in loaded.notes] == ["hello"]

    # columns belong to their model (their value types: check_columns_mypy.py)
    assert_type(User.c, ColumnSet[User])
    assert_type(User.c.age > 30, Expr)
    assert_type(User.c.name.is_in(["Ada", "Bob"]), Expr)
    assert isinstance(User.c.age, ColumnRef) and isinstance(User.c.meta, JsonColumn)
    assert User.query().where(User.c.meta["tier"] == 2).count() == 0

    # writes give a count; after returning(...) they give the changed rows
    assert_type(User.query().where(User.c.id == -1).update({"age": 1}), int)
    assert_type(User.query().where(User.c.id == -1).delete(), int)
    changed = User.query().where(User.c.name == "Ada").returning("id", "age").update({"age": 37})
    assert_type(changed, list[Row])
    assert isinstance(changed[0], Row) and (changed[0].id, changed[0].age) == (ada.id, 37)
    gone = Note.query().returning("body").where(Note.c.user_id == ada.id).delete()
    assert_type(gone, list[Row])
    assert [r.body for r in gone] == ["hello"]


if __name__ == "__main__":
    main()
    print("ok")
