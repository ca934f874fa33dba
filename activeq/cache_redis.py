"""A cache backend in Redis, shared by every process using the same database file.

Per-table version counters live in one Redis hash per database file; a write through activeq
in any process increments them (after its commit), so values cached by the others stop
matching. A lookup is one round trip: the counters and the value are fetched together.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable
from typing import Any

from .cache import _ALL, _ANY, MISS, CacheBackend, _check_ttl
from .errors import ActiveqError

__all__ = ["RedisCache"]


class RedisCache(CacheBackend):
    """Values and table versions in Redis, for several processes.

    Args:
        client: a ``redis.Redis`` client; or give ``url``.
        url: e.g. ``"redis://127.0.0.1:6379/0"`` when no client is given.
        prefix: the start of every key this cache writes.
        ttl: lifetime in seconds of values stored without one. Stale values are never read
            again, so a finite default keeps them from piling up; None leaves eviction to
            Redis's ``maxmemory-policy``.
        foreign_writes: drop every value when this process sees a commit it cannot
            attribute (``PRAGMA data_version`` moved). Off by default: processes writing
            through activeq publish their own table versions, and treating their commits as
            foreign would empty the shared cache on every write. Turn it on when programs
            without activeq write to the file, or call ``db.invalidate()`` after them.

    Values are pickled: cached function results must be picklable, and models are stored
    by class name and rebuilt on load.

    >>> from activeq import RedisCache
    >>> cache = RedisCache(url='redis://127.0.0.1:6379/0', prefix='shop', ttl=300)
    >>> cache.prefix, cache.ttl
    ('shop', 300)
    """

    shared = True

    def __init__(self, client: Any = None, *, url: str | None = None, prefix: str = "activeq",
                 ttl: float | None = 3600, foreign_writes: bool = False) -> None:
        _check_ttl(ttl)
        if client is None:
            try:
                import redis
            except ImportError as e:
                raise ActiveqError("RedisCache needs the 'redis' package: pip install 'activeq[redis]'") from e
            client = redis.Redis.from_url(url or "redis://127.0.0.1:6379/0")
        self.client = client
        self.prefix = prefix
        self.ttl = ttl
        self.foreign_writes = foreign_writes
        self._base = f"{prefix}:unattached"
        self._versions_key = f"{self._base}:v"

    def attach(self, namespace: str) -> None:
        digest = hashlib.blake2b(namespace.encode(), digest_size=8).hexdigest()
        self._base = f"{self.prefix}:{digest}"
        self._versions_key = f"{self._base}:v"

    def _key(self, key: Any) -> str:
        digest = hashlib.blake2b(pickle.dumps(key, protocol=5), digest_size=16).hexdigest()
        return f"{self._base}:r:{digest}"

    @staticmethod
    def _fields(tables: frozenset[str] | None) -> list[str]:
        if tables is None:
            return [_ALL, _ANY]
        return [_ALL, *tables]

    def lookup(self, key: Any, tables: frozenset[str] | None) -> tuple[Any, Any]:
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self._versions_key, self._fields(tables))
        pipe.get(self._key(key))
        versions, raw = pipe.execute()
        token = sum(int(v) for v in versions if v is not None)
        if raw is None:
            return token, MISS
        stored, value = pickle.loads(raw)
        if stored != token:
            return token, MISS
        return token, value

    def store(self, key: Any, tables: frozenset[str] | None, token: Any, value: Any,
              ttl: float | None) -> None:
        # A token older than the counters (a write happened meanwhile) never matches again,
        # so there is no need to re-check it here.
        if ttl is None:
            ttl = self.ttl
        data = pickle.dumps((token, value), protocol=5)
        if ttl is None:
            self.client.set(self._key(key), data)
        else:
            self.client.set(self._key(key), data, px=max(1, int(ttl * 1000)))

    def bump(self, tables: Iterable[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(self._versions_key, _ANY, 1)
        for name in tables:
            pipe.hincrby(self._versions_key, name, 1)
        pipe.execute()

    def bump_all(self) -> None:
        self.client.hincrby(self._versions_key, _ALL, 1)

    def clear(self) -> None:
        self.bump_all()
        keys = list(self.client.scan_iter(match=f"{self._base}:r:*", count=1000))
        for start in range(0, len(keys), 1000):
            self.client.delete(*keys[start:start + 1000])

    def __len__(self) -> int:
        return sum(1 for _ in self.client.scan_iter(match=f"{self._base}:r:*", count=1000))

    def __repr__(self) -> str:
        return f"<RedisCache {self._base!r}>"
