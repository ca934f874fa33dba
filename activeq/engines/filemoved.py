"""Whether the database file a connection writes to is still the file at its path.

A database file deleted, renamed or replaced while a connection has it open keeps taking
writes: they go to a file no other process can open any more and vanish when the connection
closes, while every statement reports success. SQLite can tell (``SQLITE_FCNTL_HAS_MOVED``
compares the file it holds with the one at its path); activeq asks before each autocommit write
and before each COMMIT, and raises ``OperationalError`` instead of writing. Reads are never
checked. The question costs one ``stat()`` in SQLite, about a microsecond.
"""

from __future__ import annotations

import ctypes
import threading

import apsw

from ..errors import OperationalError

__all__ = ["check_not_moved", "file_moved"]

_HAS_MOVED = apsw.SQLITE_FCNTL_HAS_MOVED

# Where SQLite writes its answer: one int per thread, since a connection serves one thread at
# a time and its answer is read right after the call.
_answers = threading.local()


def _answer() -> tuple[ctypes.c_int, int]:
    flag = ctypes.c_int(0)
    slot = _answers.slot = (flag, ctypes.addressof(flag))
    return slot


def file_moved(conn: apsw.Connection) -> bool:
    """Whether the main database file of ``conn`` was unlinked, renamed or replaced.

    Always False for databases without a file (``:memory:``, temporary databases), whose
    VFS does not answer the question.
    """
    try:
        flag, address = _answers.slot
    except AttributeError:
        flag, address = _answer()
    # True when the VFS answered; SQLite's unix VFS then always sets the int.
    return conn.file_control("main", _HAS_MOVED, address) and flag.value != 0


def check_not_moved(conn: apsw.Connection, doing: str) -> None:
    """Raise ``OperationalError`` when ``conn``'s database file has moved, before ``doing``."""
    try:
        flag, address = _answers.slot
    except AttributeError:
        flag, address = _answer()
    # One call on the write path: file_moved() inlined.
    if conn.file_control("main", _HAS_MOVED, address) and flag.value:
        raise OperationalError(
            f"the database file {conn.filename!r} was deleted, renamed or replaced while open: "
            f"{doing} would be lost with this connection, so it was not run; open the "
            "database again",
            result_code=apsw.SQLITE_READONLY, extended_code=apsw.SQLITE_READONLY_DBMOVED)
