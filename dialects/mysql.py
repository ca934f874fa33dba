"""MySQL 8.0.17 or later, with PyMySQL/mysqlclient ``%s`` placeholders (rendering only).

MariaDB is not a target: it has neither ``MEMBER OF`` nor ``CAST(... AS JSON)``, both used
here (see docs/mysql.md)."""

NAME = "mysql"
SQLGLOT = "mysql"
PLACEHOLDER = "%s"
PARAMSTYLE = "format"
SHARED_PARAMSTYLE = None
"""Repeated values are bound once per placeholder: the driver writes them into the text."""
IN_LIST = "member_of"
"""A list is bound as one JSON array: ``col MEMBER OF(%s)`` (MySQL 8.0.17+)."""
OFFSET_WITHOUT_LIMIT = 18446744073709551615
LIMIT_IN_TEXT = False
RETURNING_PARAMS = False
RETURNING = False
DEFAULT_VALUES = False
"""``INSERT INTO t DEFAULT VALUES`` for a row of defaults (else ``INSERT INTO t () VALUES ()``)."""
UPSERT = "on_duplicate_key"
NULLS_ARE = "small"
"""Where NULLs sort by default: "small" (first ascending), "large" (last ascending), "last"."""
DISTINCT_ON = False
"""Whether ``SELECT DISTINCT ON (...)`` is rendered (else UnsupportedError)."""
FOR_UPDATE = "render"
"""``SELECT ... FOR UPDATE``: "render" it, "noop" (a transaction's lock already covers it;
SKIP LOCKED and NOWAIT are refused), or None (refused)."""
FOREIGN_KEY_ACTIONS = ("cascade", "set null", "restrict", "no action")
"""What ``ON DELETE`` may do in a FOREIGN KEY (InnoDB rejects SET DEFAULT)."""
INDEX_IF_NOT_EXISTS = False
"""MySQL 8 has no ``CREATE INDEX IF NOT EXISTS``: ``create_tables`` declares the indexes
inside ``CREATE TABLE IF NOT EXISTS`` instead, so running it twice is harmless."""
