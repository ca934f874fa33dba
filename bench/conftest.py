from __future__ import annotations

import os
import platform
import sys

import pytest

from bench.harness import BenchEnv
from bench.pg_env import PgBenchEnv, start_server


def pytest_addoption(parser):
    parser.addoption(
        "--scale",
        action="store",
        type=float,
        default=1.0,
        help="Multiply every row and operation count of the benchmarks (default 1.0).",
    )


@pytest.fixture(scope="session")
def env(request, tmp_path_factory):
    scale = request.config.getoption("--scale")
    if scale <= 0:
        raise pytest.UsageError("--scale must be positive")
    bench_env = BenchEnv(scale, tmp_path_factory.mktemp("bench-db"))
    request.config._bench_env = bench_env
    yield bench_env
    bench_env.close()


@pytest.fixture(scope="session")
def pg(request, env):
    """The PostgreSQL section's server and databases (skips when PostgreSQL is missing)."""
    server = start_server()
    try:
        pg_env = PgBenchEnv(server, env.sizes, env.data)
    except BaseException:
        server.stop()
        raise
    request.config._pg_server_version = pg_env.server_version
    yield pg_env
    pg_env.close()


def versions() -> dict[str, str | None]:
    """Versions of every library the benchmarks touch (None when not importable)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    try:
        import apsw

        out["apsw"] = apsw.apsw_version()
        out["sqlite (apsw)"] = apsw.sqlite_lib_version()
    except ImportError:
        out["apsw"] = None
    import sqlite3

    out["sqlite (stdlib sqlite3)"] = sqlite3.sqlite_version
    for name in ("sqlglot", "pydantic", "sqlalchemy", "peewee", "psycopg", "activeq"):
        try:
            module = __import__(name)
        except ImportError:
            out[name] = None
            continue
        out[name] = getattr(module, "__version__", None) or _dist_version(name)
    return out


def _dist_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def pytest_benchmark_update_json(config, benchmarks, output_json):
    bench_env = getattr(config, "_bench_env", None)
    output_json["activeq_bench"] = {
        "scale": config.getoption("--scale"),
        "sizes": vars(bench_env.sizes) if bench_env else None,
        "pragmas": bench_env.pragmas_seen if bench_env else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "versions": {
            **versions(),
            "postgresql server": getattr(config, "_pg_server_version", None),
        },
    }
