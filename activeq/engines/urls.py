"""Which engine a URL or path names.

A plain path, ":memory:", a ``file:`` URI or ``sqlite:///path`` is SQLite through APSW (the
embedded default); ``postgresql://`` (or ``postgres://``) is PostgreSQL through psycopg 3;
``duckdb:///path`` and ``duckdb://:memory:`` are DuckDB. The engine modules of the optional
drivers are imported only when a URL asks for them, so activeq imports without psycopg or duckdb.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from ..errors import OperationalError
from .base import AsyncEngine, Engine

__all__ = ["async_engine_for", "dialect_of", "engine_for", "is_url", "open_engine", "password_in",
           "redact"]

# scheme -> (dialect, module, engine class, async engine class or None, install hint)
_SCHEMES: dict[str, tuple[str, str, str, str | None, str]] = {
    "sqlite": ("sqlite", "apsw", "ApswEngine", None, "apsw"),
    "postgresql": ("postgres", "psycopg", "PsycopgEngine", "AsyncPsycopgEngine",
                   "activeq[postgres]"),
    "postgres": ("postgres", "psycopg", "PsycopgEngine", "AsyncPsycopgEngine",
                 "activeq[postgres]"),
    "duckdb": ("duckdb", "duckdb", "DuckdbEngine", None, "activeq[duckdb]"),
}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_PASSWORD = re.compile(r"(://[^:/?#@]*:)([^@/?#]*)@")
# In a libpq "key=value" string a value with spaces is quoted; in a URL's query it runs to the
# next parameter, spaces and all (libpq would take them).
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]*)", re.IGNORECASE)
_URL_PASSWORD_PARAM = re.compile(r"([?&]password=)([^&#]*)", re.IGNORECASE)


def is_url(url: str) -> bool:
    """Whether ``url`` is written as a URL (``scheme://...``), not a path or a libpq string.

    >>> is_url("postgresql://h/db"), is_url("host=h dbname=db"), is_url("app.db")
    (True, False, False)
    """
    return _SCHEME.match(url) is not None and "://" in url


def _password_params(url: str) -> re.Pattern[str]:
    return _URL_PASSWORD_PARAM if is_url(url) else _PASSWORD_PARAM


def password_in(url: str) -> list[str]:
    """The passwords written in a URL or libpq ``key=value`` string (to keep out of messages).

    >>> password_in("postgresql://ann:s3cret@h/db"), password_in("host=h password='a b'")
    (['s3cret'], ["'a b'", 'a b'])
    >>> password_in("postgresql://h/db?password=a b&sslmode=require")
    ['a b']
    """
    found = [m.group(2) for m in _PASSWORD.finditer(url)]
    for m in _password_params(url).finditer(url):
        value = m.group(2)
        found.append(value)
        if value.startswith("'") and len(value) > 1:
            found.append(value[1:-1])
    return [p for p in found if p]


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``.

    >>> redact("postgresql://ann:s3cret@db.local:5432/app?sslmode=require")
    'postgresql://ann:***@db.local:5432/app?sslmode=require'
    >>> redact("postgresql://db.local/app?password=s3 cret&sslmode=require")
    'postgresql://db.local/app?password=***&sslmode=require'
    """
    return _password_params(url).sub(r"\1***", _PASSWORD.sub(r"\1***@", url))


def _scheme(url: str) -> str:
    """The URL scheme, or "sqlite" for paths (``C:\\...`` and ``file:`` URIs included)."""
    found = _SCHEME.match(url)
    if found is None or "://" not in url:
        return "sqlite"
    scheme = found.group(1).lower()
    if len(scheme) == 1:  # a Windows drive letter
        return "sqlite"
    scheme = scheme.split("+", 1)[0]  # postgresql+psycopg://, as SQLAlchemy spells it
    if scheme not in _SCHEMES:
        known = ", ".join(f"{s}://" for s in _SCHEMES)
        raise OperationalError(f"unknown database URL scheme {scheme!r} in {redact(url)!r}: "
                               f"activeq opens {known} and plain SQLite paths")
    return scheme


def dialect_of(url: str) -> str:
    """The dialect a URL names, without importing any driver.

    >>> dialect_of("app.db"), dialect_of("postgres://h/db"), dialect_of("duckdb://:memory:")
    ('sqlite', 'postgres', 'duckdb')
    """
    return _SCHEMES[_scheme(url)][0]


def _load(url: str, asynchronous: bool) -> Any:
    scheme = _scheme(url)
    dialect, module_name, name, async_name, extra = _SCHEMES[scheme]
    try:
        module = importlib.import_module(f"{__package__}.{module_name}")
    except ImportError as e:
        raise OperationalError(f"{dialect} URLs need the driver {e.name!r}: "
                               f"pip install '{extra}'") from e
    if not asynchronous:
        return getattr(module, name)
    if async_name is None:
        return None
    return getattr(module, async_name)


def engine_for(url: str) -> type[Engine]:
    """The engine class for a URL or path; an unknown scheme is an ``OperationalError``.

    >>> engine_for("sqlite:///app.db").__name__, engine_for(":memory:").__name__
    ('ApswEngine', 'ApswEngine')
    """
    return _load(url, False)  # type: ignore[no-any-return]


def async_engine_for(url: str) -> type[AsyncEngine] | None:
    """The native async engine class for a URL, or None when its driver has none (SQLite,
    DuckDB: run the blocking engine on a worker thread)."""
    return _load(url, True)  # type: ignore[no-any-return]


def open_engine(url: str, **options: Any) -> Engine:
    """Open the engine a URL names; ``options`` go to its ``open``.

    >>> engine = open_engine(":memory:")
    >>> engine.dialect
    'sqlite'
    >>> engine.close()
    """
    return engine_for(url).open(url, **options)
