"""URLs for the engine tests."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict


def pg_url(conninfo: str) -> str:
    """The ``postgresql://`` URL of a libpq connection string."""
    p = conninfo_to_dict(conninfo)
    return f"postgresql://{p['user']}@{p['host']}:{p['port']}/{p['dbname']}"
