"""Django's Redis cache, keeping its redis-py client instead of building one per call, with
the time-outs and the circuit breaker of `vom.breaker`.

Django's `RedisCacheClient.get_client` makes a new `redis.Redis` for every cache call, and
redis-py fills about 170 response callbacks into each: a measurable part of the session
read every signed-in view makes. The client is thread-safe and keeps its connection pool,
so one per pool does the same work.

Every call waits at most REDIS_CONNECT_TIMEOUT / REDIS_READ_TIMEOUT, is not tried again in
a request after it failed once there, and not at all while the breaker is open: a hung
Redis costs a page one time-out at most, then nothing (see vom/breaker.py).
"""

from django.core.cache.backends import redis

from . import breaker

GUARDED = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many",
           "delete_many", "clear")  # fmt: skip


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**breaker.socket_options(), **kwargs})
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


for _name in GUARDED:
    setattr(
        RedisCacheClient,
        _name,
        breaker.guarded(breaker.cache, getattr(redis.RedisCacheClient, _name)),
    )


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
