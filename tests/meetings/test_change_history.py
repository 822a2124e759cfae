"""Change history (issue 8): every change of a meeting, its consents, invitations, decisions and
their follow-up leaves a ChangeRecord with the old and new values, and the history is shown on
the meeting page and on the decision's follow-up page to those who can see the object.

Personas: alice the nurse (member, convener), bob the home-help coordinator (partner in the same
meeting), charlie the outsider (404)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import services as followup_services
from meetings import services
from meetings.models import Consent, Decision, Meeting, Participant
from participants.models import ChangeRecord

from ..followup_fixtures import add_decision

pytestmark = pytest.mark.django_db
S = Meeting.State


def records(obj):
    return list(
        ChangeRecord.objects.filter(
            object_type=obj._meta.label_lower, object_id=str(obj.pk)
        ).order_by("at", "pk")
    )


def test_consent_records_keep_the_answer_they_replace(marea, meeting_in):
    meeting = meeting_in(S.CONSENT)
    first = Consent.objects.get(meeting=meeting)
    (created,) = records(first)
    assert created.user == marea.nurse and created.person == marea.person
    assert created.changes["share_information"] == [None, True]
    assert created.changes["relatives"] == [None, marea.relative.name]
    second = services.consent_record(
        actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=False,
        relatives=[], how="in_writing", given_at=timezone.now(),
    )  # fmt: skip
    (changed,) = records(second)
    assert changed.changes["share_information"] == [True, False]
    assert changed.changes["how"] == ["orally", "in_writing"]
    assert changed.changes["relatives"] == [marea.relative.name, ""]
    services.consent_withdraw(actor=marea.nurse, meeting=meeting, note="Vill inte längre.")
    withdrawal = records(second)[-1]
    assert withdrawal.action == "withdraw"
    assert withdrawal.changes == {
        "withdrawal_note": [None, "Vill inte längre."],
        "withdrawn": [False, True],
    }
    meeting_changes = records(meeting)
    assert meeting_changes[-1].changes["state"] == ["consent", "declined"]


def test_invitations_answers_attendance_and_minutes_have_old_and_new_values(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    invite = Participant.objects.get(meeting=meeting, user=marea.coordinator)
    services.participation_respond(
        actor=marea.coordinator, participant=invite, response="accepted", mode="video"
    )
    answer = records(invite)[-1]
    assert answer.changes["response"] == ["needs_action", "accepted"]
    assert answer.changes["mode"] == ["in_person", "video"]
    services.participant_set_mode(actor=marea.nurse, participant=invite, mode="phone")
    assert records(invite)[-1].changes == {"mode": ["video", "phone"]}
    relative = Participant.objects.get(meeting=meeting, relative=marea.relative)
    assert records(relative)[0].changes == {"relative": [None, marea.relative.name]}
    now = timezone.now()
    services.attendance_record(
        actor=marea.nurse, meeting=meeting, attendance={invite.pk: (False, "")},
        actual_start=now - dt.timedelta(hours=1), actual_end=now,
    )  # fmt: skip
    assert records(invite)[-1].changes == {"attended": [None, False]}
    services.participant_remove(actor=marea.nurse, participant=invite)
    assert records(invite)[-1].changes == {"removed": [False, True]}


def test_decision_change_and_status_reports_keep_old_values(marea, meeting_in):
    meeting = meeting_in(S.HELD)
    decision = add_decision(
        marea, meeting, actor=marea.coordinator, organisation=marea.home_help,
        description="Kvällsbesök", category="extended_home_help",
    )  # fmt: skip
    services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök varje dag",
        responsible=marea.coordinator, due_date=None, person_answer="thinking",
        decision=decision,
    )  # fmt: skip
    update = records(decision)[-1]
    assert update.changes["description"] == ["Kvällsbesök", "Kvällsbesök varje dag"]
    assert update.changes["person_answer"] == ["accepts", "thinking"]
    today = timezone.localdate()
    first = followup_services.decision_status_report(
        actor=marea.coordinator, decision=decision, status="in_progress", date=today
    )
    second = followup_services.decision_status_report(
        actor=marea.coordinator, decision=decision, status="implemented", date=today, note="Klart"
    )
    assert records(first)[0].changes["status"] == [None, "in_progress"]
    assert records(second)[0].changes["status"] == ["in_progress", "implemented"]
    assert records(second)[0].changes["note"] == ["", "Klart"]


def test_meeting_page_shows_the_history_to_member_and_partner_not_outsider(
    marea, meeting_in, login
):
    meeting = meeting_in(S.SCHEDULED)
    services.meeting_reschedule(
        actor=marea.nurse, meeting=meeting,
        starts_at=meeting.starts_at + dt.timedelta(days=1), location="<b>Dagcentralen</b>",
    )  # fmt: skip
    services.private_topic_add(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        raised_by="relative", text="Hemligt ämne om alkohol",
    )  # fmt: skip
    url = reverse("meeting_detail", kwargs={"pk": meeting.pk})
    for who in (marea.nurse, marea.coordinator):
        client = login(who)
        client.cookies["django_language"] = "en"
        closed = client.get(url).content.decode()
        # read only when asked for: a link on the page, the entries behind it
        assert "Show the change history" in closed and "Dagcentralen</ins>" not in closed
        html = client.get(url, {"history": "1"}).content.decode()
        assert "Change history" in html and "Show the change history" not in html
        # the new place, escaped, with the old (empty) value and who did it
        assert "<ins>&lt;b&gt;Dagcentralen&lt;/b&gt;</ins>" in html
        assert "<b>Dagcentralen</b>" not in html
        assert "Hemligt ämne" not in html.split("Change history")[1]  # never in the history
        # the invitations with their names, the answers with old and new values
        assert f"Participant: {marea.coordinator.get_full_name()}" in html
    assert login(marea.outsider).get(url).status_code == 404


def test_decision_follow_up_page_shows_decision_and_report_history(marea, meeting_in, login):
    meeting = meeting_in(S.HELD)
    decision = add_decision(
        marea, meeting, actor=marea.coordinator, organisation=marea.home_help,
        description="Samma personal vid dusch", category="adjusted_home_help",
    )  # fmt: skip
    followup_services.decision_status_report(
        actor=marea.coordinator, decision=decision, status="implemented",
        date=timezone.localdate(), note="<script>alert(1)</script>",
    )  # fmt: skip
    url = reverse("followup:decision_status", kwargs={"pk": decision.pk})
    client = login(marea.nurse)  # a partner: reads, does not report
    client.cookies["django_language"] = "en"
    html = client.get(url).content.decode()
    history = html.split("Change history")[1]
    assert "Samma personal vid dusch" in history
    assert "Implemented" in history
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in history
    assert "<script>alert(1)" not in html
    assert login(marea.outsider).get(url).status_code == 404


def test_history_query_count_does_not_grow_with_changes(
    marea, meeting_in, login, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from meetings import history

    meeting = meeting_in(S.HELD)
    with CaptureQueriesContext(connection) as small:
        entries = history.meeting_history(meeting)
    for i in range(10):
        add_decision(
            marea, meeting, actor=marea.coordinator, organisation=marea.home_help,
            description=f"Beslut {i}",
        )  # fmt: skip
    with CaptureQueriesContext(connection) as large:
        more = history.meeting_history(meeting)
    assert len(small.captured_queries) == len(large.captured_queries) == 1
    assert len(more) == len(entries) + 10
    assert more[0].what.endswith(": Beslut 9")
    assert Decision.objects.filter(meeting=meeting).count() == 10
