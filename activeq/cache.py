"""Caching with exact invalidation: query results, model instances, relations, functions.

Every cached value depends on a set of tables. Each table has a version counter in the cache
backend; a write through activeq bumps the counters of the tables it touches (after the
commit, when it runs in a transaction) and a value is served only while the counters it was
stored under are unchanged. Commits made by other connections or processes are noticed with
``PRAGMA data_version`` before anything is served (:mod:`activeq.commitwatch`). On
PostgreSQL they are heard with LISTEN/NOTIFY: a statement trigger on each table of the
schema announces every committed write, and a listening connection of the cache's own is read
(without blocking) before anything is served. A notification reaches the listener a moment
after the other session's COMMIT returns, so a read racing that commit may still be served
from the cache once (docs/postgresql.md).

Threads share the caches. Writes, and with them the bookkeeping of the one open transaction,
happen under the database's write lock; a thread reading while another thread's transaction
is open sees only committed values.

What is stored is never handed out: result rows are immutable tuples, and models are rebuilt
from them by the model's generated row builder on every hit.
"""

from __future__ import annotations

import copy
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any

from .commitwatch import CommitWatch
from .errors import ActiveqError
from .invalidation import SchemaDependencies
from .invalidation import dml_tables as parse_dml_tables
from .registry import resolve_model

if TYPE_CHECKING:
    from .compiler import Compiled
    from .database import Database

__all__ = ["CacheBackend", "CacheManager", "CacheStats", "MemoryCache", "ModelCache", "MISS",
           "TransactionWrites"]

MISS: Any = object()
"""Returned by ``CacheBackend.lookup`` when nothing valid is stored under a key."""

_ALL = "\x00all"  # bumped when every cached value must go (a foreign commit, unknown tables)
_ANY = "\x00any"  # bumped by every write: values cached with tables=None depend on it


_SCHEMA_TABLES = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
"""The tables whose commits a cache on PostgreSQL listens for."""


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of one Database's caches (query results, instances, relations, functions).

    >>> from activeq import ActiveRecord, Database, Field
    >>> class Leaf(ActiveRecord):
    ...     __table_name__ = 'leaves'
    ...     id: int = Field(primary_key=True)
    >>> db = Database(':memory:'); db.bind(Leaf); db.create_tables(Leaf)
    >>> q = Leaf.query().cache(ttl=60)
    >>> _ = q.all(); _ = q.all()
    >>> stats = db.cache_stats()
    >>> stats.hits, stats.misses
    (1, 1)
    """

    hits: int
    """Lookups answered from the cache."""
    misses: int
    """Lookups that ran the query (or function) and stored the result."""
    invalidations: int
    """Times a write or another connection's commit invalidated cached data (one per table)."""
    entries: int
    """Values currently stored (results and functions in the backend, plus model instances)."""

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (0.0 before the first lookup)."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def __str__(self) -> str:
        return (f"cache: {self.hits} hits, {self.misses} misses ({self.hit_rate:.0%} hit rate), "
                f"{self.invalidations} invalidations, {self.entries} entries")


class CacheBackend:
    """Where cached values live, with the per-table version counters that invalidate them.

    A *token* is the sum of the counters of a value's tables (plus a global one). Counters only
    grow, so an unchanged sum means no table was written since the value was stored.
    Subclasses implement every method; ``tables=None`` means "depends on every table".
    """

    shared = False
    """Whether other processes see this backend (then writes are published to it)."""
    foreign_writes = True
    """Whether a commit by another connection drops every value of this backend."""

    def attach(self, namespace: str) -> None:
        """Called once per Database using this backend; ``namespace`` names its file."""

    def lookup(self, key: Any, tables: frozenset[str] | None) -> tuple[Any, Any]:
        """``(token, value)`` with ``value`` MISS when nothing valid is stored."""
        raise NotImplementedError

    def store(self, key: Any, tables: frozenset[str] | None, token: Any, value: Any,
              ttl: float | None) -> None:
        """Store ``value`` under the token ``lookup`` returned before it was computed."""
        raise NotImplementedError

    def bump(self, tables: Iterable[str]) -> None:
        """Invalidate every value depending on one of ``tables``."""
        raise NotImplementedError

    def bump_all(self) -> None:
        """Invalidate every value."""
        raise NotImplementedError

    def clear(self) -> None:
        """Drop every stored value."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class MemoryCache(CacheBackend):
    """The in-process backend: an LRU of at most ``max_entries`` values with optional TTL.

    Values of a table are also dropped eagerly when it is written, so ``len()`` counts only
    live entries.

    Args:
        max_entries: the least recently used value is dropped beyond this many.
        ttl: default lifetime in seconds of values stored without one (None: no expiry).

    >>> from activeq.cache import MemoryCache, MISS
    >>> cache = MemoryCache(max_entries=2)
    >>> token, value = cache.lookup('k', frozenset({'users'}))
    >>> value is MISS
    True
    >>> cache.store('k', frozenset({'users'}), token, (1, 2), ttl=None)
    >>> cache.lookup('k', frozenset({'users'}))[1]
    (1, 2)
    >>> cache.bump(['users'])
    >>> cache.lookup('k', frozenset({'users'}))[1] is MISS
    True
    """

    def __init__(self, max_entries: int = 10_000, ttl: float | None = None) -> None:
        if not isinstance(max_entries, int) or max_entries < 1:
            raise ActiveqError(f"max_entries must be a positive integer, not {max_entries!r}")
        _check_ttl(ttl)
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[Any, tuple[Any, float | None, Any, Any]] = OrderedDict()
        self._versions: dict[str, int] = {_ALL: 0, _ANY: 0}
        self._by_table: dict[str, set[Any]] = {}
        self._lock = threading.RLock()
        self._namespace: str | None = None

    def attach(self, namespace: str) -> None:
        if self._namespace is not None and self._namespace != namespace:
            raise ActiveqError(
                "a MemoryCache serves one database file; create one per Database "
                f"(already used for {self._namespace!r})"
            )
        self._namespace = namespace

    def _token(self, tables: frozenset[str] | None) -> int:
        versions = self._versions
        if tables is None:
            return versions[_ALL] + versions[_ANY]
        token = versions[_ALL]
        get = versions.get
        for name in tables:
            token += get(name, 0)
        return token

    def lookup(self, key: Any, tables: frozenset[str] | None) -> tuple[Any, Any]:
        token = self._token(tables)
        entry = self._entries.get(key)
        if entry is None:
            return token, MISS
        if entry[0] != token or (entry[1] is not None and entry[1] < monotonic()):
            with self._lock:
                self._discard(key)
            return token, MISS
        try:
            self._entries.move_to_end(key)
        except KeyError:  # dropped by another thread meanwhile; the value was valid
            pass
        return token, entry[2]

    def store(self, key: Any, tables: frozenset[str] | None, token: Any, value: Any,
              ttl: float | None) -> None:
        if ttl is None:
            ttl = self.ttl
        expires = None if ttl is None else monotonic() + ttl
        with self._lock:
            # A write between lookup() and now made the value stale before it was stored.
            if token != self._token(tables):
                return
            entries = self._entries
            if key in entries:
                self._discard(key)
            entries[key] = (token, expires, value, tables)
            index = self._by_table
            for name in (_ANY,) if tables is None else tables:
                keys = index.get(name)
                if keys is None:
                    keys = index[name] = set()
                keys.add(key)
            while len(entries) > self.max_entries:
                self._discard(next(iter(entries)))

    def _discard(self, key: Any) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        index = self._by_table
        for name in (_ANY,) if entry[3] is None else entry[3]:
            keys = index.get(name)
            if keys is not None:
                keys.discard(key)

    def bump(self, tables: Iterable[str]) -> None:
        with self._lock:
            versions = self._versions
            versions[_ANY] += 1
            index = self._by_table
            stale = index.pop(_ANY, set())
            for name in tables:
                versions[name] = versions.get(name, 0) + 1
                stale |= index.pop(name, set())
            for key in stale:
                self._discard(key)

    def bump_all(self) -> None:
        with self._lock:
            self._versions[_ALL] += 1
            self._entries.clear()
            self._by_table.clear()

    def clear(self) -> None:
        self.bump_all()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<MemoryCache {len(self)}/{self.max_entries} entries>"


def _check_ttl(ttl: Any) -> None:
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0):
        raise ActiveqError(f"ttl must be a positive number of seconds or None, not {ttl!r}")


# Snapshots of function results: stored values are immutable, every hit gets fresh objects.
_ATOMS = frozenset({type(None), bool, int, float, complex, str, bytes, range})
_MODEL, _LIST, _TUPLE, _DICT, _SET, _DEEP = "m", "l", "t", "d", "s", "x"


def freeze(value: Any) -> Any:
    """An immutable, picklable snapshot of ``value`` (see :func:`thaw`)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return (_LIST, tuple(freeze(v) for v in value))
    if kind is tuple:
        return (_TUPLE, tuple(freeze(v) for v in value))
    if kind is dict:
        return (_DICT, tuple((k, freeze(v)) for k, v in value.items()))
    if kind is set or kind is frozenset:
        return (_SET, kind is frozenset, tuple(freeze(v) for v in value))
    info = getattr(kind, "__aq__", None)
    if info is not None and getattr(value, "_aq_ctx", None) is not None:
        data = value.__dict__
        names = tuple(n for n in info.names if n in data)
        return (_MODEL, f"{kind.__module__}.{kind.__name__}", names,
                tuple(freeze(data[n]) for n in names))
    return (_DEEP, copy.deepcopy(value))


def thaw(frozen: Any) -> Any:
    """Fresh objects equal to what :func:`freeze` was given."""
    if type(frozen) is not tuple:
        return frozen
    tag = frozen[0]
    if tag == _LIST:
        return [thaw(v) for v in frozen[1]]
    if tag == _TUPLE:
        return tuple(thaw(v) for v in frozen[1])
    if tag == _DICT:
        return {k: thaw(v) for k, v in frozen[1]}
    if tag == _SET:
        items = (thaw(v) for v in frozen[2])
        return frozenset(items) if frozen[1] else set(items)
    if tag == _MODEL:
        model = resolve_model(frozen[1])
        row = tuple(thaw(v) for v in frozen[3])
        # The values are the instance's own, converted when it was loaded from whichever
        # engine: rebuilt as they are, never converted again.
        return model.__aq__.rebuilder(frozen[2])((row,), None)[0]
    return copy.deepcopy(frozen[1])


class TransactionWrites:
    """What one open transaction wrote that the caches know about: the tables whose cached
    values its commit invalidates, and the instance caches it suspends until it ends.

    Each thread (each async unit of work) has its own (``cache_writes`` in its session state):
    transactions open at once on several connections end apart, and one's rollback must not
    drop what another's commit still has to invalidate.
    """

    __slots__ = ("tables", "every", "suspended")

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.every = False
        """Whether it wrote tables that are not known (so every cached value is stale)."""
        self.suspended: set[ModelCache] = set()

    def blocks(self, tables: frozenset[str] | None) -> bool:
        """Whether values read from ``tables`` may include its uncommitted writes."""
        return self.every or tables is None or not self.tables.isdisjoint(tables)

    def suspend(self, cache: ModelCache) -> None:
        if cache not in self.suspended:
            self.suspended.add(cache)
            cache.suspended += 1


class ModelCache:
    """The identity cache of one model: primary key -> the row tuple it was loaded from.

    Only primary keys of the declared type are cached (so ``find_by_id('1')`` and
    ``find_by_id(1)`` cannot disagree after an eviction), and absent rows are not cached.
    Beyond ``max_entries`` the oldest stored row is dropped.
    """

    __slots__ = ("manager", "model", "table", "rows", "pk_type", "max_entries", "suspended",
                 "generation", "hits", "misses")

    def __init__(self, manager: CacheManager, model: Any, max_entries: int) -> None:
        info = model.__aq__
        if info.pk is None:
            raise ActiveqError(f"{model.__name__} has no primary key: its instances cannot be cached")
        self.manager = manager
        self.model = model
        self.table: str = info.table
        self.rows: dict[Any, tuple[Any, ...]] = {}
        self.pk_type = info.pk.python_type
        self.max_entries = max_entries
        self.suspended = 0
        """How many open transactions have written the table: while any has, reads go to
        the database and nothing is stored."""
        self.generation = 0
        """Bumped by every eviction, so a row read before one is not stored after it."""
        self.hits = 0
        self.misses = 0

    def find(self, entry: Compiled, shape: Any, id: Any) -> Any:
        """``find_by_id`` through the cache; ``entry`` is the compiled primary-key SELECT."""
        manager = self.manager
        if manager.sync() and type(id) is self.pk_type and not self.suspended:
            row = self.rows.get(id)
            if row is not None:
                self.hits += 1
                return entry.mapper((row,), manager.db._default_ctx)[0]
            return self._load(entry, shape, id, True)
        return self._load(entry, shape, id, False)

    def _load(self, entry: Compiled, shape: Any, id: Any, store: bool) -> Any:
        db = self.manager.db
        generation = self.generation
        rows = db._select(entry, (id,), shape, 0, True)
        if not rows:
            return None
        if store:
            self.misses += 1
            if generation == self.generation:
                cached = self.rows
                if len(cached) >= self.max_entries:
                    try:
                        del cached[next(iter(cached))]
                    except (KeyError, StopIteration, RuntimeError):
                        pass
                cached[id] = rows[0]
        return entry.mapper(rows, db._default_ctx)[0]

    def evict(self, id: Any) -> None:
        self.generation += 1
        self.rows.pop(id, None)

    def clear(self) -> None:
        self.generation += 1
        self.rows.clear()


class CacheManager:
    """The caches of one Database and the bookkeeping that keeps them exact.

    Created by ``Database``; users reach it through ``Database.cache_stats()``,
    ``enable_cache()``, ``cached()``, ``invalidate()`` and ``Query.cache()``.
    """

    def __init__(self, db: Database, backend: CacheBackend | None = None, *,
                 ttl: float | None = None, queries: bool = False, models: bool = False,
                 model_max_entries: int = 100_000) -> None:
        _check_ttl(ttl)
        if backend is not None and not isinstance(backend, CacheBackend):
            raise ActiveqError(f"cache= takes a CacheBackend (MemoryCache, RedisCache), not {backend!r}")
        self.db = db
        self.ttl = ttl
        self.queries = queries
        """Cache every query's results (``Database(query_cache=True)``)."""
        self.models = models
        """Cache instances of every model (``Database(model_cache=True)``)."""
        self.model_max_entries = model_max_entries
        self._backend = backend
        self._namespace = _namespace(db.path)
        # A private in-memory database has no other connections to watch.
        self._watch_commits = db.dialect == "sqlite" and db.path not in ("", ":memory:")
        self._watch: Any = None
        self._model_caches: dict[Any, ModelCache] = {}
        self._deps: Any = None
        self._open: set[TransactionWrites] = set()
        """The open transactions (of any thread or task) that have written tables the cache
        knows about (see :class:`TransactionWrites`)."""
        self.row_write: tuple[Any, bool] | None = None
        """(record, evict) while ``save()``/``delete()`` writes one row: see ``after_write``."""
        self.hits = 0
        self.misses = 0
        self.invalidations = 0
        self.active = False
        self.closed = False
        if backend is not None:
            backend.attach(self._namespace)
            if backend.shared:
                self._activate()

    # backend -------------------------------------------------------------------------------
    @property
    def backend(self) -> CacheBackend:
        """The backend holding results, relations and function values."""
        backend = self._backend
        if backend is None:
            backend = self._backend = MemoryCache()
            backend.attach(self._namespace)
        return backend

    def _activate(self) -> None:
        # Nothing was cached before this point, so only writes from now on matter; but an
        # open transaction may already have written unknown tables.
        self.active = True
        if self._watch_commits:
            self._watch = CommitWatch(self.db)
        elif self.db.dialect == "postgres" and not self.closed:
            self._watch = self._watch_server()
        if self.db.in_transaction:
            self._writes().every = True

    def _watch_server(self) -> Any:
        """LISTEN for the commits of other sessions to every table of the current schema."""
        db = self.db
        tables = [str(r[0]) for r in db._introspect(_SCHEMA_TABLES)]
        return db._thread().conn.watch_commits(tables)

    # consistency with other connections ----------------------------------------------------
    def sync(self) -> bool:
        """Before serving anything: notice other connections' commits and ended transactions.

        False when other connections' commits cannot be checked right now: then nothing may
        be served from the cache nor stored in it.
        """
        watch = self._watch
        if watch is not None:
            changed = watch.changed()
            if changed:
                self._foreign_commit()
            elif changed is None:
                return False
        elif self.closed:
            raise ActiveqError("the database is closed")
        if self._open:
            state = self.db._thread()
            if state.cache_writes is not None and not state.conn.in_transaction:
                # The transaction ended without our hooks (raw COMMIT/ROLLBACK): assume it
                # committed.
                self._settle(True)
        return True

    def _foreign_commit(self) -> None:
        self.invalidations += 1
        for cache in self._model_caches.values():
            cache.clear()
        backend = self._backend
        if backend is not None and (not backend.shared or backend.foreign_writes):
            backend.bump_all()

    def _blocked(self, tables: frozenset[str] | None) -> bool:
        """Whether ``tables`` have uncommitted writes in the calling thread's transaction."""
        writes = self.db._thread().cache_writes
        return writes is not None and writes.blocks(tables)  # type: ignore[no-any-return]

    def _writes(self) -> TransactionWrites:
        """The calling thread's open transaction's writes, registered on first use."""
        state = self.db._thread()
        writes = state.cache_writes
        if writes is None:
            writes = state.cache_writes = TransactionWrites()
            self._open.add(writes)
        return writes  # type: ignore[no-any-return]

    # writes --------------------------------------------------------------------------------
    def _expand(self, tables: Iterable[str] | None) -> frozenset[str] | None:
        if tables is None:
            return None
        if self._deps is None:
            self._deps = SchemaDependencies(self.db._introspect, self.db.dialect)
        return self._deps.expand(tables)  # type: ignore[no-any-return]

    def dml_tables(self, sql: str) -> frozenset[str] | None:
        """Tables written by raw DML (parsed only once something is cached)."""
        if not self.active:
            return None
        return parse_dml_tables(sql)

    def after_write(self, tables: Iterable[str] | None) -> None:
        """Every write statement: drop stale instances, bump (or, in a transaction, defer)."""
        if not self.active:
            return
        expanded = self._expand(tables)
        row_write = self.row_write
        own = None
        if row_write is not None:
            record, evict = row_write
            own = type(record).__aq__.table
            if evict:
                pk = record.__aq__.pk.name
                key = record.__dict__.get(pk)
                for cache in self._model_caches.values():
                    if cache.table == own:
                        cache.evict(key)
        for cache in self._model_caches.values():
            if cache.table != own and (expanded is None or cache.table in expanded):
                cache.clear()
        if self.db._thread().conn.in_transaction:
            writes = self._writes()
            if expanded is None:
                writes.every = True
                for cache in self._model_caches.values():
                    writes.suspend(cache)
            else:
                writes.tables |= expanded
                for cache in self._model_caches.values():
                    if cache.table in expanded:
                        writes.suspend(cache)
        else:
            self._bump(expanded)

    def _bump(self, tables: frozenset[str] | None) -> None:
        if tables is None:
            self.invalidations += 1
            self.backend.bump_all()
        elif tables:
            self.invalidations += len(tables)
            self.backend.bump(tables)

    def _settle(self, committed: bool) -> None:
        """The calling thread's transaction ended: invalidate what its commit changed."""
        state = self.db._thread()
        writes = state.cache_writes
        if writes is None:
            return
        state.cache_writes = None
        self._open.discard(writes)
        for cache in writes.suspended:
            cache.suspended -= 1
        if committed:
            self._bump(None if writes.every else frozenset(writes.tables))

    def after_commit(self) -> None:
        if self.active:
            self._settle(True)

    def after_rollback(self) -> None:
        # Nothing uncommitted was ever stored, so what is cached is still the committed state.
        if self.active:
            self._settle(False)

    def invalidate(self, tables: Iterable[str] | None = None) -> None:
        """Drop cached data of ``tables`` (None: everything), e.g. after an outside write."""
        if not self.active:
            self._activate()
        names = None if tables is None else self._expand(tables)
        for cache in self._model_caches.values():
            if names is None or cache.table in names:
                cache.clear()
        self._bump(names)

    # query results -------------------------------------------------------------------------
    def select(self, entry: Compiled, values: Any, shape: Any, compile_ns: int, hit: bool,
               option: Any) -> list[Any]:
        """Rows of a compiled SELECT, from the cache when ``option`` (or the default) says so."""
        db = self.db
        if option is False or (option is None and not self.queries):
            return db._select(entry, values, shape, compile_ns, hit)
        if not self.active:
            self._activate()
        tables = entry.tables
        if not self.sync() or self._open and self._blocked(tables):
            return db._select(entry, values, shape, compile_ns, hit)
        key = (entry.sql, values if type(values) is tuple else tuple(values))
        backend = self._backend or self.backend
        try:
            token, rows = backend.lookup(key, tables)
        except TypeError:  # an unhashable value: such a query is simply not cached
            return db._select(entry, values, shape, compile_ns, hit)
        if rows is not MISS:
            self.hits += 1
            return list(rows)
        self.misses += 1
        rows = db._select(entry, values, shape, compile_ns, hit)
        ttl = option if type(option) in (int, float) else self.ttl
        backend.store(key, tables, token, tuple(rows), ttl)
        return rows  # type: ignore[no-any-return]

    # relations -----------------------------------------------------------------------------
    def relation_rows(self, rel: Any, entry: Compiled, values: Any, shape: Any, compile_ns: int,
                      hit: bool) -> list[Any]:
        """Rows of a relation's query (includes() or a lazy load).

        Cached when the instances of the relation's owner are (``enable_cache``), keyed by the
        SQL and the parents' keys, and invalidated by the child tables like any result.
        """
        if self.models or rel.owner in self._model_caches:
            return self.select(entry, values, shape, compile_ns, hit, True)
        return self.db._select(entry, values, shape, compile_ns, hit)

    # model instances -----------------------------------------------------------------------
    def model_cache(self, model: Any) -> ModelCache | None:
        """The instance cache of ``model`` when enabled (explicitly or database-wide)."""
        cache = self._model_caches.get(model)
        if cache is None and self.models and model.__aq__.pk is not None:
            cache = self.enable(model)
        return cache

    def enable(self, model: Any, max_entries: int | None = None) -> ModelCache:
        if not hasattr(model, "__aq__"):
            raise ActiveqError(f"enable_cache() takes model classes, not {model!r}")
        if not self.active:
            self._activate()
        cache = self._model_caches.get(model)
        if cache is None:
            cache = self._model_caches[model] = ModelCache(
                self, model, max_entries or self.model_max_entries)
            for writes in self._open:
                if writes.every or cache.table in writes.tables:
                    writes.suspend(cache)
        elif max_entries:
            cache.max_entries = max_entries
        return cache

    def disable(self, model: Any) -> None:
        self._model_caches.pop(model, None)

    # functions -----------------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], name: str, tables: frozenset[str] | None,
             ttl: float | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run ``fn`` through the cache (see ``Database.cached``)."""
        if not self.active:
            self._activate()
        if not self.sync() or self._open and self._blocked(tables):
            return fn(*args, **kwargs)
        key = ("fn", name, args, tuple(sorted(kwargs.items())) if kwargs else ())
        try:
            hash(key)
        except TypeError as e:
            raise ActiveqError(
                f"arguments of the cached function {name} must be hashable to form a cache key: {e}"
            ) from e
        backend = self.backend
        token, value = backend.lookup(key, tables)
        if value is not MISS:
            self.hits += 1
            return thaw(value)
        self.misses += 1
        result = fn(*args, **kwargs)
        backend.store(key, tables, token, freeze(result), ttl if ttl is not None else self.ttl)
        return result

    def decorator(self, ttl: float | None, tables: Iterable[Any] | None) -> Callable[[Any], Any]:
        _check_ttl(ttl)
        names = None if tables is None else frozenset(_table_name(t) for t in tables)

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            name = f"{fn.__module__}.{fn.__qualname__}"

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return self.call(fn, name, names, ttl, args, kwargs)

            wrapper.tables = names  # type: ignore[attr-defined]
            return wrapper

        return decorate

    # statistics ----------------------------------------------------------------------------
    def close(self) -> None:
        """Release the commit watch (the Database is closing)."""
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.close()
        self._watch_commits = False
        self.closed = True

    def stats(self) -> CacheStats:
        caches = list(self._model_caches.values())
        return CacheStats(
            hits=self.hits + sum(c.hits for c in caches),
            misses=self.misses + sum(c.misses for c in caches),
            invalidations=self.invalidations,
            entries=(len(self._backend) if self._backend is not None else 0)
            + sum(len(c.rows) for c in caches),
        )

    def reset_stats(self) -> None:
        self.hits = self.misses = self.invalidations = 0
        for cache in self._model_caches.values():
            cache.hits = cache.misses = 0


def _namespace(path: str) -> str:
    if path in ("", ":memory:") or path.startswith("file:"):
        return f"{path}#{os.getpid()}:{id(path)}"
    return os.path.realpath(path)


def _table_name(item: Any) -> str:
    if isinstance(item, str):
        if not item:
            raise ActiveqError("cached(tables=...) got an empty table name")
        return item
    info = getattr(item, "__aq__", None)
    if info is None:
        raise ActiveqError(f"cached(tables=...) takes table names or model classes, not {item!r}")
    return info.table  # type: ignore[no-any-return]
