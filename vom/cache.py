"""Calls to Django's cache that treat an unavailable cache as a miss.

The cache is a convenience everywhere in VOM: with CACHE_URL on Redis it shares Redis with
the broker, and Redis being down must make pages slower, never make them fail.
"""

import logging

from django.core.cache import cache

from .breaker import RedisUnavailable

logger = logging.getLogger(__name__)


def _guarded(action: str, key: str, call, default=None):
    """`call()`, or `default` with a warning naming the action and the key's prefix (a Redis
    that is unavailable is logged once by its breaker, not on every call)."""
    try:
        return call()
    except RedisUnavailable:
        return default
    except Exception:  # noqa: BLE001 - any backend error is a miss
        logger.warning("cache unavailable (%s %s)", action, key.split(":", 1)[0], exc_info=True)
        return default


def safe_get(key: str, default=None):
    return _guarded("get", key, lambda: cache.get(key, default), default)


def safe_set(key: str, value, seconds) -> None:
    _guarded("set", key, lambda: cache.set(key, value, seconds))


def safe_add(key: str, value, seconds) -> bool | None:
    """True if added, False if the key was there, None if the cache is unavailable."""
    return _guarded("add", key, lambda: cache.add(key, value, seconds))


def safe_delete(key: str) -> None:
    _guarded("delete", key, lambda: cache.delete(key))
