"""The Redis backend against a real redis-server on a loopback port, across processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import apsw
import pytest
from helpers import User

from activeq import ActiveRecord, Database, Field

redis = pytest.importorskip("redis", reason="the 'redis' package is not installed (dev extra)")

from activeq.cache_redis import RedisCache  # noqa: E402

HERE = Path(__file__).parent
REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian package 'redis-server')")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None:
                pytest.skip(f"redis-server exited with status {proc.returncode} on start")
            time.sleep(0.025)
    else:
        proc.kill()
        pytest.skip("redis-server did not answer PING within 5 s")
    yield port
    client.close()
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def client(redis_port):
    c = redis.Redis(host="127.0.0.1", port=redis_port)
    c.flushdb()
    yield c
    c.close()


@pytest.fixture
def rdb(tmp_path, client):
    db = Database(str(tmp_path / "shared.db"), cache=RedisCache(client))
    db.bind(User)
    db.create_tables(User)
    User.create(name="Ann", email="ann@example.com", age=30)
    User.create(name="Bob", email="bob@example.com", age=40)
    yield db
    db.close()


def adults():
    return User.query().where(User.c.age >= 18).order_by(User.c.id).cache(ttl=60)


def test_hit_and_invalidation(rdb, client):
    q = adults()
    assert [u.name for u in q.all()] == ["Ann", "Bob"]
    with rdb.track_queries() as t:
        assert [u.name for u in q.all()] == ["Ann", "Bob"]
    assert len(t) == 0
    assert rdb.cache_stats().entries == 1
    User.query().where(User.c.name == "Bob").update({"age": 10})
    assert [u.name for u in q.all()] == ["Ann"]
    assert any(k.endswith(b":v") for k in client.keys("activeq:*"))


def test_ttl_is_set_in_redis(rdb, client):
    adults().all()
    (key,) = client.keys("activeq:*:r:*")
    assert 0 < client.pttl(key) <= 60_000


class Mirror(ActiveRecord):
    """The users table seen through a second Database (same SQL text, so the same keys)."""

    __table_name__ = "users"
    id: int = Field(primary_key=True)
    name: str
    email: str = Field(max_length=255, unique=True)
    age: int | None = None
    status: str = Field(default="active", index=True)


def test_two_databases_share_values_and_versions(rdb, redis_port):
    other = Database(rdb.path, cache=RedisCache(redis.Redis(host="127.0.0.1", port=redis_port)))
    other.bind(Mirror)
    mirror = Mirror.query().where(Mirror.c.age >= 18).order_by(Mirror.c.id).cache(ttl=60)
    try:
        assert [u.name for u in adults().all()] == ["Ann", "Bob"]  # stored through rdb
        with other.track_queries() as t:
            assert [u.name for u in mirror.all()] == ["Ann", "Bob"]
        assert len(t) == 0
        Mirror.query().where(Mirror.c.name == "Ann").update({"age": 5})  # bumps in Redis
        assert [u.name for u in adults().all()] == ["Bob"]
    finally:
        other.close()


def test_cached_function_returns_fresh_models(rdb):
    calls = []

    @rdb.cached(tables=[User])
    def everyone():
        calls.append(1)
        return User.query().order_by(User.c.id).all()

    first = everyone()
    first[0].name = "changed"
    again = everyone()
    assert [u.name for u in again] == ["Ann", "Bob"]
    assert isinstance(again[0], User) and again[0].is_persisted
    assert len(calls) == 1


def test_foreign_writes_option(tmp_path, client):
    db = Database(str(tmp_path / "foreign.db"), cache=RedisCache(client, foreign_writes=True))
    db.bind(User)
    db.create_tables(User)
    User.create(name="Ann", email="ann@example.com", age=30)
    q = adults()
    assert len(q.all()) == 1
    raw = apsw.Connection(db.path)
    raw.execute("INSERT INTO users (name, email, age, status) VALUES ('Cy', 'c@x', 50, 'active')")
    raw.close()
    assert [u.name for u in q.all()] == ["Ann", "Cy"]
    db.invalidate()
    db.close()


def test_clear_and_invalidate(rdb, client):
    adults().all()
    backend = rdb._cache.backend
    assert len(backend) == 1
    backend.clear()
    assert len(backend) == 0
    adults().all()
    rdb.invalidate(User)
    with rdb.track_queries() as t:
        adults().all()
    assert len(t) == 1


CHILD = """
import sys
sys.path.insert(0, {tests!r})
import redis
from helpers import User
from activeq import ActiveRecord, Database, Field
from activeq.cache_redis import RedisCache

path, port, action = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = Database(path, cache=RedisCache(redis.Redis(host="127.0.0.1", port=port)))
db.bind(User)
q = User.query().where(User.c.age >= 18).order_by(User.c.id).cache(ttl=60)
if action == "read":
    with db.track_queries() as t:
        names = [u.name for u in q.all()]
    print(",".join(names), len(t))
elif action == "write":
    User.query().where(User.c.name == "Ann").update({{"name": "Annie"}})
    print("written")
db.close()
"""


def _child(tmp_path, rdb, port, action) -> str:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(HERE)))
    out = subprocess.run([sys.executable, str(script), rdb.path, str(port), action],
                         capture_output=True, text=True, timeout=60, cwd=str(HERE),
                         env={**os.environ, "PYTHONPATH": str(HERE)})
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_two_processes_share_and_invalidate(tmp_path, rdb, redis_port):
    # The other process stores the result; this one is then served from Redis.
    assert _child(tmp_path, rdb, redis_port, "read") == "Ann,Bob 1"
    q = adults()
    with rdb.track_queries() as t:
        assert [u.name for u in q.all()] == ["Ann", "Bob"]
    assert len(t) == 0
    # This process's cached result is invalidated by a write in the other one.
    assert _child(tmp_path, rdb, redis_port, "write") == "written"
    with rdb.track_queries() as t:
        assert [u.name for u in q.all()] == ["Annie", "Bob"]
    assert len(t) == 1
    # And a write here invalidates what the other process reads.
    User.query().where(User.c.name == "Bob").update({"name": "Rob"})
    assert _child(tmp_path, rdb, redis_port, "read") == "Annie,Rob 1"
    assert _child(tmp_path, rdb, redis_port, "read") == "Annie,Rob 0"
