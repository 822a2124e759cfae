"""The follow-up pages for the three personas: alice (nurse, member), bob (home-help
coordinator, partner organisation in the same meeting), charlie (outsider, 404)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup.models import (
    Checkpoint,
    DecisionStatusChange,
    HealthCareUse,
    OutcomeMeasure,
)
from meetings.models import Decision, Meeting
from participants.models import AccessLog

from ..followup_fixtures import build_held

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(marea, meeting_in):
    return build_held(marea, meeting_in)


S = Meeting.State


def page_url(meeting):
    return reverse("followup:meeting", kwargs={"pk": meeting.pk})


def status_url(decision):
    return reverse("followup:decision_status", kwargs={"pk": decision.pk})


def status_post(decision, status="implemented", **extra):
    prefix = f"d{decision.pk}"
    data = {f"{prefix}-status": status, f"{prefix}-date": timezone.localdate().isoformat()}
    return data | {f"{prefix}-{k}": v for k, v in extra.items()}


# --- The follow-up page ---


def test_member_sees_page_with_a_form_for_own_decisions_only(marea, held, login):
    response = login(marea.nurse).get(page_url(held.meeting))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{status_url(held.nurse_decision)}"' in html
    assert f'action="{status_url(held.help_decision)}"' not in html
    assert "Samma personal vid dusch" in html  # sees the partner's decision
    assert AccessLog.objects.filter(
        user=marea.nurse, action="view", object_id=str(held.meeting.pk)
    ).exists()


def test_partner_sees_every_decision_and_reports_only_its_own(marea, held, login):
    response = login(marea.coordinator).get(page_url(held.meeting))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Läkemedelsgenomgång och ny dosett" in html
    assert f'action="{status_url(held.help_decision)}"' in html
    assert f'action="{status_url(held.nurse_decision)}"' not in html


def test_outsider_gets_404_everywhere(marea, held, login):
    client = login(marea.outsider)
    meeting = held.meeting
    urls = [
        page_url(meeting),
        status_url(held.nurse_decision),
        reverse("followup:checkpoint", args=[meeting.pk, "two_weeks"]),
        reverse("followup:health_care_use", args=[meeting.pk, "before"]),
        reverse("followup:outcome", args=[meeting.pk, "after"]),
        reverse("followup:new_meeting", args=[meeting.pk]),
        reverse("followup:person_measures", args=[meeting.person_id]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    assert not DecisionStatusChange.objects.exists()


def test_anonymous_is_sent_to_login(held, client):
    response = client.get(page_url(held.meeting))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_page_before_the_meeting_is_held_says_so(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    response = login(marea.nurse).get(page_url(meeting))
    assert response.status_code == 200
    assert 'class="alert alert-info"' in response.content.decode()
    assert "status-form" not in response.content.decode()


def test_unknown_kind_period_or_timepoint_is_404(marea, held, login):
    client = login(marea.nurse)
    for url in (
        reverse("followup:checkpoint", args=[held.meeting.pk, "three_weeks"]),
        reverse("followup:health_care_use", args=[held.meeting.pk, "during"]),
        reverse("followup:outcome", args=[held.meeting.pk, "someday"]),
    ):
        assert client.get(url).status_code == 404


# --- Reporting a status ---


def test_member_reports_a_status(marea, held, login):
    client = login(marea.nurse)
    response = client.post(status_url(held.nurse_decision), status_post(held.nurse_decision))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#decision-{held.nurse_decision.pk}")
    assert DecisionStatusChange.objects.get().status == "implemented"
    html = client.get(page_url(held.meeting)).content.decode()
    assert "status-implemented" in html


def test_partner_post_on_anothers_decision_is_refused_with_a_message(marea, held, login):
    client = login(marea.coordinator)
    response = client.post(status_url(held.nurse_decision), status_post(held.nurse_decision))
    assert response.status_code == 200
    assert "Hemsjukvården Åby" in response.content.decode()
    assert not DecisionStatusChange.objects.exists()
    # GET shows the history, no form.
    html = client.get(status_url(held.nurse_decision)).content.decode()
    assert 'name="d' not in html


def test_invalid_status_keeps_the_typed_note(marea, held, login):
    client = login(marea.nurse)
    data = status_post(held.nurse_decision, status="finished", note="Väntar på apoteket")
    data[f"d{held.nurse_decision.pk}-date"] = "2026-02-30"
    response = client.post(status_url(held.nurse_decision), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Väntar på apoteket" in html
    assert html.count("invalid-feedback") >= 2  # status and date, each next to its field
    assert not DecisionStatusChange.objects.exists()


def test_status_date_in_the_future_is_a_field_error(marea, held, login):
    data = status_post(held.nurse_decision)
    data[f"d{held.nurse_decision.pk}-date"] = (
        timezone.localdate() + dt.timedelta(days=2)
    ).isoformat()
    response = login(marea.nurse).post(status_url(held.nurse_decision), data)
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()


# --- Checkpoints ---


def test_checkpoint_lists_missing_reports_and_refuses_until_done(marea, held, login):
    client = login(marea.coordinator)
    url = reverse("followup:checkpoint", args=[held.meeting.pk, "two_weeks"])
    html = client.get(url).content.decode()
    assert "Kvällsbesök för mat" in html and "alert-warning" in html
    data = {
        "person_situation": "at_home",
        "home_help_hours_before": "11,6",
        "home_help_hours_after": "16,9",
        "note": "Allt lugnt",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saknas fortfarande (3): Biståndsenheten Åby: Kvällsbesök för mat" in html
    assert 'value="16,9"' in html  # what the user typed is kept
    assert not Checkpoint.objects.exists()

    for decision, actor in (
        (held.nurse_decision, marea.nurse),
        (held.help_decision, marea.coordinator),
        (held.assessor_decision, marea.assessor),
    ):
        login(actor).post(status_url(decision), status_post(decision, "in_progress"))
    assert DecisionStatusChange.objects.count() == 3
    client = login(marea.coordinator)
    response = client.post(url, data)
    assert response.status_code == 302
    checkpoint = Checkpoint.objects.get()
    assert str(checkpoint.home_help_hours_before) == "11.6"
    assert str(checkpoint.home_help_hours_after) == "16.9"


def test_checkpoint_hours_out_of_range_is_a_field_error(marea, meeting_in, login):
    meeting = meeting_in(S.HELD)
    url = reverse("followup:checkpoint", args=[meeting.pk, "two_weeks"])
    response = login(marea.nurse).post(
        url, {"person_situation": "at_home", "home_help_hours_after": "200"}
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert not Checkpoint.objects.exists()


# --- Health care use ---


def test_health_care_use_by_nurse_not_by_partner(marea, held, login):
    url = reverse("followup:health_care_use", args=[held.meeting.pk, "before"])
    data = {"months": "6", "hospital_admissions": "2", "emergency_visits": "4"}
    response = login(marea.coordinator).post(url, data)
    assert response.status_code == 200
    assert not HealthCareUse.objects.exists()
    response = login(marea.nurse).post(url, data)
    assert response.status_code == 302
    assert HealthCareUse.objects.get().emergency_visits == 4
    response = login(marea.nurse).post(url, data | {"months": "abc"})
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()


# --- Outcome measures ---

ANSWERS = {
    "date": "",
    "mobility": "2",
    "self_care": "1",
    "usual_activities": "2",
    "pain_discomfort": "3",
    "anxiety_depression": "2",
    "eq5d_vas": "55",
    "stai_calm": "3",
    "stai_tense": "2",
    "stai_upset": "1",
    "stai_relaxed": "3",
    "stai_content": "2",
    "stai_worried": "3",
}


def test_outcome_form_shows_swedish_statements(marea, held, login):
    url = reverse("followup:outcome", args=[held.meeting.pk, "after"])
    html = login(marea.nurse).get(url).content.decode()
    assert "Jag går utan svårigheter" in html
    assert "Jag är i högsta grad orolig eller nedstämd" in html
    assert "Jag känner mig lugn" in html
    assert "Ganska mycket" in html
    assert html.count('type="radio"') == 5 * 3 + 6 * 4


def test_outcome_entered_by_partner_stores_the_index(marea, held, login):
    url = reverse("followup:outcome", args=[held.meeting.pk, "after"])
    data = ANSWERS | {"date": timezone.localdate().isoformat()}
    response = login(marea.coordinator).post(url, data)
    assert response.status_code == 302
    row = OutcomeMeasure.objects.get()
    assert (str(row.eq5d_index), row.eq5d_value_set, row.stai6_sum) == (
        "0.088",
        "UK TTO (Dolan 1997)",
        13,
    )


def test_outcome_missing_answers_are_field_errors_and_input_kept(marea, held, login):
    url = reverse("followup:outcome", args=[held.meeting.pk, "after"])
    data = ANSWERS | {"date": timezone.localdate().isoformat(), "eq5d_vas": "77"}
    del data["mobility"]
    data["stai_worried"] = "7"
    response = login(marea.nurse).post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_mobility-error"' in html
    assert 'id="id_stai_worried-error"' in html
    assert 'value="77"' in html
    assert re.search(r'value="2" id="id_self_care_1"|value="1" id="id_self_care_0" checked', html)
    assert not OutcomeMeasure.objects.exists()


def test_could_not_answer_needs_a_reason(marea, held, login):
    url = reverse("followup:outcome", args=[held.meeting.pk, "two_months"])
    client = login(marea.nurse)
    data = {"date": timezone.localdate().isoformat(), "could_not_answer": "on"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'id="id_no_answer_reason"' in response.content.decode()
    assert not OutcomeMeasure.objects.exists()
    response = client.post(url, data | {"no_answer_reason": "hospital_stay"})
    assert response.status_code == 302
    assert OutcomeMeasure.objects.get().no_answer_reason == "hospital_stay"


def test_person_measures_page_has_chart_and_table(marea, held, login):
    from followup import services

    services.outcome_record(
        actor=marea.nurse, meeting=held.meeting, timepoint="after", date=timezone.localdate(),
        eq5d=dict.fromkeys(("mobility", "self_care", "usual_activities", "pain_discomfort",
                            "anxiety_depression"), 1),
        vas=80, stai=dict.fromkeys(("calm", "tense", "upset", "relaxed", "content", "worried"), 2),
    )  # fmt: skip
    for user in (marea.nurse, marea.coordinator):
        response = login(user).get(reverse("followup:person_measures", args=[marea.person.pk]))
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count("<svg") == 3
        assert "chart-table" in html
        assert ' style="' not in html.split("<main", 1)[1]


# --- A new meeting from the follow-up ---


def test_new_meeting_form_is_prefilled_and_creates_a_linked_meeting(marea, held, login):
    client = login(marea.nurse)
    url = reverse("followup:new_meeting", args=[held.meeting.pk])
    html = client.get(url).content.decode()
    assert re.search(r'value="not_eating" id="reason-not_eating" checked', html)
    assert "Har gått ner 4 kg" in html
    response = client.post(
        url,
        {
            "organisation": marea.health_care.pk,
            "reasons": ["not_eating", "passive"],
            "reason_text": "Fortsatt viktnedgång",
            "raised_by": "nurse",
            "urgency": "soon",
            "kind": "full",
        },
    )
    new = Meeting.objects.get(previous_meeting=held.meeting)
    assert response.status_code == 302
    assert response["Location"] == reverse("meeting_detail", kwargs={"pk": new.pk})
    assert sorted(new.reasons.values_list("code", flat=True)) == ["not_eating", "passive"]


# --- My open decisions ---


def test_my_decisions_per_persona(marea, held, login):
    url = reverse("followup:my_decisions")
    html = login(marea.coordinator).get(url).content.decode()
    assert "Samma personal vid dusch" in html
    assert "Läkemedelsgenomgång" not in html
    html = login(marea.outsider).get(url).content.decode()
    assert "Samma personal" not in html and "Läkemedelsgenomgång" not in html


def test_my_decisions_marks_overdue_first(marea, held, login):
    Decision.objects.filter(pk=held.help_decision.pk).update(
        due_date=timezone.localdate() - dt.timedelta(days=1)
    )
    html = login(marea.coordinator).get(reverse("followup:my_decisions")).content.decode()
    assert "decision-overdue" in html


def test_nav_links_to_my_decisions(marea, login):
    html = login(marea.nurse).get(reverse("home")).content.decode()
    assert reverse("followup:my_decisions") in html


# --- Query counts ---


def _bulk_decisions(marea, meeting, n):
    decisions = Decision.objects.bulk_create(
        Decision(
            meeting=meeting,
            organisation=[marea.health_care, marea.home_help, marea.assessment][i % 3],
            category="health_care",
            description=f"Beslut {i}",
            responsible=[marea.nurse, marea.coordinator, marea.assessor][i % 3],
            due_date=timezone.localdate() - dt.timedelta(days=i % 5),
            person_answer="accepts",
            created_by=marea.nurse,
        )
        for i in range(n)
    )
    DecisionStatusChange.objects.bulk_create(
        DecisionStatusChange(
            decision=d, status=status, date=timezone.localdate(), reported_by=marea.nurse
        )
        for d in decisions
        for status in ("not_started", "in_progress")
    )


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_page_query_count_is_the_same_for_10_and_100_decisions(
    marea, meeting_in, login, django_assert_max_num_queries
):
    small, large = meeting_in(S.HELD), meeting_in(S.CLOSED)
    _bulk_decisions(marea, small, 10)
    _bulk_decisions(marea, large, 100)
    client = login(marea.nurse)
    assert _count(client, page_url(small)) == _count(client, page_url(large))
    with django_assert_max_num_queries(16):
        response = client.get(page_url(large))
    assert response.content.decode().count("decision-row") == 100


def test_worklist_query_count_10_and_100(marea, meeting_in, login, django_assert_max_num_queries):
    meeting = meeting_in(S.HELD)
    client = login(marea.nurse)
    _bulk_decisions(marea, meeting, 10)
    ten = _count(client, reverse("followup:my_decisions"))
    _bulk_decisions(marea, meeting, 90)
    hundred = _count(client, reverse("followup:my_decisions"))
    assert ten == hundred
    with django_assert_max_num_queries(8):
        client.get(reverse("followup:my_decisions"))
