"""Raw SQL handed to ``db.execute``: exactly one statement, and what it does, asked of SQLite.

``db.execute`` runs one statement: text after it that holds another one is refused before
anything runs (``db.executescript`` runs a script on purpose). Whether the statement reads
or writes is SQLite's own answer for the prepared statement (``sqlite3_stmt_readonly``), not
a guess from its first word: ``WITH ... SELECT`` reads, ``WITH ... UPDATE`` writes.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import MultipleStatementsError

__all__ = ["DML", "OTHER_WRITE", "READ", "StatementCheck", "check_single", "plain_kind",
           "refuse_second_statement"]

READ = 0
"""Reads only (SELECT, EXPLAIN, a PRAGMA query, transaction control): no rowcount."""
DML = 1
"""Changes rows (INSERT, UPDATE, DELETE, REPLACE, also behind WITH): rowcount is meaningful."""
OTHER_WRITE = 2
"""Changes something else (schema, settings): every cached result may be stale."""

# Text SQLite skips between statements. Possessive quantifiers: no backtracking on long runs.
_GAP = r"(?:\s|;|--[^\n]*+|/\*.*?(?:\*/|\Z))*+"
_EMPTY_TAIL = re.compile(_GAP, re.S)
_FIRST_WORD = re.compile(_GAP + r"([A-Za-z]+)", re.S)
_DML_WORDS = frozenset(("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"))

# Statements whose kind the first word decides when the text has no ';' (so no second
# statement can hide in it): the common raw statements skip the statement check.
_PLAIN_READS = ("SELECT", "VALUES")
_PLAIN_DML = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def plain_kind(sql: str) -> int | None:
    """READ or DML when the text alone settles it (one statement, known first word), else None."""
    if ";" in sql:
        return None
    head = sql.lstrip()[:7].upper()
    if head.startswith(_PLAIN_READS):
        return READ
    if head.startswith(_PLAIN_DML):
        return DML
    return None


def refuse_second_statement(sql: str, end: int) -> MultipleStatementsError:
    """The error for ``sql`` whose first statement ends at ``end`` and another follows."""
    first = sql[:end].strip()
    rest = sql[end:].strip()
    return MultipleStatementsError(
        f"db.execute() runs one statement, and this SQL holds another after "
        f"{_clip(first)!r}: {_clip(rest)!r}; run scripts with db.executescript(sql)")


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class StatementCheck:
    """An APSW exec tracer: refuses SQL holding a second statement, notes what the first does.

    SQLite hands APSW one statement at a time; the tracer sees each before it runs, with the
    statement's own text. At the first statement the rest of the text must hold nothing but
    whitespace, semicolons and comments, or ``MultipleStatementsError`` is raised and
    nothing has run.
    """

    __slots__ = ("sql", "kind", "_offset")

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.kind: int | None = None
        """READ, DML or OTHER_WRITE once SQLite prepared the statement (None: no statement)."""
        self._offset = 0

    def __call__(self, cursor: Any, text: str, bindings: Any) -> bool:
        start = self._offset
        end = self._offset = start + len(text)
        if self.kind is not None or not cursor.has_vdbe:
            # A comment-only remainder after the statement (already checked), or leading
            # text with nothing to run.
            return True
        sql = self.sql
        if end < len(sql) and _EMPTY_TAIL.fullmatch(sql, end) is None:
            raise refuse_second_statement(sql, end)
        if cursor.is_readonly or cursor.is_explain:
            self.kind = READ
        else:
            word = _FIRST_WORD.match(text)
            self.kind = DML if word is not None and word.group(1).upper() in _DML_WORDS else OTHER_WRITE
        return True


def check_single(cursor: Any, sql: str) -> StatementCheck:
    """Install a ``StatementCheck`` on ``cursor`` for ``sql``; read ``.kind`` after running."""
    check = StatementCheck(sql)
    cursor.exec_trace = check
    return check
