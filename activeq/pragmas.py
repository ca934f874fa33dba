"""Pragma settings checked before they reach SQL: ``PRAGMA name=value`` cannot bind its value.

A pragma name must be an identifier (optionally ``schema.name``); a value must be an integer or
a word from that pragma's own set (``journal_mode``: delete, truncate, persist, memory, wal,
off; ``synchronous``: off, normal, full, extra; ...). A pragma this module does not know takes
an integer or a boolean word only, so a newer SQLite's pragmas can still be set.

>>> check_pragmas({'journal_mode': 'WAL', 'cache_size': -2000, 'foreign_keys': True})
{'journal_mode': 'wal', 'cache_size': -2000, 'foreign_keys': 1}
>>> check_pragmas({'cache_size': '-2000; DROP TABLE t'})
Traceback (most recent call last):
...
activeq.errors.ConfigurationError: pragma cache_size takes an integer, not '-2000; DROP TABLE t'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["check_pragmas", "pragma_statement"]

_NAME = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")

_BOOLEAN_WORDS = frozenset(("on", "off", "true", "false", "yes", "no"))

# Pragmas whose value is one word of a fixed set, and the integers that mean the same.
_WORDS: dict[str, tuple[frozenset[str], range]] = {
    "journal_mode": (frozenset(("delete", "truncate", "persist", "memory", "wal", "off")),
                     range(0)),
    "synchronous": (frozenset(("off", "normal", "full", "extra")), range(4)),
    "temp_store": (frozenset(("default", "file", "memory")), range(3)),
    "locking_mode": (frozenset(("normal", "exclusive")), range(0)),
    "auto_vacuum": (frozenset(("none", "full", "incremental")), range(3)),
    "secure_delete": (_BOOLEAN_WORDS | {"fast"}, range(2)),
    "encoding": (frozenset(("utf-8", "utf-16", "utf-16le", "utf-16be")), range(0)),
}

_BOOLEANS = frozenset((
    "automatic_index", "case_sensitive_like", "cell_size_check", "checkpoint_fullfsync",
    "count_changes", "defer_foreign_keys", "empty_result_callbacks", "foreign_keys",
    "full_column_names", "fullfsync", "ignore_check_constraints", "legacy_alter_table",
    "legacy_file_format", "query_only", "read_uncommitted", "recursive_triggers",
    "reverse_unordered_selects", "short_column_names", "trusted_schema", "writable_schema",
))

_INTEGERS = frozenset((
    "analysis_limit", "application_id", "busy_timeout", "cache_size", "cache_spill",
    "hard_heap_limit", "journal_size_limit", "max_page_count", "mmap_size", "page_size",
    "soft_heap_limit", "threads", "user_version", "wal_autocheckpoint",
))


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value)
    return None


def _check_value(name: str, value: Any) -> int | str:
    base = name.rpartition(".")[2].lower()
    number = _integer(value)
    word = value.strip().lower() if isinstance(value, str) else None
    if base in _WORDS:
        words, numbers = _WORDS[base]
        if word in words:
            return word
        if number is not None and number in numbers:
            return number
        allowed = sorted(words) + [str(n) for n in numbers]
        raise ConfigurationError(
            f"pragma {name} takes one of {', '.join(allowed)}, not {value!r}")
    if base in _INTEGERS:
        if base == "cache_spill" and word in _BOOLEAN_WORDS:
            return word
        if number is None or (isinstance(value, bool) and base != "cache_spill"):
            raise ConfigurationError(f"pragma {name} takes an integer, not {value!r}")
        return number
    if word in _BOOLEAN_WORDS:
        return word
    if base in _BOOLEANS:
        if number in (0, 1):
            return number
        raise ConfigurationError(
            f"pragma {name} takes a boolean (on, off, true, false, yes, no, 1, 0), not {value!r}")
    # A pragma this table does not list: integers and boolean words only.
    if number is None:
        raise ConfigurationError(
            f"pragma {name} is not one activeq knows the values of: it takes an integer or "
            f"a boolean word (on, off, true, false, yes, no), not {value!r}")
    return number


def check_pragmas(pragmas: Mapping[Any, Any]) -> dict[str, int | str]:
    """The settings with each name checked and each value in its canonical form.

    Raises ``ConfigurationError`` naming the first bad name or value.
    """
    checked: dict[str, int | str] = {}
    for name, value in pragmas.items():
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            raise ConfigurationError(
                f"pragma name must be an identifier (optionally schema.name), not {name!r}")
        checked[name] = _check_value(name, value)
    return checked


def pragma_statement(name: str, value: int | str) -> str:
    """``PRAGMA name=value`` for a checked setting."""
    if name.rpartition(".")[2].lower() == "encoding":
        return f"PRAGMA {name}='{value}'"
    return f"PRAGMA {name}={value}"
