"""find_by_id runs through a per-model finder built once: it follows every change of binding,
cache and database, and every statement it runs is timed and seen by an overridden execute."""

from __future__ import annotations

import datetime as dt
import inspect
import threading
from decimal import Decimal

import pytest

from activeq import ActiveRecord, Database, Field
from activeq.errors import ActiveqError, ValidationError


class Pet(ActiveRecord):
    __table_name__ = "pets"
    id: int = Field(primary_key=True)
    name: str
    weight: float
    price: Decimal = Field(max_digits=12, decimal_places=2)
    born: dt.date


def _open(path: str, name: str) -> Database:
    db = Database(path)
    db.bind(Pet)
    db.create_tables(Pet)
    Pet.create(name=name, weight=1.5, price=Decimal("9.90"), born=dt.date(2020, 1, 2))
    return db


def test_find_by_id_builds_instances_with_converted_values(tmp_path):
    db = _open(str(tmp_path / "a.db"), "rex")
    pet = Pet.find_by_id(1)
    assert (pet.id, pet.name, pet.weight) == (1, "rex", 1.5)
    assert pet.price == Decimal("9.90") and type(pet.price) is Decimal
    assert pet.born == dt.date(2020, 1, 2)
    assert Pet.find_by_id(2) is None
    pet.name = "max"
    pet.save()
    assert Pet.find_by_id(1).name == "max"
    db.close()


def test_find_by_id_follows_the_model_to_another_database(tmp_path):
    first = _open(str(tmp_path / "a.db"), "in a")
    assert Pet.find_by_id(1).name == "in a"
    second = _open(str(tmp_path / "b.db"), "in b")
    assert Pet.find_by_id(1).name == "in b"
    first.bind(Pet)
    assert Pet.find_by_id(1).name == "in a"
    first.close()
    second.close()


def test_find_by_id_on_a_closed_database_raises(tmp_path):
    db = _open(str(tmp_path / "a.db"), "rex")
    assert Pet.find_by_id(1).name == "rex"
    db.close()
    with pytest.raises(ActiveqError, match="closed"):
        Pet.find_by_id(1)


def test_find_by_id_is_timed_and_counted_every_time(tmp_path):
    db = _open(str(tmp_path / "a.db"), "rex")
    with db.track_queries() as t:
        Pet.find_by_id(1)
        Pet.find_by_id(5)
    assert [q.sql for q in t.queries] == [
        'SELECT "id", "name", "weight", "price", "born" FROM "pets" WHERE "id" = ?'] * 2
    assert [q.params for q in t.queries] == [(1,), (5,)]
    assert [q.rows for q in t.queries] == [1, 0]
    db.close()


def test_find_by_id_through_the_model_cache_once_enabled_and_not_after(tmp_path):
    db = _open(str(tmp_path / "a.db"), "rex")
    Pet.find_by_id(1)
    db.enable_cache(Pet)
    with db.track_queries() as t:
        Pet.find_by_id(1)
        Pet.find_by_id(1)
    assert len(t.queries) == 1  # the second came from the cache
    db.disable_cache(Pet)
    with db.track_queries() as t:
        Pet.find_by_id(1)
        Pet.find_by_id(1)
    assert len(t.queries) == 2
    db.close()


def test_an_overridden_execute_sees_find_by_id(tmp_path):
    seen: list[str] = []

    class Logged(Database):
        def execute(self, sql, params=None):
            seen.append(str(sql))
            return super().execute(sql, params)

    db = Logged(str(tmp_path / "a.db"))
    db.bind(Pet)
    db.create_tables(Pet)
    Pet.create(name="rex", weight=1.5, price=Decimal("1"), born=dt.date(2020, 1, 2))
    seen.clear()
    assert Pet.find_by_id(1).name == "rex"
    assert Pet.find_by_id(1).name == "rex"
    assert [s.split(" FROM ")[1] for s in seen] == ['"pets" WHERE "id" = ?'] * 2
    db.close()


def test_find_by_id_with_an_unbindable_id_is_a_validation_error(tmp_path):
    db = _open(str(tmp_path / "a.db"), "rex")
    with pytest.raises(ValidationError):
        Pet.find_by_id(1 << 70)
    db.close()


def test_threads_find_through_the_same_finder(tmp_path):
    db = _open(str(tmp_path / "a.db"), "rex")
    Pet.find_by_id(1)
    found: list[object] = []

    def work() -> None:
        found.append(Pet.find_by_id(1).name)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert found == ["rex"] * 3
    db.close()


def test_model_find_by_id_is_the_finder_itself_once_built(tmp_path):
    # The call goes straight to the model's finder: no classmethod in between.
    db = _open(str(tmp_path / "a.db"), "rex")
    assert inspect.ismethod(Pet.find_by_id)  # nothing built yet
    Pet.find_by_id(1)
    find = Pet.find_by_id
    assert inspect.isfunction(find)
    assert find.__qualname__ == "Pet.find_by_id"
    assert find(1).name == "rex" and type(find(1)) is Pet
    db.close()
    assert inspect.ismethod(Pet.find_by_id)  # closing put the classmethod back


def test_a_kept_finder_follows_rebinding_cache_and_close(tmp_path):
    first = _open(str(tmp_path / "a.db"), "in a")
    Pet.find_by_id(1)
    find = Pet.find_by_id
    second = _open(str(tmp_path / "b.db"), "in b")
    assert find(1).name == "in b"
    first.bind(Pet)
    assert find(1).name == "in a"
    first.enable_cache(Pet)
    with first.track_queries() as t:
        assert find(1).name == "in a"
        assert find(1).name == "in a"
    assert len(t.queries) == 1  # the second came from the model cache
    first.close()
    with pytest.raises(ActiveqError, match="closed"):
        find(1)
    second.close()


class Base(ActiveRecord):
    __table_name__ = "animals"
    id: int = Field(primary_key=True)
    name: str


class Cat(Base):
    __table_name__ = "animals"


class Named(ActiveRecord):
    __table_name__ = "animals"
    id: int = Field(primary_key=True)
    name: str

    @classmethod
    def find_by_id(cls, id):  # type: ignore[override]
        found = super().find_by_id(id)
        return None if found is None else f"named {found.name}"


def test_a_finder_serves_its_own_class_only(tmp_path):
    db = Database(str(tmp_path / "a.db"))
    db.bind(Base, Cat, Named)
    db.create_tables(Base)
    Base.create(name="tom")
    assert type(Base.find_by_id(1)) is Base
    assert type(Cat.find_by_id(1)) is Cat  # not Base's finder, inherited

    class Kitten(Cat):
        __table_name__ = "animals"

    db.bind(Kitten)
    assert type(Kitten.find_by_id(1)) is Kitten
    assert type(Cat.find_by_id(1)) is Cat and type(Base.find_by_id(1)) is Base
    # A model's own find_by_id stays its own, and its super() still finds the row.
    assert Named.find_by_id(1) == "named tom"
    assert Named.find_by_id(1) == "named tom"
    assert inspect.ismethod(Named.find_by_id)
    db.close()


class Renamed(ActiveRecord):
    __table_name__ = "renamed"
    id: int = Field(primary_key=True, column="renamed_id")
    title: str = Field(column="heading")


def test_find_by_id_reads_one_table_with_unqualified_columns(tmp_path):
    db = Database(str(tmp_path / "a.db"))
    db.bind(Renamed)
    db.create_tables(Renamed)
    Renamed.create(title="first")
    with db.track_queries() as t:
        found = Renamed.find_by_id(1)
        assert Renamed.find_by_id(2) is None
    assert (found.id, found.title) == (1, "first")
    assert t.sql == ['SELECT "renamed_id", "heading" FROM "renamed" WHERE "renamed_id" = ?'] * 2
    # Other queries of the model keep their qualified columns.
    assert Renamed.query().where(Renamed.c.id == 1).to_sql()[0] == (
        'SELECT "renamed"."renamed_id", "renamed"."heading" FROM "renamed" '
        'WHERE "renamed"."renamed_id" = ?')
    db.close()
