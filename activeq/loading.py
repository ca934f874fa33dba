"""Eager loading (``includes()``) and the fetch modes of unloaded relations.

Loading a relation for a list of parents is one query whatever their number: the parents'
keys are bound as one array parameter (``col IN (SELECT value FROM json_each(?))`` on SQLite,
so no bound-variable limit applies) and the rows are grouped back by key in Python. Nested
includes repeat this one level down, so ``includes()`` costs 1 + (number of relations) queries.

Loaded values live in each instance's ``_aq_rel`` dict. An unloaded relation read on an
instance follows the fetch mode of the query that produced it:

* ``'lazy'``: load it for that instance alone (one query).
* ``'peers'``: load it for every instance the same query returned (one query).
* ``'raise'``: raise ``RelationNotLoadedError`` naming the relation and the fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from operator import itemgetter
from time import perf_counter_ns
from typing import Any, NamedTuple

from .ast import ColumnRef
from .compiler import _json_default, compiler
from .database import FETCH_MODES, check_fetch_mode
from .errors import CompileError, RelationNotLoadedError

__all__ = [
    "FETCH_MODES",
    "Include",
    "check_fetch_mode",
    "load_includes",
    "load_on_access",
    "load_relation",
    "normalize_includes",
]

_set = object.__setattr__
# Key types SQLite returns unchanged; other values are compared in their stored (text) form.
_NATIVE = frozenset((int, str, float, bytes))


class Include(NamedTuple):
    """One relation to eager-load: its name, an optional query refinement and nested includes."""

    name: str
    refine: Callable[[Any], Any] | None
    nested: tuple[Include, ...]


# normalising includes() arguments ------------------------------------------------------------

def normalize_includes(model: Any, relations: tuple[Any, ...]) -> tuple[Include, ...]:
    """Turn includes() arguments into merged ``Include`` entries, checking every name.

    Accepted forms, freely combined: ``'orders'``; dotted paths ``'books.categories'``;
    dicts mapping a name (or path) to ``True``, a refinement ``lambda q: q.where(...)``,
    a nested spec (dict, name or list of names), or ``False`` to leave it out; lists of these.
    """
    entries: list[Include] = []
    for item in relations:
        _collect(model, item, entries)
    return merge_includes(tuple(entries))


def _collect(model: Any, item: Any, out: list[Include]) -> None:
    if isinstance(item, str):
        out.append(_path(model, item, None, ()))
    elif isinstance(item, dict):
        for key, value in item.items():
            if not isinstance(key, str):
                raise CompileError(f"includes() dict keys are relation names, not {key!r}")
            if value is False:
                continue
            if value is True or value is None:
                out.append(_path(model, key, None, ()))
            elif isinstance(value, (dict, str, list, tuple)):
                target = _relation_at(model, key).target_model()
                out.append(_path(model, key, None, normalize_includes(target, (value,))))
            elif callable(value):
                out.append(_path(model, key, value, ()))
            else:
                raise CompileError(
                    f"includes({{{key!r}: ...}}) takes True, a function refining the query, or "
                    f"nested includes, not {value!r}")
    elif isinstance(item, (list, tuple)):
        for sub in item:
            _collect(model, sub, out)
    else:
        raise CompileError(
            f"includes() takes relation names, dotted paths or dicts, not {item!r}")


def _relation_at(model: Any, path: str) -> Any:
    """The relation at the end of a dotted path, checking each step."""
    rel = None
    for part in _split(path):
        rel = _relation(model, part)
        model = rel.target_model()
    return rel


def _split(path: str) -> list[str]:
    parts = path.split(".")
    if not path or any(not p.strip() for p in parts):
        raise CompileError(f"includes() got an empty relation name in {path!r}")
    return parts


def _relation(model: Any, name: str) -> Any:
    relations = model.__aq__.relations
    rel = relations.get(name)
    if rel is None:
        close = difflib.get_close_matches(name, list(relations), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = ", ".join(sorted(relations)) or "(none declared)"
        raise CompileError(
            f"{model.__name__} has no relation {name!r}; {hint}relations of {model.__name__}: {known}")
    return rel


def _path(model: Any, path: str, refine: Any, nested: tuple[Include, ...]) -> Include:
    parts = _split(path)
    # Check every step now, so a typo fails when the query is built, not when it runs.
    for part in parts:
        model = _relation(model, part).target_model()
    entry = Include(parts[-1], refine, nested)
    for part in reversed(parts[:-1]):
        entry = Include(part, None, (entry,))
    return entry


def merge_includes(entries: tuple[Include, ...]) -> tuple[Include, ...]:
    """Merge entries naming the same relation: nested includes unite, refinements compose."""
    if len(entries) < 2 and not any(e.nested for e in entries):
        return entries
    merged: dict[str, Include] = {}
    for entry in entries:
        prev = merged.get(entry.name)
        if prev is None:
            merged[entry.name] = entry
            continue
        refine = prev.refine
        if entry.refine is not None and entry.refine is not refine:
            refine = entry.refine if refine is None else _compose(refine, entry.refine)
        merged[entry.name] = Include(entry.name, refine, prev.nested + entry.nested)
    return tuple(
        Include(e.name, e.refine, merge_includes(e.nested)) if e.nested else e
        for e in merged.values()
    )


def _compose(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda q: second(first(q))


# loading -----------------------------------------------------------------------------------

def load_includes(db: Any, model: Any, parents: list[Any], includes: tuple[Include, ...]) -> None:
    """Finish a query's results: record them as peers and load every included relation.

    One query per relation per level; parents without keys (or levels without rows) cost none.
    """
    first = parents[0]
    ctx = getattr(first, "_aq_ctx", None)
    mode = db.fetch_mode
    if ctx is not None:
        mode = ctx.fetch_mode
        if mode == "peers" and ctx is not db._default_ctx:
            _record_peers(db, ctx, parents)
    if not includes:
        return
    if not isinstance(first, model):
        raise CompileError(
            f"includes() needs the query to return {model.__name__} instances; "
            "it selects other columns (use a join select or drop includes())")
    # Fresh results carry no relation values yet: the first relation gives each a new dict,
    # the following ones add to it.
    slots = None
    for inc in merge_includes(includes):
        rel = model.__aq__.relations[inc.name]
        slots = load_relation(db, rel, parents, slots, inc.refine, inc.nested, mode)


def _record_peers(db: Any, ctx: Any, results: list[Any]) -> None:
    if ctx.instances is None:
        ctx.instances = results
    elif ctx.instances is not results:
        # A later batch of a stream: its peers are that batch, not the whole stream.
        fresh = type(ctx)(db, "peers", results)
        for item in results:
            _set(item, "_aq_ctx", fresh)


def load_relation(db: Any, rel: Any, parents: list[Any], slots: list[dict[str, Any]] | None,
                  refine: Any = None, nested: tuple[Include, ...] = (),
                  mode: str = "lazy") -> list[dict[str, Any]]:
    """Load ``rel`` for every parent in one query and store it in each parent's slot dict.

    ``slots`` None means the parents are fresh results: each gets a new dict. Returns the
    slot dicts, aligned with ``parents``.
    """
    attr = rel.parent_attr
    name = rel.name
    data0 = parents[0].__dict__
    if attr not in data0:
        raise CompileError(
            f"loading {rel.label} needs {rel.owner.__name__}.{attr}: add it to select()")
    native = rel.owner.__aq__.by_name[attr].python_type in _NATIVE
    many = rel.many
    if len(parents) == 1:
        # One parent (a lazy read, or first()): every row is its own, nothing to group.
        key = data0[attr] if native else _stored(data0[attr])
        if slots is None:
            slots = [_slot_of(parents[0])]
        if key is None:
            slots[0][name] = [] if many else None
            return slots
        query, _, names, _ = _child_query(db, rel, refine, [key], nested, mode)
        children = _run(db, query, rel, names)
        slots[0][name] = children if many else (children[0] if children else None)
        query._finish(children, db)
        return slots
    if native:
        keys = [p.__dict__[attr] for p in parents]
    else:
        keys = [_stored(p.__dict__[attr]) for p in parents]
    distinct = list(dict.fromkeys(keys))
    if None in distinct:
        distinct.remove(None)
    if not distinct:
        return _store(parents, slots, name, [[] if many else None for _ in parents])
    query, key_index, names, window = _child_query(db, rel, refine, distinct, nested, mode)
    t0 = perf_counter_ns()
    entry, hit = compiler.compile(query, db.dialect)
    values = entry.values(query.params)
    rows = db._cache.relation_rows(rel, entry, values, query.key, perf_counter_ns() - t0, hit)
    children = rel.target_model().__aq__.builder(names, db.dialect)(rows, db._context(query))
    groups: dict[Any, list[Any]] = {k: [] for k in distinct}
    try:
        for k, child in zip(map(itemgetter(key_index), rows), children):
            groups[k].append(child)
    except KeyError:
        # A row key not among the parents' keys (a refinement joined more rows in, or a
        # type SQLite returns differently): group tolerantly instead.
        groups = _group(children, rows, key_index)
    get = groups.get
    shared = len(distinct) != len(keys)
    if window is not None:
        start, stop = window
        for k, rows_of in groups.items():
            groups[k] = rows_of[start:stop]
    if not many:
        values = [found[0] if (found := get(k)) else None for k in keys]
    elif shared:
        # Parents sharing a key get their own lists, so changing one leaves the other.
        values = [list(get(k) or ()) for k in keys]
    else:
        values = [get(k) or [] for k in keys]
    slots = _store(parents, slots, name, values)
    query._finish(children, db)
    return slots


def _store(parents: list[Any], slots: list[dict[str, Any]] | None, name: str,
           values: list[Any]) -> list[dict[str, Any]]:
    if slots is None:
        slots = [{name: v} for v in values]
        # map() drives the slot descriptor from C: no Python-level loop per parent.
        list(map(_SET_REL, parents, slots))
    else:
        for slot, value in zip(slots, values):
            slot[name] = value
    return slots


def _run(db: Any, query: Any, rel: Any, names: tuple[str, ...]) -> list[Any]:
    t0 = perf_counter_ns()
    entry, hit = compiler.compile(query, db.dialect)
    values = entry.values(query.params)
    rows = db._cache.relation_rows(rel, entry, values, query.key, perf_counter_ns() - t0, hit)
    return rel.target_model().__aq__.builder(names, db.dialect)(rows, db._context(query))  # type: ignore[no-any-return]


def _group(children: list[Any], rows: list[Any], key_index: int) -> dict[Any, list[Any]]:
    groups: dict[Any, list[Any]] = {}
    for child, row in zip(children, rows):
        groups.setdefault(row[key_index], []).append(child)
    return groups


def _stored(value: Any) -> Any:
    """A key in the form SQLite returns it, so parent keys match raw row values."""
    if value is None or type(value) in _NATIVE:
        return value
    return _json_default(value)


def _child_query(db: Any, rel: Any, refine: Any, keys: list[Any], nested: tuple[Include, ...],
                 mode: str) -> tuple[Any, int, tuple[str, ...], tuple[int, int | None] | None]:
    """The query of the relation's rows for ``keys``, where its key column sits, the names
    the model builder reads, and the per-parent (start, stop) window of a refined limit."""
    target = rel.target_model()
    query = rel.base_query()
    if refine is not None:
        refined = refine(query)
        if not isinstance(refined, type(query)) or refined.model is not target:
            raise CompileError(
                f"the includes() function for {rel.label} must return a query of "
                f"{target.__name__} (the one it was given, refined), not {refined!r}")
        query = refined
    s = query._s
    child_ref = rel.child_ref()
    window = None
    if len(keys) == 1:
        query = query.where(child_ref == keys[0])
    else:
        limit, offset = s["limit"], s["offset"]
        if limit is not None or offset is not None:
            # LIMIT/OFFSET in a refinement mean "per parent": applied after grouping.
            start = 0 if offset is None else offset.value
            stop = None if limit is None else start + limit.value
            window = (start, stop)
            query = query._replace(limit=None, offset=None)
        query = query.where(child_ref.is_in(keys))
    info = target.__aq__
    columns = s["columns"]
    if columns is not None:
        for col in columns:
            if type(col) is not ColumnRef or col.model is not target:
                raise CompileError(
                    f"the includes() query for {rel.label} may select only {target.__name__} "
                    f"columns, not {col!r}")
        names = tuple(c.name for c in columns)
    else:
        names = info.names
        columns = None
    if child_ref.model is target and child_ref.name in names:
        key_index = names.index(child_ref.name)
    else:
        if columns is None:
            columns = tuple(map(info.refs.__getitem__, names))
        # The key is read after the columns the model builder looks at.
        key_index = len(columns)
        query = query._replace(columns=columns + (child_ref,))
        if child_ref.model is target:
            names = names + (child_ref.name,)
    options = query._s["options"]
    if mode != db.fetch_mode and "fetch_mode" not in options:
        query = query.options(fetch_mode=mode)
    if nested:
        query = query._replace(includes=query._s["includes"] + nested)
    return query, key_index, names, window


# access to unloaded relations --------------------------------------------------------------

def load_on_access(rel: Any, instance: Any) -> Any:
    """The value of an unloaded relation read on ``instance``, per its fetch mode."""
    ctx = getattr(instance, "_aq_ctx", None)
    name = rel.name
    if ctx is None:
        # Not saved yet: nothing to cache against; look up what the keys already point to.
        db = rel.owner.database()
        slot: dict[str, Any] = {}
        if instance.__dict__.get(rel.parent_attr) is None:
            return [] if rel.many else None
        load_relation(db, rel, [instance], [slot], mode="lazy")
        return slot[name]
    mode = ctx.fetch_mode
    if mode == "raise":
        raise RelationNotLoadedError(
            f"{rel.label} is not loaded and the fetch mode is 'raise': load it with "
            f"{rel.owner.__name__}.query().includes({name!r}) (or use fetch_mode 'lazy' "
            "or 'peers')")
    group = [instance]
    peers = ctx.instances
    if mode == "peers" and peers:
        cls = type(instance)
        group = []
        slots = []
        for peer in peers:
            if type(peer) is cls:
                slot = _slot_of(peer)
                if name not in slot:
                    group.append(peer)
                    slots.append(slot)
        if not any(p is instance for p in group):
            group.append(instance)
            slots.append(_slot_of(instance))
    else:
        slots = [_slot_of(instance)]
    load_relation(ctx.db, rel, group, slots, mode=mode)
    return instance._aq_rel[name]


_SET_REL: Any = None
_GET_REL: Any = None


def use_relation_slot(slot: Any) -> None:
    """Keep the descriptor of the models' relation slot (``ActiveRecord._aq_rel``), which the
    model layer hands down when it declares the base class.

    Read through the slot's own descriptor, an unset slot raises at C level, without going
    through the model's ``__getattr__`` fallback.
    """
    global _SET_REL, _GET_REL
    _GET_REL = slot.__get__
    _SET_REL = slot.__set__


def _slot_of(instance: Any) -> dict[str, Any]:
    """The instance's relation dict, created when it has none yet."""
    try:
        return _GET_REL(instance)  # type: ignore[no-any-return]
    except AttributeError:
        slot: dict[str, Any] = {}
        _SET_REL(instance, slot)
        return slot

