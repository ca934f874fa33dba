"""Relation declarations, lazy access, fetch modes, joins, and the seed guide's examples."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from activeq import (
    ActiveRecord,
    CompileError,
    Database,
    Field,
    RelationError,
    RelationNotLoadedError,
    belongs_to,
    has_many,
    has_one,
    many_to_many,
)
from activeq.relations import BelongsTo, HasMany, HasOne, ManyToMany

# Models as the seed guide writes them; targets are class-name strings declared later.


class User(ActiveRecord):
    __table_name__ = "users"
    id: int = Field(primary_key=True)
    name: str
    email: str | None = None
    orders = has_many("Order", foreign_key="user_id")
    profile = has_one("Profile")


class Order(ActiveRecord):
    __table_name__ = "orders"
    id: int = Field(primary_key=True)
    user_id: int | None = None
    total: float = 0.0
    created_at: datetime | None = None
    items = has_many("OrderItem", foreign_key="order_id")
    user = belongs_to("User", foreign_key="user_id")


class OrderItem(ActiveRecord):
    __table_name__ = "order_items"
    id: int = Field(primary_key=True)
    order_id: int
    product_name: str
    quantity: int = 1


class Profile(ActiveRecord):
    __table_name__ = "profiles"
    id: int = Field(primary_key=True)
    user_id: int
    bio: str = ""


class Author(ActiveRecord):
    __table_name__ = "authors"
    id: int = Field(primary_key=True)
    name: str
    books = has_many("Book", foreign_key="author_id")


class Book(ActiveRecord):
    __table_name__ = "books"
    id: int = Field(primary_key=True)
    author_id: int
    title: str
    categories = many_to_many(
        "Category", through="book_categories", foreign_key="book_id", other_key="category_id"
    )


class Category(ActiveRecord):
    __table_name__ = "categories"
    id: int = Field(primary_key=True)
    name: str
    books = many_to_many("Book", through="BookCategory")


class BookCategory(ActiveRecord):
    __table_name__ = "book_categories"
    book_id: int
    category_id: int


MODELS = (User, Order, OrderItem, Profile, Author, Book, Category, BookCategory)


@pytest.fixture
def db(tmp_path) -> Iterator[Database]:
    database = Database(str(tmp_path / "rel.db"))
    database.bind(*MODELS)
    database.create_tables(*MODELS)
    yield database
    database.close()


@pytest.fixture
def shop(db: Database) -> dict[str, list]:
    ann = User.create(name="Ann", email="ann@example.com")
    bob = User.create(name="Bob", email="bob@example.com")
    cid = User.create(name="Cid")
    o1 = Order.create(user_id=ann.id, total=10.0, created_at=datetime(2023, 12, 1))
    o2 = Order.create(user_id=ann.id, total=25.5, created_at=datetime(2024, 3, 1))
    o3 = Order.create(user_id=bob.id, total=7.25, created_at=datetime(2024, 5, 1))
    OrderItem.create(order_id=o1.id, product_name="pen", quantity=2)
    OrderItem.create(order_id=o1.id, product_name="ink", quantity=1)
    OrderItem.create(order_id=o3.id, product_name="pad", quantity=5)
    Profile.create(user_id=bob.id, bio="hi")
    return {"users": [ann, bob, cid], "orders": [o1, o2, o3]}


@pytest.fixture
def library(db: Database) -> None:
    tolkien = Author.create(name="Tolkien")
    austen = Author.create(name="Austen")
    Author.create(name="Nobody")
    hobbit = Book.create(author_id=tolkien.id, title="The Hobbit")
    lotr = Book.create(author_id=tolkien.id, title="The Lord of the Rings")
    emma = Book.create(author_id=austen.id, title="Emma")
    fantasy = Category.create(name="fantasy")
    classic = Category.create(name="classic")
    for book, cat in ((hobbit, fantasy), (lotr, fantasy), (lotr, classic), (emma, classic)):
        db.execute("INSERT INTO book_categories (book_id, category_id) VALUES (?, ?)",
                   (book.id, cat.id))


# declarations ----------------------------------------------------------------------------

def test_declarations_are_registered_with_defaults(db: Database) -> None:
    assert set(User.__aq__.relations) == {"orders", "profile"}
    assert isinstance(User.orders, HasMany) and isinstance(User.profile, HasOne)
    assert isinstance(Order.user, BelongsTo) and isinstance(Book.categories, ManyToMany)
    # Defaults: <owner>_id on the target for has_one, <target>_id on the owner for belongs_to.
    assert User.profile.child_ref().name == "user_id"
    assert User.profile.parent_attr == "id"
    assert Order.user.parent_attr == "user_id"
    assert Category.books.child_ref().name == "category_id"
    assert Category.books.through_model() is BookCategory
    assert Order.user.target_model() is User


def test_relation_targets_may_be_model_classes(tmp_path) -> None:
    class Team(ActiveRecord):
        __table_name__ = "teams"
        id: int = Field(primary_key=True)
        name: str

    class Player(ActiveRecord):
        __table_name__ = "players"
        id: int = Field(primary_key=True)
        team_id: int
        team = belongs_to(Team)

    db = Database(str(tmp_path / "t.db"))
    db.bind(Team, Player)
    db.create_tables(Team, Player)
    red = Team.create(name="red")
    Player.create(team_id=red.id)
    assert Player.query().includes("team").first().team.name == "red"
    db.close()


def test_missing_column_fails_at_bind_with_suggestion(tmp_path) -> None:
    class Shelf(ActiveRecord):
        __table_name__ = "shelves"
        id: int = Field(primary_key=True)
        items = has_many("Slot", foreign_key="shelff_id")

    class Slot(ActiveRecord):
        __table_name__ = "slots"
        id: int = Field(primary_key=True)
        shelf_id: int

    db = Database(str(tmp_path / "b.db"))
    try:
        with pytest.raises(RelationError) as err:
            db.bind(Shelf, Slot)
        assert str(err.value) == (
            "Shelf.items: foreign_key 'shelff_id' is not a column of Slot (did you mean 'shelf_id'?)"
        )
    finally:
        # Keep the broken declaration from failing later db.bind(ActiveRecord) calls.
        Shelf.__aq__.relations.clear()
        db.close()


def test_unknown_target_fails_at_bind(tmp_path) -> None:
    class Lonely(ActiveRecord):
        __table_name__ = "lonely"
        id: int = Field(primary_key=True)
        friends = has_many("NoSuchModel")

    db = Database(str(tmp_path / "u.db"))
    try:
        with pytest.raises(RelationError, match="Lonely.friends: no model named 'NoSuchModel'"):
            db.bind(Lonely)
    finally:
        Lonely.__aq__.relations.clear()
        db.close()


def test_bad_declaration_arguments_are_refused() -> None:
    with pytest.raises(RelationError, match="needs a target model"):
        has_many("")
    with pytest.raises(RelationError, match="model class or a model class name"):
        belongs_to(42)
    with pytest.raises(RelationError, match="through must be a join table name or a model"):
        many_to_many("Category", through="")


def test_relation_name_clashing_with_a_field_is_refused() -> None:
    with pytest.raises(RelationError, match="User.name is both a field and a relation"):
        HasMany("Order").attach(User, "name")
    with pytest.raises(RelationError, match="already declared as User.orders"):
        User.orders.attach(Order, "orders")


# lazy access -----------------------------------------------------------------------------

def test_lazy_access_loads_once_and_keeps_the_value(db: Database, shop) -> None:
    ann = User.query().order_by(User.c.id).first()
    with db.track_queries() as t:
        first = ann.orders
        again = ann.orders
    assert len(t) == 1
    assert first is again
    assert [o.total for o in first] == [10.0, 25.5]
    assert t.queries[0].sql == (
        'SELECT "orders"."id", "orders"."user_id", "orders"."total", "orders"."created_at" '
        'FROM "orders" WHERE "orders"."user_id" = ?'
    )
    assert list(t.queries[0].params) == [ann.id]


def test_lazy_belongs_to_and_has_one(db: Database, shop) -> None:
    Order.create(user_id=None, total=1.0)
    orders = Order.query().order_by(Order.c.id).all()
    assert [o.user.name if o.user else None for o in orders] == ["Ann", "Ann", "Bob", None]
    users = User.query().order_by(User.c.id).all()
    assert [u.profile.bio if u.profile else None for u in users] == [None, "hi", None]


def test_null_foreign_key_reads_none_without_a_query(db: Database, shop) -> None:
    Order.create(user_id=None, total=1.0)
    orphan = Order.query().where(Order.c.user_id == None).one()  # noqa: E711
    with db.track_queries() as t:
        assert orphan.user is None
    assert len(t) == 0


def test_unsaved_instances(db: Database, shop) -> None:
    ann = shop["users"][0]
    with db.track_queries() as t:
        assert User(name="new").orders == []
    assert len(t) == 0
    assert Order(user_id=ann.id).user.name == "Ann"


def test_refresh_forgets_loaded_relations(db: Database, shop) -> None:
    ann = User.query().includes("orders").order_by(User.c.id).first()
    assert len(ann.orders) == 2
    Order.create(user_id=ann.id, total=3.0)
    assert len(ann.orders) == 2
    ann.refresh()
    assert len(ann.orders) == 3


def test_many_to_many_lazy_both_ways(db: Database, library) -> None:
    lotr = Book.query().where(Book.c.title == "The Lord of the Rings").one()
    assert sorted(c.name for c in lotr.categories) == ["classic", "fantasy"]
    fantasy = Category.query().where(Category.c.name == "fantasy").one()
    with db.track_queries() as t:
        titles = sorted(b.title for b in fantasy.books)
    assert titles == ["The Hobbit", "The Lord of the Rings"]
    assert t.queries[0].sql == (
        'SELECT "books"."id", "books"."author_id", "books"."title", "book_categories"."category_id" '
        'FROM "books" JOIN "book_categories" ON "book_categories"."book_id" = "books"."id" '
        'WHERE "book_categories"."category_id" = ?'
    )


# fetch modes -----------------------------------------------------------------------------

def test_fetch_mode_lazy_is_one_query_per_instance(db: Database, shop) -> None:
    users = User.query().all()
    with db.track_queries() as t:
        counts = [len(u.orders) for u in users]
    assert counts == [2, 1, 0]
    assert len(t) == 3


def test_fetch_mode_peers_loads_for_every_instance_of_the_query(db: Database, shop) -> None:
    users = User.query().order_by(User.c.id).fetch_mode("peers").all()
    with db.track_queries() as t:
        counts = [len(u.orders) for u in users]
        items = [[len(o.items) for o in u.orders] for u in users]
        owners = [[o.user.name for o in u.orders] for u in users]
    assert counts == [2, 1, 0]
    assert items == [[2, 0], [1], []]
    assert owners == [["Ann", "Ann"], ["Bob"], []]
    # users.orders, then orders.items and orders.user for all orders at once.
    assert len(t) == 3
    assert list(t.queries[0].params) == ['[1, 2, 3]']


def test_fetch_mode_peers_as_database_default(tmp_path) -> None:
    db = Database(str(tmp_path / "peers.db"), fetch_mode="peers")
    db.bind(*MODELS)
    db.create_tables(*MODELS)
    for name in ("a", "b", "c"):
        u = User.create(name=name)
        Order.create(user_id=u.id, total=1.0)
    users = User.query().all()
    with db.track_queries() as t:
        assert [len(u.orders) for u in users] == [1, 1, 1]
    assert len(t) == 1
    # A query can still ask for lazy loading.
    users = User.query().fetch_mode("lazy").all()
    with db.track_queries() as t:
        assert [len(u.orders) for u in users] == [1, 1, 1]
    assert len(t) == 3
    db.close()


def test_fetch_mode_raise_names_the_relation_and_the_fix(db: Database, shop) -> None:
    users = User.query().fetch_mode("raise").all()
    with db.track_queries() as t, pytest.raises(RelationNotLoadedError) as err:
        users[0].orders  # noqa: B018
    assert len(t) == 0
    assert str(err.value) == (
        "User.orders is not loaded and the fetch mode is 'raise': load it with "
        "User.query().includes('orders') (or use fetch_mode 'lazy' or 'peers')"
    )
    # Included relations read normally; what was not included below them still raises.
    users = User.query().fetch_mode("raise").includes("orders").order_by(User.c.id).all()
    assert [o.total for o in users[0].orders] == [10.0, 25.5]
    with pytest.raises(RelationNotLoadedError, match="Order.items is not loaded"):
        users[0].orders[0].items  # noqa: B018


def test_fetch_mode_raise_as_database_default(tmp_path) -> None:
    db = Database(str(tmp_path / "raise.db"), fetch_mode="raise")
    db.bind(*MODELS)
    db.create_tables(*MODELS)
    User.create(name="a")
    with pytest.raises(RelationNotLoadedError):
        User.query().first().orders  # noqa: B018
    assert User.query().includes("orders").first().orders == []
    db.close()


def test_unknown_fetch_mode_is_refused() -> None:
    with pytest.raises(CompileError, match="unknown fetch mode 'eager'"):
        User.query().fetch_mode("eager")


# joins -----------------------------------------------------------------------------------

def test_join_condition_is_inferred_from_relations(db: Database) -> None:
    sql, _ = User.query().join(Order).to_sql()
    assert sql.endswith('FROM "users" JOIN "orders" ON "users"."id" = "orders"."user_id"')
    sql, _ = Order.query().join(User).to_sql()
    assert sql.endswith('FROM "orders" JOIN "users" ON "orders"."user_id" = "users"."id"')
    with pytest.raises(CompileError, match="Book.categories is a many_to_many through book_categories"):
        Book.query().join(Category)


def test_seed_join_alternative_gives_model_namespaces(db: Database, shop) -> None:
    results = User.query().join(
        Order, User.c.id == Order.c.user_id
    ).select(
        User.c.id, User.c.name, Order.c.id, Order.c.total
    ).order_by(Order.c.id).all()
    assert [(r.User.name, r.Order.id, r.Order.total) for r in results] == [
        ("Ann", 1, 10.0), ("Ann", 2, 25.5), ("Bob", 3, 7.25)
    ]


# the seed guide, as written ----------------------------------------------------------------

def test_seed_avoid_n_plus_one(db: Database, shop, capsys) -> None:
    with db.track_queries() as t:
        # ✅ Solution 1: Use eager loading with includes
        users = User.query().includes('orders').all()
        for user in users:
            orders = user.orders  # Already loaded
            print(f"User {user.name} has {len(orders)} orders")

        # ✅ Solution 2: Use JOIN to fetch all data at once
        results = User.query().join(
            Order, User.c.id == Order.c.user_id
        ).select(
            User.c.id, User.c.name, Order.c.id, Order.c.total
        ).all()

        for row in results:
            print(f"User {row.User.name} has order {row.Order.id}")
    assert len(t) == 3
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["User Ann has 2 orders", "User Bob has 1 orders", "User Cid has 0 orders"]
    assert sorted(out[3:]) == ["User Ann has order 1", "User Ann has order 2", "User Bob has order 3"]


def test_seed_eager_loading_sections(db: Database, shop, library, capsys) -> None:
    with db.track_queries() as t:
        # Load users with their orders (1-to-many)
        users = User.query().includes('orders').all()

        for user in users:
            # Orders are pre-loaded
            for order in user.orders:
                print(order.total)

        # Load users with only their recent orders
        users = User.query().includes({
            'orders': lambda q: q.where(Order.c.created_at > '2024-01-01')
        }).all()

        for user in users:
            recent_orders = user.orders
            print(f"User {user.name} has {len(recent_orders)} recent orders")

        # Load orders with their items and the user who placed them
        orders = Order.query().includes('items', 'user').all()

        for order in orders:
            print(f"Order {order.id} by {order.user.name}")
            for item in order.items:
                print(f"  - {item.product_name}: {item.quantity}")

        # Load authors with their books and book categories
        authors = Author.query().includes({
            'books': {
                'categories': True
            }
        }).all()

        for author in authors:
            for book in author.books:
                for category in book.categories:
                    print(f"{author.name}: {book.title} [{category.name}]")
    assert len(t) == 2 + 2 + 3 + 3
    assert capsys.readouterr().out.splitlines() == [
        "10.0", "25.5", "7.25",
        "User Ann has 1 recent orders", "User Bob has 1 recent orders",
        "User Cid has 0 recent orders",
        "Order 1 by Ann", "  - pen: 2", "  - ink: 1",
        "Order 2 by Ann",
        "Order 3 by Bob", "  - pad: 5",
        "Tolkien: The Hobbit [fantasy]",
        "Tolkien: The Lord of the Rings [fantasy]",
        "Tolkien: The Lord of the Rings [classic]",
        "Austen: Emma [classic]",
    ]
