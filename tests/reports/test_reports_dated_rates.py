"""Every standard time and rate is the organisation's own and applies from a day (issue 20):
a meeting is costed with the values in force on the day it was held, so a new rate does not
rewrite earlier figures; the nurse's convening time is one of those standards."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from meetings.models import Meeting
from participants.models import Role
from reports import services, tallies
from reports.costs import CostModel
from reports.exports import MEETING_COLUMN_KEYS, meeting_rows
from reports.figures import Period
from reports.models import CostSettings, HourlyRate, TallyMark

from ..factories import MembershipFactory
from ..reports_data import computed, make_meeting, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

SEED_MEAN = 3823.96  # seed 000: 30,591.67 SEK for eight meetings
DEFAULT_RATES = {
    Role.PHYSICIAN: (Decimal(790), 60),
    Role.NURSE: (Decimal(385), 0),
    Role.ASSISTANT_NURSE: (Decimal(385), 0),
    Role.NEEDS_ASSESSOR: (Decimal(420), 10),
    Role.HOME_HELP_COORDINATOR: (Decimal(300), 10),
    Role.CONTACT_PERSON: (Decimal(300), 0),
}
DEFAULT_SETTINGS = {
    "meeting_minutes": 60,
    "travel_minutes": 30,
    "convening_minutes": 20,
    "physician_contact_sek": Decimal(1200),
    "other_contact_sek": Decimal(600),
    "hospital_stay_sek": Decimal(34000),
}


@pytest.fixture
def rarea():
    return report_area()


def _set(area, day, *, physician=None, convening=None, actor=None):
    rates = dict(DEFAULT_RATES)
    if physician is not None:
        rates[Role.PHYSICIAN] = (Decimal(physician), 60)
    settings = dict(DEFAULT_SETTINGS)
    if convening is not None:
        settings["convening_minutes"] = convening
    actor = actor or MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user
    services.cost_settings_update(
        actor=actor,
        organisation=area.health_care,
        valid_from=day,
        rates=rates,
        settings=settings,
    )


def _physician_meeting(area, day):
    hc = area.health_care
    return make_meeting(
        area,
        initiated=day - dt.timedelta(days=10),
        held=day,
        staff=[(area.physician, hc, Role.PHYSICIAN, True, "")],
    )


def test_a_new_rate_applies_from_its_day_and_leaves_earlier_months_alone(rarea):
    seed_000_meetings(rarea, dt.date(2026, 3, 2))
    seed_000_meetings(rarea, dt.date(2026, 4, 2))
    march, april = (
        Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
        Period(dt.date(2026, 4, 1), dt.date(2026, 4, 30)),
    )
    assert computed(march).summary["mean_cost_sek"] == pytest.approx(SEED_MEAN, abs=0.01)
    _set(rarea, dt.date(2026, 4, 1), physician=1000)
    # Physician: 150 minutes a meeting, 210 SEK/h more from April.
    assert computed(march).summary["mean_cost_sek"] == pytest.approx(SEED_MEAN, abs=0.01)
    assert computed(april).summary["mean_cost_sek"] == pytest.approx(
        SEED_MEAN + 2.5 * 210, abs=0.01
    )
    both = computed(Period(dt.date(2026, 3, 1), dt.date(2026, 4, 30)))
    assert both.summary["mean_cost_sek"] == pytest.approx(SEED_MEAN + 2.5 * 210 / 2, abs=0.01)
    months = {row["month"].month: row["mean_cost_sek"] for row in both.tables["by_month"].rows}
    assert months[3] == pytest.approx(SEED_MEAN, abs=0.01)
    assert months[4] == pytest.approx(SEED_MEAN + 525, abs=0.01)


def test_a_rate_from_the_middle_of_a_month_cuts_that_month_at_its_day(rarea):
    _physician_meeting(rarea, dt.date(2026, 3, 10))
    _physician_meeting(rarea, dt.date(2026, 3, 20))
    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    # 150 minutes at 790
    assert computed(march).summary["total_cost_sek"] == pytest.approx(2 * 1975.0)
    TallyMark.objects.all().delete()
    _set(rarea, dt.date(2026, 3, 15), physician=600)
    # the month is marked to be cut again at the new day
    assert list(TallyMark.objects.values_list("month", flat=True)) == [dt.date(2026, 3, 1)]
    report = computed(march)
    assert report.summary["total_cost_sek"] == pytest.approx(1975.0 + 1500.0)
    # the meeting-by-meeting export prices each meeting on its own day too
    rows = list(meeting_rows(Meeting.objects.order_by("pk"), rarea.health_care))
    cost = MEETING_COLUMN_KEYS.index("cost_sek")
    assert [float(r[cost]) for r in rows[1:]] == [1975.0, 1500.0]


def test_the_convening_time_is_a_standard_of_the_conveners_organisation(rarea):
    seed_000_meetings(rarea, dt.date(2026, 3, 2))
    march = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    minutes = {r["role"]: r for r in computed(march).tables["minutes"].rows}
    # 20 minutes for all eight meetings, also the two the nurse did not attend
    assert minutes[Role.NURSE.label]["convening_total"] == 160
    _set(rarea, dt.date(2026, 1, 1), convening=35)
    report = computed(march)
    assert report.summary["mean_cost_sek"] == pytest.approx(SEED_MEAN + 15 * 385 / 60, abs=0.01)
    minutes = {r["role"]: r for r in report.tables["minutes"].rows}
    assert minutes[Role.NURSE.label]["convening_total"] == 8 * 35
    # a time recorded for one meeting replaces the standard for that meeting
    Meeting.objects.filter(pk=Meeting.objects.order_by("pk").first().pk).update(convening_minutes=5)
    minutes = {r["role"]: r for r in computed(march).tables["minutes"].rows}
    assert minutes[Role.NURSE.label]["convening_total"] == 7 * 35 + 5


def test_the_cost_model_picks_the_set_in_force_on_a_day(rarea):
    org = rarea.health_care.pk
    _set(rarea, dt.date(2026, 2, 1), physician=800, convening=25)
    _set(rarea, dt.date(2026, 6, 1), physician=900, convening=30)
    costs = CostModel.load()
    assert costs.hourly_rate(org, Role.PHYSICIAN, dt.date(2026, 1, 31)) == 790  # default
    assert costs.hourly_rate(org, Role.PHYSICIAN, dt.date(2026, 2, 1)) == 800
    assert costs.hourly_rate(org, Role.PHYSICIAN, dt.date(2026, 5, 31)) == 800
    assert costs.hourly_rate(org, Role.PHYSICIAN, dt.date(2026, 6, 1)) == 900
    assert costs.convening(org, None, dt.date(2026, 3, 1)) == 25
    assert costs.convening(org, 12, dt.date(2026, 3, 1)) == 12
    assert costs.change_dates(org) == [dt.date(2026, 2, 1), dt.date(2026, 6, 1)]
    # saving again for the same day corrects that set instead of adding one
    _set(rarea, dt.date(2026, 6, 1), physician=950)
    assert CostSettings.objects.filter(organisation_id=org).count() == 2
    assert HourlyRate.objects.filter(organisation_id=org, role=Role.PHYSICIAN).count() == 2
    assert CostModel.load().hourly_rate(org, Role.PHYSICIAN, dt.date(2026, 7, 1)) == 950


def _post(**overrides):
    data = {"valid_from": "2026-04-01", **{k: str(v) for k, v in DEFAULT_SETTINGS.items()}}
    for role, (rate, prep) in DEFAULT_RATES.items():
        data[f"rate_{role}"], data[f"preparation_{role}"] = str(rate), str(prep)
    data.update(overrides)
    return data


def test_the_rates_page_saves_a_dated_set_and_lists_the_sets(rarea, login):
    manager = MembershipFactory(organisation=rarea.health_care, role=Role.MANAGER).user
    client = login(manager)
    url = reverse("reports:rates", args=[rarea.health_care.pk])
    page = client.get(url).content.decode()
    assert 'name="valid_from"' in page and 'name="convening_minutes"' in page
    assert 'value="20"' in page  # the convening standard of seed 000, changeable
    response = client.post(url, _post(convening_minutes="25", rate_nurse="400"))
    assert response.status_code == 302
    listed = client.get(url).content.decode()
    assert "1 april 2026" in listed
    # the set of a day is shown for correcting it
    corrected = client.get(url, {"on": "2026-04-01"}).content.decode()
    assert 'value="25"' in corrected and 'value="400' in corrected
    assert 'value="2026-04-01"' in corrected
    refused = client.post(url, _post(valid_from="1999-12-31", convening_minutes="x"))
    assert refused.status_code == 200
    assert set(refused.context["form"].errors) == {"valid_from", "convening_minutes"}
    assert CostSettings.objects.filter(organisation=rarea.health_care).count() == 1


def test_migrated_rows_apply_from_the_start(rarea):
    """Rows from before rates were dated apply from the start: earlier figures stay."""
    HourlyRate.objects.create(
        organisation=rarea.health_care,
        role=Role.PHYSICIAN,
        sek_per_hour=Decimal(600),
        preparation_minutes=0,
    )
    CostSettings.objects.create(organisation=rarea.health_care, meeting_minutes=30)
    _physician_meeting(rarea, dt.date(2015, 3, 10))
    tallies.fold()
    report = computed(Period(dt.date(2015, 3, 1), dt.date(2015, 3, 31)))
    # (0 + 30 + 30) minutes at 600
    assert report.summary["total_cost_sek"] == pytest.approx(600.0)
