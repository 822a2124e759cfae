"""Sessions in the database, read through the shared cache (SESSION_ENGINE with CACHE_URL).

Django's `cached_db` backend, except that a cache that is down never fails a request: a
read falls back to the database (as Django does), and the writes Django does not guard (the
copy made after a database read, and the removal at logout) are logged and skipped. The
database row stays the truth: a session deleted there is gone even if its cached copy
could not be removed, because the copy is only trusted while the cache answers, and the
cache is flushed of it by its expiry.
"""

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
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
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        except Exception:  # noqa: BLE001
            logger.warning("session cache unavailable (set)", exc_info=True)
        return data

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # The database row first: it is what a request falls back to.
        super(cached_db.SessionStore, self).delete(session_key)
        try:
            self._cache.delete(self.cache_key_prefix + session_key)
        except Exception:  # noqa: BLE001
            logger.error(
                "session cache unavailable (delete); the cached copy expires", exc_info=True
            )
