"""Primary-key finders: ``Model.find_by_id`` as one function per model, built once.

``find_by_id`` is the most frequent read there is, so its whole path is generated once per
model and database: the SQL text, the thread's cursor, the query log and the instance fill
are bound in, and a call does nothing else. It still does everything a query does: the
statement runs on the calling thread's connection, its time goes to the query log, a busy
database is retried and an unbindable id raises ``ValidationError``.

``FINDERS`` maps each model class to its finder; ``ActiveRecord.find_by_id`` looks there
first (a dict lookup, where reading the class's ``__database__`` goes through pydantic's
metaclass). A generated finder is also put on its model class in place of that classmethod,
so ``Model.find_by_id`` is the finder itself and a call costs no lookup at all. Every model
class holds its own ``find_by_id`` entry for this (see :func:`own_dispatch`): a finder put on
a class never serves its subclasses. Whatever changes which finder a model needs (``bind``,
a model cache switched on or off, ``close``) empties ``FINDERS``, puts the classmethod back
and retires the finders: one kept by a caller (``find = User.find_by_id``) then passes each
call on to the model's current ``find_by_id``. A database whose reads do
not go through :meth:`Database._select` as written (an overridden ``execute``, a reader
pool, an in-memory database's serialized reads) or a model with an instance cache gets a
finder that takes the general path, so that every statement still reaches them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, TypeVar

from .retry import rerun, retry_statement
from .values import raise_unbindable

if TYPE_CHECKING:
    from .compiler import Compiled
    from .database import Database

__all__ = ["FINDERS", "dispatches", "fill_source", "forget_finders", "make_finder", "own_dispatch",
           "register_finder"]

FINDERS: dict[type, Callable[[Any], Any]] = {}
"""Each model class's current ``find_by_id`` function (built on first use)."""

_INSTALLED: dict[type, tuple[Any, Callable[[Any], Any]]] = {}
"""Model classes whose ``find_by_id`` entry is a generated finder: the classmethod it replaced
and the finder."""

_F = TypeVar("_F", bound=Callable[..., Any])


def dispatches(func: _F) -> _F:
    """Mark ``func`` as the dispatching ``find_by_id`` (ActiveRecord's): a model class whose
    entry is it gets its generated finder put in its place."""
    func.__aq_dispatch__ = True  # type: ignore[attr-defined]
    return func


def _is_dispatch(entry: Any) -> bool:
    return isinstance(entry, classmethod) and getattr(entry.__func__, "__aq_dispatch__", False)


def own_dispatch(cls: type) -> None:
    """Give a new class its own ``find_by_id`` entry when it would inherit the dispatching
    classmethod (or a finder put over it on a base): a finder belongs to one class only."""
    if "find_by_id" in cls.__dict__:
        return  # its own method
    with _changing:
        for base in cls.__mro__[1:]:
            entry = base.__dict__.get("find_by_id")
            if entry is not None:
                entry = _INSTALLED[base][0] if base in _INSTALLED else entry
                if _is_dispatch(entry):
                    type.__setattr__(cls, "find_by_id", entry)
                return

# Orders registering against forgetting: a finder built for a database while another thread
# binds the model elsewhere is not kept.
_changing = threading.Lock()


def forget_finders() -> None:
    """Drop every finder: the next ``find_by_id`` of each model builds its own again."""
    with _changing:
        FINDERS.clear()
        for model, (dispatch, find) in _INSTALLED.items():
            # Its code becomes the forwarding one: the finder itself tests nothing per call.
            find.__code__ = find.__globals__["forward"].__code__  # type: ignore[attr-defined]
            type.__setattr__(model, "find_by_id", dispatch)
        _INSTALLED.clear()


def register_finder(db: Database, model: Any, find: Callable[[Any], Any]) -> None:
    """Keep ``find`` as ``model``'s finder while the model is bound to ``db`` and ``db`` is
    open (checked under the lock :func:`forget_finders` takes, which they call after any
    such change)."""
    with _changing:
        # A finder pushing its records itself is kept only while the log still takes them.
        if model.__database__ is db and not db._closed and getattr(find, "pushes", False) in (
            False, db.log.pushed
        ):
            FINDERS[model] = find
            if (getattr(find, "generated", False) and isinstance(model, type)
                    and _is_dispatch(model.__dict__.get("find_by_id"))):
                _INSTALLED[model] = (model.__dict__["find_by_id"], find)
                type.__setattr__(model, "find_by_id", staticmethod(find))


def fill_source(info: Any, names: tuple[str, ...], dialect: str | None,
                env: dict[str, Any], *, exact: bool = True) -> str:
    """Statements filling ``d`` (an instance's ``__dict__``) from row ``r`` holding ``names``.

    With ``exact`` the row holds nothing else and one unpacking assignment stores every value;
    otherwise (more columns after them) each value is indexed. Only columns whose type
    converts results in ``dialect`` get a call; their converters are added to ``env``. Rows
    come from the database and are trusted: nothing is validated. ``dialect`` None means the
    row holds Python values already (a cached model's): no conversion at all.
    """
    if not names:
        return "pass"
    fills = ["".join(f"d[{name!r}], " for name in names) + "= r"] if exact else []
    for i, name in enumerate(names):
        conv = None if dialect is None else info.by_name[name].type.result(dialect)
        if conv is not None:
            env[f"c{i}"] = conv
            fills.append(f"d[{name!r}] = c{i}(d[{name!r}])" if exact else f"d[{name!r}] = c{i}(r[{i}])")
        elif not exact:
            fills.append(f"d[{name!r}] = r[{i}]")
    return "; ".join(fills)


def make_finder(db: Database, model: Any, entry: Compiled, shape: Any) -> Callable[[Any], Any]:
    """The ``find_by_id`` of ``model`` on ``db``: ``entry`` is its compiled primary-key
    SELECT, ``shape`` that query's key. It reads as ``Database._select`` does, inline."""
    info = model.__aq__
    names = info.names
    env: dict[str, Any] = {
        "new": object.__new__,
        "cls": model,
        "local": db._local,
        "thread": db._thread,
        "log": db.log,
        "clock": perf_counter_ns,
        "sql": entry.sql,
        "shape": shape,
        "db": db,
        "Error": db._driver_errors,
        "retry": retry_statement,
        "rerun": rerun,
        "unbindable": raise_unbindable,
    }
    fill = fill_source(info, names, db.dialect, env)
    if db.log.pushed:
        # The log's recorder, inline: a lookup that found its row costs one extend, and the
        # log is called only when the lookup is slower than any before it (or watched) or a
        # fold is due. Any other outcome is recorded in full.
        run = db.log.lookup_run(entry.sql, shape)
        env.update(run=run, add=db.log._lookups.extend, lookups=db.log._lookups,
                   due=3 * db.log.fold_every)
        record = """dt = clock() - t0
    try:
        r, = rows
    except ValueError:  # no row, or several
        log.record(sql, shape, values, 0, dt, len(rows), True)
        if not rows:
            return None
        r = rows[0]
    else:
        add((dt, id, sql))
        if dt >= run.gate or len(lookups) >= due:
            log.lookup_due(run, values, dt)"""
    else:
        record = """log.record(sql, shape, values, 0, clock() - t0, len(rows), True)
    if not rows:
        return None
    r = rows[0]"""
    # The statement is always read to its end (fetchall): a statement left open would keep
    # the connection's read snapshot, and a later write on it could fail as stale.
    src = f"""
def forward(id):  # the code of a retired finder, kept by a caller after the model's changed
    return cls.find_by_id(id)

def find_by_id(id):
    try:
        cur = local.cursor
    except AttributeError:  # the thread's first statement
        cur = thread().cursor
    values = (id,)
    t0 = clock()
    try:
        rows = cur.execute(sql, values).fetchall()
    except Error as e:
        rows = retry(db, e, sql, rerun(cur, sql, values), t0)
    except (OverflowError, UnicodeEncodeError) as e:
        unbindable(e, values)
    {record}
    m = new(cls)
    d = m.__dict__
    {fill}
    return m
"""
    exec(src, env)  # noqa: S102 - generated from column names validated as identifiers
    find: Callable[[Any], Any] = env["find_by_id"]
    find.pushes = db.log.pushed  # type: ignore[attr-defined]
    find.generated = True  # type: ignore[attr-defined]
    find.__qualname__ = f"{model.__qualname__}.find_by_id"
    find.__doc__ = "The row with this primary key, or None."
    return find
