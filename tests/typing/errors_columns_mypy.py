"""Column mistakes the activeq.mypy plugin reports (mypy only); checked like errors_models.py."""

from __future__ import annotations

from models import User

User.c.emial  # error: mypy[attr-defined]
User.c.orders  # error: mypy[attr-defined]
User.c.notes  # error: mypy[attr-defined]
User.c.age > "x"  # error: mypy[operator]
User.c.age.is_in(["a"])  # error: mypy[list-item]
User.c.age.between(1, "9")  # error: mypy[arg-type]
