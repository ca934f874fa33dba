"""SQLite, as run by APSW (and the stdlib sqlite3 module)."""

NAME = "sqlite"
SQLGLOT = "sqlite"
PLACEHOLDER = "?"
PARAMSTYLE = "qmark"
SHARED_PARAMSTYLE = None
"""Repeated values are bound once per placeholder: the engine accepts the repeat."""
IN_LIST = "json_each"
"""A list is bound as one JSON text and expanded with json_each: one statement for every length,
and never more than one variable, so SQLite's bound-variable limit cannot be reached."""
OFFSET_WITHOUT_LIMIT = -1
LIMIT_IN_TEXT = False
RETURNING_PARAMS = True
RETURNING = True
DEFAULT_VALUES = True
UPSERT = "on_conflict"
NULLS_ARE = "small"
"""Where NULLs sort by default: "small" (first ascending), "large" (last ascending), "last"."""
DISTINCT_ON = False
"""Whether ``SELECT DISTINCT ON (...)`` is rendered (else UnsupportedError)."""
FOR_UPDATE = "noop"
"""``SELECT ... FOR UPDATE``: "render" it, "noop" (a transaction's lock already covers it;
SKIP LOCKED and NOWAIT are refused), or None (refused)."""
FOREIGN_KEY_ACTIONS = ("cascade", "set null", "set default", "restrict", "no action")
"""What ``ON DELETE`` may do in a FOREIGN KEY (enforced while PRAGMA foreign_keys is on)."""
INDEX_IF_NOT_EXISTS = True
