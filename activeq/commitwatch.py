"""Noticing commits made by other connections or processes to the same SQLite file.

The watch lives with the APSW engine (:class:`activeq.engines.apsw.SqliteCommitWatch`); this
name stays for the code that imports it from here.
"""

from __future__ import annotations

from .engines.apsw import SqliteCommitWatch as CommitWatch

__all__ = ["CommitWatch"]
