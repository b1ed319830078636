"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django makes a new `redis.Redis` for every cache operation, and each one builds its table of
about 170 reply handlers: a third of a cached page's time in Python. A client over a pool is
safe to share between threads, and the pool itself starts afresh in a forked worker.
"""

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
