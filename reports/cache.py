"""A computed report is kept for a few minutes (REPORTS_CACHE_SECONDS, default 300).

Over a large area the figures take a few seconds to compute; managers look at the same
period again and again, and figures a few minutes old serve them as well. The page shows
when the figures were computed. A change of an organisation's rates starts a new
generation, so the manager who changed them sees the effect at once.
"""

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from . import figures
from .suppression import suppress

GENERATION_KEY = "reports:generation"


def _seconds() -> int:
    return int(getattr(settings, "REPORTS_CACHE_SECONDS", 300))


def bump_generation() -> None:
    """Forget every cached report (after the transaction that changed rates commits)."""

    def bump():
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:
            cache.set(GENERATION_KEY, 1, None)

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
    generation = cache.get(GENERATION_KEY, 0)
    key = ":".join(
        [
            "reports:v1",
            str(generation),
            str(organisation.pk) if organisation else "all",
            period.start.isoformat(),
            period.end.isoformat(),
            "s" if suppressed else "u",
        ]
    )
    report = None if refresh else cache.get(key)
    if report is None:
        report = build()
        cache.set(key, report, seconds)
    return report


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
