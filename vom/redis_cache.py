"""Django's Redis cache, keeping its redis-py client instead of building one per call.

Django's `RedisCacheClient.get_client` makes a new `redis.Redis` for every cache call, and
redis-py fills about 170 response callbacks into each: a measurable part of the session
read every signed-in view makes. The client is thread-safe and keeps its connection pool,
so one per pool does the same work.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
