"""Relations declared with an annotation (``orders: list["Order"] = has_many(...)``): the
annotation types the attribute for type checkers and is not a column."""

from __future__ import annotations

from pathlib import Path

from activeq import ActiveRecord, Database, Field, belongs_to, has_many
from activeq.relations import BelongsTo, HasMany


class Shop(ActiveRecord):
    __table_name__ = "typed_shops"
    id: int = Field(primary_key=True)
    name: str
    sales: list[Sale] = has_many("Sale", foreign_key="shop_id")


class Sale(ActiveRecord):
    __table_name__ = "typed_sales"
    id: int = Field(primary_key=True)
    shop_id: int
    amount: float
    shop: Shop | None = belongs_to("Shop", foreign_key="shop_id")


def _db(tmp_path: Path) -> Database:
    db = Database(str(tmp_path / "typed.db"))
    db.bind(Shop, Sale)
    db.create_tables(Shop, Sale)
    return db


def test_an_annotated_relation_is_no_field_and_no_column(tmp_path: Path) -> None:
    assert set(Shop.model_fields) == {"id", "name"}
    assert set(Sale.model_fields) == {"id", "shop_id", "amount"}
    assert [c.name for c in Shop.__aq__.columns] == ["id", "name"]
    assert isinstance(Shop.__dict__["sales"], HasMany)
    assert isinstance(Sale.__dict__["shop"], BelongsTo)
    db = _db(tmp_path)
    columns = [r[1] for r in db.execute('PRAGMA table_info("typed_shops")')]
    assert columns == ["id", "name"]
    assert [r[1] for r in db.execute('PRAGMA table_info("typed_sales")')] == ["id", "shop_id", "amount"]


def test_annotated_relations_load_like_unannotated_ones(tmp_path: Path) -> None:
    db = _db(tmp_path)
    north = Shop.create(name="North")
    Sale.create(shop_id=north.id, amount=2.5)
    Sale.create(shop_id=north.id, amount=4.0)
    with db.track_queries() as t:
        shops = Shop.query().includes("sales").all()
        amounts = [s.amount for s in shops[0].sales]
    assert amounts == [2.5, 4.0] and len(t) == 2
    sale = Sale.query().first()
    assert sale is not None
    with db.track_queries() as t:
        owner = sale.shop
    assert owner is not None and owner.name == "North" and len(t) == 1
    assert sale.model_dump() == {"id": 1, "shop_id": north.id, "amount": 2.5}
