"""N+1 query detection: the same query shape run again and again from one place in user code.

A detector watches every statement the Database records. For each SELECT it finds the first
few frames outside activeq (the user's code) and counts runs per (SQL, frame, line). A loop
of lazy loads or of explicit queries keeps one frame alive while it runs the same SQL from
the same line, so its count climbs; when it passes the threshold the detector reports the
SQL, the count and the source location, suggesting ``includes()``.

Counting per live frame (not per line alone) keeps a function that is simply called many
times over a program's life, one query per call, from being reported; the caller's loop,
one frame up, is reported instead when it is the one repeating.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any

from .errors import ActiveqError, ConfigurationError
from .registry import declared_models

__all__ = ["MODES", "NPlusOne", "NPlusOneDetector", "NPlusOneError", "NPlusOneWarning",
           "call_sites", "run_from"]

MODES = ("warn", "raise", "log")

logger = logging.getLogger("activeq.nplusone")
"""Reports in 'log' mode go here, at WARNING."""

USER_FRAMES = 3
"""How many user frames up the stack are counted (a query inside a helper called in a loop)."""

MAX_SITES = 512
"""Sites a Database-wide detector remembers (it holds their frames until they are evicted)."""

# Frames in these directories are library code, not the user's call site.
_SKIP = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(str(__import__("pydantic").__file__))) + os.sep,
    "<frozen ",
)

#: The call sites of the task that asked for the statement now running, when it runs elsewhere
#: (a worker thread or greenlet of the async API): there the stack holds no user frame.
_ORIGIN: ContextVar[tuple[tuple[FrameType, int], ...] | None] = ContextVar(
    "activeq_nplusone_origin", default=None)


def _user_frames(frame: FrameType | None) -> Iterator[tuple[FrameType, int]]:
    """``(frame, line)`` of the first USER_FRAMES frames outside activeq, innermost first."""
    found = 0
    while frame is not None and found < USER_FRAMES:
        if not frame.f_code.co_filename.startswith(_SKIP):
            yield frame, frame.f_lineno
            found += 1
        frame = frame.f_back


def call_sites() -> tuple[tuple[FrameType, int], ...]:
    """The caller's user call sites now, for a statement that will run on another stack.

    A coroutine's frame keeps its identity across awaits, so a loop in async code still counts
    as one site; the line is taken now, while the frame is at the awaiting line.
    """
    return tuple(_user_frames(sys._getframe(1)))


def run_from(sites: tuple[tuple[FrameType, int], ...], fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, its statements counted at ``sites`` (see ``call_sites``)."""
    token = _ORIGIN.set(sites)
    try:
        return fn(*args)
    finally:
        _ORIGIN.reset(token)


_TABLE = re.compile(r'\bFROM\s+"?(\w+)"?', re.IGNORECASE)
_FILTER = re.compile(r'\bWHERE\s+(?:"?\w+"?\.)?"?(\w+)"?\s*(?:=|IN\b)', re.IGNORECASE)


class NPlusOneError(ActiveqError):
    """Raised in 'raise' mode when a query shape repeats past the threshold."""

    def __init__(self, report: NPlusOne) -> None:
        self.report = report
        super().__init__(report.message())


class NPlusOneWarning(UserWarning):
    """Issued in 'warn' mode for each repeated query shape."""


@dataclass(frozen=True, slots=True)
class NPlusOne:
    """One repeated query: what ran, how often, and from where."""

    sql: str
    """The SQL text of the repeated shape."""
    shape: Any
    """Its shape key."""
    count: int
    """How many times it ran from this site."""
    filename: str
    """The user's source file."""
    lineno: int
    """The line in it."""
    function: str
    """The function containing that line."""
    suggestion: str
    """How to load the rows in one query instead."""

    @property
    def location(self) -> str:
        """``file:line in function``."""
        return f"{self.filename}:{self.lineno} in {self.function}"

    def message(self) -> str:
        """The text a warning, log line or error carries."""
        return (f"N+1 queries: the same query ran {self.count} times from {self.location}: "
                f"{self.sql} -- {self.suggestion}")


class _Site:
    __slots__ = ("frame", "count", "reported", "report")

    def __init__(self, frame: FrameType) -> None:
        self.frame = frame
        self.count = 0
        self.reported = False
        self.report: NPlusOne | None = None


class NPlusOneDetector:
    """Counts repeated query shapes per user call site and reports those past a threshold.

    Use it as a context manager (``with db.detect_n_plus_one(): ...``) or, for a
    Database-wide setting, call ``start()`` once (``Database(path, n_plus_one='warn')``).

    Args:
        db: the Database to watch.
        mode: 'warn' (NPlusOneWarning), 'raise' (NPlusOneError, at the query that crosses the
            threshold) or 'log' (logger ``activeq.nplusone``).
        threshold: a shape may run this many times from one site; one more is reported.
        scoped: a scope reports warn/log findings when it exits, with their final counts;
            an unscoped (Database-wide) detector reports as soon as the threshold is passed.
    """

    def __init__(self, db: Any, mode: str = "warn", threshold: int = 2, *,
                 scoped: bool = True) -> None:
        if mode not in MODES:
            raise ConfigurationError(f"unknown N+1 mode {mode!r}; expected one of {', '.join(MODES)}")
        if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
            raise ConfigurationError(f"threshold must be a positive integer, not {threshold!r}")
        self.db = db
        self.mode = mode
        self.threshold = threshold
        self.scoped = scoped
        self._sites: OrderedDict[tuple[Any, ...], _Site] = OrderedDict()
        self._fired: list[_Site] = []
        self._active = False

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> NPlusOneDetector:
        """Begin watching the database's statements."""
        if not self._active:
            self.db.log.observe(self.observe)
            self._active = True
        return self

    def stop(self) -> None:
        """Stop watching; forget the frames held."""
        if self._active:
            self.db.log.unobserve(self.observe)
            self._active = False
        for site in self._sites.values():
            site.frame = None  # type: ignore[assignment]
        self._sites.clear()

    def __enter__(self) -> NPlusOneDetector:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop()
        if exc_type is None and self.mode != "raise":
            for report in self.reports:
                self._emit(report)

    @property
    def reports(self) -> list[NPlusOne]:
        """Everything found so far, with current counts."""
        out = []
        for site in self._fired:
            r = site.report
            if r is not None:
                out.append(NPlusOne(r.sql, r.shape, site.count, r.filename, r.lineno, r.function,
                                    r.suggestion))
        return out

    # observing -----------------------------------------------------------------------------
    def observe(self, rec: tuple[Any, ...]) -> None:
        """Count one recorded statement (called by the query log)."""
        sql = rec[0]
        if not sql.lstrip()[:6].upper().startswith(("SELECT", "WITH")):
            return
        origin = _ORIGIN.get()
        user: Iterable[tuple[FrameType, int]] = (
            origin if origin is not None else _user_frames(sys._getframe(1)))
        found: list[tuple[_Site, FrameType, int]] = []
        sites = self._sites
        # An outer site's key includes the lines below it, so it counts only runs that come
        # through the same inner lines: a helper called in a loop, not a frame that simply
        # contains several different queries.
        key: tuple[Any, ...] = (sql,)
        for frame, line in user:
            key = (*key, frame.f_code, line)
            site = sites.get(key)
            if site is None or site.frame is not frame:
                site = sites[key] = _Site(frame)
                if not self.scoped and len(sites) > MAX_SITES:
                    sites.popitem(last=False)
            elif not self.scoped:
                sites.move_to_end(key)
            site.count += 1
            found.append((site, frame, line))
        for site, at, line in found:
            if site.count > self.threshold and not site.reported:
                # Report the innermost site crossing now; outer ones counting the same runs
                # are the same finding.
                for other, _, _ in found:
                    other.reported = True
                self._fire(site, at, line, rec)
                break

    def _fire(self, site: _Site, frame: FrameType, line: int, rec: tuple[Any, ...]) -> None:
        report = NPlusOne(
            sql=rec[0],
            shape=rec[1],
            count=site.count,
            filename=frame.f_code.co_filename,
            lineno=line,
            function=frame.f_code.co_name,
            suggestion=suggest_includes(rec[0]),
        )
        site.report = report
        self._fired.append(site)
        if self.mode == "raise":
            raise NPlusOneError(report)
        if not self.scoped:
            self._emit(report)

    def _emit(self, report: NPlusOne) -> None:
        if self.mode == "warn":
            warnings.warn_explicit(report.message(), NPlusOneWarning, report.filename,
                                   report.lineno)
        elif self.mode == "log":
            logger.warning("%s", report.message())


def suggest_includes(sql: str) -> str:
    """Advice for loading the repeated rows in one query, naming the relation when known."""
    table_match = _TABLE.search(sql)
    column_match = _FILTER.search(sql)
    table = table_match.group(1) if table_match else None
    column = column_match.group(1) if column_match else None
    for owner, name in _relations_to(table, column):
        return (f"load the relation eagerly: {owner}.query().includes('{name}') "
                f"runs one query for all parents")
    model = _model_for(table)
    if model is not None and column is not None and column in model.__aq__.by_column:
        attr = model.__aq__.by_column[column].name
        return (f"load them together with includes() on the parent query, or in one query: "
                f"{model.__name__}.query().where({model.__name__}.c.{attr}.is_in(keys))")
    return "load the rows together with includes() on the parent query, or with one IN query"


def _model_for(table: str | None) -> Any:
    if table is None:
        return None
    for model in declared_models():
        info = getattr(model, "__aq__", None)
        if info is not None and info.table == table:
            return model
    return None


def _relations_to(table: str | None, column: str | None) -> list[tuple[str, str]]:
    """(owner model name, relation name) pairs whose target rows are ``table`` by ``column``."""
    if table is None or column is None:
        return []
    found = []
    for model in declared_models():
        info = getattr(model, "__aq__", None)
        for name, rel in (getattr(info, "relations", None) or {}).items():
            try:
                ref = rel.child_ref()
            except Exception:  # noqa: BLE001 - an unresolved relation just gives no advice
                continue
            if getattr(ref, "table", None) == table and getattr(ref, "column", None) == column:
                found.append((model.__name__, name))
    return found
