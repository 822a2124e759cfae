import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from meetings.models import Meeting
from reports import figures
from reports.cache import report_for, warm_dashboards
from reports.tasks import warm_report_cache

pytestmark = pytest.mark.django_db


def test_warm_up_computes_every_default_dashboard_before_anyone_asks(marea, meeting_in):
    meeting_in(Meeting.State.HELD)
    cache.clear()
    scopes = warm_dashboards()
    assert scopes == 5  # four organisations and the steering group
    period = figures.Period.last_months(12)
    with CaptureQueriesContext(connection) as queries:
        own = report_for(period, marea.health_care, suppressed=False)
        steering = report_for(period, None, suppressed=True)
    # answered from the cache: at most the generation lookup, no figures computed
    assert len(queries) == 0
    assert own is not None and steering is not None
    # the task does the same and is safe to run twice
    assert warm_report_cache() == warm_report_cache() == 5


def test_refresh_replaces_a_stale_report(marea, meeting_in):
    period = figures.Period.last_months(12)
    cache.clear()
    before = report_for(period, marea.health_care, suppressed=False)
    meeting_in(Meeting.State.HELD)
    stale = report_for(period, marea.health_care, suppressed=False)
    fresh = report_for(period, marea.health_care, suppressed=False, refresh=True)
    assert stale.computed_at == before.computed_at
    assert fresh.computed_at >= before.computed_at
    assert report_for(period, marea.health_care, suppressed=False).computed_at == fresh.computed_at
