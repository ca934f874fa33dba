"""AsyncDatabase on DuckDB keeps the worker-thread design: statements run off the event loop."""

from __future__ import annotations

import asyncio
import threading

from activeq import AsyncActiveRecord, AsyncDatabase, Field


class Duck(AsyncActiveRecord):
    __table_name__ = "ducks"
    id: int = Field(primary_key=True)
    name: str


def test_async_database_runs_duckdb_on_its_writer_thread(tmp_path):
    async def main() -> None:
        db = AsyncDatabase(f"duckdb:///{tmp_path / 'ducks.duckdb'}")
        assert db.native is None and db.dialect == "duckdb"
        db.bind(Duck)
        await db.create_tables(Duck)
        await Duck.create(name="Donald")
        async with db.transaction():
            await Duck.create(name="Daisy")
        names = await Duck.query().order_by(Duck.c.name).pluck("name")
        where = await db.run_sync(lambda d: threading.current_thread().name)
        await db.close()
        return names, where

    names, where = asyncio.run(main())
    assert names == ["Daisy", "Donald"]
    assert where == "activeq-writer"
