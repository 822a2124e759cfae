"""Who sees which report, and what the dashboard shows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from meetings.models import Meeting
from participants.models import Role
from reports import tallies
from reports.selectors import STEERING_GROUP
from reports.suppression import SUPPRESSED

from ..factories import MembershipFactory, OrganisationFactory, RelativeFactory, UserFactory
from ..reports_data import bulk_meetings, make_meeting, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

URL = reverse("reports:dashboard")
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def rarea():
    area = report_area()
    seed_000_meetings(area, dt.date(2026, 3, 2))
    tallies.fold()  # as the "reports-fold" task does within REPORTS_FOLD_SECONDS
    return area


@pytest.fixture
def people(rarea):
    """Managers of the health care unit (own), of the home-help provider (a partner in the
    same meetings) and of an unrelated organisation; the steering group; care staff."""
    elsewhere = OrganisationFactory(name="Hemsjukvården Väst")
    return {
        "own": MembershipFactory(organisation=rarea.health_care, role=Role.MANAGER).user,
        "partner": MembershipFactory(organisation=rarea.home_help, role=Role.MANAGER).user,
        "outsider": MembershipFactory(organisation=elsewhere, role=Role.MANAGER).user,
        "steering": MembershipFactory(organisation=rarea.assessment, role=STEERING_GROUP).user,
        "admin": MembershipFactory(organisation=rarea.health_care, role=Role.ORG_ADMIN).user,
        "nurse": rarea.nurses[0],
    }


def _get(login, user, **params):
    tallies.fold()
    return login(user).get(URL, {**MARCH, **params})


def test_manager_sees_own_organisation_figures(rarea, people, login):
    response = _get(login, people["own"], organisation=rarea.health_care.pk)
    assert response.status_code == 200
    report = response.context["report"]
    assert report.organisation == rarea.health_care
    assert report.summary["meetings_held"] == 8
    assert report.summary["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)
    assert round(report.summary["municipal_cost_share"] * 100) == 34
    assert not report.suppressed
    # Tables by organisation show the manager's own organisation only.
    rows = report.tables["cost_by_organisation"].rows
    assert [r["organisation"] for r in rows] == [rarea.health_care.name]
    html = response.content.decode()
    assert "3\xa0824" in html or "3 824" in html
    assert "<svg" in html and "style=" not in html


def test_manager_without_choosing_gets_own_organisation(rarea, people, login):
    assert _get(login, people["own"]).context["report"].organisation == rarea.health_care
    assert _get(login, people["admin"]).context["report"].organisation == rarea.health_care


def test_partner_and_outsider_managers_get_404_for_another_organisation(rarea, people, login):
    for who in ("partner", "outsider"):
        response = _get(login, people[who], organisation=rarea.health_care.pk)
        assert response.status_code == 404
    # Their own figures: home help took part in (or initiated) all 8, the outsider none.
    assert _get(login, people["partner"]).context["report"].summary["meetings_held"] == 8
    assert _get(login, people["outsider"]).context["report"].summary["meetings_held"] == 0


@pytest.mark.parametrize("bad", ["abc", "999999", "-1", "1e9", "99999999999999999999999"])
def test_bad_organisation_ids_answer_404(rarea, people, login, bad):
    assert _get(login, people["own"], organisation=bad).status_code == 404
    assert _get(login, people["steering"], organisation=bad).status_code == 404


def test_care_staff_and_relatives_get_404(rarea, people, login):
    assert _get(login, people["nurse"]).status_code == 404
    relative = RelativeFactory(user=UserFactory())
    assert _get(login, relative.user).status_code == 404
    assert (
        login(people["nurse"]).get(reverse("reports:export", args=["figures", "csv"])).status_code
        == 404
    )


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_steering_group_sees_all_in_aggregate_with_small_cells_suppressed(rarea, people, login):
    # February and March: all eight initiatives and meetings.
    response = _get(login, people["steering"], date_from="2026-02-01")
    assert response.status_code == 200
    report = response.context["report"]
    assert report.suppressed and report.organisation is None
    # Eight persons had a meeting: the totals are shown.
    assert report.summary["meetings_held"] == 8
    assert report.summary["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)
    # Two meetings initiated by home help (2 persons): suppressed, and one more cell of the
    # column with it, so the hidden one cannot be worked out from the total.
    initiators = report.tables["initiators"].rows
    assert {r["meetings"] for r in initiators} == {SUPPRESSED}
    relatives = {r["relatives"]: r["meetings"] for r in report.tables["relatives"].rows}
    assert relatives == dict.fromkeys(["0", "1", "2", "3+"], SUPPRESSED)
    reasons = {r["code"]: r["meetings"] for r in report.tables["reasons"].rows}
    assert reasons["not_eating"] == 8
    assert reasons["repeated_falls"] == 0  # zero says nothing about anyone
    html = response.content.decode()
    assert '<dd data-key="meetings_held">8</dd>' in html
    assert '<td class="text-end">&lt;5</td>' in html
    # Any organisation, in aggregate, also suppressed.
    one = _get(login, people["steering"], organisation=rarea.home_help.pk)
    assert one.status_code == 200 and one.context["report"].suppressed


def test_steering_group_summary_under_five_persons_is_suppressed(people, login, rarea):
    response = login(people["steering"]).get(
        URL, {"date_from": "2026-03-02", "date_to": "2026-03-05"}
    )
    summary = response.context["report"].summary
    assert summary["meetings_held"] == SUPPRESSED  # two meetings, two persons
    assert summary["mean_cost_sek"] == SUPPRESSED


def test_bad_period_shows_the_error_next_to_the_field(rarea, people, login):
    response = login(people["own"]).get(URL, {"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert response.status_code == 200
    assert "report" not in response.context
    assert response.context["form"].errors["date_to"]
    assert 'value="2026-03-31"' in response.content.decode()
    response = login(people["own"]).get(URL, {"date_from": "yesterday", "date_to": "9999-99-99"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"date_from", "date_to"}


def test_nav_link_only_for_those_who_see_reports(rarea, people, login):
    # A manager's start page is the reports (and the navigation links to them).
    page = login(people["own"]).get(reverse("home"), follow=True)
    assert page.redirect_chain[-1][0] == URL
    assert f'href="{URL}"' in page.content.decode()
    assert URL not in login(people["nurse"]).get(reverse("home")).content.decode()


def test_dashboard_query_count_does_not_grow_with_meetings(rarea, people, login):
    client = login(people["own"])
    params = {
        "date_from": "2025-01-01",
        "date_to": "2025-12-31",
        "organisation": rarea.health_care.pk,
    }
    bulk_meetings(rarea, 10, dt.date(2025, 1, 5))
    tallies.fold()
    client.get(URL, params)  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(URL, params).status_code == 200
    bulk_meetings(rarea, 290, dt.date(2025, 2, 5))
    tallies.fold()
    with CaptureQueriesContext(connection) as large:
        response = client.get(URL, params)
    assert response.context["report"].summary["meetings_held"] == 300
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(large.captured_queries) <= 40


def test_steering_dashboard_query_count_is_bounded(
    rarea, people, login, django_assert_max_num_queries
):
    client = login(people["steering"])
    client.get(URL, MARCH)
    with django_assert_max_num_queries(40):
        client.get(URL, MARCH)


def test_meeting_counts_on_the_dashboard(rarea, people, login):
    make_meeting(
        rarea,
        state=Meeting.State.CANCELLED,
        initiated=dt.date(2026, 3, 1),
        ended=dt.date(2026, 3, 4),
        cancel_reason="Personen är på sjukhus.",
    )
    summary = _get(login, people["own"]).context["report"].summary
    assert summary["meetings_cancelled"] == 1


# --- Hourly rates ---


def test_rates_page_by_persona(rarea, people, login):
    url = reverse("reports:rates", args=[rarea.health_care.pk])
    assert login(people["own"]).get(url).status_code == 200
    assert login(people["admin"]).get(url).status_code == 200
    for who in ("partner", "outsider", "steering", "nurse"):
        assert login(people[who]).get(url).status_code == 404, who


def _rates_post(**overrides):
    data = {
        "meeting_minutes": "60",
        "travel_minutes": "30",
        "physician_contact_sek": "1200",
        "other_contact_sek": "600",
        "hospital_stay_sek": "34000",
    }
    defaults = {
        "physician": ("790", "60"),
        "nurse": ("385", "0"),
        "assistant_nurse": ("385", "0"),
        "needs_assessor": ("420", "10"),
        "home_help_coordinator": ("300", "10"),
        "contact_person": ("300", "0"),
    }
    for role, (rate, prep) in defaults.items():
        data[f"rate_{role}"], data[f"preparation_{role}"] = rate, prep
    data.update(overrides)
    return data


def test_manager_changes_rates_and_the_report_follows(rarea, people, login):
    client = login(people["own"])
    url = reverse("reports:rates", args=[rarea.health_care.pk])
    page = client.get(url).content.decode()
    assert 'value="790' in page  # the defaults of seed 000 are shown
    response = client.post(url, _rates_post(rate_physician="1000"))
    assert response.status_code == 302
    summary = _get(login, people["own"]).context["report"].summary
    # Physician: 8 meetings x 150 minutes, now at 1000 instead of 790 SEK/h.
    assert summary["mean_cost_sek"] == pytest.approx(3823.96 + 2.5 * 210, abs=0.01)
    from participants.models import ChangeRecord

    assert ChangeRecord.objects.filter(object_type="reports.costsettings").exists()


def test_bad_rates_keep_what_was_typed(rarea, people, login):
    client = login(people["own"])
    url = reverse("reports:rates", args=[rarea.health_care.pk])
    response = client.post(url, _rates_post(rate_nurse="-5", travel_minutes="lots"))
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"rate_nurse", "travel_minutes"}
    html = response.content.decode()
    assert 'value="-5"' in html and 'value="lots"' in html
    assert login(people["partner"]).post(url, _rates_post()).status_code == 404


# --- Fresh figures from the month tallies ---


def test_the_dashboard_reads_the_tallies_and_shows_a_change_once_folded(
    rarea, people, login, django_capture_on_commit_callbacks
):
    client = login(people["own"])
    with CaptureQueriesContext(connection) as queries:
        first = client.get(URL, MARCH)
    assert first.context["report"].summary["meetings_held"] == 8
    # No request reads the meeting tables for a period of whole months.
    assert not [q["sql"] for q in queries.captured_queries if '"meetings_' in q["sql"]]
    assert "alla ändringar fram till nu" in first.content.decode()
    make_meeting(rarea, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 30))
    waiting = client.get(URL, MARCH)
    assert waiting.context["report"].summary["meetings_held"] == 8  # not folded yet
    assert waiting.context["waiting_since"] is not None
    tallies.fold()
    assert client.get(URL, MARCH).context["report"].summary["meetings_held"] == 9
    # Rates are applied when the figures are read: a change shows at once.
    before = client.get(URL, MARCH).context["report"].summary["total_cost_sek"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("reports:rates", args=[rarea.health_care.pk]), _rates_post(rate_nurse="500")
        )
    assert client.get(URL, MARCH).context["report"].summary["total_cost_sek"] > before
