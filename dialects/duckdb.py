"""DuckDB, with the Python client's ``?`` placeholders."""

NAME = "duckdb"
SQLGLOT = "duckdb"
PLACEHOLDER = "?"
PARAMSTYLE = "qmark"
SHARED_PARAMSTYLE = "dollar"
"""The style used when an expression with a value repeats (SELECT, GROUP BY): it numbers
the value once, so the engine sees the same expression twice."""
IN_LIST = "unnest"
"""A list is bound as one LIST value: ``col IN (SELECT UNNEST(?))``."""
OFFSET_WITHOUT_LIMIT = None
LIMIT_IN_TEXT = False
RETURNING_PARAMS = False
"""Whether values may be bound inside a RETURNING clause."""
RETURNING = True
DEFAULT_VALUES = True
UPSERT = "on_conflict"
NULLS_ARE = "last"
"""Where NULLs sort by default: "small" (first ascending), "large" (last ascending), "last"."""
DISTINCT_ON = False
"""Whether ``SELECT DISTINCT ON (...)`` is rendered (else UnsupportedError)."""
FOR_UPDATE = None
"""``SELECT ... FOR UPDATE``: "render" it, "noop" (a transaction's lock already covers it;
SKIP LOCKED and NOWAIT are refused), or None (refused)."""
FOREIGN_KEY_ACTIONS = ("restrict", "no action")
"""What ``ON DELETE`` may do in a FOREIGN KEY (DuckDB refuses CASCADE, SET NULL and SET
DEFAULT: its foreign keys only prevent the delete)."""
INDEX_IF_NOT_EXISTS = True
