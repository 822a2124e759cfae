"""Sessions in the database, read through the shared cache (SESSION_ENGINE with CACHE_URL).

Django's `cached_db` backend, except that:

- a cache that is down or hung never fails or holds a request (vom.breaker): reads fall
  back to the database (as Django does for `load`, and here also for `exists`, which
  sign-in uses), and writes to the cache that fail are logged and skipped;
- a session's copy lives in the cache at most SESSION_CACHE_SECONDS (5 minutes), not for
  the whole session. The database row is the truth; a logout deletes it first and then the
  copy. If the cache cannot be reached at that moment the copy cannot be deleted, and a
  copy of the old cookie would keep working from the cache until the copy expires: this
  bounds that to minutes.
"""

import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

from .breaker import RedisUnavailable

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def _cache_seconds(self, expiry_age: int) -> int:
        return max(0, min(expiry_age, settings.SESSION_CACHE_SECONDS))

    def _copy_to_cache(self, data, expiry_age: int) -> None:
        try:
            self._cache.set(self.cache_key, data, self._cache_seconds(expiry_age))
        except RedisUnavailable:
            pass  # logged once by vom.breaker
        except Exception:  # noqa: BLE001
            logger.warning("session cache unavailable (set)", exc_info=True)

    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - a miss, as in Django's own load()
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._copy_to_cache(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key):
        try:
            if session_key and (self.cache_key_prefix + session_key) in self._cache:
                return True
        except RedisUnavailable:
            pass
        except Exception:  # noqa: BLE001
            logger.warning("session cache unavailable (exists)", exc_info=True)
        return DatabaseStore.exists(self, session_key)

    def save(self, must_create=False):
        DatabaseStore.save(self, must_create=must_create)
        self._copy_to_cache(self._session, self.get_expiry_age())

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # The database row first: it is what a request falls back to.
        DatabaseStore.delete(self, session_key)
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except RedisUnavailable:
            logger.error("session cache unavailable (delete); its copy expires on its own")
        except Exception:  # noqa: BLE001
            logger.error("session cache unavailable (delete)", exc_info=True)
