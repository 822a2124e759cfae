"""Every list filter has an index: with sequential scans switched off, PostgreSQL must be
able to answer each big query from indexes alone (a plan without "Seq Scan"). The plans
over the 200,000-meeting bench area are in docs/performance.md."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from followup.selectors import open_decisions_for_user
from meetings import worklist
from meetings.delivery import claimable
from meetings.models import Meeting
from meetings.selectors import meetings_visible_to
from participants.models import AccessLog
from participants.selectors import search_persons

from ..conftest import require_postgres

pytestmark = pytest.mark.django_db

S = Meeting.State


@pytest.fixture(autouse=True)
def postgresql_only():
    require_postgres("index plans are checked on PostgreSQL (CI sets DATABASE_URL)")


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def assert_indexed(queryset, *index_names):
    text = plan(queryset)
    assert "Seq Scan" not in text, text
    for name in index_names:
        assert name in text, f"{name} not used:\n{text}"


def test_person_lists_and_searches(marea):
    nurse = marea.nurse
    assert_indexed(search_persons(nurse, ""))
    assert_indexed(search_persons(nurse, "", everyone=True))
    assert_indexed(search_persons(nurse, "1234"), "person_pnr_last4_idx")
    assert_indexed(search_persons(nurse, "åke"))  # trigram plan: docs/performance.md


def test_meeting_lists(marea, meeting_in):
    meeting_in(S.SCHEDULED)
    assert_indexed(worklist.open_meetings(marea.nurse).order_by("starts_at"))
    assert_indexed(meetings_visible_to(marea.coordinator).filter(person=marea.person))
    assert_indexed(open_decisions_for_user(marea.coordinator))


def test_outbox_sweep_and_access_log(marea, meeting_in):
    meeting_in(S.SCHEDULED)
    assert_indexed(claimable(timezone.now()), "outbox_due_idx")
    since = timezone.now() - dt.timedelta(days=30)
    assert_indexed(
        AccessLog.objects.filter(person=marea.person, at__gte=since), "accesslog_person_at_idx"
    )
    assert_indexed(AccessLog.objects.filter(user=marea.nurse, at__gte=since))


def test_report_period_filters(marea, meeting_in):
    from reports.figures import Period
    from reports.selectors import meetings_for_export

    meeting_in(S.HELD)
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert_indexed(meetings_for_export(marea.health_care, period))
