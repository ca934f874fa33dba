"""Noticing commits made by other connections or processes to the same SQLite file.

``PRAGMA data_version`` is the authoritative answer, but it opens and closes a read
transaction (file locks, about as much work as a primary-key lookup). In WAL mode every
commit rewrites the wal-index header at the start of the ``-shm`` file, so a read of those
48 bytes from a shared mapping tells cheaply that nothing at all was committed; only when
they changed (our own commit, or someone else's) is the pragma consulted.

The mapping is safe to read while our connection is open: SQLite only truncates the
``-shm`` file when the first connection attaches, and then to a few bytes, never to zero.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

import apsw

from .errors import translate

__all__ = ["CommitWatch"]

_DATA_VERSION = "PRAGMA data_version"
_HEADER = 48  # one copy of the wal-index header: change counter, frame count, salts, checksum


class CommitWatch:
    """``changed()`` is True once after each commit made by another connection."""

    __slots__ = ("_conn", "_cursor", "_version", "_shm", "_hdr", "_fd")

    def __init__(self, connection: apsw.Connection, path: str) -> None:
        self._conn = connection
        self._cursor = connection.cursor()
        self._shm: Any = None
        self._hdr = b""
        self._fd = -1
        self._version = self._data_version()  # also makes the connection open the -shm file
        mode = connection.execute("PRAGMA journal_mode").fetchall()[0][0]
        shm_path = path + "-shm"
        if str(mode).lower() == "wal" and os.path.exists(shm_path):
            try:
                self._fd = os.open(shm_path, os.O_RDONLY)
                self._shm = mmap.mmap(self._fd, _HEADER, mmap.MAP_SHARED, mmap.PROT_READ)
            except OSError:
                self.close()
            else:
                self._hdr = self._shm[0:_HEADER]
                self._version = self._data_version()

    def _data_version(self) -> int:
        version = 0
        try:
            try:
                rows = self._cursor.execute(_DATA_VERSION)
            except apsw.ThreadingViolationError:  # the shared cursor is busy in another thread
                rows = self._conn.execute(_DATA_VERSION)
            # Iterate to the end: a statement left mid-result would hold a read transaction.
            for (version,) in rows:  # noqa: B007
                pass
        except apsw.Error as e:
            raise translate(e, _DATA_VERSION) from e
        return version

    def changed(self) -> bool:
        """Whether another connection committed since the previous call."""
        shm = self._shm
        if shm is not None:
            hdr = shm[0:_HEADER]
            if hdr == self._hdr:
                return False
            # Read before the pragma: a commit landing in between is seen next time.
            self._hdr = hdr
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
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
