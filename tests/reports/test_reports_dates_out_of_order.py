"""A figure built from an impossible pair of dates (consent or meeting dated before the
initiative) says so instead of averaging it in (issue 20)."""

import datetime as dt

import pytest
from django.urls import reverse

from meetings.models import Meeting
from participants.models import Role
from reports.figures import Period

from ..factories import MembershipFactory
from ..reports_data import aware, computed, make_meeting, report_area

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def three_meetings():
    area = report_area()
    # 10 and 20 days from initiative to meeting, 2 days to consent
    make_meeting(area, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 11))
    make_meeting(area, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 21))
    # impossible: consent and meeting both before the initiative
    bad = make_meeting(area, initiated=dt.date(2026, 3, 25), held=dt.date(2026, 3, 5))
    Meeting.objects.filter(pk=bad.pk).update(consent_at=aware(dt.date(2026, 3, 4)))
    return area


def test_an_impossible_pair_is_left_out_of_the_mean_and_counted(three_meetings):
    report = computed(MARCH)
    s = report.summary
    assert s["meetings_held"] == 3
    assert s["mean_days_to_meeting"] == 15.0  # not (10 + 20 - 20) / 3
    assert s["mean_days_to_consent"] == 2.0
    assert s["days_to_meeting_out_of_order"] == 1
    assert s["days_to_consent_out_of_order"] == 1
    march = report.tables["by_month"].rows[0]
    assert march["mean_days_to_meeting"] == 15.0
    assert march["dates_out_of_order"] == 1


def test_the_dashboard_says_so_only_when_there_are_some(three_meetings, login):
    manager = MembershipFactory(organisation=three_meetings.health_care, role=Role.MANAGER).user
    client = login(manager)
    url = reverse("reports:dashboard")
    query = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    computed(MARCH)  # folded
    page = client.get(url, query).content.decode()
    assert 'data-key="days_to_meeting_out_of_order">1<' in page
    assert "Utelämnade ur medelvärdet: mötet daterat före initiativet" in page
    Meeting.objects.filter(initiated_at__date=dt.date(2026, 3, 25)).update(
        initiated_at=aware(dt.date(2026, 3, 1)), consent_at=aware(dt.date(2026, 3, 3))
    )
    computed(MARCH)  # folded
    page = client.get(url, query).content.decode()
    assert "days_to_meeting_out_of_order" not in page
