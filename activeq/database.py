"""The session over an engine: connections per thread, execution with timing records,
transactions, retry, caches.

Records are saved by the model layer (:mod:`activeq.persistence`) and reports are formatted
by :mod:`activeq.monitor`; this module imports neither the model layer nor anything above it.

``Database(url)`` opens the engine the URL names (:mod:`activeq.engines`): SQLite through APSW
for a path or ``sqlite:///path``, PostgreSQL through psycopg for ``postgresql://``, DuckDB for
``duckdb:///path`` and ``duckdb://:memory:``. Statements reach the driver through the engine's
connection interface only; the hot paths call the connection's ``reader`` (APSW's own cursor on
SQLite), bound once per thread.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, NoReturn

from .advice import suggest_indexes as advise_indexes
from .ast import Param
from .cache import CacheBackend, CacheManager, CacheStats, _table_name
from .commitwatch import read_data_version
from .compiler import Compiled, compiler
from .connections import Link, ThreadState, WriteLock, serialize_reads, stream_rows
from .constraints import creation_order
from .cursor import Cursor
from .ddl import create_table_statements, drop_table_statement
from .engines import Connection, Engine, PlanData, dialect_of, open_engine
from .engines.lent import LentEngine, lend
from .errors import (
    ActiveqError,
    ArgumentTypeError,
    CompileError,
    ConfigurationError,
    DatabaseError,
    MissingParameterError,
    OperationalError,
    SerializationError,
    UnsupportedError,
    ValidationError,
)
from .finders import forget_finders, make_finder, register_finder
from .journal import Journal
from .monitor import Plan, QueryLog, Timing, explain_plan
from .nplusone import NPlusOneDetector
from .pool import ConnectionPool, attach_pool, attach_server_pool, check_pool_size
from .rawsql import READ, plain_kind
from .retry import RetryPolicy, rerun, retry_busy, retry_statement, run_atomic
from .retry import retrying as retrying_calls
from .routing import Routed, route_through_execute
from .schema import check_before_create, check_bind, check_schema
from .stats import dump_stats
from .values import raise_unbindable, unstorable_error

if TYPE_CHECKING:
    from .model import ActiveRecord
    from .table import Table

__all__ = ["Database", "LoadContext", "Cursor"]

logger = logging.getLogger("activeq")


TRANSACTION_MODES = ("deferred", "immediate", "exclusive")
"""The modes ``Database.transaction`` (and ``atomic``, ``retrying``) accept."""


def check_transaction_mode(mode: str, allowed: Collection[str] = TRANSACTION_MODES) -> None:
    """Refuse a transaction mode that is not one of ``allowed`` (:data:`TRANSACTION_MODES`;
    PostgreSQL adds its isolation levels such as ``'repeatable read'``).

    >>> check_transaction_mode('lazy')
    Traceback (most recent call last):
    ...
    activeq.errors.ConfigurationError: unknown transaction mode 'lazy': use 'deferred', 'immediate' or 'exclusive'
    """
    if mode not in allowed:
        ordered = [m for m in TRANSACTION_MODES if m in allowed]
        names = [repr(m) for m in ordered + [m for m in allowed if m not in ordered]]
        raise ConfigurationError(
            f"unknown transaction mode {mode!r}: use {', '.join(names[:-1])} or {names[-1]}")


FETCH_MODES = ("lazy", "peers", "raise")
"""How unloaded relations behave on results (``fetch_mode=`` of ``Database`` and queries)."""


def check_fetch_mode(mode: str) -> str:
    """Validate a fetch mode name.

    >>> check_fetch_mode('eager')
    Traceback (most recent call last):
    ...
    activeq.errors.CompileError: unknown fetch mode 'eager'; expected one of lazy, peers, raise
    """
    if mode not in FETCH_MODES:
        raise CompileError(f"unknown fetch mode {mode!r}; expected one of {', '.join(FETCH_MODES)}")
    return mode


def _unset_hook(*args: Any) -> Any:
    raise ConfigurationError("activeq.reflection is not imported")


@dataclass
class Hooks:
    """What a few ``Database`` methods run in the layers above the session.

    ``db.reflect()`` builds a ``Table`` and ``db.reflect_models()`` model classes: work of the
    model layer, which imports this module and so cannot be imported by it. That layer sets
    these when it is imported (:mod:`activeq.reflection`); importing any activeq module first
    imports the package, which imports every layer, so they are set before any ``Database``
    exists.
    """

    reflect: Callable[[Database, str, str | None], Table] = _unset_hook
    reflect_models: Callable[[Database, str | None, Iterable[str] | None],
                             dict[str, type[ActiveRecord]]] = _unset_hook


hooks = Hooks()


class LoadContext:
    """Shared by the instances one query returned: their database and fetch mode.

    ``instances`` lets the 'peers' fetch mode load a relation for all of them at once.
    """

    __slots__ = ("db", "fetch_mode", "instances")

    def __init__(self, db: Database, fetch_mode: str, instances: list[Any] | None = None) -> None:
        self.db = db
        self.fetch_mode = fetch_mode
        self.instances = instances





class Database:
    """A session over one database engine: SQLite (APSW), PostgreSQL (psycopg) or DuckDB.

    Args:
        url: a SQLite file name, ":memory:" or ``sqlite:///path`` (the embedded default);
            ``postgresql://user@host:5432/db``; ``duckdb:///path.duckdb`` or
            ``duckdb://:memory:``. An unknown scheme, a server that is down or a refused login
            raise ``OperationalError`` here, naming host and port but never the password.
        pragmas: SQLite only: overrides merged onto
            :func:`activeq.engines.apsw.recommended_pragmas` (None values remove one). Names
            must be identifiers, values integers or words from the pragma's own set
            (``ConfigurationError`` before any connection opens; see :mod:`activeq.pragmas`).
        busy_timeout_ms: how long SQLite waits on a lock before reporting busy (also the
            default retry budget, on every engine).
        statement_cache_size: SQLite only: APSW's prepared-statement cache size.
        record_limit: how many timing records the query log keeps (None: every one;
            ``ConfigurationError`` if negative).
        slow_query_ms: threshold above which statements are kept as slow queries (with
            their plans; see :meth:`slow_queries`).
        stats: keep recent timing records and per-shape statistics (:meth:`stats`).
        sqlite_counters: attach SQLite's per-statement counters (full-scan steps, sorts,
            automatic indexes, VM steps) to every record; costs about 2 µs per statement.
        on_slow_query: called with each ``SlowQuery`` as it is recorded.
        n_plus_one: report repeated query shapes Database-wide: 'warn', 'raise' or 'log'
            (see :meth:`detect_n_plus_one`).
        fetch_mode: default relation fetch mode: 'lazy', 'peers' or 'raise'.
        model_cache: enable the model instance cache for every bound model.
        query_cache: cache the results of every query (``query.cache(False)`` opts out).
        cache: the cache backend (``MemoryCache``, ``RedisCache``); an in-process LRU when
            None.
        cache_ttl: default lifetime in seconds of cached results (None: until invalidated).
        pool_size: on PostgreSQL, the most connections of psycopg_pool's pool that reads
            outside a transaction borrow (writes and transactions keep each thread's own
            connection). On SQLite: read on a pool of up to this many connections and write on one
            shared connection (see :mod:`activeq.pool`); None gives each thread a connection of
            its own (see :mod:`activeq.connections`).
        pool_timeout: seconds a read waits for a free pooled connection before
            ``PoolTimeoutError``.
        on_connect: called with every new driver connection (an APSW, psycopg or DuckDB
            connection: functions, collations, settings); a subclass may override
            :meth:`connect` instead.
        retry: how BEGIN, COMMIT and autocommit statements are retried while the database
            is busy or a transaction lost to a concurrent one (see
            :class:`activeq.retry.RetryPolicy`); ``RetryPolicy(attempts=1)`` turns retrying off.

    One ``Database`` may be shared by threads: a transaction belongs to the thread that
    opened it, and other threads' writes wait for it to end (see :mod:`activeq.connections`).
    A subclass that overrides :meth:`execute` sees every statement activeq runs, queries and
    record methods included.

    >>> from activeq import Database
    >>> db = Database(':memory:')
    >>> db.execute('SELECT 1 + ?', (1,)).fetchall()
    [(2,)]
    >>> db.dialect, Database('duckdb://:memory:').dialect
    ('sqlite', 'duckdb')
    """

    dialect: str
    """The SQL dialect of the engine: "sqlite", "postgres" or "duckdb"."""

    def __init__(
        self,
        url: str | Engine = ":memory:",
        *,
        pragmas: dict[str, Any] | None = None,
        busy_timeout_ms: int = 5000,
        statement_cache_size: int = 256,
        record_limit: int | None = 10_000,
        slow_query_ms: float | None = None,
        stats: bool = True,
        sqlite_counters: bool = False,
        on_slow_query: Callable[[Any], Any] | None = None,
        n_plus_one: str | None = None,
        fetch_mode: str = "lazy",
        model_cache: bool = False,
        query_cache: bool = False,
        cache: CacheBackend | None = None,
        cache_ttl: float | None = None,
        pool_size: int | None = None,
        pool_timeout: float = 5.0,
        on_connect: Callable[[Any], Any] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        # An Engine instance: a connection the application lent, or an async driver's bridge.
        lent = isinstance(url, Engine)
        self.dialect = url.dialect if lent else dialect_of(url)  # type: ignore[union-attr, arg-type]
        if lent and (pragmas is not None or pool_size is not None):
            raise ConfigurationError(
                "a lent connection keeps the application's settings and is the only one: "
                "pragmas and pool_size do not apply" if isinstance(url, LentEngine) else
                "an engine given to Database keeps its own settings: pragmas and pool_size "
                "do not apply")
        sqlite = self.dialect == "sqlite"
        # A server pools connections in its driver (psycopg_pool); SQLite in activeq.pool.
        server_pool = self.dialect == "postgres" and pool_size is not None
        if server_pool:
            check_pool_size(pool_size, pool_timeout)
        if not sqlite:
            for name, given in (("pragmas", pragmas), ("pool_size", None if server_pool else pool_size),
                                ("sqlite_counters", sqlite_counters or None)):
                if given is not None:
                    raise ConfigurationError(
                        f"{name} is a SQLite option; this database is {self.dialect}")
        self.fetch_mode = check_fetch_mode(fetch_mode)
        self.busy_timeout_ms = busy_timeout_ms
        self.statement_cache_size = statement_cache_size
        options: dict[str, Any] = {}
        if sqlite:
            options = {"pragmas": pragmas, "busy_timeout_ms": busy_timeout_ms,
                       "statement_cache_size": statement_cache_size}
        elif server_pool:
            # Pooled connections are prepared by the pool, with the same on_connect.
            options = {"pool_size": pool_size, "pool_timeout": pool_timeout,
                       "on_connect": on_connect}
        # Opened first: a bad pragma, an unknown scheme or an unreachable server is refused
        # before anything else is set up.
        self._engine: Engine = url if lent else open_engine(url, **options)  # type: ignore[assignment, arg-type]
        self.url = self._engine.url
        self.path = getattr(self._engine, "path", self.url)
        """The SQLite file (or ":memory:"); the URL, password removed, on other engines."""
        self.pragmas: dict[str, Any] = dict(getattr(self._engine, "pragmas", {}))
        self._driver_errors = self._engine.connection_class.driver_errors
        self.has_last_id = self._engine.connection_class.has_last_id
        self.log = QueryLog(record_limit, slow_query_ms, stats=stats, on_slow_query=on_slow_query)
        self.log.attach(self)
        self.retry = retry if retry is not None else RetryPolicy()
        self.busy_retries = 0
        """How many times a busy (or conflicting) statement or transaction was tried again."""
        self._closed = False
        self._find_entries: dict[Any, tuple[Compiled, Any, Any]] = {}
        self._bound: list[Any] = []
        """The classes named in bind() calls (models, or bases standing for their subclasses)."""
        self._default_ctx = LoadContext(self, self.fetch_mode)
        self.model_cache = model_cache
        self.on_connect = on_connect
        self._writer = WriteLock(busy_timeout_ms)
        memory = self._engine.private_memory
        # A database without a file cannot be deleted under its connections.
        self._has_file = not memory and self._engine.connection_class.watches_file
        # One connection for all threads: an in-memory database exists only inside it, and a
        # pool writes on one connection. Otherwise each thread opens its own.
        self._share_one = memory or (pool_size is not None and not server_pool)
        self._shared: Link | None = None
        self._links: weakref.WeakSet[Link] = weakref.WeakSet()
        self._links_lock = threading.Lock()
        if memory:
            serialize_reads(self)
        self._local = threading.local()
        try:
            self._attach_thread(self._local)  # opens this thread's connection
        except BaseException:
            self._engine.close()
            raise
        self._cache = CacheManager(self, cache, ttl=cache_ttl, queries=query_cache,
                                   models=model_cache)
        self._cache_all = query_cache
        if sqlite_counters:
            self.log.enable_counters(self._thread().conn)
        self.n_plus_one = None if n_plus_one is None else self.detect_n_plus_one(n_plus_one, scoped=False).start()
        self.pool: ConnectionPool[Connection] | None = None
        if server_pool:
            attach_server_pool(self)
        elif pool_size is not None:
            self.pool = attach_pool(self, pool_size, pool_timeout)
        if type(self).execute is not Database.execute:
            route_through_execute(self)

    @classmethod
    def from_connection(cls, conn: Any, **options: Any) -> Database:
        """A Database running on a connection the application already holds: an open apsw,
        sqlite3 (``isolation_level=None``), psycopg (autocommit) or duckdb connection, or a
        SQLAlchemy ``Connection``, whose transaction activeq's writes join (docs/embedding.md).

        The application keeps its connection: activeq runs its statements on it (with the
        builder, the compile cache, timings, the result cache and N+1 detection) and never
        closes it; ``db.close()`` only ends activeq's use. Its settings stay the
        application's (no pragmas are applied). ``options`` are the other keywords of
        ``Database`` (``slow_query_ms``, ``n_plus_one``, ``query_cache``, ...).

        >>> import apsw
        >>> from activeq import Database
        >>> conn = apsw.Connection(':memory:')
        >>> db = Database.from_connection(conn)
        >>> db.execute('SELECT 40 + ?', (2,)).fetchall()
        [(42,)]
        >>> db.close(); conn.execute('SELECT 1').fetchall()
        [(1,)]
        """
        return cls(lend(conn), **options)

    # connections ---------------------------------------------------------------------------
    def _open(self) -> Connection:
        """A new engine connection, not yet prepared (see :meth:`connect`)."""
        return self._engine.connect(configure=False)

    def _thread(self) -> ThreadState:
        """The calling thread's state (see :data:`activeq.connections.ThreadState`),
        attaching the thread on its first use."""
        state = self._local
        if "link" not in state.__dict__:
            self._attach_thread(state)
        return state

    def _attach_thread(self, state: ThreadState) -> None:
        """Give a thread its connection: the shared one, or a new one of its own."""
        if self._closed:
            raise ActiveqError("the database is closed")
        state.depth = 0
        state.journal = None
        state.cache_writes = None
        state.connecting = False
        state.deadline = 0
        state.timeout_cut = False
        link = self._shared
        if link is not None:
            state.link, state.conn, state.cursor = link, link.conn, link.conn.reader
            return
        conn = self._open()
        link = Link(conn)
        state.link, state.conn, state.cursor = link, conn, conn.reader
        try:
            self._prepare(state)
        except BaseException:
            del state.link, state.conn, state.cursor
            conn.close()
            raise
        if self._share_one:
            self._shared = link
        else:
            with self._links_lock:
                self._links.add(link)

    def _prepare(self, state: ThreadState) -> None:
        state.connecting = True
        try:
            self.connect()
        finally:
            state.connecting = False

    def _open_connection(self) -> Connection:
        """A further connection, prepared like every other (settings, :meth:`connect`)."""
        conn = self._open()
        state = self._thread()
        saved = state.link, state.conn, state.cursor
        state.link, state.conn, state.cursor = Link(conn), conn, conn.reader
        try:
            self._prepare(state)
        except BaseException:
            conn.close()
            raise
        finally:
            state.link, state.conn, state.cursor = saved
        return conn

    def connect(self) -> None:
        """Prepare a new connection; runs once for each, in the thread that opened it.

        Applies the engine's settings (SQLite's :attr:`pragmas`: a switch to WAL waits up to
        ``busy_timeout_ms`` for the lock it needs), then calls ``on_connect``. While it runs,
        :attr:`connection` and :meth:`execute` use the new connection. Override it to prepare
        connections your own way, calling ``super().connect()`` first.

        >>> from activeq import Database
        >>> class Tuned(Database):
        ...     def connect(self):
        ...         super().connect()
        ...         self.execute('PRAGMA cache_size=-2000')
        >>> Tuned(':memory:').execute('PRAGMA cache_size').fetchall()
        [(-2000,)]
        """
        conn = self._thread().conn
        conn.configure()
        if self.log.counters_enabled:
            self.log.enable_counters(conn)
        if self.on_connect is not None:
            self.on_connect(conn.raw)

    @property
    def connection(self) -> Any:
        """The driver's own connection of the calling thread (an APSW, psycopg or DuckDB
        connection).

        Each thread of a file database has its own (the shared one for ``:memory:`` and for
        the writer of a pool): set up connections in :meth:`connect` or ``on_connect``.
        """
        if self._closed:
            raise ActiveqError("the database is closed")
        return self._thread().conn.raw

    @property
    def engine(self) -> Engine:
        """The engine this database runs on (see :mod:`activeq.engines`)."""
        return self._engine

    def _introspect(self, sql: str, params: Any = (), one_statement: bool = False) -> list[Any]:
        """Rows of a read run for activeq's own bookkeeping, on a connection this thread may
        use now (a shared one only under the write lock); not logged. ``one_statement``
        refuses SQL holding a second statement, as :meth:`execute` does."""
        state = self._thread()
        if self._shared is None or state.depth or state.connecting:
            return _fetch(state.conn, sql, params, one_statement)
        lock = self._writer
        lock.acquire(state)
        try:
            return _fetch(state.conn, sql, params, one_statement)
        finally:
            lock.release(state)

    def _plan_data(self, sql: str, params: Any = ()) -> PlanData:
        """The engine's plan of ``sql`` as data (not logged), run like :meth:`_introspect`."""
        state = self._thread()
        if self._shared is None or state.depth or state.connecting:
            return state.conn.explain(sql, params)
        lock = self._writer
        lock.acquire(state)
        try:
            return state.conn.explain(sql, params)
        finally:
            lock.release(state)

    def _data_version(self) -> tuple[Link, int] | None:
        """``PRAGMA data_version`` on this thread's connection, for the commit watch.

        None when that connection is shared and another thread holds it right now.
        """
        state = self._thread()
        if self._shared is None or state.depth or state.connecting:
            return state.link, read_data_version(state.conn)
        lock = self._writer
        if not lock.try_acquire():
            return None
        try:
            return state.link, read_data_version(state.conn)
        finally:
            lock.release_plain()

    def close(self) -> None:
        """Close every connection (idempotent); call it once the threads using it are done."""
        if not self._closed:
            self._closed = True
            forget_finders()
            self._cache.close()
            with self._links_lock:
                links = list(self._links)
            if self._shared is not None:
                links.append(self._shared)
            for link in links:
                link.conn.close()
            self._engine.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # models --------------------------------------------------------------------------------
    def bind(self, *models: type[ActiveRecord] | Table) -> None:
        """Make these models (or, with ``ActiveRecord``, every model) use this database.

        A model named here whose table already exists is checked against it: a missing
        column raises ``SchemaError`` naming it and the ``ALTER TABLE`` that adds it, and
        nothing is bound. (Tables created later are checked by ``create_tables``; models bound
        through a base class are checked by :meth:`check_schema`.)
        """
        check_bind(self, models)
        self._attach_models(models)

    def _attach_models(self, models: Sequence[type[ActiveRecord] | Table]) -> None:
        """:meth:`bind` after its schema check."""
        for model in models:
            if isinstance(model, type):
                # A class attribute: subclasses without a binding of their own inherit it.
                type.__setattr__(model, "__database__", self)
            else:  # a Table
                object.__setattr__(model, "__database__", self)
        forget_finders()
        self._bound.extend(m for m in models if m not in self._bound)
        for model in models:
            for bound in (model, *_subclasses(model)):
                if "__aq__" in bound.__dict__:
                    for rel in bound.__aq__.relations.values():
                        rel.check()

    def create_tables(self, *models: type[ActiveRecord] | Table, if_not_exists: bool = True) -> None:
        """CREATE TABLE (with unique and foreign key constraints) and CREATE INDEX for each
        model, in order (a table after those its foreign keys refer to).

        A table that already exists is compared with its model first: if it differs in more
        than missing plain indexes (which are created), ``SchemaError`` lists the differences
        and nothing is run.
        """
        if if_not_exists:
            check_before_create(self, models)
        with self.transaction():
            for model in creation_order(models):
                for sql in create_table_statements(model, self.dialect, if_not_exists):
                    self.execute(sql)

    def reflect(self, name: str, schema: str | None = None) -> Table:
        """The table ``name`` (in ``schema``) as a ``Table`` bound to this database: its
        columns with their types, primary key, indexes and foreign keys, read from the
        catalog (see :mod:`activeq.reflection`).

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> _ = db.execute('CREATE TABLE pets (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)')
        >>> pets = db.reflect('pets')
        >>> pets.columns
        (Column('id', int, primary_key=True), Column('name', str, max_length=20))
        >>> pets.query().where(pets.c.name == 'Rex').to_sql()[0]
        'SELECT "pets"."id", "pets"."name" FROM "pets" WHERE "pets"."name" = ?'
        """
        return hooks.reflect(self, name, schema)

    def reflect_models(self, schema: str | None = None,
                       tables: Iterable[str] | None = None) -> dict[str, type[ActiveRecord]]:
        """A model class for each table (of ``schema``, or only ``tables``), bound to this
        database, by table name; foreign keys become ``belongs_to`` and ``has_many``
        relations. The classes are those of the source ``python -m activeq reflect URL``
        prints.

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> db.executescript('''
        ...     CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        ...     CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
        ...                         author_id INTEGER NOT NULL REFERENCES authors (id));
        ...     INSERT INTO authors VALUES (1, 'Le Guin');
        ...     INSERT INTO books VALUES (1, 'The Dispossessed', 1);
        ... ''')
        >>> models = db.reflect_models()
        >>> Book = models['books']
        >>> Book.query().includes('author').first().author.name
        'Le Guin'
        """
        return hooks.reflect_models(self, schema, tables)

    def check_schema(self, *models: type[ActiveRecord] | Table) -> list[Any]:
        """How the tables of these models (none given: every model bound to this database)
        differ from what ``create_tables`` would create.

        Returns a list of ``activeq.schema`` difference records (``MissingTable``,
        ``MissingColumn``, ``ExtraColumn``, ``TypeMismatch``, ``NullabilityMismatch``,
        ``MissingIndex``, ``MissingForeignKey``), each with a readable ``str()`` and, where
        a statement fixes it, ``.ddl``. Empty when every table matches.

        >>> from activeq import ActiveRecord, Database, Field
        >>> class Lamp(ActiveRecord):
        ...     __table_name__ = 'lamps'
        ...     id: int = Field(primary_key=True)
        ...     watts: int
        >>> db = Database(':memory:'); db.bind(Lamp)
        >>> [type(d).__name__ for d in db.check_schema(Lamp)]
        ['MissingTable']
        >>> db.create_tables(Lamp); db.check_schema(Lamp)
        []
        """
        if not models:
            models = tuple(dict.fromkeys(
                m for root in self._bound for m in (root, *_subclasses(root))
                if "__aq__" in m.__dict__ and m.__database__ is self))
        return check_schema(self, models)

    def drop_tables(self, *models: type[ActiveRecord] | Table, if_exists: bool = True) -> None:
        """DROP TABLE for each model, a table before the tables its foreign keys refer to.

        (PostgreSQL and DuckDB refuse to drop a table another one still refers to, SQLite a
        referred row that is still referred to.) Models unrelated by foreign keys keep the
        given order.
        """
        with self.transaction():
            for model in reversed(creation_order(models[::-1])):
                self.execute(drop_table_statement(model, self.dialect, if_exists))

    # execution -----------------------------------------------------------------------------
    def execute(self, sql: str | Plan, params: Iterable[Any] | dict[str, Any] | None = ()) -> Cursor:
        """Run one raw SQL statement with bound parameters; returns rows, rowcount, description.

        ``params`` is a sequence for ``?`` placeholders or a dict for ``:name`` ones; None
        means no parameters. SQL holding a second statement is refused with
        ``MultipleStatementsError`` before anything runs (a trailing ``;`` or comment is
        fine); :meth:`executescript` runs scripts. ``rowcount`` is the number of rows an
        INSERT, UPDATE or DELETE changed (also behind ``WITH``), -1 for statements that
        change no rows. Whether a statement writes is SQLite's own answer, so a read leaves
        cached results alone.

        Given the ``Plan`` that ``query.explain()`` returns, gives back its plan rows, so the
        result of ``explain()`` can be passed where SQL is expected. A subclass overriding
        this method receives every statement activeq runs (with its parameters) and passes it
        on with ``super().execute(sql, params)``.

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> _ = db.execute('CREATE TABLE t (x)')
        >>> db.execute('INSERT INTO t VALUES (:x)', {'x': 1}).rowcount
        1
        >>> db.execute('WITH n AS (SELECT x FROM t) SELECT count(*) FROM n;').fetchall()
        [(1,)]
        >>> db.execute('SELECT 1; DROP TABLE t')
        Traceback (most recent call last):
        ...
        activeq.errors.MultipleStatementsError: db.execute() runs one statement, and this SQL holds another after 'SELECT 1;': 'DROP TABLE t'; run scripts with db.executescript(sql)
        """
        if type(sql) is Routed:
            return sql.run(params)
        if isinstance(sql, Plan):
            return Cursor(list(sql.rows), -1, (("id", None), ("parent", None), ("detail", None)))
        if self._closed:
            raise ActiveqError("the database is closed")
        if params is None:
            params = ()
        elif not isinstance(params, (tuple, list, dict)):
            params = tuple(params)
        state = self._thread()
        kind = plain_kind(sql)
        # A plain read of a file runs without the write lock; anything else may write.
        if state.depth or state.connecting or (kind == READ and self._shared is None):
            return self._run_raw(state, sql, params, kind, 0)
        lock = self._writer
        started = lock.acquire(state)
        try:
            if self._has_file and kind != READ and not state.conn.in_transaction:
                state.conn.check_not_moved("this statement")
            return self._run_raw(state, sql, params, kind, started)
        finally:
            lock.release(state)

    def _run_raw(self, state: ThreadState, sql: str, params: Any, kind: int | None,
                 started: int) -> Cursor:
        conn = state.conn
        t0 = perf_counter_ns()
        try:
            result = conn.execute(sql, params)
        except DatabaseError as e:
            result = retry_statement(self, e, sql, lambda: conn.execute(sql, params),
                                     started or t0)
        except (OverflowError, UnicodeEncodeError, KeyError) as e:
            _raise_raw_binding_error(e, sql, params)
        elapsed = perf_counter_ns() - t0
        rows = result.rows
        self.log.record(sql, ("raw", sql), params, 0, elapsed, len(rows), False)
        if state.connecting:
            # Setting up a new connection (connect()): nothing cached can depend on it yet.
            pass
        elif result.rowcount >= 0:
            self._after_write(self._cache.dml_tables(sql))
        elif result.writes:
            self._after_write(None)
        return Cursor(rows, result.rowcount, result.description)

    def executescript(self, sql: str) -> None:
        """Run every statement of a script, in order (no parameters).

        Statements run one after another as written: a failure stops the script, and what
        ran before it stays unless the script (or an enclosing ``db.transaction()``) made
        it one transaction. Busy statements are not retried, since part of the script may
        already have run. Every cached result is dropped afterwards. The script is one
        timing record.

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> db.executescript('''
        ...     CREATE TABLE t (x);
        ...     INSERT INTO t VALUES (1);
        ...     INSERT INTO t VALUES (2);
        ... ''')
        >>> db.execute('SELECT sum(x) FROM t').fetchall()
        [(3,)]
        """
        if not isinstance(sql, str):
            raise ArgumentTypeError(f"executescript() takes SQL text, not {type(sql).__name__}")
        if self._closed:
            raise ActiveqError("the database is closed")
        state = self._thread()
        lock = self._writer
        lock.acquire(state)  # a script may write anything
        try:
            if self._has_file and not state.conn.in_transaction:
                state.conn.check_not_moved("this script")
            t0 = perf_counter_ns()
            try:
                state.conn.executescript(sql)
            except DatabaseError:
                self._after_write(None)
                raise
            except UnicodeEncodeError as e:
                _raise_raw_binding_error(e, sql, ())
            self.log.record(sql, ("script", sql), (), 0, perf_counter_ns() - t0, 0, False)
            self._after_write(None)
        finally:
            lock.release(state)

    def _select(self, entry: Compiled, values: Any, shape: Any, compile_ns: int, hit: bool) -> list[Any]:
        try:
            cur = self._local.cursor
        except AttributeError:  # the thread's first statement
            cur = self._thread().cursor
        t0 = perf_counter_ns()
        try:
            rows = cur.execute(entry.sql, values).fetchall()
        except self._driver_errors as e:
            rows = retry_statement(self, e, entry.sql, rerun(cur, entry.sql, values), t0)
        except (OverflowError, UnicodeEncodeError) as e:
            raise_unbindable(e, values)
        self.log.record(entry.sql, shape, values, compile_ns, perf_counter_ns() - t0, len(rows), hit)
        return rows

    def _stream(self, entry: Compiled, values: Any, shape: Any, compile_ns: int, hit: bool,
                batch: int) -> Iterator[list[Any]]:
        return stream_rows(self, self._thread().conn, entry, values, shape, compile_ns, hit, batch)

    def _write(self, stmt: Any) -> int:
        """Run an UPDATE/DELETE/INSERT statement node; returns the affected row count."""
        return self._run_write(stmt)[1]

    def _write_rows(self, stmt: Any) -> list[Any]:
        """Run a write statement with RETURNING; returns the rows it gives back."""
        return self._run_write(stmt)[0]

    def _run_write(self, stmt: Any) -> tuple[list[Any], int]:
        t0 = perf_counter_ns()
        entry, hit = compiler.compile(stmt, self.dialect)
        values = entry.values(stmt.params)
        compile_ns = perf_counter_ns() - t0
        try:
            return self._exec_write(entry.sql, values, stmt.key, compile_ns, hit, entry.tables)
        except (OverflowError, UnicodeEncodeError) as e:
            raise_unbindable(e, values)

    def _exec_write(self, sql: str, values: Any, shape: Any, compile_ns: int, hit: bool,
                    tables: Iterable[str] | None, last_id: bool = False) -> tuple[list[Any], int]:
        """Run one write statement under the write lock; returns the rows it gave back
        (RETURNING) and the changed row count, or with ``last_id`` the rowid it inserted."""
        state = self._local
        try:
            held = state.depth  # this thread's transaction already holds the lock
        except AttributeError:  # the thread's first statement
            held = self._thread().depth
        lock = self._writer
        started = 0
        if not held:
            # The lock's fast path inline: every autocommit write takes it.
            if lock.rlock.acquire(False):
                if state.deadline:
                    lock.cut(state, state.deadline)
            else:
                started = lock.wait(state)
        try:
            if not held and self._has_file:
                state.conn.check_not_moved("this write")
            cur = state.cursor
            t0 = perf_counter_ns()
            try:
                rows = cur.execute(sql, values).fetchall()
            except self._driver_errors as e:
                rows = retry_statement(self, e, sql, rerun(cur, sql, values), started or t0)
            conn = state.conn
            changed = conn.last_changes()
            self.log.record(sql, shape, values, compile_ns, perf_counter_ns() - t0, changed, hit)
            self._after_write(tables)
            return rows, conn.last_id() if last_id else changed
        finally:
            if not held:
                if state.timeout_cut:
                    lock.restore(state)
                lock.rlock.release()

    def _run_many(self, sql: str, rows: Any, returning: bool) -> tuple[list[Any] | None, int]:
        """``executemany`` inside this thread's transaction: with ``returning`` the rows the
        statement gives back (else None), and the number of rows it changed."""
        conn = self._thread().conn
        if returning:
            returned = conn.executemany_returning(sql, rows)
            return returned, conn.changes()
        conn.executemany(sql, rows)
        return None, conn.changes()

    def _after_write(self, tables: Iterable[str] | None) -> None:
        """Called after every write statement; ``tables`` None means unknown (raw SQL)."""
        self._cache.after_write(tables)

    def _context(self, query: Any) -> LoadContext:
        mode = query._s["options"].get("fetch_mode")
        if mode is None and self.fetch_mode == "lazy":
            return self._default_ctx
        return LoadContext(self, mode or self.fetch_mode, None)

    # transactions ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self, mode: str = "immediate") -> Iterator[Database]:
        """A transaction of the calling thread: BEGIN IMMEDIATE by default ('deferred' or
        'exclusive' on request).

        Nested blocks become savepoints; an exception rolls back only its own level. BEGIN
        and COMMIT are retried while the database is busy (``Database(retry=...)``). Other
        threads' writes wait until the outermost block ends.

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> _ = db.execute('CREATE TABLE t (x)')
        >>> with db.transaction():
        ...     _ = db.execute('INSERT INTO t VALUES (1)')
        ...     try:
        ...         with db.transaction():
        ...             _ = db.execute('INSERT INTO t VALUES (2)')
        ...             raise KeyError('undo the inner level only')
        ...     except KeyError:
        ...         pass
        >>> db.execute('SELECT x FROM t').fetchall()
        [(1,)]
        """
        check_transaction_mode(mode, self._engine.connection_class._modes)
        if self._closed:
            raise ActiveqError("the database is closed")
        state = self._thread()
        depth = state.depth
        if depth:
            yield from self._savepoint(state, depth)
            return
        lock = self._writer
        started = lock.acquire(state)
        try:
            self._exec_control(state.conn.begin_sql(mode), retry=True, started=started)
            state.depth = 1
            try:
                yield self
            except BaseException:
                state.depth = 0
                self._rollback_level(0, "")
                raise
            state.depth = 0
            if not state.conn.in_transaction:
                self._after_rollback()
                raise OperationalError(
                    f"the transaction was rolled back by {state.conn.product} before COMMIT")
            try:
                if self._has_file:
                    state.conn.check_not_moved("the transaction")
                self._exec_control("COMMIT", retry=True)
            except BaseException:
                # A failed COMMIT leaves the transaction open; end it so the connection
                # is usable and nothing half-done survives.
                self._rollback_level(0, "")
                raise
            self._after_commit()
        finally:
            state.depth = 0
            lock.release(state)

    def _savepoint(self, state: ThreadState, depth: int) -> Iterator[Database]:
        if not state.conn.has_savepoints:
            # Raised inside the outer block, whose exception handling rolls it all back.
            raise UnsupportedError(
                "a nested db.transaction() (SAVEPOINT)", self.dialect,
                "it has no savepoints; the enclosing transaction is rolled back whole")
        name = f"aq_sp_{depth}"
        self._exec_control(f"SAVEPOINT {name}")
        state.depth = depth + 1
        try:
            yield self
        except BaseException:
            state.depth = depth
            self._rollback_level(depth, name)
            raise
        state.depth = depth
        if not state.conn.in_transaction:
            raise OperationalError(
                f"the transaction was rolled back by {state.conn.product} inside a savepoint; "
                "nothing after that point ran in a transaction")
        self._exec_control(f"RELEASE {name}")
        if state.journal is not None:
            state.journal.release(depth + 1)

    def _rollback_level(self, depth: int, name: str) -> None:
        """Undo one level after an exception, never masking that exception."""
        conn = self._thread().conn
        try:
            if depth == 0:
                if conn.in_transaction:
                    self._exec_control("ROLLBACK")
            elif conn.in_transaction:
                # SQLite may already have rolled back the whole transaction (I/O error,
                # interrupt); then there is no savepoint left to return to.
                self._exec_control(f"ROLLBACK TO {name}")
                self._exec_control(f"RELEASE {name}")
        except ActiveqError:
            logger.exception("rolling back %s failed", "the transaction" if depth == 0 else name)
        finally:
            if depth == 0:
                self._after_rollback()
            else:
                journal = self._thread().journal
                if journal is not None:
                    journal.undo(depth + 1)

    def atomic(self, fn: Callable[..., Any] | None = None, /, *args: Any,
               mode: str = "immediate", **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` in a transaction, running it again whole while busy.

        Without ``fn`` this is ``transaction(mode)``, for ``with db.atomic():``. Inside an
        enclosing transaction ``fn`` runs once in a savepoint (only the outermost
        transaction can be retried). Returns what ``fn`` returns; raises ``BusyError``
        stating the attempts made when the retry budget runs out.

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> _ = db.execute('CREATE TABLE t (x)')
        >>> db.atomic(lambda: db.execute('INSERT INTO t VALUES (1)').rowcount)
        1
        """
        if fn is None:
            return self.transaction(mode)
        check_transaction_mode(mode, self._engine.connection_class._modes)
        return run_atomic(self, fn, args, kwargs, mode)

    def retrying(self, fn: Callable[..., Any] | None = None, *, mode: str = "immediate",
                 policy: RetryPolicy | None = None) -> Any:
        """Decorator: every call of the function runs as ``db.atomic(fn, ...)``.

        Use bare (``@db.retrying``) or with options (``@db.retrying(mode='deferred')``).
        """
        check_transaction_mode(mode, self._engine.connection_class._modes)
        return retrying_calls(self, fn, mode=mode, policy=policy)

    def _exec_control(self, sql: str, retry: bool = False, started: int = 0) -> None:
        """BEGIN, COMMIT, ROLLBACK or a savepoint statement on this thread's connection."""
        t0 = perf_counter_ns()
        conn = self._thread().conn
        try:
            conn.control(sql)
        except DatabaseError as e:
            # A serialization failure ends the whole transaction: only run_atomic (the whole
            # function again) can retry it, never the statement alone.
            if not retry or isinstance(e, SerializationError):
                raise
            retry_busy(self, lambda: conn.control(sql), sql, e, started or t0)
        self.log.record(sql, ("tx", sql), (), 0, perf_counter_ns() - t0, 0, False)

    def _after_commit(self) -> None:
        """Hook run after the outermost transaction commits: what was written stays written."""
        self._thread().journal = None
        self._cache.after_commit()

    def _after_rollback(self) -> None:
        """Hook run after the outermost transaction rolls back."""
        state = self._thread()
        journal, state.journal = state.journal, None
        if journal is not None:
            journal.undo(1)
        self._cache.after_rollback()

    def _remember(self, record: Any) -> None:
        """Called before a record is written: inside a transaction, keep what a rollback
        restores (see :mod:`activeq.journal`). Each thread (each async unit of work) keeps
        its own journal: its transaction is its own."""
        state = self._thread()
        depth = state.depth
        if depth:
            journal = state.journal
            if journal is None:
                journal = state.journal = Journal()
            journal.remember(record, depth)

    @property
    def in_transaction(self) -> bool:
        """Whether the calling thread has a transaction open."""
        state = self._thread()
        if state.depth:
            return True
        if self._shared is None:
            return state.conn.in_transaction  # type: ignore[no-any-return]
        # On a shared connection an open transaction is this thread's only if no other
        # thread holds the write lock.
        lock = self._writer
        if not lock.try_acquire():
            return False
        try:
            return state.conn.in_transaction  # type: ignore[no-any-return]
        finally:
            lock.release_plain()

    # query log -----------------------------------------------------------------------------
    @contextmanager
    def track_queries(self) -> Iterator[Any]:
        """Collect the timing records of every statement run inside the block."""
        tracker = self.log.tracker()
        try:
            yield tracker
        finally:
            self.log.untrack(tracker)

    @property
    def queries(self) -> list[Timing]:
        """The most recent timing records, oldest first."""
        return self.log.records()

    def explain(self, sql: str, params: Any = (), analyze: bool = False) -> Any:
        """EXPLAIN QUERY PLAN for raw SQL, as a ``Plan``."""
        return explain_plan(self, sql, params, analyze)

    # statistics, slow queries, advice, N+1 (see activeq.monitor, .advice, .nplusone) -------
    def stats(self) -> list[Any]:
        """Statistics per query shape (``ShapeStats``), sorted by total execute time."""
        return self.log.stats()

    def stats_report(self, limit: int | None = None) -> str:
        """:meth:`stats` as a readable table."""
        return self.log.stats_report(limit)

    def reset_stats(self) -> None:
        """Forget statistics, recent timing records and slow queries."""
        self.log.reset_stats()

    def stats_dump(self, path: Any) -> None:
        """Save :meth:`stats` as JSON (print it with ``python -m activeq stats FILE``)."""
        dump_stats(self.log.stats(), path)

    def slow_queries(self, threshold_ms: float | None = None) -> list[Any]:
        """Slow statements (``SlowQuery``: SQL, params, duration, time, plan), slowest first."""
        return self.log.slow_queries(threshold_ms)

    def slow_query_report(self, limit: int = 10, threshold_ms: float | None = None) -> str:
        """:meth:`slow_queries` as text."""
        return self.log.slow_query_report(limit, threshold_ms)

    def suggest_indexes(self) -> list[Any]:
        """CREATE INDEX proposals (``IndexSuggestion``) for the full scans and sorts seen."""
        return advise_indexes(self)

    def detect_n_plus_one(self, mode: str = "warn", threshold: int = 2, *,
                          scoped: bool = True) -> Any:
        """A detector of repeated query shapes; use it as ``with db.detect_n_plus_one():``."""
        return NPlusOneDetector(self, mode, threshold, scoped=scoped)

    # caching -------------------------------------------------------------------------------
    def enable_cache(self, *models: type[ActiveRecord], max_entries: int | None = None) -> None:
        """Serve ``find_by_id`` of these models from an identity cache.

        The cache holds row tuples; every hit builds a fresh instance. An instance is evicted
        when it is saved or deleted, the whole model when its table is bulk-written, and
        everything when another connection commits.
        """
        for model in models:
            self._cache.enable(model, max_entries)
            self._find_entries.pop(model, None)
        forget_finders()

    def disable_cache(self, *models: type[ActiveRecord]) -> None:
        """Stop caching instances of these models."""
        for model in models:
            self._cache.disable(model)
            self._find_entries.pop(model, None)
        forget_finders()

    def cached(self, ttl: float | None = None, tables: Iterable[Any] | None = None) -> Any:
        """Decorator caching a function's results until a write touches one of ``tables``.

        ``tables`` are table names or model classes (None: any write invalidates). The key is
        the function and its (hashable) arguments; each call gets a fresh copy of the result.

        >>> from activeq import Database
        >>> db = Database(':memory:')
        >>> _ = db.execute('CREATE TABLE t (x)')
        >>> @db.cached(ttl=60, tables=['t'])
        ... def total():
        ...     return db.execute('SELECT count(*) FROM t').fetchall()[0][0]
        >>> total(), db.execute('INSERT INTO t VALUES (1)').rowcount, total()
        (0, 1, 1)
        """
        return self._cache.decorator(ttl, tables)

    def invalidate(self, *tables: Any) -> None:
        """Drop cached data of these tables or models (none given: everything).

        Writes through activeq and commits by other connections invalidate by themselves;
        this is for data changed some other way (another process with its own cache).
        """
        self._cache.invalidate([_table_name(t) for t in tables] if tables else None)

    def cache_stats(self) -> CacheStats:
        """Hits, misses, invalidations and stored entries of this database's caches."""
        return self._cache.stats()

    # records -------------------------------------------------------------------------------
    def _find_by_id(self, model: Any, id: Any) -> Any:
        found = self._find_entries.get(model)
        if found is None:
            found = self._prepare_find(model)
        entry, key, cached = found
        if cached is not None:
            return cached.find(entry, key, id)
        rows = self._select(entry, (id,), key, 0, True)
        if not rows:
            return None
        return entry.mapper(rows, self._default_ctx)[0]

    def _finder(self, model: Any) -> Callable[[Any], Any]:
        """``model``'s ``find_by_id`` on this database, kept in ``FINDERS`` for the next call."""
        found = self._find_entries.get(model)
        if found is None:
            found = self._prepare_find(model)
        entry, key, cached = found
        # Reads replaced on this instance (an overridden execute, a pool, a shared in-memory
        # connection) and instance caches keep the general path, so they see every read.
        if cached is None and "_select" not in self.__dict__ and type(self)._select is Database._select:
            find = make_finder(self, model, entry, key)
        else:
            find = partial(self._find_by_id, model)
        register_finder(self, model, find)
        return find

    def _prepare_find(self, model: Any) -> tuple[Compiled, Any, Any]:
        info = model.__aq__
        if info.pk is None:
            raise ActiveqError(f"{model.__name__} has no primary key")
        query = model.query().where(info.refs[info.pk.name] == Param(None))
        # Rendered once per model and database and kept here, not in the compile cache; its
        # columns go unqualified (one table), which keeps the text the driver hashes short.
        entry = compiler.render(query, self.dialect, bare=True)
        found = self._find_entries[model] = (entry, query.key, self._cache.model_cache(model))
        return found

    def __repr__(self) -> str:
        return f"<Database {self.path!r}>"


def _fetch(conn: Connection, sql: str, params: Any, one_statement: bool = False) -> list[Any]:
    if one_statement:
        return conn.execute(sql, params).rows
    return conn.fetch(sql, params)
def _raise_raw_binding_error(error: Exception, sql: str, params: Any) -> NoReturn:
    """Raise the activeq error for a raw statement the driver could not bind or encode
    (``error`` itself when it is not about the values or the text)."""
    if isinstance(error, KeyError):
        name = error.args[0] if error.args else None
        if isinstance(params, dict) and name not in params:
            raise MissingParameterError(
                f"no value for :{name} (given: {', '.join(map(str, params)) or 'none'})"
                f"\n  while running: {sql}") from error
        raise error
    found = unstorable_error(params, where="cannot bind ")
    if found is not None:
        raise found from error
    if isinstance(error, UnicodeEncodeError):
        raise ValidationError(f"the SQL text cannot be encoded as UTF-8: {error}") from error
    raise error


def _subclasses(cls: Any) -> Iterator[Any]:
    if not isinstance(cls, type):  # a Table
        return
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


