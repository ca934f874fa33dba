"""The declared models by name: filled in by the model layer as classes are declared, read
by the layers that meet a model only by its name (string targets of relations, frozen cache
entries, N+1 reports).

It sits below the session so that the cache and the N+1 detector can find a model without
importing the model layer.

>>> from activeq import ActiveRecord, Field
>>> class Kite(ActiveRecord):
...     id: int = Field(primary_key=True)
>>> resolve_model("Kite") is Kite
True
"""

from __future__ import annotations

from typing import Any

from .errors import ActiveqError

__all__ = ["MODELS", "REFLECTED_MODULE", "declared_models", "register_model", "resolve_model"]

MODELS: dict[str, Any] = {}
"""Each model under its class name and under ``module.ClassName`` (the latter wins for
relations declared in the same module)."""

REFLECTED_MODULE = "activeq_reflected_"
"""The start of the module names models built by reflecting a database are declared in."""


def register_model(cls: type) -> None:
    """Record a newly declared model class under both of its names.

    A model reflected from a database is recorded under ``module.ClassName`` only: its class
    name is made from a table name, and must not take the place of a model the program
    declared under that name (a string relation target elsewhere would find the copy).
    """
    MODELS[f"{cls.__module__}.{cls.__name__}"] = cls
    if not cls.__module__.startswith(REFLECTED_MODULE):
        MODELS[cls.__name__] = cls


def resolve_model(name: str) -> Any:
    """Find a declared model by class name (for string targets of relations)."""
    try:
        return MODELS[name]
    except KeyError:
        raise ActiveqError(f"no model named {name!r} has been declared") from None


def declared_models() -> list[Any]:
    """Every declared model class once, in declaration order."""
    seen: dict[int, Any] = {}
    for model in list(MODELS.values()):
        seen.setdefault(id(model), model)
    return list(seen.values())
