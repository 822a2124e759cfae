"""A large report is computed by a real Celery worker, never inside the manager's request.

The page answers at once with "being computed" and reloads itself; the worker (a real
process, on this test's PostgreSQL database, Redis as broker, the shared file cache) stores
the figures, and the next load shows them. These tests commit their data (transaction=True)
and stop by themselves."""

import datetime as dt
import re

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse

from participants.models import Organisation, Role
from reports import figures
from reports.cache import (
    cached_report,
    compute_in_background,
    meetings_behind,
    report_or_pending,
    status,
)

from .factories import MembershipFactory
from .notify_support import (
    broker_database,
    service_env,
    start_worker,
    use_broker,
    wait_until,
)
from .reports_data import report_area, seed_000_meetings

pytestmark = pytest.mark.django_db(transaction=True)

URL = reverse("reports:dashboard")
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
PERIOD = figures.Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def broker(redis_url):
    """A Redis database of this file's own (6), emptied before and after."""
    with broker_database(redis_url, 6) as url:
        yield url


@pytest.fixture
def large(settings):
    """Every period counts as large: nothing is computed in the request."""
    settings.REPORTS_CACHE_SECONDS = 300
    settings.REPORTS_INLINE_MAX_MEETINGS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def manager():
    area = report_area()
    seed_000_meetings(area, dt.date(2026, 3, 2))
    user = MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user
    return area, user


def _figures_shown(response) -> bool:
    return 'data-key="meetings_held"' in response.content.decode()


def test_a_large_period_is_computed_by_the_worker_while_the_page_waits(
    large, broker, manager, login, tmp_path
):
    area, user = manager
    client = login(user)
    with use_broker(broker):
        first = client.get(URL, MARCH)
        again = client.get(URL, MARCH)
    page = first.content.decode()
    assert first.status_code == 200
    assert 'id="report-pending"' in page
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', page)
    assert not _figures_shown(first)
    # asked twice, queued once
    assert redis.Redis.from_url(broker).llen("celery") == 1
    assert 'id="report-pending"' in again.content.decode()

    worker = start_worker(tmp_path, service_env(redis_url=broker, smtp_port=1), beat=False)
    try:
        assert wait_until(
            lambda: cached_report(PERIOD, area.health_care, suppressed=False) is not None, 90
        ), worker.log()
    finally:
        worker.stop()
    ready = client.get(URL, MARCH)
    page = ready.content.decode()
    assert _figures_shown(ready)
    assert 'http-equiv="refresh"' not in page and 'id="report-pending"' not in page
    # the worker's figures are the same as computing them here
    held = re.search(r'data-key="meetings_held">([^<]+)<', page).group(1)
    assert held.strip() == str(figures.compute(PERIOD, area.health_care).summary["meetings_held"])


def test_a_small_period_is_computed_in_the_request(settings, manager, login):
    settings.REPORTS_CACHE_SECONDS = 300
    settings.REPORTS_INLINE_MAX_MEETINGS = 10_000
    cache.clear()
    area, user = manager
    assert 0 < meetings_behind(PERIOD) <= 10_000
    response = login(user).get(URL, MARCH)
    assert _figures_shown(response)
    assert "report-pending" not in response.content.decode()
    cache.clear()


def test_a_failed_computation_is_shown_and_not_retried_at_once(large, broker, manager):
    missing = Organisation(pk=987654)
    with pytest.raises(Organisation.DoesNotExist):
        compute_in_background(missing.pk, "2026-03-01", "2026-03-31", False)
    assert status(PERIOD, missing, suppressed=False) == "failed"
    with use_broker(broker):
        assert report_or_pending(PERIOD, missing, suppressed=False) is None
    assert redis.Redis.from_url(broker).llen("celery") == 0  # not queued again


def test_without_a_broker_the_request_computes_instead_of_failing(large, manager, login):
    area, user = manager
    with use_broker("redis://127.0.0.1:1/0"):  # nothing listens there
        response = login(user).get(URL, MARCH)
    assert response.status_code == 200
    assert _figures_shown(response)


def test_with_the_cache_down_the_dashboard_still_answers(settings, manager, login):
    """With CACHE_URL on Redis the cache shares Redis with the broker: both down must not
    turn the dashboard into an error page."""
    settings.REPORTS_CACHE_SECONDS = 300
    settings.REPORTS_INLINE_MAX_MEETINGS = 0
    area, user = manager
    client = login(user)  # signs in (TOTP) while the cache is still there
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    with use_broker("redis://127.0.0.1:1/0"):
        response = client.get(URL, MARCH)
    assert response.status_code == 200
    assert _figures_shown(response)


def test_a_late_run_does_not_clear_a_newer_runs_mark(large, manager):
    area, user = manager
    pending = "reports:pending"
    from reports.cache import _key

    key = _key(PERIOD, area.health_care, False, pending)
    cache.set(key, "newer", 600)
    compute_in_background(area.health_care.pk, "2026-03-01", "2026-03-31", False, "older")
    assert cache.get(key) == "newer"
    assert cached_report(PERIOD, area.health_care, suppressed=False) is not None
    # the run that owns the mark keeps it a little while after success (no re-queueing
    # on every reload if the stored figures cannot be read)
    compute_in_background(area.health_care.pk, "2026-03-01", "2026-03-31", False, "newer")
    assert cache.get(key) == "newer"
