"""N+1 detection in async code, on SQLite and DuckDB (worker threads) and PostgreSQL (native
async connections): a query awaited in a loop is reported at the awaiting line, though the
statement itself runs on another stack."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from activeq import AsyncActiveRecord, AsyncDatabase, Field, has_many
from activeq.nplusone import NPlusOneError


class Shelf(AsyncActiveRecord):
    __table_name__ = "async_shelves"
    id: int = Field(primary_key=True)
    name: str
    boxes = has_many("Box", foreign_key="shelf_id")


class Box(AsyncActiveRecord):
    __table_name__ = "async_boxes"
    id: int = Field(primary_key=True)
    shelf_id: int


async def _stocked(url: str) -> AsyncDatabase:
    db = AsyncDatabase(url)
    db.bind(Shelf, Box)
    await db.execute("DROP TABLE IF EXISTS async_boxes")
    await db.execute("DROP TABLE IF EXISTS async_shelves")
    await db.create_tables(Shelf, Box)
    for name in ("a", "b", "c", "d"):
        shelf = await Shelf.create(name=name)
        await Box.create(shelf_id=shelf.id)
    return db


def test_a_query_awaited_in_a_loop_is_reported_at_its_line(engine_url: str) -> None:
    async def main() -> None:
        db = await _stocked(engine_url)
        try:
            shelves = await Shelf.query().order_by(Shelf.c.id).all()
            with pytest.raises(NPlusOneError) as info, db.detect_n_plus_one(mode="raise"):
                for shelf in shelves:
                    await Box.query().where(Box.c.shelf_id == shelf.id).all()
            line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
            report = info.value.report
            assert (report.filename, report.lineno, report.function) == (__file__, line, "main")
            assert report.count == 3
            assert 'FROM "async_boxes"' in report.sql
            # Loading the relation with the shelves is one more query, and nothing is reported.
            with db.detect_n_plus_one(mode="raise"), db.track_queries() as t:
                loaded = await Shelf.query().includes("boxes").order_by(Shelf.c.id).all()
            assert [len(s.boxes) for s in loaded] == [1, 1, 1, 1]
            assert len(t) == 2
        finally:
            await db.aclose()

    asyncio.run(main())


def test_separate_awaits_of_one_query_are_not_a_loop(engine_url: str) -> None:
    async def main() -> None:
        db = await _stocked(engine_url)
        try:
            with db.detect_n_plus_one(mode="raise") as detector:
                await Shelf.query().where(Shelf.c.name == "a").all()
                await Shelf.query().where(Shelf.c.name == "b").all()
                await Shelf.query().where(Shelf.c.name == "c").all()
            assert detector.reports == []
        finally:
            await db.aclose()

    asyncio.run(main())
