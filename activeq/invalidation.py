"""Which cached tables a write makes stale: tables named by raw DML, and schema dependencies.

A write to one table can change others: ``ON DELETE CASCADE`` / ``SET NULL`` foreign keys
rewrite child rows, triggers run arbitrary statements, and views show base-table rows. The
cache invalidates those too; the map is read from the catalog and rebuilt when the schema
changes: ``PRAGMA schema_version`` on SQLite, a digest of the relation, trigger and foreign-key
oids on PostgreSQL, the list of views on DuckDB (which has neither triggers nor cascading
foreign keys).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

__all__ = ["SchemaDependencies", "dml_tables"]

_ACTIONS = ("CASCADE", "SET NULL", "SET DEFAULT")


@lru_cache(maxsize=1024)
def dml_tables(sql: str) -> frozenset[str] | None:
    """The tables a raw DML statement writes, or None when they cannot be determined.

    Parsed once per distinct SQL text. None makes the caller invalidate everything, which is
    always correct, only slower.

    >>> sorted(dml_tables('UPDATE "users" SET name = ? WHERE id = ?'))
    ['users']
    >>> dml_tables('this is not sql') is None
    True
    """
    import sqlglot
    from sqlglot import exp

    # sqlglot warns when it falls back to an opaque Command; that case is handled (None).
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        statements = sqlglot.parse(sql, read="sqlite")
    except Exception:  # noqa: BLE001 - any parse failure means "unknown", never an error
        return None
    finally:
        logger.setLevel(level)
    tables: set[str] = set()
    for stmt in statements:
        if stmt is None:
            continue
        if not isinstance(stmt, (exp.Insert, exp.Update, exp.Delete)):
            return None
        target = stmt.this
        if isinstance(target, exp.Schema):
            target = target.this
        if not isinstance(target, exp.Table) or not target.name:
            return None
        tables.add(target.name)
    return frozenset(tables) if tables else None


# The commit-announcing trigger activeq installs itself (engines.psycopg.TRIGGER) writes nothing.
_PG_OWN_TRIGGER = "activeq_commit"
_PG_VERSION = (
    "SELECT md5(coalesce(string_agg(oid::text, ',' ORDER BY oid), '')) FROM ("
    "SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace "
    "UNION ALL SELECT oid FROM pg_trigger WHERE NOT tgisinternal "
    "UNION ALL SELECT oid FROM pg_constraint WHERE contype = 'f') AS schema_objects")
_PG_CASCADES = (
    "SELECT p.relname, c.relname FROM pg_constraint k "
    "JOIN pg_class p ON p.oid = k.confrelid JOIN pg_class c ON c.oid = k.conrelid "
    "WHERE k.contype = 'f' AND (k.confupdtype IN ('c', 'n', 'd') OR k.confdeltype IN ('c', 'n', 'd'))")
_PG_TRIGGERS = (
    "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    f"WHERE NOT t.tgisinternal AND t.tgname <> '{_PG_OWN_TRIGGER}'")
_PG_VIEWS = ("SELECT c.relname FROM pg_class c WHERE c.relkind IN ('v', 'm') "
             "AND c.relnamespace = current_schema()::regnamespace")
_DUCKDB_VIEWS = "SELECT view_name FROM duckdb_views() WHERE NOT internal"


def _closure(children: dict[str, set[str]], triggered: set[str]) -> dict[str, frozenset[str] | None]:
    """Each parent table and every table its cascading foreign keys reach; None where a trigger
    may write anywhere."""
    deps: dict[str, frozenset[str] | None] = {}
    for table in children:
        seen, todo = {table}, [table]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        deps[table] = None if seen & triggered else frozenset(seen)
    for table in triggered:
        deps[table] = None
    return deps


class SchemaDependencies:
    """Maps a table to every table or view whose rows a write to it may change.

    ``expand(tables)`` returns None ("everything") when a written table has a trigger, since a
    trigger body may write anywhere.
    """

    def __init__(self, run: Callable[..., list[Any]], dialect: str = "sqlite") -> None:
        self._run = run
        """Runs a read on a connection the calling thread may use (``Database._introspect``)."""
        self._dialect = dialect
        self._version: Any = None
        self._deps: dict[str, frozenset[str] | None] = {}
        self._views: frozenset[str] = frozenset()

    def _schema_version(self) -> Any:
        if self._dialect == "postgres":
            return self._run(_PG_VERSION)[0][0]
        if self._dialect == "duckdb":
            return self._duckdb_views()
        rows = self._run("PRAGMA schema_version")
        return int(rows[0][0])

    def _load(self) -> None:
        if self._dialect == "postgres":
            self._load_postgres()
        elif self._dialect == "duckdb":
            self._deps = {}
            self._views = frozenset(self._duckdb_views())
        else:
            self._load_sqlite()

    def _duckdb_views(self) -> tuple[str, ...]:
        return tuple(sorted(str(r[0]) for r in self._run(_DUCKDB_VIEWS)))

    def _load_postgres(self) -> None:
        run = self._run
        children: dict[str, set[str]] = {}
        for parent, child in run(_PG_CASCADES):
            children.setdefault(str(parent), set()).add(str(child))
        triggered = {str(r[0]) for r in run(_PG_TRIGGERS)}
        self._views = frozenset(str(r[0]) for r in run(_PG_VIEWS))
        self._deps = _closure(children, triggered)

    def _load_sqlite(self) -> None:
        run = self._run
        schema: list[Any] = run(
            "SELECT type, name, tbl_name FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger')")
        children: dict[str, set[str]] = {}
        for kind, name, _ in schema:
            if kind != "table":
                continue
            for row in run("SELECT * FROM pragma_foreign_key_list(?)", (name,)):
                parent, on_update, on_delete = str(row[2]), row[5], row[6]
                if on_update in _ACTIONS or on_delete in _ACTIONS:
                    children.setdefault(parent, set()).add(name)
        triggered = {tbl for kind, _, tbl in schema if kind == "trigger"}
        self._views = frozenset(name for kind, name, _ in schema if kind == "view")
        self._deps = _closure(children, triggered)

    def expand(self, tables: Iterable[str]) -> frozenset[str] | None:
        """``tables`` plus every table and view a write to them can change; None = all."""
        version = self._schema_version()
        if version != self._version:
            self._load()
            self._version = version
        deps = self._deps
        out: set[str] = set()
        for table in tables:
            extra = deps.get(table, ())
            if extra is None:
                return None
            out.add(table)
            out.update(extra)
        out.update(self._views)
        return frozenset(out)
