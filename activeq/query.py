"""The immutable query builder and its terminals.

Every builder method returns a new ``Query``; the original is never changed. State lives in
one dict that is copied (shallowly: its values are tuples and frozen nodes) on each call. The
dict also memoizes the query's shape key and bound values, computed on first use.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Callable, Iterator
from operator import itemgetter
from time import perf_counter_ns
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import pydantic

from .ast import (
    ColumnRef,
    Expr,
    Func,
    Ordering,
    Param,
    Star,
    Unbound,
    as_expr,
)
from .compiler import Compiled, compiler
from .errors import (
    ActiveqError,
    CompileError,
    MultipleResultsError,
    NotFoundError,
    UnknownColumnError,
    ValidationError,
)
from .values import unstorable_error

if TYPE_CHECKING:
    from .database import Database

__all__ = ["CompiledQuery", "Delete", "Insert", "Query", "Update"]

M = TypeVar("M")
_new = object.__new__
_tnew = tuple.__new__

_EMPTY: dict[str, Any] = {
    "columns": None,
    "joins": (),
    "wheres": (),
    "groups": (),
    "havings": (),
    "orders": (),
    "limit": None,
    "offset": None,
    "distinct": False,
    "count_wrap": False,
    "includes": (),
    "options": {},
    # Memos: the shape key and the bound values (None until first computed).
    "_key": None,
    "_params": None,
}

# Nodes are tuples ``(key, params, *fields)`` (see ast.Node): a C-level accessor for the key.
_KEY = itemgetter(0)


class Query(Generic[M]):
    """A SELECT over a model's table, built by chaining; terminals run it.

    >>> from activeq import ActiveRecord, Field
    >>> class Person(ActiveRecord):
    ...     __table_name__ = 'people'
    ...     id: int = Field(primary_key=True)
    ...     name: str
    ...     age: int
    >>> q = Person.query().where(Person.c.age > 30).order_by(Person.c.name).limit(5)
    >>> q.to_sql()
    ('SELECT "people"."id", "people"."name", "people"."age" FROM "people" WHERE "people"."age" > ? ORDER BY "people"."name" LIMIT ?', [30, 5])
    """

    __slots__ = ("_s",)
    kind = "select"
    _s: dict[str, Any]

    def __init__(self, model: type[M]) -> None:
        _SET_STATE(self, {"model": model, "token": model.__aq__.token, **_EMPTY})  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"Query is immutable: cannot set {name!r}; builder methods return a new Query"
        )

    def _replace(self, **changes: Any) -> Query[M]:
        state = {**self._s, **changes}
        state["_key"] = state["_params"] = None
        q = _new(type(self))
        _SET_STATE(q, state)
        return q

    def _with(self, part: str, value: Any) -> Query[M]:
        # _replace for one part: the path every chained builder call takes.
        state = self._s.copy()
        state[part] = value
        state["_key"] = state["_params"] = None
        q = _new(type(self))
        _SET_STATE(q, state)
        return q

    @property
    def model(self) -> type[M]:
        """The model whose table is queried."""
        return self._s["model"]  # type: ignore[no-any-return]

    # shape ---------------------------------------------------------------------------------
    @property
    def key(self) -> Any:
        """The shape of the SQL this query renders to (values excluded)."""
        s = self._s
        key = s["_key"]
        if key is not None:
            return key
        columns = s["columns"]
        joins = s["joins"]
        if columns is None and not joins and not s["groups"] and not s["havings"]:
            # The common shape, keyed by fewer parts (its length sets it apart from the rest).
            key = s["_key"] = (
                s["token"],
                tuple(map(_KEY, s["wheres"])),
                tuple(map(_KEY, s["orders"])),
                s["limit"] is None,
                s["offset"] is None,
                s["distinct"],
                s["count_wrap"],
            )
            return key
        key = s["_key"] = (
            "select",
            s["token"],
            None if columns is None else tuple(map(_KEY, columns)),
            tuple([(k, t.__aq__.token, on.key) for k, t, on in joins]) if joins else (),
            tuple(map(_KEY, s["wheres"])),
            tuple(map(_KEY, s["groups"])),
            tuple(map(_KEY, s["havings"])),
            tuple(map(_KEY, s["orders"])),
            s["limit"] is None,
            s["offset"] is None,
            s["distinct"],
            s["count_wrap"],
        )
        return key

    @property
    def params(self) -> tuple[Any, ...]:
        """Bound values in the order the compiler visits them."""
        s = self._s
        params = s["_params"]
        if params is not None:
            return params  # type: ignore[no-any-return]
        if s["columns"] is None and not s["joins"] and not s["groups"] and not s["havings"]:
            # The common shape: filters, ordering and a limit only.
            params = ()  # type: ignore[assignment]
            for node in s["wheres"]:
                params += node.params
            for node in s["orders"]:
                params += node.params
            if s["limit"] is not None:
                params += s["limit"].params
            if s["offset"] is not None:
                params += s["offset"].params
            s["_params"] = params
            return params
        params = ()
        if s["columns"] is not None:
            for c in s["columns"]:
                params += c.params
        for _, _, on in s["joins"]:
            params += on.params
        for part in ("wheres", "groups", "havings", "orders"):
            for node in s[part]:
                params += node.params
        if s["limit"] is not None:
            params += s["limit"].params
        if s["offset"] is not None:
            params += s["offset"].params
        s["_params"] = params
        return params

    # builders ------------------------------------------------------------------------------
    def select(self, *columns: Any) -> Query[M]:
        """Choose the select list: field names, columns, functions, aliased expressions.

        Only base-model columns give (partial) model instances; anything else gives ``Row``s.
        """
        if not columns:
            return self._replace(columns=None)
        return self._replace(columns=tuple(self._column(c) for c in columns))

    def where(self, *conditions: Any, **equals: Any) -> Query[M]:
        """Add conditions, ANDed with any already present; ``name=value`` means equality."""
        if len(conditions) == 1 and not equals and isinstance(conditions[0], Expr):
            return self._with("wheres", self._s["wheres"] + conditions)
        conds = tuple([self._condition(c) for c in conditions])
        if equals:
            conds += tuple(self._column(name) == value for name, value in equals.items())
        if not conds:
            return self
        return self._replace(wheres=self._s["wheres"] + conds)

    filter = where

    def order_by(self, *orderings: Any) -> Query[M]:
        """Sort by columns or expressions (``.desc()`` for descending, ``'-name'`` too).

        Replaces any previous ordering; ``order_by()`` with no arguments removes it.
        """
        if len(orderings) == 1 and isinstance(orderings[0], (Expr, Ordering)):
            return self._with("orders", orderings)
        return self._replace(orders=tuple([self._ordering(o) for o in orderings]))

    def limit(self, n: int | None) -> Query[M]:
        """At most ``n`` rows (bound as a parameter); None removes the limit."""
        if type(n) is int and n >= 0:
            return self._with("limit", _tnew(Param, ("?", (n,), n)))
        if n is None:
            return self._with("limit", None)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CompileError(f"limit() takes a non-negative integer, not {n!r}")
        return self._with("limit", Param(n))

    def offset(self, n: int | None) -> Query[M]:
        """Skip ``n`` rows (bound as a parameter); None removes the offset."""
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 0):
            raise CompileError(f"offset() takes a non-negative integer, not {n!r}")
        return self._replace(offset=None if n is None else Param(n))

    def distinct(self, flag: bool = True) -> Query[M]:
        """SELECT DISTINCT."""
        return self._replace(distinct=bool(flag))

    def group_by(self, *columns: Any) -> Query[M]:
        """GROUP BY these columns or expressions (replaces a previous grouping)."""
        return self._replace(groups=tuple(self._column(c) for c in columns))

    def having(self, *conditions: Any) -> Query[M]:
        """Conditions on groups, ANDed with any already present."""
        return self._replace(havings=self._s["havings"] + tuple(self._condition(c) for c in conditions))

    def join(self, target: Any, on: Any = None) -> Query[M]:
        """INNER JOIN another model's table on a condition (inferred from a relation if omitted)."""
        return self._join("inner", target, on)

    def left_join(self, target: Any, on: Any = None) -> Query[M]:
        """LEFT OUTER JOIN another model's table."""
        return self._join("left", target, on)

    def _join(self, kind: str, target: Any, on: Any) -> Query[M]:
        if not hasattr(target, "__aq__"):
            raise CompileError(f"join() takes a model class, not {target!r}")
        if on is None:
            on = _infer_join(self.model, target)
        return self._replace(joins=self._s["joins"] + ((kind, target, self._condition(on)),))

    def includes(self, *relations: Any) -> Query[M]:
        """Eager-load relations: names, dotted paths, or dicts of name -> refinement/nested."""
        from .loading import normalize_includes

        spec = normalize_includes(self.model, relations)
        return self._replace(includes=self._s["includes"] + spec)

    def options(self, **options: Any) -> Query[M]:
        """Per-query options that do not change the SQL (e.g. ``fetch_mode='raise'``)."""
        return self._replace(options={**self._s["options"], **options})

    def fetch_mode(self, mode: str) -> Query[M]:
        """How unloaded relations behave on results: 'lazy', 'peers' or 'raise'."""
        from .loading import check_fetch_mode

        return self.options(fetch_mode=check_fetch_mode(mode))

    def cache(self, ttl: float | None = None, *, enabled: bool = True) -> Query[M]:
        """Serve repeated runs from the database's result cache (keyed by SQL and values).

        Results stay valid until a write through activeq touches one of the query's tables,
        another connection commits, or ``ttl`` seconds pass (None: the database's
        ``cache_ttl``). ``enabled=False`` opts out of ``Database(query_cache=True)``.

        >>> from activeq import ActiveRecord, Database, Field
        >>> class Gem(ActiveRecord):
        ...     __table_name__ = 'gems'
        ...     id: int = Field(primary_key=True)
        ...     name: str
        >>> db = Database(':memory:'); db.bind(Gem); db.create_tables(Gem)
        >>> q = Gem.query().cache(ttl=300)
        >>> len(q.all()), len(q.all())
        (0, 0)
        >>> _ = Gem.create(name='opal')
        >>> [g.name for g in q.all()]
        ['opal']
        """
        if not enabled:
            return self.options(cache=False)
        if ttl is not None and (type(ttl) not in (int, float) or ttl <= 0):
            raise ActiveqError(f"ttl must be a positive number of seconds or None, not {ttl!r}")
        return self._with("options", {**self._s["options"], "cache": True if ttl is None else ttl})

    # helpers -------------------------------------------------------------------------------
    def _column(self, item: Any) -> Expr:
        if isinstance(item, str):
            return self._named(item)
        if isinstance(item, Expr):
            return item
        raise CompileError(f"expected a column name or expression, got {item!r}")

    def _named(self, name: str) -> ColumnRef:
        model = self._s["model"]
        ref = model.__aq__.refs.get(name)
        if ref is None:
            if "." in name:
                table, _, col = name.partition(".")
                for _, target, _ in self._s["joins"]:
                    if target.__name__ == table or target.__aq__.table == table:
                        found = target.__aq__.refs.get(col)
                        if found is not None:
                            return found  # type: ignore[no-any-return]
            close = difflib.get_close_matches(name, list(model.__aq__.refs), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise UnknownColumnError(f"{model.__name__} has no column {name!r}{hint}")
        return ref  # type: ignore[no-any-return]

    def _condition(self, cond: Any) -> Expr:
        if isinstance(cond, Expr):
            return cond
        if isinstance(cond, bool):
            raise CompileError(
                "where() got a Python bool: a comparison was evaluated by Python instead of "
                "building SQL (use & | ~ instead of and/or/not, and == on columns)"
            )
        raise CompileError(f"expected a condition expression, got {cond!r}")

    def _ordering(self, item: Any) -> Ordering:
        if isinstance(item, (Ordering, Expr)):
            return item  # type: ignore[return-value]
        if isinstance(item, str):
            if item.startswith("-"):
                return Ordering(self._named(item[1:]), True, None)
            return Ordering(self._named(item), False, None)
        if isinstance(item, Expr):
            return Ordering(item, False, None)
        raise CompileError(f"order_by() takes columns, expressions or names, not {item!r}")

    # compilation ---------------------------------------------------------------------------
    def _database(self) -> Database:
        return self._s["model"].database()  # type: ignore[no-any-return]

    def to_sql(self, dialect: str = "sqlite") -> tuple[str, list[Any]]:
        """The SQL text and bound values for ``dialect``: sqlite, postgres, mysql or duckdb."""
        entry, _ = compiler.compile(self, dialect)
        return entry.sql, list(entry.values(self.params))

    def sql(self, dialect: str = "sqlite") -> str:
        """Only the SQL text for ``dialect``."""
        return compiler.compile(self, dialect)[0].sql

    def compile(self, dialect: str | None = None) -> CompiledQuery[M]:
        """A reusable prepared statement; values come from ``BindParam`` names at execute time.

        >>> from activeq import ActiveRecord, BindParam, Field
        >>> class Account(ActiveRecord):
        ...     __table_name__ = 'accounts'
        ...     id: int = Field(primary_key=True)
        ...     email: str
        >>> stmt = Account.query().where(Account.c.email == BindParam('email')).compile('sqlite')
        >>> stmt.sql
        'SELECT "accounts"."id", "accounts"."email" FROM "accounts" WHERE "accounts"."email" = ?'
        """
        return CompiledQuery(self, dialect)

    def _run(self, query: Query[Any] | None = None) -> tuple[list[Any], Compiled, Database]:
        q = self if query is None else query
        model = q._s["model"]
        db = model.__database__ or model.database()
        t0 = perf_counter_ns()
        key = q.key
        entry = compiler.lookup((db.dialect, key))
        hit = entry is not None
        if entry is None:
            entry, hit = compiler.compile(q, db.dialect)
        values = entry.values(q.params)
        opts = q._s["options"]
        if opts and "cache" in opts or db._cache_all:
            rows = db._cache.select(entry, values, key, perf_counter_ns() - t0, hit, opts.get("cache"))
        else:
            rows = db._select(entry, values, key, perf_counter_ns() - t0, hit)
        return rows, entry, db

    # terminals -----------------------------------------------------------------------------
    def all(self) -> list[M]:
        """Run the query and return every result (models, partial models or Rows)."""
        limit = self._s["limit"]
        if (limit is None or limit.value >= 500) and gc.isenabled():
            # A large or unbounded result allocates a tuple and a model per row, none of which can be
            # part of a reference cycle yet: pausing the cyclic collector while they are built
            # spares it repeated scans of a fast-growing heap.
            gc.disable()
            try:
                rows, entry, db = self._run()
                results = entry.mapper(rows, db._context(self))
            finally:
                gc.enable()
        else:
            rows, entry, db = self._run()
            results = entry.mapper(rows, db._context(self))
        return self._finish(results, db) if self._s["includes"] else results

    def _finish(self, results: list[Any], db: Database) -> list[Any]:
        includes = self._s["includes"]
        if includes and results:
            from .loading import load_includes

            load_includes(db, self.model, results, includes)
        return results

    def __iter__(self) -> Iterator[M]:
        return self.iter()

    def _at_most(self, n: int) -> Query[M]:
        # A terminal that needs at most n rows keeps a smaller limit of the caller's (and the
        # offset, which _with leaves alone).
        limit = self._s["limit"]
        if limit is not None and limit.value <= n:
            return self
        return self._with("limit", _tnew(Param, ("?", (n,), n)))

    def first(self) -> M | None:
        """The first result, or None (adds LIMIT 1)."""
        results = self._at_most(1).all()
        return results[0] if results else None

    def one(self) -> M:
        """Exactly one result; NotFoundError when none, MultipleResultsError when more.

        A ``limit()`` of 1 (or 0) and an ``offset()`` on the query are kept: ``one()`` asks
        whether the rows the query describes are exactly one.
        """
        results = self._at_most(2).all()
        if not results:
            raise NotFoundError(f"no {self.model.__name__} matches the query")
        if len(results) > 1:
            raise MultipleResultsError(f"more than one {self.model.__name__} matches the query")
        return results[0]  # type: ignore[no-any-return]

    def one_or_none(self) -> M | None:
        """One result or None; MultipleResultsError when more."""
        results = self._at_most(2).all()
        if len(results) > 1:
            raise MultipleResultsError(f"more than one {self.model.__name__} matches the query")
        return results[0] if results else None

    def count(self) -> int:
        """The number of rows the query returns (ignoring ordering)."""
        s = self._s
        if s["limit"] is None and s["offset"] is None and not s["distinct"] and not s["groups"]:
            q = self._replace(columns=(Func("COUNT", (Star(),)),), orders=())
        else:
            q = self._replace(count_wrap=True, orders=() if s["limit"] is None else s["orders"])
        rows, _, _ = self._run(q)
        return int(rows[0][0])

    def exists(self) -> bool:
        """Whether at least one row matches."""
        info = self.model.__aq__  # type: ignore[attr-defined]
        col = info.refs[info.pk.name] if info.pk else info.refs[info.names[0]]
        rows, _, _ = self._run(self._at_most(1)._replace(columns=(col,), orders=()))
        return bool(rows)

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        rows, _, _ = self._run(self._at_most(1))
        return rows[0][0] if rows else None

    def pluck(self, *columns: Any) -> list[Any]:
        """Values of one column (a flat list) or of several (a list of tuples)."""
        if not columns:
            raise CompileError("pluck() needs at least one column")
        rows, _, _ = self._run(self.select(*columns))
        if len(columns) == 1:
            return [r[0] for r in rows]
        return rows

    def tuples(self) -> list[tuple[Any, ...]]:
        """Raw rows as tuples: no models, no validation, no type conversion."""
        return self._without_gc(lambda: self._run()[0])

    def dicts(self) -> list[dict[str, Any]]:
        """Raw rows as dicts keyed by attribute name or alias."""

        def fetch() -> list[dict[str, Any]]:
            rows, entry, _ = self._run()
            names = entry.names
            return [dict(zip(names, r)) for r in rows]

        return self._without_gc(fetch)

    def _without_gc(self, fetch: Callable[[], Any]) -> Any:
        # Same reasoning as in all(): fresh rows cannot be in reference cycles yet.
        limit = self._s["limit"]
        if (limit is None or limit.value >= 500) and gc.isenabled():
            gc.disable()
            try:
                return fetch()
            finally:
                gc.enable()
        return fetch()

    def iter(self, batch: int = 1000) -> Iterator[M]:
        """Stream results without building the whole list (one cursor, fetched in batches)."""
        db = self._database()
        t0 = perf_counter_ns()
        entry, hit = compiler.compile(self, db.dialect)
        values = entry.values(self.params)
        ctx = db._context(self)
        for rows in db._stream(entry, values, self.key, perf_counter_ns() - t0, hit, batch):
            yield from self._finish(entry.mapper(rows, ctx), db)

    def chunks(self, size: int = 1000, *, by: Any = None) -> Iterator[list[M]]:
        """Lists of at most ``size`` results, one keyset query each (never OFFSET).

        Pages by the primary key, or by this query's ordering with the primary key as a
        tie-break, or by ``by`` (column names or orderings that are unique together).
        Rows inserted past the current position while iterating are still visited once.
        """
        from .paging import chunks

        return chunks(self, size, by)

    def paginate(self, page: int, per_page: int = 20) -> Any:
        """Page ``page`` (from 1) as a ``Page``: ``.items``, ``.total``, ``.pages``, ``.has_next``."""
        from .paging import paginate

        return paginate(self, page, per_page)

    def cursor_page(self, size: int = 20, after: str | None = None, *, by: Any = None) -> Any:
        """``size`` results after an opaque cursor, as a ``CursorPage``.

        ``.items`` holds the results and ``.next_cursor`` the cursor of the next page
        (None on the last one); keyed like :meth:`chunks`.
        """
        from .paging import cursor_page

        return cursor_page(self, size, after, by)

    def explain(self, analyze: bool = False) -> Any:
        """The query plan as a ``Plan`` (``.rows``, ``.full_scans``, ``.indexes``, ``str()``)."""
        db = self._database()
        entry, _ = compiler.compile(self, db.dialect)
        return db.explain(entry.sql, entry.values(self.params), analyze=analyze)

    # writes --------------------------------------------------------------------------------
    def update(self, values: dict[str, Any] | None = None, *, all_rows: bool = False,
               **kw: Any) -> int:
        """UPDATE the matching rows in one statement; returns the number of rows changed.

        Values may be expressions (``User.c.visits + 1``). Refused without a where clause
        unless ``all_rows=True``.
        """
        stmt = Update.build(self, {**(values or {}), **kw}, all_rows)
        return self._database()._write(stmt)

    def delete(self, *, all_rows: bool = False) -> int:
        """DELETE the matching rows in one statement; returns the number of rows deleted."""
        stmt = Delete.build(self, all_rows)
        return self._database()._write(stmt)

    def __repr__(self) -> str:
        try:
            return f"<Query {self.to_sql()[0]}>"
        except ActiveqError as e:
            return f"<Query of {self.model.__name__} (cannot render: {e})>"


# Queries are immutable to users; their own state is written once through the slot descriptor.
_SET_STATE = Query.__dict__["_s"].__set__


def _infer_join(model: Any, target: Any) -> Expr:
    for rel in model.__aq__.relations.values():
        if rel.target_model() is target:
            return rel.join_condition()  # type: ignore[no-any-return]
    for rel in target.__aq__.relations.values():
        if rel.target_model() is model:
            return rel.join_condition()  # type: ignore[no-any-return]
    raise CompileError(
        f"no relation links {model.__name__} and {target.__name__}: pass the join condition"
    )


class _Statement:
    """Base for write statements; keyed and parameterised like expression nodes."""

    __slots__ = ("model", "wheres", "kind", "key", "params")


class Update(_Statement):
    """``UPDATE table SET ... WHERE ...`` built from a query."""

    __slots__ = ("assignments",)

    def __init__(self, model: Any, assignments: tuple[tuple[Any, Expr], ...],
                 wheres: tuple[Expr, ...]) -> None:
        self.model = model
        self.assignments = assignments
        self.wheres = wheres
        self.kind = "update"
        self.key = (("update", model.__aq__.token, tuple((c.name, e.key) for c, e in assignments),
                           tuple(w.key for w in wheres)))
        params: tuple[Any, ...] = ()
        for _, e in assignments:
            params += e.params
        for w in wheres:
            params += w.params
        self.params = params

    @classmethod
    def build(cls, query: Query[Any], values: dict[str, Any], all_rows: bool) -> Update:
        s = query._s
        model = s["model"]
        info = model.__aq__
        _check_plain_write(query, "update")
        if not s["wheres"] and not all_rows:
            raise CompileError(
                f"update() without where() would change every row of {info.table}; "
                "pass all_rows=True to mean it"
            )
        if not values:
            raise CompileError("update() needs at least one column to set")
        unknown = [k for k in values if k not in info.by_name]
        if unknown:
            from .model import _unknown_fields

            raise _unknown_fields(model, unknown)
        assignments = []
        for name, value in values.items():
            if not isinstance(value, Expr):
                try:
                    value = info.adapter(name).validate_python(value)
                except pydantic.ValidationError as e:
                    raise ValidationError.from_pydantic(model.__name__, e, field=name) from e
                # Refused here, with the field named, rather than by the driver while binding.
                bad = unstorable_error((value,), (name,), where=f"invalid {model.__name__}: ")
                if bad is not None:
                    raise bad
            assignments.append((info.by_name[name], as_expr(value)))
        return cls(model, tuple(assignments), s["wheres"])


class Delete(_Statement):
    """``DELETE FROM table WHERE ...`` built from a query."""

    __slots__ = ()

    def __init__(self, model: Any, wheres: tuple[Expr, ...]) -> None:
        self.model = model
        self.wheres = wheres
        self.kind = "delete"
        self.key = ("delete", model.__aq__.token, tuple(w.key for w in wheres))
        params: tuple[Any, ...] = ()
        for w in wheres:
            params += w.params
        self.params = params

    @classmethod
    def build(cls, query: Query[Any], all_rows: bool) -> Delete:
        s = query._s
        _check_plain_write(query, "delete")
        if not s["wheres"] and not all_rows:
            raise CompileError(
                f"delete() without where() would remove every row of {s['model'].__aq__.table}; "
                "pass all_rows=True to mean it"
            )
        return cls(s["model"], s["wheres"])


def _check_plain_write(query: Query[Any], what: str) -> None:
    s = query._s
    for part in ("joins", "groups", "havings"):
        if s[part]:
            raise CompileError(f"{what}() cannot use {part[:-1]}; filter with where() (subqueries work)")
    if s["limit"] is not None or s["offset"] is not None:
        raise CompileError(f"{what}() cannot use limit/offset; filter with where()")


class Insert(_Statement):
    """``INSERT INTO table (names) VALUES (...)`` with an optional conflict clause."""

    __slots__ = ("names", "on_conflict", "returning")

    def __init__(self, model: Any, names: tuple[str, ...], on_conflict: Any = None,
                 returning: bool = False) -> None:
        self.model = model
        self.names = names
        self.on_conflict = on_conflict
        self.returning = returning
        self.wheres = ()
        self.kind = "insert"
        self.key = ("insert", model.__aq__.token, names, on_conflict, returning)
        self.params = ()


class CompiledQuery(Generic[M]):
    """A query compiled once with ``BindParam`` placeholders, executed many times.

    ``execute(**values)`` returns the list of results, ``first(**values)`` one or None.
    """

    def __init__(self, query: Query[M], dialect: str | None) -> None:
        self.query = query
        db = query._s["model"].__database__
        self.dialect = dialect or (db.dialect if db is not None else "sqlite")
        self._entry, _ = compiler.compile(query, self.dialect)
        params = query.params
        self._names = {p.name for p in params if isinstance(p, Unbound)}
        self._slots = [(i, p.name) for i, p in enumerate(params) if isinstance(p, Unbound)]
        self._params = list(params)

    @property
    def sql(self) -> str:
        """The SQL text, with the dialect's placeholders."""
        return self._entry.sql

    @property
    def parameters(self) -> frozenset[str]:
        """Names the statement expects."""
        return frozenset(self._names)

    def _bind(self, values: dict[str, Any]) -> Any:
        missing = self._names - values.keys()
        if missing:
            raise CompileError(f"missing value for parameter(s): {', '.join(sorted(missing))}")
        unknown = values.keys() - self._names
        if unknown:
            raise CompileError(
                f"unknown parameter(s): {', '.join(sorted(unknown))}; "
                f"expected: {', '.join(sorted(self._names)) or '(none)'}"
            )
        params = self._params
        for i, name in self._slots:
            params[i] = values[name]
        return self._entry.values(tuple(params))

    def execute(self, **values: Any) -> list[M]:
        """Run with these parameter values; returns the results as ``all()`` would."""
        values_ = self._bind(values)
        query = self.query
        db = query._s["model"].database()
        opts = query._s["options"]
        if opts and "cache" in opts or db._cache_all:
            rows = db._cache.select(self._entry, values_, query.key, 0, True, opts.get("cache"))
        else:
            rows = db._select(self._entry, values_, query.key, 0, True)
        return query._finish(self._entry.mapper(rows, db._context(query)), db)

    def first(self, **values: Any) -> M | None:
        """The first result or None."""
        results = self.execute(**values)
        return results[0] if results else None

    def __repr__(self) -> str:
        return f"<CompiledQuery {self.sql}>"


