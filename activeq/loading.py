"""Eager loading (includes) and relation fetch modes."""

from __future__ import annotations

from typing import Any

from .errors import CompileError

__all__ = ["FETCH_MODES", "check_fetch_mode", "load_includes", "normalize_includes"]

FETCH_MODES = ("lazy", "peers", "raise")


def check_fetch_mode(mode: str) -> str:
    """Validate a fetch mode name."""
    if mode not in FETCH_MODES:
        raise CompileError(f"unknown fetch mode {mode!r}; expected one of {', '.join(FETCH_MODES)}")
    return mode


def normalize_includes(model: Any, relations: tuple[Any, ...]) -> tuple[Any, ...]:
    """Turn includes() arguments into a tuple of (name, refine, nested) entries."""
    raise NotImplementedError("includes() is not available yet")


def load_includes(db: Any, model: Any, parents: list[Any], includes: tuple[Any, ...]) -> None:
    """Load every included relation for ``parents``: one query per relation per level."""
    raise NotImplementedError("includes() is not available yet")
