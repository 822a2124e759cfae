"""Calls to Django's cache that treat an unavailable cache as a miss.

The cache is a convenience everywhere in VOM: with CACHE_URL on Redis it shares Redis with
the broker, and Redis being down must make pages slower, never make them fail.
"""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def safe_get(key: str, default=None):
    try:
        return cache.get(key, default)
    except Exception:  # noqa: BLE001 - any backend error is a miss
        logger.warning("cache unavailable (get %s)", key.split(":", 1)[0], exc_info=True)
        return default


def safe_set(key: str, value, seconds) -> None:
    try:
        cache.set(key, value, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable (set %s)", key.split(":", 1)[0], exc_info=True)


def safe_set_many(values: dict, seconds) -> None:
    if not values:
        return
    try:
        cache.set_many(values, seconds)
    except Exception:  # noqa: BLE001
        logger.warning(
            "cache unavailable (set %s)", next(iter(values)).split(":", 1)[0], exc_info=True
        )


def safe_add(key: str, value, seconds) -> bool | None:
    """True if added, False if the key was there, None if the cache is unavailable."""
    try:
        return cache.add(key, value, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable (add %s)", key.split(":", 1)[0], exc_info=True)
        return None


def safe_delete_many(keys) -> None:
    keys = list(keys)
    if not keys:
        return
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001
        logger.warning("cache unavailable (delete %s)", keys[0].split(":", 1)[0], exc_info=True)


def safe_delete(key: str) -> None:
    safe_delete_many([key])
