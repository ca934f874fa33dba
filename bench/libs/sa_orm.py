"""SQLAlchemy 2 ORM: declarative models, Session, selectinload, ORM bulk statements."""

from __future__ import annotations

from sqlalchemy import ForeignKey, delete, insert, select, update
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

from bench.common import LIMIT, pragma_queries
from bench.libs.sa_core import compiled_pair, make_engine


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str] = mapped_column(unique=True)
    status: Mapped[str] = mapped_column(index=True)
    age: Mapped[int]
    created_at: Mapped[str]
    orders: Mapped[list[Order]] = relationship(back_populates="user")


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    total: Mapped[float]
    status: Mapped[str]
    created_at: Mapped[str]
    user: Mapped[User] = relationship(back_populates="orders")


class SAOrm:
    name = "sqlalchemy_orm"

    def __init__(self, path: str) -> None:
        self.path = path
        self.engine = make_engine(path)

    def activate(self) -> None:
        pass

    def read_pragmas(self) -> dict:
        with Session(self.engine) as s:
            conn = s.connection()
            return {name: conn.exec_driver_sql(q).scalar() for name, q in pragma_queries()}

    def close(self) -> None:
        self.engine.dispose()

    def insert_users(self, rows: list[dict]) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(insert(User), rows)

    def insert_orders(self, rows: list[dict]) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(insert(Order), rows)

    def get_users(self, ids: list[int]) -> list:
        with Session(self.engine) as s:
            return [s.get(User, i) for i in ids]

    def filtered(self, params: list[tuple[str, int]]) -> list[list]:
        with Session(self.engine) as s:
            return [
                s.scalars(
                    select(User)
                    .where((User.status == st) & (User.age > n))
                    .order_by(User.id)
                    .limit(LIMIT)
                ).all()
                for st, n in params
            ]

    def all_users(self) -> list:
        with Session(self.engine) as s:
            return s.scalars(select(User)).all()

    def eager(self, n: int) -> list:
        with Session(self.engine) as s:
            return s.scalars(
                select(User).order_by(User.id).limit(n).options(selectinload(User.orders))
            ).all()

    def n_plus_one(self, n: int) -> list:
        with Session(self.engine) as s:
            users = s.scalars(select(User).order_by(User.id).limit(n)).all()
            return [(u, list(u.orders)) for u in users]

    def bulk_update(self, old: str, new: str) -> int:
        with Session(self.engine) as s, s.begin():
            return s.execute(update(User).where(User.status == old).values(status=new)).rowcount

    def bulk_delete_orders(self, status: str) -> int:
        with Session(self.engine) as s, s.begin():
            return s.execute(delete(Order).where(Order.status == status)).rowcount

    def render(self, params: list[tuple[str, int]]) -> list:
        return [
            compiled_pair(
                select(User)
                .where((User.status == st) & (User.age > n))
                .order_by(User.id)
                .limit(LIMIT)
            )
            for st, n in params
        ]

    def keyset(self, size: int) -> list:
        out = []
        last = 0
        with Session(self.engine) as s:
            while True:
                rows = s.scalars(
                    select(Order).where(Order.id > last).order_by(Order.id).limit(size)
                ).all()
                if not rows:
                    break
                out.append((rows[0].id, rows[-1].id, len(rows)))
                if len(rows) < size:
                    break
                last = rows[-1].id
        return out


ADAPTERS = {"sqlalchemy_orm": SAOrm}
