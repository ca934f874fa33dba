"""Index advice: CREATE INDEX proposals from the plans of statements that scan or sort.

A statement is worth an index when its plan reads a table in full (``SCAN t``), builds an
automatic index on every run, or sorts in a temporary b-tree for ORDER BY. The columns come
from the statement itself (parsed with sqlglot): equality filters first, then one range
filter or the ORDER BY columns, which is the order SQLite can use an index in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from .errors import DatabaseError
from .monitor import Plan, explain_plan

__all__ = ["IndexSuggestion", "advise_statement", "suggest_indexes"]

_ANALYZABLE = ("SELECT", "WITH", "UPDATE", "DELETE")


@dataclass
class IndexSuggestion:
    """One proposed index and the statements it would help."""

    table: str
    """The table to index."""
    columns: tuple[str, ...]
    """Its columns, in index order."""
    sql: str
    """The CREATE INDEX statement."""
    reasons: list[str] = field(default_factory=list)
    """What the plans showed: 'full scan', 'automatic index', 'temp b-tree for ORDER BY'."""
    shapes: list[str] = field(default_factory=list)
    """SQL texts of the statements it would help."""
    total_ms: float = 0.0
    """Their total execute time so far."""
    count: int = 0
    """How many times they ran."""

    def __str__(self) -> str:
        return (f"{self.sql};  -- {', '.join(self.reasons)}; helps {len(self.shapes)} "
                f"shape(s), {self.count} runs, {self.total_ms:.3f} ms")


@dataclass
class _Usage:
    eq: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    join: list[str] = field(default_factory=list)


def suggest_indexes(db: Any) -> list[IndexSuggestion]:
    """Indexes that would remove the full scans and sorts seen in the statements run so far.

    Every statement shape in ``db.stats()`` that reads data is explained (with the values of
    its first run); proposals for the same table and columns are merged, and the list is
    sorted by the total time of the statements each would help.
    """
    merged: dict[tuple[str, tuple[str, ...]], IndexSuggestion] = {}
    for acc in db.log.accumulators():
        if not acc.count or not acc.sql.lstrip()[:6].upper().startswith(_ANALYZABLE):
            continue
        try:
            found = advise_statement(db, acc.sql, acc.params)
        except DatabaseError:
            continue  # a statement on a table dropped since: nothing to advise
        for s in found:
            key = (s.table, s.columns)
            into = merged.setdefault(key, IndexSuggestion(s.table, s.columns, s.sql))
            for reason in s.reasons:
                if reason not in into.reasons:
                    into.reasons.append(reason)
            into.shapes.append(acc.sql)
            into.total_ms += acc.total_ns / 1e6
            into.count += acc.count
    return sorted(merged.values(), key=lambda s: s.total_ms, reverse=True)


def advise_statement(db: Any, sql: str, params: Any = (), plan: Plan | None = None
                     ) -> list[IndexSuggestion]:
    """Index proposals for one statement, from its plan and its filter and sort columns."""
    if plan is None:
        plan = explain_plan(db, sql, params, record=False)
    usage, single, first, aliases = _usage(sql)
    # Plans name tables by their alias in the statement.
    plan_scans = [aliases.get(t, t) for t in plan.full_scans]
    plan_autos = [aliases.get(t, t) for t in plan.automatic_indexes]
    problems: dict[str, list[str]] = {}
    for table in plan_scans:
        problems.setdefault(table, []).append("full scan")
    for table in plan_autos:
        problems.setdefault(table, []).append("automatic index")
    if "ORDER BY" in plan.sorts and single is not None and usage.get(single, _Usage()).order:
        problems.setdefault(single, []).append("temp b-tree for ORDER BY")
    out = []
    for table, reasons in problems.items():
        use = usage.get(table)
        if use is None:
            continue
        joined = table != first or "automatic index" in reasons
        columns = _index_columns(use, "temp b-tree for ORDER BY" in reasons, joined)
        if not columns or _already_indexed(db, table, columns):
            continue
        name = "idx_" + "_".join([table, *columns])
        quoted = ", ".join(_quote(c) for c in columns)
        create = f"CREATE INDEX {_quote(name)} ON {_quote(table)} ({quoted})"
        out.append(IndexSuggestion(table, tuple(columns), create, reasons))
    return out


def _index_columns(use: _Usage, sorting: bool, joined: bool) -> list[str]:
    columns: list[str] = []
    # Join columns matter on the inner side of a join; the outer table is read in full anyway.
    for c in use.eq + (use.join if joined else []):
        if c not in columns:
            columns.append(c)
    if use.range:
        if use.range[0] not in columns:
            columns.append(use.range[0])
    elif use.order and (columns or sorting):
        # After the equality columns the index hands rows over already in ORDER BY order.
        columns.extend(c for c in use.order if c not in columns)
    return columns


def _usage(sql: str) -> tuple[dict[str, _Usage], str | None, str | None, dict[str, str]]:
    """Columns filtered, joined and ordered on, per table; the table if there is only one;
    the first table (the outer side of any join); table names by alias."""
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError:
        return {}, None, None, {}
    if isinstance(tree, (exp.Update, exp.Delete)):
        target = tree.this if isinstance(tree.this, exp.Table) else tree.find(exp.Table)
        tables = {target.alias_or_name: target.name} if target is not None else {}
        where = tree.args.get("where")
        order = None
    else:
        select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
        if select is None:
            return {}, None, None, {}
        tables = {}
        for t in _own_tables(select):
            tables[t.alias_or_name] = t.name
        where = select.args.get("where")
        order = select.args.get("order")
    usage: dict[str, _Usage] = {}
    if where is not None:
        _walk(where.this, tables, usage)
    if isinstance(tree, exp.Select):
        for join in tree.args.get("joins") or []:
            on = join.args.get("on")
            if on is not None:
                _walk(on, tables, usage)
    if order is not None:
        for ordered in order.expressions:
            col = ordered.this
            if isinstance(col, exp.Column):
                table = _table_of(col, tables)
                if table is not None:
                    usage.setdefault(table, _Usage()).order.append(col.name)
    names = set(tables.values())
    first = next(iter(tables.values()), None)
    return usage, next(iter(names)) if len(names) == 1 else None, first, tables


def _own_tables(select: exp.Select) -> list[exp.Table]:
    """Tables in this SELECT's FROM and JOINs (not those of subqueries)."""
    found = []
    source = select.args.get("from") or select.args.get("from_")
    if source is not None and isinstance(source.this, exp.Table):
        found.append(source.this)
    for join in select.args.get("joins") or []:
        if isinstance(join.this, exp.Table):
            found.append(join.this)
    return found


def _walk(node: Any, tables: dict[str, str], usage: dict[str, _Usage]) -> None:
    if isinstance(node, exp.Paren):
        _walk(node.this, tables, usage)
    elif isinstance(node, exp.And):
        _walk(node.left, tables, usage)
        _walk(node.right, tables, usage)
    elif isinstance(node, (exp.EQ, exp.Is)):
        left, right = node.left, node.right
        if isinstance(left, exp.Column) and isinstance(right, exp.Column):
            for col in (left, right):
                table = _table_of(col, tables)
                if table is not None:
                    usage.setdefault(table, _Usage()).join.append(col.name)
            return
        side: Any = left if isinstance(left, exp.Column) else right
        if isinstance(side, exp.Column):
            _add(side, tables, usage, "eq")
    elif isinstance(node, exp.In) and isinstance(node.this, exp.Column):
        _add(node.this, tables, usage, "eq")
    elif isinstance(node, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
        bound: Any = node.left if isinstance(node.left, exp.Column) else node.right
        if isinstance(bound, exp.Column):
            _add(bound, tables, usage, "range")
    elif isinstance(node, exp.Between) and isinstance(node.this, exp.Column):
        _add(node.this, tables, usage, "range")
    # OR, NOT, LIKE, functions of columns: a single index does not serve them.


def _add(col: exp.Column, tables: dict[str, str], usage: dict[str, _Usage], kind: str) -> None:
    table = _table_of(col, tables)
    if table is None:
        return
    bucket = getattr(usage.setdefault(table, _Usage()), kind)
    if col.name not in bucket:
        bucket.append(col.name)


def _table_of(col: exp.Column, tables: dict[str, str]) -> str | None:
    if col.table:
        return tables.get(col.table)
    names = set(tables.values())
    return next(iter(names)) if len(names) == 1 else None


def _already_indexed(db: Any, table: str, columns: list[str]) -> bool:
    """Whether an existing index starts with exactly these columns."""
    run = db._introspect
    want = [c.lower() for c in columns]
    for _, name, decl, _, _, pk in run(f"PRAGMA table_info({_quote(table)})"):
        if pk == 1 and decl.upper() == "INTEGER" and want[0] == name.lower():
            return True  # the rowid alias is the table's own b-tree key
    for row in run(f"PRAGMA index_list({_quote(table)})"):
        cols = [r[2].lower() for r in run(f"PRAGMA index_info({_quote(row[1])})")
                if r[2] is not None]
        if cols[: len(want)] == want:
            return True
    return False


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
