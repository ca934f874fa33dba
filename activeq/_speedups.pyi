from collections.abc import Callable
from typing import Any

def shape(query: Any, /) -> tuple[Any, tuple[Any, ...]]: ...
def configure(part_end: Any, from_items: frozenset[type], derived: frozenset[type],
              output_column: type, sharing_signature: Callable[[Any, tuple[Any, ...]], Any],
              /) -> None: ...
