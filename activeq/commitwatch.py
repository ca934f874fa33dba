"""Noticing commits made by other connections or processes to the same SQLite file.

``PRAGMA data_version`` is the authoritative answer, but it opens and closes a read
transaction (file locks, about as much work as a primary-key lookup). In WAL mode every
commit rewrites the wal-index header at the start of the ``-shm`` file, so a read of those
48 bytes from a shared mapping tells cheaply that nothing at all was committed; only when
they changed (our own commit, or someone else's) is the pragma consulted.

The pragma is read on a connection the calling thread may use right then (its own, or the
shared one while no other thread holds it). It changes when any *other* connection commits,
so with one connection per thread a commit made by a sibling thread counts as foreign: the
caches are cleared more often than needed, never less. When no connection is free the answer
is "not known now" and the caller reads around the cache.

The mapping is safe to read while our connection is open: SQLite only truncates the
``-shm`` file when the first connection attaches, and then to a few bytes, never to zero.

The engine layer's :class:`activeq.engines.apsw.SqliteCommitWatch` does the same for one
connection of its own; this watch serves a ``Database``, whose threads each have theirs.
"""

from __future__ import annotations

import mmap
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .database import Database
    from .engines import Connection

__all__ = ["CommitWatch", "read_data_version"]

_DATA_VERSION = "PRAGMA data_version"
_HEADER = 48  # one copy of the wal-index header: change counter, frame count, salts, checksum


def read_data_version(conn: Connection) -> int:
    """``PRAGMA data_version`` on a SQLite engine connection (read whole: a statement left
    mid-result would hold a read transaction)."""
    return int(conn.fetch(_DATA_VERSION)[0][0])


class CommitWatch:
    """``changed()`` is True once after each commit made by another connection.

    Args:
        db: the Database whose connections are watched (see ``Database._data_version``).
    """

    __slots__ = ("_db", "_shm", "_hdr", "_fd")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._shm: Any = None
        self._hdr = b""
        self._fd = -1
        db._data_version()  # also makes the connection open the -shm file
        mode = db._introspect("PRAGMA journal_mode")[0][0]
        shm_path = db.path + "-shm"
        if str(mode).lower() == "wal" and os.path.exists(shm_path):
            try:
                self._fd = os.open(shm_path, os.O_RDONLY)
                self._shm = mmap.mmap(self._fd, _HEADER, mmap.MAP_SHARED, mmap.PROT_READ)
            except OSError:
                self.close()
            else:
                self._hdr = self._shm[0:_HEADER]
        # Nothing is cached yet: what this thread's connection sees now is the baseline.
        seen = db._data_version()
        if seen is not None:
            seen[0].seen = seen[1]

    def changed(self) -> bool | None:
        """Whether another connection committed since the previous call; None when that
        cannot be told right now (the shared connection is busy in another thread)."""
        shm = self._shm
        if shm is not None:
            hdr = shm[0:_HEADER]
            if hdr == self._hdr:
                return False
        found = self._db._data_version()
        if found is None:
            return None
        if shm is not None:
            # Read before the pragma: a commit landing in between is seen next time.
            self._hdr = hdr
        link, version = found
        if version == link.seen:
            return False
        link.seen = version  # a connection read for the first time counts as changed
        return True

    @property
    def mapped(self) -> bool:
        """Whether the cheap wal-index check is in use (WAL mode on a file)."""
        return self._shm is not None

    def close(self) -> None:
        """Release the mapping; later calls fall back to the pragma."""
        shm, fd = self._shm, self._fd
        self._shm, self._fd = None, -1
        if shm is not None:
            shm.close()
        if fd >= 0:
            os.close(fd)
