"""Requests to the API: bad input is a 4xx OperationOutcome, never a 500; conditional
reads; the browser session of staff; query counts that do not grow with the page size."""

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_api.codes import PERSONNUMMER
from fhir_api.resources import TYPES
from fhir_api.views import GENERIC_PARAMS
from meetings.models import Meeting
from participants.models import AccessLog

from ..conftest import advance_meeting
from .conftest import another_person, bearer, home_help_decision, make_client

pytestmark = pytest.mark.django_db

BAD = [
    ("/fhir/R4/CarePlan?colour=blue", 400),
    ("/fhir/R4/CarePlan?status:not=active", 400),
    ("/fhir/R4/CarePlan?date=yesterday", 400),
    ("/fhir/R4/CarePlan?date=ne2026-01-01", 400),
    ("/fhir/R4/CarePlan?date=2026-13-45", 400),
    ("/fhir/R4/CarePlan?status=dancing", 400),
    ("/fhir/R4/CarePlan?_count=many", 400),
    ("/fhir/R4/CarePlan?_count=0", 400),
    ("/fhir/R4/CarePlan?_offset=-1", 400),
    ("/fhir/R4/CarePlan?_sort=status", 400),
    ("/fhir/R4/CarePlan?patient=Organization/1", 400),
    ("/fhir/R4/CarePlan?category=other", 400),
    ("/fhir/R4/Organization?_lastUpdated=gt2026-01-01", 400),
    ("/fhir/R4/Task?owner=Patient/1", 400),
    ("/fhir/R4/Task?owner=7", 400),
    ("/fhir/R4/CarePlan?_format=xml", 406),
    ("/fhir/R4/CarePlan/abc", 404),
    ("/fhir/R4/CarePlan/99999999999999999999", 404),
    ("/fhir/R4/CarePlan?patient=Patient/abc", 404),
    ("/fhir/R4/Medication", 404),
    ("/fhir/R4/Task/decision-", 404),
    ("/fhir/R4/Patient/1/_history", 404),
    ("/fhir/R4/Consent/1/_history/99", 404),
]


def test_bad_requests_get_an_operation_outcome(fhir_world):
    http = bearer(make_client(fhir_world.marea.home_help))
    for url, status in BAD:
        response = http.get(url)
        assert response.status_code == status, (url, response.status_code)
        body = response.json()
        assert body["resourceType"] == "OperationOutcome", url
        assert body["issue"][0]["severity"] == "error" and body["issue"][0]["diagnostics"]
    response = http.post(f"/fhir/R4/CarePlan/{fhir_world.held.pk}", {})
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


# Values that have made servers fail: dates past the year 9999 (the day after overflows),
# offsets past PostgreSQL's bigint, a NUL (PostgreSQL refuses it in a string), broken
# references and token systems, and text a date parser or an int() may choke on.
HOSTILE = [
    "", ",", "x", "-1", "0", "99999999999999999999999", "1e10", "NaN", "Patient/", "/",
    "a/b/c", "Organization/abc", "ge", "eq9999-12-31", "lt0001-01-01", "2026-02-30",
    "2026-01-01T25:00Z", "2026-01-01T10:00+25:00", "\x00", "é\u202e", "|", "x|y|z",
    f"{PERSONNUMMER}|", "decision-", "meeting-1", "*" * 300,
]  # fmt: skip

SEARCHES = [
    (name, param)
    for name, rtype in TYPES.items()
    for param in sorted(set(rtype.param_names) | GENERIC_PARAMS)
]


def test_hostile_values_of_every_parameter_get_a_4xx_not_a_500(fhir_world):
    """A table: every search parameter of every type with each hostile value (a 500
    raises here, through the test client). A few hundred requests."""
    http = bearer(make_client(fhir_world.marea.home_help))
    for index, (name, param) in enumerate(SEARCHES):
        # Each parameter gets a third of the table, and every value meets every kind of
        # parameter (the rotation), to keep the run short.
        for value in HOSTILE[index % 3 :: 3]:
            response = http.get(f"/fhir/R4/{name}", {param: value})
            allowed = (406,) if param == "_format" else (200, 400, 404)
            assert response.status_code in allowed, (name, param, value, response.status_code)
            if response.status_code != 200:
                assert response.json()["resourceType"] == "OperationOutcome", (name, param)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    search=st.sampled_from(SEARCHES),
    value=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30)),
    modifier=st.sampled_from(["", "", ":exact", ":missing", ":not"]),
)
def test_no_value_makes_a_500(fhir_world, search, value, modifier):
    name, param = search
    http = bearer(make_client(fhir_world.marea.home_help))
    response = http.get(f"/fhir/R4/{name}", {param + modifier: value})
    assert response.status_code in (200, 400, 404, 406), (name, param, value, response.content)
    assert response.json()["resourceType"] in ("Bundle", "OperationOutcome")


def test_hostile_ids_get_a_404_not_a_500(fhir_world):
    http = bearer(make_client(fhir_world.marea.home_help))
    for name in TYPES:
        for ident in ["0", "-", ".", "person-", "meeting-0", "decision-1.5", "x" * 64,
                      "checkpoint-99999999999999999999"]:  # fmt: skip
            for path in (ident, f"{ident}/_history", f"{ident}/_history/x"):
                response = http.get(f"/fhir/R4/{name}/{path}")
                assert response.status_code == 404, (name, path)
                assert response.json()["resourceType"] == "OperationOutcome"


def test_conditional_read_with_the_etag(fhir_world):
    http = bearer(make_client(fhir_world.marea.home_help))
    url = f"/fhir/R4/CarePlan/{fhir_world.held.pk}"
    first = http.get(url)
    etag = first["ETag"]
    assert etag == f'W/"{first.json()["meta"]["versionId"]}"'
    # Last-Modified is an HTTP date, the same instant as meta.lastUpdated (to the second).
    from email.utils import parsedate_to_datetime

    last_updated = dt.datetime.fromisoformat(first.json()["meta"]["lastUpdated"])
    assert parsedate_to_datetime(first["Last-Modified"]) == last_updated.replace(microsecond=0)
    again = http.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    # A new status report changes the plan: a new version, the old ETag no longer matches.
    from django.utils import timezone

    from followup import services as followup_services

    followup_services.decision_status_report(
        actor=fhir_world.marea.coordinator, decision=fhir_world.home_help_decision,
        status="implemented", date=timezone.localdate(),
    )  # fmt: skip
    changed = http.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # The look that answered 304 is in the access log too.
    assert AccessLog.objects.filter(object_type="fhir.careplan", action="view").count() == 3


def test_the_browser_session_of_staff(fhir_world, login):
    m = fhir_world.marea
    url = f"/fhir/R4/CarePlan/{fhir_world.held.pk}"
    assert login(m.coordinator).get(url).status_code == 200
    row = AccessLog.objects.filter(object_type="fhir.careplan").latest("pk")
    assert row.user_id == m.coordinator.pk and row.system_client_id is None
    assert login(m.outsider).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 401 and "Bearer" in anonymous["WWW-Authenticate"]


def test_after_withdrawal_each_organisation_sees_its_own_decisions_only(fhir_world):
    """A held meeting's consent withdrawn: as on the pages, each organisation keeps its own
    parts (its decisions in the plan); the others' are gone at once."""
    from meetings import services

    m = fhir_world.marea
    services.consent_withdraw(actor=m.nurse, meeting=fhir_world.held)
    http = bearer(make_client(m.home_help))
    plan = http.get(f"/fhir/R4/CarePlan/{fhir_world.held.pk}").json()
    descriptions = [a["detail"]["description"] for a in plan.get("activity", [])]
    assert descriptions == ["Kvällsbesök för mat"]
    assert plan.get("note") is None  # the health care's contingency agreement
    hidden = http.get(f"/fhir/R4/Task/decision-{fhir_world.health_care_decision.pk}")
    assert hidden.status_code == 404
    assert http.get(f"/fhir/R4/DocumentReference?patient={m.person.pk}").json().get("entry") is None


def _count_queries(http, url: str) -> tuple[int, int]:
    """(queries, entries) of a search."""
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
    assert response.status_code == 200
    return len(queries), len(response.json().get("entry", []))


def _followed_up(area, meeting, decisions, actor) -> None:
    """Status reports on every decision, the two-week checkpoint, outcome measures and a
    stored summary: a row of every type the API serves."""
    from django.utils import timezone

    from followup import services as followup_services
    from meetings import summary_services

    today = timezone.localdate()
    for decision in decisions:
        followup_services.decision_status_report(
            actor=actor, decision=decision, status="in_progress", date=today
        )
    followup_services.checkpoint_complete(
        actor=area.nurse, meeting=meeting, kind="two_weeks", person_situation="at_home"
    )
    followup_services.outcome_record(
        actor=area.nurse, meeting=meeting, timepoint="baseline", date=today,
        eq5d={"mobility": 1, "self_care": 1, "usual_activities": 2, "pain_discomfort": 2,
              "anxiety_depression": 1},
        vas=70, stai={"calm": 3, "tense": 2, "upset": 1, "relaxed": 3, "content": 3, "worried": 2},
    )  # fmt: skip
    summary_services.summary_store(meeting_id=meeting.pk, language="sv")


def test_query_counts_do_not_grow_with_the_page_size(fhir_world):
    m = fhir_world.marea
    _followed_up(m, fhir_world.held, [fhir_world.health_care_decision], m.physician)
    for name in ["Gösta", "Stina", "Nils", "Karin"]:
        area = another_person(m, name)
        meeting = advance_meeting(area, Meeting.State.HELD)
        decisions = [
            home_help_decision(area, meeting, f"Hjälp för {name}"),
            home_help_decision(area, meeting, f"Mer hjälp för {name}"),
        ]
        _followed_up(area, meeting, decisions, m.coordinator)
    http = bearer(make_client(m.home_help))
    # (search, a small page size): a page of a type with two sources (CareTeam: five
    # persons' teams, then five meetings'; Task: ten decisions, then five checkpoints)
    # holds rows of both at either size (each source on a page costs its own queries). The small
    # page is full and the large one holds more, so the counts compare pages that differ.
    for search, small_count in [
        ("Patient", 2), ("CarePlan", 2), ("Task?code=decision", 2),
        ("Task?code=checkpoint", 2), ("Task", 11), ("CareTeam", 6), ("Consent", 2),
        ("Encounter", 2), ("Appointment", 2), ("RelatedPerson", 2), ("Practitioner", 2),
        ("PractitionerRole", 2), ("Organization", 2), ("QuestionnaireResponse", 2),
        ("Observation", 2), ("DocumentReference", 2),
    ]:  # fmt: skip
        sep = "&" if "?" in search else "?"
        small, small_entries = _count_queries(http, f"/fhir/R4/{search}{sep}_count={small_count}")
        large, large_entries = _count_queries(http, f"/fhir/R4/{search}{sep}_count=50")
        assert small_entries == small_count < large_entries, (search, large_entries)
        assert small == large, (search, small, large)
        assert large <= 12, (search, large)
