"""Redis may hang; a page must not wait for it. One circuit breaker per use of Redis.

Every client of Redis waits at most REDIS_CONNECT_TIMEOUT to connect and REDIS_READ_TIMEOUT
for an answer (settings: the cache in `vom.redis_cache`, the broker's transport options, a
result backend). On top of that:

- after the first failure in a request (or a task), that request does not try the same
  Redis use again: a page with ten cache calls waits one time-out, not ten;
- after REDIS_BREAKER_FAILURES failures in a row the process stops trying for
  REDIS_BREAKER_SECONDS (the breaker is open); then one call tries again, and a success
  closes it. Opening and closing are logged once each, not every call.

A call that is not tried raises `RedisUnavailable`, a redis-py `ConnectionError`, so callers
that already treat a Redis that refuses connections as a miss (`vom.cache`, `vom.sessions`,
`meetings.delivery.queue_delivery`) treat a hung one the same, at once.
"""

import contextvars
import functools
import logging
import threading
import time

from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


class RedisUnavailable(RedisConnectionError):
    """Redis was not tried (the breaker is open, or it failed earlier in this request),
    or it failed now; the cause is logged by the breaker."""


# The names of the breakers that failed in the current request or task; None outside one
# (beat's thread, a management command): there only the breaker itself counts.
_failed_here: contextvars.ContextVar[frozenset | None] = contextvars.ContextVar(
    "redis_failed_here", default=None
)


def new_scope(**_kwargs) -> None:
    """A new request or task: every use of Redis may be tried again (unless open)."""
    _failed_here.set(frozenset())


def end_scope(**_kwargs) -> None:
    _failed_here.set(None)


class Breaker:
    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._failures = 0  # in a row
        self._open_until = 0.0  # monotonic; 0 while closed
        self._opened = False

    @staticmethod
    def _limits() -> tuple[int, float]:
        return (
            int(getattr(settings, "REDIS_BREAKER_FAILURES", 3)),
            float(getattr(settings, "REDIS_BREAKER_SECONDS", 10)),
        )

    @property
    def is_open(self) -> bool:
        return self._opened

    def allow(self) -> bool:
        """May this call go to Redis? False when it failed earlier in this request, or while
        the breaker is open; when an open period ends, one caller gets to try."""
        here = _failed_here.get()
        if here is not None and self.name in here:
            return False
        if not self._opened:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._open_until:
                return False
            # The trial: the others keep waiting for its outcome (one period at most).
            self._open_until = now + self._limits()[1]
            return True

    def succeeded(self) -> None:
        if self._failures == 0 and not self._opened:
            return
        with self._lock:
            reopened = self._opened
            self._failures = 0
            self._opened = False
            self._open_until = 0.0
        if reopened:
            logger.warning("Redis (%s) answers again; using it again", self.name)

    def failed(self, exc: BaseException) -> None:
        here = _failed_here.get()
        if here is not None:
            _failed_here.set(here | {self.name})
        failures_to_open, seconds = self._limits()
        with self._lock:
            self._failures += 1
            opening = not self._opened and self._failures >= failures_to_open
            if opening or self._opened:
                self._opened = True
                self._open_until = time.monotonic() + seconds
        if opening:
            logger.warning(
                "Redis (%s) unavailable, %s failures in a row (last: %s: %s); tried again "
                "every %s s",
                self.name, self._failures, type(exc).__name__, exc, seconds,
            )  # fmt: skip
        else:
            logger.debug("Redis (%s) failed: %s: %s", self.name, type(exc).__name__, exc)

    def reset(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened = False
            self._open_until = 0.0
        here = _failed_here.get()
        if here is not None:
            _failed_here.set(here - {self.name})

    def call(self, func, *args, failures=(RedisConnectionError, RedisTimeoutError), **kwargs):
        """`func(*args, **kwargs)` unless the breaker says not to try; a failure of the kinds
        in `failures` (the connection, not the command) is counted and raised as
        RedisUnavailable."""
        if not self.allow():
            raise RedisUnavailable(f"Redis ({self.name}) not tried: it failed a moment ago")
        try:
            result = func(*args, **kwargs)
        except failures as exc:
            self.failed(exc)
            if isinstance(exc, RedisUnavailable):
                raise
            raise RedisUnavailable(f"Redis ({self.name}): {type(exc).__name__}: {exc}") from exc
        self.succeeded()
        return result


cache = Breaker("cache")
broker = Breaker("broker")


def guarded(breaker: Breaker, method):
    """`method` of a cache backend, called through `breaker`."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        return breaker.call(method, *args, **kwargs)

    return wrapper


def socket_options() -> dict:
    """The time-outs of every redis-py client (settings REDIS_CONNECT_TIMEOUT/READ_TIMEOUT)."""
    return {
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "socket_timeout": settings.REDIS_READ_TIMEOUT,
    }


def _connect_signals() -> None:
    """Each request and each Celery task starts with a clean slate."""
    from celery.signals import task_postrun, task_prerun
    from django.core.signals import request_finished, request_started

    request_started.connect(new_scope, dispatch_uid="vom.breaker.request")
    request_finished.connect(end_scope, dispatch_uid="vom.breaker.request_end")
    task_prerun.connect(new_scope, dispatch_uid="vom.breaker.task", weak=False)
    task_postrun.connect(end_scope, dispatch_uid="vom.breaker.task_end", weak=False)


_connect_signals()
