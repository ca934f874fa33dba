"""One adapter per library; every adapter runs the same workloads on its own database file."""

from __future__ import annotations

import importlib

# Report and parametrisation order; raw_apsw is the floor every ratio is taken against.
LIBRARIES = (
    "raw_apsw",
    "sqlite3",
    "sqlalchemy_core",
    "sqlalchemy_orm",
    "peewee",
    "activeq",
)

_MODULES = {
    "raw_apsw": "bench.libs.raw_apsw",
    "raw_apsw_aio": "bench.libs.raw_apsw",
    "sqlite3": "bench.libs.stdlib_sqlite3",
    "sqlalchemy_core": "bench.libs.sa_core",
    "sqlalchemy_orm": "bench.libs.sa_orm",
    "peewee": "bench.libs.peewee_lib",
    "activeq": "bench.libs.activeq_lib",
    "activeq_async": "bench.libs.activeq_lib",
}


def open_adapter(lib: str, path: str):
    """Import the library's adapter module and connect it to `path`."""
    module = importlib.import_module(_MODULES[lib])
    return module.ADAPTERS[lib](path)
