"""Command line: ``python -m activeq explain DB_PATH "SQL"``, ``python -m activeq stats FILE``
and ``python -m activeq reflect URL``.

``explain`` prints the query plan of a statement on an existing database file and the indexes
that would remove its full scans and sorts; ``stats`` prints a file written by
``db.stats_dump(path)`` as a table; ``reflect`` prints a Python module declaring one model per
table of a database (SQLite file or URL, ``postgresql://...``, ``duckdb:///...``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import sqlglot
from sqlglot import exp

from .advice import advise_statement
from .database import Database
from .errors import ActiveqError
from .monitor import explain_plan
from .reflection import model_source, reflect_table, table_names
from .schema import schema_fetcher
from .stats import load_stats, render_stats

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m activeq",
                                     description="activeq query analysis tools")
    sub = parser.add_subparsers(dest="command", required=True)
    explain = sub.add_parser("explain", help="print a statement's query plan and index advice")
    explain.add_argument("db_path", help="an existing SQLite database file")
    explain.add_argument("sql", help="the statement; '?' placeholders are bound to --param values")
    explain.add_argument("-p", "--param", action="append", default=[], metavar="VALUE",
                         help="a value for the next '?' (repeatable; missing ones are NULL)")
    explain.add_argument("--analyze", action="store_true",
                         help="also run the statement and report its time and row count")
    stats = sub.add_parser("stats", help="print a statistics dump written by db.stats_dump()")
    stats.add_argument("file", help="the JSON file")
    stats.add_argument("-n", "--limit", type=int, default=None, help="show only the top N shapes")
    reflect = sub.add_parser("reflect", help="print model classes for a database's tables")
    reflect.add_argument("url", help="a SQLite file, sqlite:///, postgresql:// or duckdb:/// URL")
    reflect.add_argument("--schema", default=None, help="the schema to read (default: the default one)")
    reflect.add_argument("-t", "--table", action="append", default=None, metavar="NAME",
                         help="reflect only this table (repeatable)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 error, 2 usage)."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "explain":
            return _explain(args, out)
        if args.command == "reflect":
            return _reflect(args, out)
        return _stats(args, out)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        if isinstance(e, ActiveqError):
            print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        raise


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    if not os.path.isfile(args.db_path):
        print(f"error: no database file at {args.db_path}", file=sys.stderr)
        return 1
    # Leave the file's journal mode alone: explaining must not change the database.
    db = Database(args.db_path, pragmas={"journal_mode": None}, stats=False)
    try:
        params = _params(args.sql, args.param)
        plan = explain_plan(db, args.sql, params, analyze=args.analyze, record=False)
        print(plan, file=out)
        advice = advise_statement(db, args.sql, params, plan)
        print("", file=out)
        if advice:
            print("Index advice:", file=out)
            for s in advice:
                print(f"  {s.sql};  -- removes: {', '.join(s.reasons)}", file=out)
        else:
            print("Index advice: none (no full scan or sort an index would remove)", file=out)
    finally:
        db.close()
    return 0


def _reflect(args: argparse.Namespace, out: TextIO) -> int:
    url = args.url
    if "://" not in url and url != ":memory:" and not os.path.isfile(url):
        print(f"error: no database file at {url}", file=sys.stderr)
        return 1
    # Reading the catalog only: a SQLite file keeps its journal mode.
    sqlite = "://" not in url or url.startswith("sqlite:")
    db = Database(url, stats=False, pragmas={"journal_mode": None} if sqlite else None)
    try:
        fetch = schema_fetcher(db)
        names = args.table or table_names(fetch, db.dialect, args.schema)
        tables = [reflect_table(fetch, db.dialect, name, args.schema) for name in names]
        out.write(model_source(tables))
    finally:
        db.close()
    return 0


def _params(sql: str, given: list[str]) -> tuple[object, ...]:
    """The values for the statement's '?' placeholders: numbers where they parse, else text."""
    try:
        wanted = sum(1 for _ in sqlglot.parse_one(sql, read="sqlite").find_all(exp.Placeholder))
    except sqlglot.errors.ParseError:
        wanted = len(given)
    if len(given) > wanted:
        raise ValueError(f"{len(given)} --param values given, the statement has {wanted} placeholders")
    values: list[object] = [_value(v) for v in given]
    return tuple(values + [None] * (wanted - len(values)))


def _value(text: str) -> object:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _stats(args: argparse.Namespace, out: TextIO) -> int:
    print(render_stats(load_stats(args.file), args.limit), file=out)
    return 0
