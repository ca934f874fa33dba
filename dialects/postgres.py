"""PostgreSQL, with psycopg's ``%s`` placeholders."""

NAME = "postgres"
SQLGLOT = "postgres"
PLACEHOLDER = "%s"
PARAMSTYLE = "format"
SHARED_PARAMSTYLE = "pyformat"
"""The style used when an expression with a value repeats (SELECT, GROUP BY): it numbers
the value once, so the engine sees the same expression twice."""
IN_LIST = "any"
"""A list is bound as one array: ``col = ANY(%s)``; psycopg adapts Python lists to arrays."""
OFFSET_WITHOUT_LIMIT = None
LIMIT_IN_TEXT = True
"""LIMIT is written as a number (its count is part of the shape), so that a prepared
statement gets a generic plan; OFFSET stays bound."""
RETURNING_PARAMS = True
RETURNING = True
DEFAULT_VALUES = True
UPSERT = "on_conflict"
NULLS_ARE = "large"
"""Where NULLs sort by default: "small" (first ascending), "large" (last ascending), "last"."""
DISTINCT_ON = True
"""Whether ``SELECT DISTINCT ON (...)`` is rendered (else UnsupportedError)."""
FOR_UPDATE = "render"
"""``SELECT ... FOR UPDATE``: "render" it, "noop" (a transaction's lock already covers it;
SKIP LOCKED and NOWAIT are refused), or None (refused)."""
FOREIGN_KEY_ACTIONS = ("cascade", "set null", "set default", "restrict", "no action")
"""What ``ON DELETE`` may do in a FOREIGN KEY."""
INDEX_IF_NOT_EXISTS = True
