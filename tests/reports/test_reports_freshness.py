"""The figures say how old they are and can be brought up to date at once (issue 20): the
month tallies are folded every few seconds and judged against the day once a night, so a
figure a manager sees can be older than the data."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.models import Role
from reports import tallies
from reports.models import MonthTally, TallyMark

from ..factories import MembershipFactory
from ..reports_data import make_meeting, report_area

pytestmark = pytest.mark.django_db

URL = reverse("reports:dashboard")
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def area():
    area = report_area()
    make_meeting(area, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 10))
    tallies.fold()
    return area


@pytest.fixture
def manager(area, login):
    return login(MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user)


def test_the_page_says_how_old_the_figures_are(area, manager):
    MonthTally.objects.update(computed_at=timezone.now() - dt.timedelta(hours=3))
    page = manager.get(URL, MARCH).content.decode()
    assert "alla ändringar fram till nu" in page
    assert "Den äldsta månaden i siffrorna beräknades" in page
    assert "3\xa0timmar sedan" in page
    make_meeting(area, initiated=dt.date(2026, 3, 2), held=dt.date(2026, 3, 12))
    TallyMark.objects.update(created_at=timezone.now() - dt.timedelta(minutes=5))
    waiting = manager.get(URL, MARCH)
    assert waiting.context["report"].summary["meetings_held"] == 1
    html = waiting.content.decode()
    assert "finns inte med i siffrorna än" in html and "5\xa0minuter sedan" in html
    assert 'action="/reports/refresh/"' in html or reverse("reports:refresh") in html


def test_refresh_brings_them_up_to_date_now(area, manager):
    make_meeting(area, initiated=dt.date(2026, 3, 2), held=dt.date(2026, 3, 12))
    yesterday = timezone.now() - dt.timedelta(days=1)
    MonthTally.objects.update(computed_at=yesterday)
    response = manager.post(
        reverse("reports:refresh"),
        {**MARCH, "organisation": str(area.health_care.pk)},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(URL + "?")
    assert "date_from=2026-03-01" in response["Location"]
    assert not TallyMark.objects.exists()
    # the month computed yesterday was computed again
    assert not MonthTally.objects.filter(computed_at__lte=yesterday).exists()
    page = manager.get(response["Location"])
    assert page.context["report"].summary["meetings_held"] == 2
    assert page.context["waiting_since"] is None


def test_refresh_is_for_those_who_see_the_figures(area, login):
    nurse = login(area.nurses[0])
    response = nurse.post(reverse("reports:refresh"), MARCH)
    assert response.status_code == 404
    assert manager_get_is_refused(area, login) == 405


def manager_get_is_refused(area, login):
    client = login(MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user)
    return client.get(reverse("reports:refresh")).status_code
