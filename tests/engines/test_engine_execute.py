"""execute, fetch, executemany, copy, stream, changes and last ids, the same on every engine."""

from __future__ import annotations

import pytest

from activeq.errors import IntegrityError, UnsupportedError


def test_execute_gives_rows_description_and_rowcount(conn, q):
    created = conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    assert (created.rows, created.description, created.rowcount) == ([], (), -1)

    inserted = conn.execute(q("INSERT INTO t (id, name) VALUES (?, ?), (?, ?)"),
                            (1, "ann", 2, "bob"))
    assert (inserted.rows, inserted.description, inserted.rowcount) == ([], (), 2)
    assert conn.changes() == 2

    selected = conn.execute(q("SELECT id, name FROM t WHERE id >= ? ORDER BY id"), (1,))
    assert selected.rows == [(1, "ann"), (2, "bob")]
    assert [name for name, _ in selected.description] == ["id", "name"]
    assert selected.rowcount == -1
    assert conn.changes() == 2  # a read leaves the count of the last write alone

    updated = conn.execute(q("UPDATE t SET name = ? WHERE id = ?"), ("cid", 2))
    assert updated.rowcount == 1 and conn.changes() == 1
    assert conn.execute(q("UPDATE t SET name = ? WHERE id = ?"), ("x", 99)).rowcount == 0
    assert conn.execute("DELETE FROM t").rowcount == 2
    assert conn.fetch("SELECT count(*) FROM t") == [(0,)]


def test_execute_with_returning_gives_rows_and_rowcount(conn, q, items):
    result = conn.execute(q("INSERT INTO items (name) VALUES (?), (?) RETURNING id, name"),
                          ("a", "b"))
    assert result.rows == [(1, "a"), (2, "b")]
    assert [name for name, _ in result.description] == ["id", "name"]
    assert result.rowcount == 2
    deleted = conn.execute(q("DELETE FROM items WHERE id = ? RETURNING name"), (2,))
    assert (deleted.rows, deleted.rowcount) == ([("b",)], 1)


def test_fetch_returns_rows_only(conn, q):
    assert conn.fetch(q("SELECT ? + 1"), (41,)) == [(42,)]
    assert conn.fetch("SELECT 1 WHERE 1 = 0") == []


def test_executemany_counts_rows_and_is_all_or_nothing(conn, q, items):
    insert = q("INSERT INTO items (name) VALUES (?)")
    assert conn.executemany(insert, [("a",), ("b",), ("c",)]) == 3
    assert conn.changes() == 3
    with pytest.raises(IntegrityError):
        conn.executemany(insert, [("d",), ("a",), ("e",)])  # "a" exists: the second row fails
    assert conn.fetch("SELECT name FROM items ORDER BY name") == [("a",), ("b",), ("c",)]
    assert not conn.in_transaction
    assert conn.executemany(q("UPDATE items SET name = name || ? WHERE name = ?"),
                            [("!", "a"), ("!", "b"), ("!", "zz")]) == 2


def test_executemany_returning_gives_the_new_keys_in_order(conn, q, items):
    ids = conn.executemany_returning(q("INSERT INTO items (name) VALUES (?) RETURNING id"),
                                     [("a",), ("b",), ("c",)])
    assert ids == [(1,), (2,), (3,)]
    assert conn.changes() == 3
    assert conn.fetch("SELECT id, name FROM items ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]


def test_last_id_where_the_engine_has_one(conn, q, items):
    conn.execute(q("INSERT INTO items (name) VALUES (?)"), ("a",))
    if conn.has_last_id:
        assert conn.dialect == "sqlite"
        assert conn.last_id() == 1
    else:
        with pytest.raises(UnsupportedError) as raised:
            conn.last_id()
        assert str(raised.value).startswith(f"last insert id is not supported by the "
                                            f"{conn.dialect} dialect")


def test_copy_inserts_every_row_or_none(conn, q):
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)")
    rows = [(i, f"n{i}", i / 2) for i in range(1000)]
    assert conn.copy("t", ["id", "name", "score"], iter(rows)) == 1000
    assert conn.changes() == 1000
    assert conn.fetch("SELECT count(*), sum(id), max(name) FROM t") == [(1000, 499500, "n999")]
    assert conn.fetch(q("SELECT name, score FROM t WHERE id = ?"), (7,)) == [("n7", 3.5)]
    with pytest.raises(IntegrityError):
        conn.copy("t", ["id", "name"], [(1000, "new"), (5, "taken")])
    assert conn.fetch("SELECT count(*) FROM t") == [(1000,)]


def test_copy_leaves_unlisted_columns_to_their_defaults(conn, items):
    assert conn.copy("items", ["name"], [("a",), ("b",)]) == 2
    assert conn.fetch("SELECT id, name FROM items ORDER BY id") == [(1, "a"), (2, "b")]


def test_stream_yields_batches_in_order(conn, q, nums):
    batches = list(conn.stream(q("SELECT id FROM nums WHERE id < ? ORDER BY id"), (25,), 10))
    assert [len(b) for b in batches] == [10, 10, 5]
    assert [r[0] for b in batches for r in b] == list(range(25))


def test_stream_stopped_early_leaves_the_connection_usable(conn, nums):
    stream = conn.stream("SELECT id FROM nums ORDER BY id", (), 100)
    assert len(next(stream)) == 100
    stream.close()
    assert conn.fetch("SELECT count(*) FROM nums") == [(2000,)]
    assert sum(len(b) for b in conn.stream("SELECT id FROM nums", (), 500)) == 2000


def test_stream_inside_a_transaction_sees_its_writes(conn, q, nums):
    conn.begin()
    conn.execute(q("DELETE FROM nums WHERE id >= ?"), (10,))
    assert [r for b in conn.stream("SELECT id FROM nums ORDER BY id", (), 4) for r in b] == \
        [(i,) for i in range(10)]
    conn.rollback()
    assert conn.fetch("SELECT count(*) FROM nums") == [(2000,)]
