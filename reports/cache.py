"""A computed report is kept for a few minutes (REPORTS_CACHE_SECONDS, default 300).

Over a large area the figures take a few seconds to compute; managers look at the same
period again and again, and figures a few minutes old serve them as well. The page shows
when the figures were computed. A change of an organisation's rates starts a new
generation, so the manager who changed them sees the effect at once.

A web request never computes a large report itself (`report_or_pending`): the default
dashboards are warmed by beat, small periods are computed at once, and a large period
nobody has asked for yet is computed by a Celery task while the page says so and reloads.
"""

import io
import logging
import pickle
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.functional import Promise, lazy

from meetings.models import Meeting
from vom.cache import safe_add as _add
from vom.cache import safe_delete as _delete
from vom.cache import safe_get as _get
from vom.cache import safe_set as _set

from . import figures
from .suppression import suppress

logger = logging.getLogger(__name__)

GENERATION_KEY = "reports:generation"
# v2: reports are stored as bytes from `_dumps` (translatable labels without the class Django
# builds for every lazy string it unpickles).
REPORT_PREFIX = "reports:v2"
# How long a background computation may take before another request may start it again,
# and how long a failed one is shown as failed before it is tried again.
PENDING_SECONDS = 600
FAILED_SECONDS = 300
DONE_SECONDS = 60


def _seconds() -> int:
    return int(getattr(settings, "REPORTS_CACHE_SECONDS", 300))


def _inline_max_meetings() -> int:
    return int(getattr(settings, "REPORTS_INLINE_MAX_MEETINGS", 10_000))


# A report holds a few hundred translatable labels (gettext_lazy). Pickled as they are, each
# is unpickled by `django.utils.functional.lazy`, which builds a new class for every one:
# that was most of a cached dashboard's 35 ms. Stored instead as one lazy string type
# built once here; they still translate into the reader's language when shown.
def _call(func, args, kwargs):
    return func(*args, **kwargs)


_lazy_text = lazy(_call, str)


def _lazy_label(func, args, kwargs):
    return _lazy_text(func, args, kwargs)


class _ReportPickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, Promise):
            _unpickle, (func, args, kwargs, *resultclasses) = obj.__reduce__()
            if resultclasses == [str]:
                return _lazy_label, (func, args, kwargs)
        return NotImplemented


def _dumps(report) -> bytes:
    buffer = io.BytesIO()
    _ReportPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(report)
    return buffer.getvalue()


def _get_report(key: str):
    stored = _get(key)
    if stored is None:
        return None
    try:
        return pickle.loads(stored)  # noqa: S301 - our own cache, written by _set_report
    except Exception:  # noqa: BLE001 - an unreadable entry is a miss
        logger.warning("unreadable cached report %s", key, exc_info=True)
        return None


def _set_report(key: str, report, seconds) -> None:
    _set(key, _dumps(report), seconds)


def _key(period: figures.Period, organisation, suppressed: bool, prefix=REPORT_PREFIX) -> str:
    return _keys(period, organisation, suppressed, prefixes=(prefix,))[0]


def _keys(
    period: figures.Period,
    organisation,
    suppressed: bool,
    prefixes=(REPORT_PREFIX, "reports:pending", "reports:failed"),
) -> list[str]:
    """The keys of one scope (by default: its report, its pending and its failed mark),
    with the generation read once."""
    scope = ":".join(
        [
            str(_get(GENERATION_KEY, 0)),
            str(organisation.pk) if organisation else "all",
            period.start.isoformat(),
            period.end.isoformat(),
            "s" if suppressed else "u",
        ]
    )
    return [f"{prefix}:{scope}" for prefix in prefixes]


def bump_generation() -> None:
    """Forget every cached report (after the transaction that changed rates commits)."""

    def bump():
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:
            _set(GENERATION_KEY, 1, None)
        except Exception:  # noqa: BLE001 - the cache is down: reports expire on their own
            logger.warning("report cache unavailable (generation)", exc_info=True)

    transaction.on_commit(bump)


def report_for(
    period: figures.Period, organisation, *, suppressed: bool, refresh: bool = False
) -> figures.Report:
    """The report for a scope, suppressed for the steering group, from the cache if fresh.
    `refresh` computes it anew and stores it (the periodic warm-up, `warm_dashboards`)."""

    def build():
        # Unsuppressed views need no count of the persons behind each cell.
        report = figures.compute(period, organisation, persons=suppressed)
        return suppress(report) if suppressed else report

    seconds = _seconds()
    if seconds <= 0:
        return build()
    key = _key(period, organisation, suppressed)
    report = None if refresh else _get_report(key)
    if report is None:
        report = build()
        _set_report(key, report, seconds)
    return report


def cached_report(period: figures.Period, organisation, *, suppressed: bool):
    """The stored report for the scope, or None; never computes."""
    if _seconds() <= 0:
        return None
    return _get_report(_key(period, organisation, suppressed))


def meetings_behind(period: figures.Period) -> int:
    """How many meetings a report over `period` reads at most (every organisation's); one
    indexed count, used to decide whether the figures can be computed within a request."""
    in_period = period.within("initiated_at") | period.within("held_at") | period.within("ended_at")
    return Meeting.objects.filter(in_period).count()


def report_or_pending(period: figures.Period, organisation, *, suppressed: bool):
    """The report if it is stored or small enough to compute now (under
    REPORTS_INLINE_MAX_MEETINGS meetings, about half a second); otherwise None, with its
    computation started in the background unless it already runs (see `status`)."""
    if _seconds() <= 0:
        return report_for(period, organisation, suppressed=suppressed)
    report_key, pending, failed = _keys(period, organisation, suppressed)
    report = _get_report(report_key)
    if report is not None:
        return report
    if _get(failed) or _get(pending):
        return None  # a run failed a moment ago, or one is under way
    if meetings_behind(period) <= _inline_max_meetings():
        return report_for(period, organisation, suppressed=suppressed)
    token = secrets.token_hex(8)
    added = _add(pending, token, PENDING_SECONDS)
    if added is None:  # no cache to meet the worker in: compute here
        return report_for(period, organisation, suppressed=suppressed)
    if added:
        from .tasks import compute_report

        args = (organisation.pk if organisation else None, period.start.isoformat(),
                period.end.isoformat(), suppressed, token)  # fmt: skip
        try:
            # Not computed later if nobody is waiting for it any more.
            compute_report.apply_async(args, expires=PENDING_SECONDS)
        except Exception:  # the broker is down: the manager waits instead of getting nothing
            logger.warning("report task could not be queued; computing in the request")
            _delete(pending)
            return report_for(period, organisation, suppressed=suppressed)
    # Tasks run in-process without a broker (make run): the report may be there already.
    return _get_report(report_key)


def status(period: figures.Period, organisation, *, suppressed: bool) -> str:
    """ "failed" when the last background computation failed, else "pending"."""
    failed = _get(_key(period, organisation, suppressed, "reports:failed"))
    return "failed" if failed else "pending"


def compute_in_background(
    organisation_id: int | None, start: str, end: str, suppressed: bool, token: str = ""
) -> None:
    """The task's work: compute and store the report. A failure is remembered for
    FAILED_SECONDS so the page says so instead of trying again at once. The pending mark is
    this run's own (`token`): a late run never clears the mark of a newer one. After
    success the mark stays for a minute, so that a report the web processes cannot read
    (an evicted entry, a cache not shared) is not queued again on every reload."""
    import datetime as dt

    from participants.models import Organisation

    period = figures.Period(dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    organisation = Organisation(pk=organisation_id) if organisation_id else None
    _report, pending, failed = _keys(period, organisation, suppressed)
    try:
        if organisation is not None:
            organisation = Organisation.objects.get(pk=organisation_id)
        report_for(period, organisation, suppressed=suppressed, refresh=True)
    except Exception:
        _set(failed, 1, FAILED_SECONDS)
        if _get(pending) == token:
            _delete(pending)
        raise
    if _get(pending) == token:
        _set(pending, token, DONE_SECONDS)


def warm_dashboards() -> int:
    """Compute the default dashboards (the last 12 months) of every organisation and of the
    steering group before anyone asks, so the first view answers from the cache. Run more
    often than REPORTS_CACHE_SECONDS (CELERY_BEAT_SCHEDULE "reports-warm"). Returns how many."""
    from participants.models import Organisation

    period = figures.Period.last_months(12)
    scopes = [(organisation, False) for organisation in Organisation.objects.filter(is_active=True)]
    scopes.append((None, True))
    for organisation, suppressed in scopes:
        report_for(period, organisation, suppressed=suppressed, refresh=True)
    return len(scopes)
