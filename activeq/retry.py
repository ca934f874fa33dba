"""Lock handling: retry with exponential backoff and jitter while the database is busy (SQLite)
or a transaction lost to a concurrent one (PostgreSQL's SQLSTATE 40001 and 40P01, DuckDB's
write-write conflict: ``SerializationError``). One :class:`RetryPolicy` governs both.

SQLite's own busy handler already waits ``busy_timeout_ms`` for a lock; what reaches activeq as
SQLITE_BUSY has outlasted that wait, or was reported without waiting (a WAL snapshot that went
stale, a recovery in progress). Retries never stack on that wait: every try of one statement or
transaction shares one budget (by default the busy timeout itself), no try lets SQLite wait
past it, and no new try starts once it is spent. ``BusyError`` thus comes
when the lock wait the caller asked for is over, not a multiple of it later.

Three kinds of statement are safe to run again as they are: BEGIN, COMMIT (the transaction
stays open when COMMIT is busy) and a statement in autocommit mode (it failed whole). A
statement in the middle of a transaction is not: re-running it alone would break the
transaction's atomicity, so only the whole transaction function is retried
(:func:`run_atomic`, behind ``db.atomic(fn)`` and ``@db.retrying``).
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import BusyError, ConfigurationError, DatabaseError, SerializationError

if TYPE_CHECKING:
    from .database import Database

__all__ = ["RetryPolicy", "is_retryable", "retry_busy", "retry_statement", "retrying",
           "run_atomic"]

T = TypeVar("T")
logger = logging.getLogger("activeq.retry")
_random = random.Random()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying while the database is busy.

    The n-th wait lasts between half and all of ``min(max_delay, base_delay * 2**(n-1))``
    seconds (exponential backoff with jitter, so competing processes spread out).

    >>> from activeq import Database
    >>> from activeq.retry import RetryPolicy
    >>> db = Database(':memory:', retry=RetryPolicy(attempts=3, budget=1.0))
    >>> db.retry.attempts
    3
    """

    attempts: int = 8
    """Tries in all, the first one included; 1 disables retrying."""
    base_delay: float = 0.005
    """The first wait, in seconds."""
    max_delay: float = 0.5
    """The longest single wait, in seconds."""
    budget: float | None = None
    """Seconds from the first try within which every try, SQLite's own waiting included,
    must end. None: the database's ``busy_timeout_ms``."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigurationError("RetryPolicy.attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ConfigurationError("RetryPolicy delays must not be negative")
        if self.budget is not None and self.budget < 0:
            raise ConfigurationError("RetryPolicy.budget must not be negative")

    def delay(self, attempt: int) -> float:
        """The wait after failed try number ``attempt`` (1-based), jitter included."""
        cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return cap / 2 + _random.random() * cap / 2

    def budget_ns(self, busy_timeout_ms: int) -> int:
        """The budget in nanoseconds for a database with this busy timeout.

        >>> RetryPolicy().budget_ns(250), RetryPolicy(budget=1.5).budget_ns(250)
        (250000000, 1500000000)
        """
        if self.budget is None:
            return busy_timeout_ms * 1_000_000
        return int(self.budget * 1e9)


def is_retryable(error: BaseException) -> bool:
    """Whether trying again may cure ``error``: SQLite's SQLITE_BUSY (not SQLITE_LOCKED, which
    waiting cannot cure: it comes from this same connection or shared cache), or a
    ``SerializationError`` (SQLSTATE 40001 or 40P01, a DuckDB write-write conflict).

    >>> from activeq.errors import LockedError
    >>> is_retryable(BusyError("busy")), is_retryable(LockedError("locked"))
    (True, False)
    >>> is_retryable(SerializationError("could not serialize access", sqlstate="40001"))
    True
    """
    return type(error) is BusyError or isinstance(error, SerializationError)


def _exhausted(error: DatabaseError, attempts: int, started: int, what: str) -> DatabaseError:
    elapsed = (perf_counter_ns() - started) / 1e9
    conflict = isinstance(error, SerializationError)
    state = "in conflict" if conflict else "busy"
    detail = f"{what} {state} after {attempts} attempt{'s' if attempts != 1 else ''} " \
             f"over {elapsed:.2f} s"
    cls = SerializationError if conflict else BusyError
    final = cls(f"{detail}: {error}", result_code=error.result_code,
                extended_code=error.extended_code, sqlstate=error.sqlstate)
    final.attempts = attempts
    return final


def _activeq_error(db: Database, error: BaseException, sql: str | None) -> DatabaseError:
    """``error`` as an activeq error (a driver's exception translated by the engine)."""
    if isinstance(error, DatabaseError):
        return error
    return db._thread().conn.translate(error, sql)


def retry_busy(db: Database, run: Callable[[], T], sql: str, first: BaseException | None,
               started: int) -> T:
    """Run ``run()`` until it stops failing with a retryable error (:func:`is_retryable`) or
    the database's policy gives up.

    ``first`` is the error of a try already made by the caller (a driver's exception or an
    activeq one); ``started`` is the ``perf_counter_ns()`` at which the caller began (its lock
    wait included). Each try lets SQLite's busy handler wait its usual time, but no longer than
    what is left of the budget. Other errors are translated and raised at once.
    """
    policy = db.retry
    state = db._thread()
    deadline = state.deadline or started + policy.budget_ns(db.busy_timeout_ms)
    conn = state.conn
    driver_errors = conn.driver_errors
    attempt = 0
    error: DatabaseError | None = None
    cause: BaseException | None = first
    if first is not None:
        attempt = 1
        error = _activeq_error(db, first, sql)
    cut = False
    try:
        while True:
            if error is not None:
                left = deadline - perf_counter_ns()
                if attempt >= policy.attempts or left <= 0:
                    raise _exhausted(error, attempt, started, "the database stayed") from cause
                db.busy_retries += 1
                wait = min(policy.delay(attempt), left / 1e9)
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s on try %d of %s; waiting %.1f ms", type(error).__name__,
                                 attempt, sql, wait * 1e3)
                conn.pause(wait)
                left_ms = (deadline - perf_counter_ns()) // 1_000_000
                if left_ms < db.busy_timeout_ms:
                    conn.set_busy_timeout(max(0, left_ms))
                    cut = True
            attempt += 1
            try:
                return run()
            except DatabaseError as e:
                if not is_retryable(e):
                    raise
                error = cause = e
            except driver_errors as e:
                error = conn.translate(e, sql)
                if not is_retryable(error):
                    raise error from e
                cause = e
    finally:
        if cut:
            conn.set_busy_timeout(db.busy_timeout_ms)


def retry_statement(db: Database, error: BaseException, sql: str, run: Callable[[], T],
                    started: int) -> T:
    """From an ``except`` branch around a statement: re-run it if it ran on its own
    (autocommit) and failed with a retryable error.

    ``error`` is the driver's exception (from a connection's ``reader``) or an activeq one.
    Raises the translated error when it is not retryable, or when a transaction is open (the
    statement cannot be retried alone there).
    """
    translated = _activeq_error(db, error, sql)
    if not is_retryable(translated) or db._thread().conn.in_transaction:
        if translated is error:
            raise error
        raise translated from error
    return retry_busy(db, run, sql, error, started)


def run_atomic(db: Database, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any],
               mode: str = "immediate", policy: RetryPolicy | None = None) -> T:
    """Call ``fn(*args, **kwargs)`` inside a transaction, running it again whole when busy.

    Every try, with its lock waits and BEGIN and COMMIT retries, keeps within one budget.
    Inside an enclosing transaction ``fn`` runs once in a savepoint: only the outermost
    transaction can be retried, so busy errors travel up to it.
    """
    state = db._thread()
    if state.depth:
        with db.transaction(mode):
            return fn(*args, **kwargs)
    policy = policy or db.retry
    started = perf_counter_ns()
    outer = state.deadline
    deadline = outer or started + policy.budget_ns(db.busy_timeout_ms)
    state.deadline = deadline
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                with db.transaction(mode):
                    return fn(*args, **kwargs)
            except (BusyError, SerializationError) as e:
                if not is_retryable(e):
                    raise
                if attempt >= policy.attempts or perf_counter_ns() >= deadline:
                    if attempt == 1:
                        raise
                    raise _exhausted(e, attempt, started, "the transaction stayed") from e
                db.busy_retries += 1
                state.conn.pause(max(0.0, min(policy.delay(attempt),
                                              (deadline - perf_counter_ns()) / 1e9)))
    finally:
        state.deadline = outer


def retrying(db: Database, fn: Callable[..., T] | None = None, *, mode: str = "immediate",
             policy: RetryPolicy | None = None) -> Any:
    """Decorator form of :func:`run_atomic`: each call runs in a retried transaction."""

    def decorate(func: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return run_atomic(db, func, args, kwargs, mode, policy)

        return wrapper

    return decorate if fn is None else decorate(fn)


def rerun(cur: Any, sql: str, values: Any) -> Callable[[], list[Any]]:
    """What ``retry_statement`` runs again: ``sql`` with ``values`` on ``cur``, all rows.

    Built here rather than as a lambda in the caller, whose frame would then hold its
    names in closure cells, allocated on every statement rather than on the rare retry.
    """
    return lambda: cur.execute(sql, values).fetchall()
