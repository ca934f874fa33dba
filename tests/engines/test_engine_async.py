"""The async PostgreSQL engine: psycopg's AsyncConnection and AsyncConnectionPool on the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from engine_urls import pg_url
from psycopg import errors as pg_errors

from activeq.engines import async_engine_for
from activeq.engines.psycopg import AsyncPsycopgConnection, AsyncPsycopgEngine
from activeq.errors import IntegrityError, OperationalError, SerializationError, UnsupportedError


def test_async_engine_for_picks_native_async_only_where_the_driver_has_it():
    assert async_engine_for("postgresql://u@h/db") is AsyncPsycopgEngine
    assert async_engine_for("app.db") is None
    assert async_engine_for("duckdb://:memory:") is None


def test_async_connection_runs_on_the_event_loop_thread(pg_conninfo):
    async def main() -> None:
        engine = await AsyncPsycopgEngine.open(pg_url(pg_conninfo))
        conn = await engine.connect()
        assert isinstance(conn, AsyncPsycopgConnection)
        threads = set()
        # Every statement runs on this thread: no worker thread hop.
        threads.add(threading.get_ident())
        await conn.execute("CREATE TABLE items (id INTEGER GENERATED ALWAYS AS IDENTITY "
                           "PRIMARY KEY, name TEXT UNIQUE)")
        result = await conn.execute("INSERT INTO items (name) VALUES (%s), (%s)", ("a", "b"))
        assert (result.rows, result.rowcount) == ([], 2)
        assert await conn.executemany_returning(
            "INSERT INTO items (name) VALUES (%s) RETURNING id", [("c",), ("d",)]) == [(3,), (4,)]
        assert await conn.executemany("UPDATE items SET name = name || %s WHERE id = %s",
                                      [("!", 1), ("!", 2)]) == 2
        assert await conn.copy("items", ["name"], [(f"n{i}",) for i in range(100)]) == 100
        assert conn.changes() == 100
        assert await conn.fetch("SELECT count(*) FROM items") == [(104,)]
        batches = [len(b) async for b in conn.stream("SELECT id FROM items ORDER BY id", (), 50)]
        assert batches == [50, 50, 4]
        with pytest.raises(IntegrityError) as raised:
            await conn.execute("INSERT INTO items (name) VALUES (%s)", ("c",))
        assert raised.value.sqlstate == "23505"
        assert isinstance(raised.value.__cause__, pg_errors.UniqueViolation)
        with pytest.raises(UnsupportedError):
            conn.last_id()
        threads.add(threading.get_ident())
        assert len(threads) == 1
        await conn.close()
        await engine.close()

    asyncio.run(main())


def test_async_transactions_savepoints_and_explain(pg_conninfo):
    async def main() -> None:
        engine = await AsyncPsycopgEngine.open(pg_url(pg_conninfo))
        conn = await engine.connect()
        await conn.execute("CREATE TABLE t (x INTEGER)")
        await conn.begin()
        assert conn.in_transaction
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.savepoint("sp")
        await conn.execute("INSERT INTO t VALUES (2)")
        await conn.rollback_to("sp")
        await conn.release("sp")
        await conn.commit()
        assert not conn.in_transaction
        assert await conn.fetch("SELECT x FROM t") == [(1,)]
        with pytest.raises(OperationalError):
            await conn.commit()
        plan = await conn.explain("SELECT x FROM t WHERE x = %s", (1,))
        assert plan.full_scans == ("t",)
        await conn.close()
        await engine.close()

    asyncio.run(main())


def test_async_serialization_failure_and_pool(pg_conninfo):
    async def main() -> None:
        engine = await AsyncPsycopgEngine.open(pg_url(pg_conninfo), pool_size=2)
        async with engine.borrow() as a, engine.borrow() as b:
            await a.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER)")
            await a.execute("INSERT INTO acct VALUES (1, 100)")
            await a.begin("serializable")
            assert await a.fetch("SELECT balance FROM acct") == [(100,)]
            await b.execute("UPDATE acct SET balance = 0 WHERE id = 1")
            with pytest.raises(SerializationError) as raised:
                await a.execute("UPDATE acct SET balance = 1 WHERE id = 1")
            assert raised.value.sqlstate == "40001"
            # a is left in its failed transaction: giving it back rolls it back.
        async with engine.borrow() as c:
            assert not c.in_transaction
            assert await c.fetch("SELECT balance FROM acct") == [(0,)]
        await engine.close()

    asyncio.run(main())


def test_async_commit_watch(pg_conninfo):
    async def main() -> None:
        engine = await AsyncPsycopgEngine.open(pg_url(pg_conninfo))
        a, b = await engine.connect(), await engine.connect()
        await a.execute("CREATE TABLE t (x INTEGER)")
        watch = await a.watch_commits(["t"])
        await b.execute("INSERT INTO t VALUES (1)")
        for _ in range(3000):  # until the notification arrives (at most 30 s)
            if watch.changed():
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the commit was never announced")
        assert watch.changed() is False
        watch.close()
        await a.close()
        await b.close()
        await engine.close()

    asyncio.run(main())


def test_async_open_errors_name_the_server_not_the_password(pg_server):
    async def main() -> None:
        await AsyncPsycopgEngine.open(
            f"postgresql://nobody_here:hunter2@127.0.0.1:{pg_server.port}/postgres")

    with pytest.raises(OperationalError) as raised:
        asyncio.run(main())
    assert f"127.0.0.1:{pg_server.port}" in str(raised.value)
    assert "hunter2" not in str(raised.value)
