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


def _labels(value, found, seen=None):
    """Every translatable (lazy) string in a report, in a stable order."""
    import dataclasses

    from django.utils.functional import Promise

    seen = set() if seen is None else seen
    if isinstance(value, Promise):
        found.append(value)
    elif isinstance(value, str | int | float | bool | type(None)) or id(value) in seen:
        return found
    else:
        seen.add(id(value))
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                _labels(getattr(value, f.name), found, seen)
        elif isinstance(value, dict):
            for k, v in value.items():
                _labels(k, found, seen)
                _labels(v, found, seen)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                _labels(item, found, seen)
    return found


def test_a_cached_report_keeps_its_labels_translatable(marea, meeting_in):
    """Reports are stored with their gettext_lazy labels as one lazy type (reports.cache):
    read back, every label still follows the reader's language, as the computed one does."""
    from django.utils import translation

    meeting_in(Meeting.State.HELD)
    cache.clear()
    period = figures.Period.last_months(12)
    computed = report_for(period, marea.health_care, suppressed=False)
    cached = report_for(period, marea.health_care, suppressed=False)
    assert cached is not computed  # read back from the cache
    original, restored = _labels(computed, []), _labels(cached, [])
    assert len(original) == len(restored) > 10
    for language in ("sv", "en"):
        with translation.override(language):
            assert [str(x) for x in restored] == [str(x) for x in original]
    with translation.override("sv"):
        swedish = [str(x) for x in restored]
    with translation.override("en"):
        assert [str(x) for x in restored] != swedish
