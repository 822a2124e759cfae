"""Every transition of the lifecycle, allowed and refused, through the services."""

import datetime as dt
import threading

import pytest
from django.utils import timezone, translation

from meetings import services
from meetings.models import (
    Consent,
    Meeting,
    OutboxMessage,
    Participant,
    StateChange,
)
from meetings.selectors import meetings_visible_to
from participants.models import AccessLog, ChangeRecord
from vom.errors import DomainError
from vom.timeutil import aware_local, same_local_time_days_before

from ..conftest import require_postgres

S = Meeting.State
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_messages():
    # The assertions match the English msgids; Swedish (the default) is translated now.
    with translation.override("en"):
        yield


def test_initiate_records_reasons_history_and_audit(marea, meeting_in):
    meeting = meeting_in(S.INITIATED)
    assert meeting.state == S.INITIATED
    assert sorted(meeting.reasons.values_list("code", flat=True)) == [
        "not_eating",
        "repeated_falls",
    ]
    assert meeting.initiator_role == "nurse"
    change = StateChange.objects.get(meeting=meeting)
    assert (change.from_state, change.to_state, change.by) == ("", S.INITIATED, marea.nurse)
    assert ChangeRecord.objects.filter(object_id=str(meeting.pk), action="create").exists()
    assert AccessLog.objects.filter(person=marea.person, action="create").exists()


def test_initiate_needs_a_reason(marea):
    with pytest.raises(DomainError) as exc:
        services.meeting_initiate(
            actor=marea.nurse, person=marea.person, organisation=marea.health_care, reasons=[],
            reason_text=" ", raised_by="nurse", urgency="routine", kind="full",
        )  # fmt: skip
    assert exc.value.field == "reasons"
    assert not Meeting.objects.exists()


def test_outsider_cannot_initiate(marea):
    from django.http import Http404

    with pytest.raises(Http404):
        services.meeting_initiate(
            actor=marea.outsider, person=marea.person, organisation=marea.outsider_org,
            reasons=["passive"], reason_text="", raised_by="nurse", urgency="routine", kind="full",
        )  # fmt: skip


def test_initiate_with_an_organisation_not_in_the_team_is_refused(marea):
    with pytest.raises(DomainError):
        services.meeting_initiate(
            actor=marea.nurse, person=marea.person, organisation=marea.home_help,
            reasons=["passive"], reason_text="", raised_by="nurse", urgency="routine", kind="full",
        )  # fmt: skip


def test_no_to_a_meeting_declines_it(meeting_in):
    meeting = meeting_in(S.DECLINED)
    assert meeting.state == S.DECLINED
    assert not meeting.shared
    assert meeting.ended_at is not None


def test_consent_shares_with_the_other_organisations(marea, meeting_in):
    meeting = meeting_in(S.INITIATED)
    assert not meetings_visible_to(marea.coordinator).filter(pk=meeting.pk).exists()
    assert not meetings_visible_to(marea.assessor).filter(pk=meeting.pk).exists()
    assert meetings_visible_to(marea.physician).filter(pk=meeting.pk).exists()  # convening side
    services.consent_record(
        actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[marea.relative], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    meeting.refresh_from_db()
    assert meeting.state == S.CONSENT and meeting.shared
    assert meetings_visible_to(marea.coordinator).filter(pk=meeting.pk).exists()
    assert not meetings_visible_to(marea.outsider).filter(pk=meeting.pk).exists()


def test_consent_without_sharing_keeps_it_inside(marea, meeting_in):
    meeting = meeting_in(S.INITIATED)
    services.consent_record(
        actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=False,
        relatives=[], how="in_writing", given_at=timezone.now(),
    )  # fmt: skip
    meeting.refresh_from_db()
    assert meeting.state == S.CONSENT and not meeting.shared
    assert not meetings_visible_to(marea.assessor).filter(pk=meeting.pk).exists()
    services.convening_start(actor=marea.nurse, meeting=meeting)
    with pytest.raises(DomainError, match="sharing"):
        services.participant_invite(
            actor=marea.nurse, meeting=meeting, user=marea.assessor,
            organisation=marea.assessment, role="needs_assessor",
        )  # fmt: skip
    # staff of the home health care side can still be invited
    services.participant_invite(
        actor=marea.nurse, meeting=meeting, user=marea.physician,
        organisation=marea.health_care, role="physician",
    )  # fmt: skip


def test_consent_by_representative_needs_a_name(marea, meeting_in):
    meeting = meeting_in(S.INITIATED)
    with pytest.raises(DomainError) as exc:
        services.consent_record(
            actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
            relatives=[], how="representative", given_at=timezone.now(),
        )  # fmt: skip
    assert exc.value.field == "representative_name"
    assert not Consent.objects.exists()


def test_consent_in_the_future_is_refused(marea, meeting_in):
    meeting = meeting_in(S.INITIATED)
    with pytest.raises(DomainError):
        services.consent_record(
            actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
            relatives=[], how="orally", given_at=timezone.now() + dt.timedelta(days=1),
        )  # fmt: skip


def test_relatives_of_another_person_cannot_be_chosen(marea, meeting_in):
    from ..factories import RelativeFactory

    meeting = meeting_in(S.INITIATED)
    with pytest.raises(DomainError):
        services.consent_record(
            actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
            relatives=[RelativeFactory()], how="orally", given_at=timezone.now(),
        )  # fmt: skip


def test_convening_proposes_the_care_team_and_names_missing_roles(marea, meeting_in):
    meeting = meeting_in(S.CONSENT)
    services.convening_start(actor=marea.nurse, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == S.CONVENING and meeting.convener == marea.nurse
    proposed = {e.member for e in services.proposed_invitees(meeting)}
    assert proposed == {marea.physician, marea.assessor, marea.coordinator, marea.contact}
    assert set(services.missing_standard_roles(meeting)) == {
        "physician", "needs_assessor", "home_help_coordinator", "contact_person",
    }  # fmt: skip
    kinds = set(meeting.participants.values_list("kind", flat=True))
    assert kinds == {"staff", "relative", "person"}  # convener, the chosen relative, the person


def test_only_a_home_health_clinician_starts_convening(marea, meeting_in):
    meeting = meeting_in(S.CONSENT)
    with pytest.raises(DomainError, match="Only"):
        services.convening_start(actor=marea.assessor, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == S.CONSENT


def test_schedule_sends_invitations_and_reminders_once(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    invitations = OutboxMessage.objects.filter(meeting=meeting, kind="invitation")
    addresses = set(invitations.values_list("to_address", flat=True))
    assert addresses == {
        marea.physician.email, marea.assessor.email, marea.coordinator.email,
        marea.contact.email, marea.relative.email,
    }  # fmt: skip
    reminders = OutboxMessage.objects.filter(meeting=meeting, kind="reminder_day_before")
    assert reminders.count() == 5
    assert all(r.due_at == same_local_time_days_before(meeting.starts_at, 1) for r in reminders)
    no_reply = OutboxMessage.objects.filter(meeting=meeting, kind="reminder_no_reply")
    assert no_reply.count() == 4  # staff only
    # sending again changes nothing
    services.invitations_send(actor=marea.nurse, meeting=meeting)
    assert OutboxMessage.objects.filter(meeting=meeting, kind="invitation").count() == 5


def test_schedule_twice_gives_one_result(marea, meeting_in):
    meeting = meeting_in(S.CONVENING)
    start = meeting.time_options.get().starts_at
    services.meeting_schedule(actor=marea.nurse, meeting=meeting, starts_at=start)
    with pytest.raises(DomainError):
        services.meeting_schedule(actor=marea.nurse, meeting=meeting, starts_at=start)
    assert StateChange.objects.filter(meeting=meeting, to_state=S.SCHEDULED).count() == 1


def test_schedule_in_the_past_is_refused(marea, meeting_in):
    meeting = meeting_in(S.CONVENING)
    with pytest.raises(DomainError) as exc:
        services.meeting_schedule(
            actor=marea.nurse, meeting=meeting, starts_at=timezone.now() - dt.timedelta(hours=1)
        )
    assert exc.value.field == "starts_at"


def test_time_options_limits(marea, meeting_in):
    meeting = meeting_in(S.CONSENT)
    services.convening_start(actor=marea.nurse, meeting=meeting)
    soon = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(DomainError):
        services.time_options_set(actor=marea.nurse, meeting=meeting, options=[])
    with pytest.raises(DomainError):
        services.time_options_set(
            actor=marea.nurse, meeting=meeting,
            options=[soon + dt.timedelta(hours=h) for h in range(4)],
        )  # fmt: skip
    with pytest.raises(DomainError):
        services.time_options_set(
            actor=marea.nurse, meeting=meeting, options=[timezone.now() - dt.timedelta(days=1)]
        )
    options = services.time_options_set(
        actor=marea.nurse, meeting=meeting, options=[soon, soon + dt.timedelta(days=1)]
    )
    assert len(options) == 2


def test_dst_gap_and_overlap_are_refused():
    with pytest.raises(DomainError, match="does not exist"):
        aware_local(dt.datetime(2027, 3, 28, 2, 30))
    with pytest.raises(DomainError, match="twice"):
        aware_local(dt.datetime(2027, 10, 31, 2, 30))
    ok = aware_local(dt.datetime(2027, 3, 28, 10, 0))
    assert ok.utcoffset() == dt.timedelta(hours=2)


def test_day_before_reminder_keeps_local_time_across_dst():
    # Meeting Monday 29 March 2027 10:00 (summer time); reminder Sunday 28 March 10:00 (also
    # summer time, the clocks changed at 02:00 that night) and Saturday would be winter time.
    meeting_start = aware_local(dt.datetime(2027, 3, 29, 10, 0))
    reminder = same_local_time_days_before(meeting_start, 1)
    local = timezone.localtime(reminder)
    assert (local.day, local.hour, local.minute) == (28, 10, 0)
    two_days = timezone.localtime(same_local_time_days_before(meeting_start, 2))
    assert (two_days.day, two_days.hour) == (27, 10)
    # Aware datetimes in the same zone subtract as wall time in Python: compare in UTC.
    utc = dt.UTC
    assert meeting_start.astimezone(utc) - reminder.astimezone(utc) == dt.timedelta(hours=24)
    two_days_utc = same_local_time_days_before(meeting_start, 2).astimezone(utc)
    assert meeting_start.astimezone(utc) - two_days_utc == dt.timedelta(hours=47)


def test_reschedule_raises_sequence_and_asks_everyone_again(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    bob = meeting.participants.get(user=marea.coordinator)
    services.participation_respond(actor=marea.coordinator, participant=bob, response="accepted")
    new_time = meeting.starts_at + dt.timedelta(days=1)
    services.meeting_reschedule(actor=marea.nurse, meeting=meeting, starts_at=new_time)
    meeting.refresh_from_db()
    assert meeting.ical_sequence == 1
    bob.refresh_from_db()
    assert bob.response == Participant.Response.NEEDS_ACTION
    assert OutboxMessage.objects.filter(meeting=meeting, kind="rescheduled").count() == 5
    old_reminders = OutboxMessage.objects.filter(
        meeting=meeting, kind="reminder_day_before", payload__sequence=0
    )
    assert set(old_reminders.values_list("status", flat=True)) == {"cancelled"}
    new_reminders = OutboxMessage.objects.filter(
        meeting=meeting, kind="reminder_day_before", status="pending", payload__sequence=1
    )
    assert new_reminders.count() == 5
    # the same time again is not a change
    services.meeting_reschedule(actor=marea.nurse, meeting=meeting, starts_at=new_time)
    meeting.refresh_from_db()
    assert meeting.ical_sequence == 1


def test_cancel_needs_a_reason_and_tells_everyone(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    with pytest.raises(DomainError):
        services.meeting_cancel(actor=marea.nurse, meeting=meeting, reason="  ")
    services.meeting_cancel(actor=marea.nurse, meeting=meeting, reason="Sjukhusvistelse")
    meeting.refresh_from_db()
    assert meeting.state == S.CANCELLED and meeting.cancel_reason == "Sjukhusvistelse"
    assert OutboxMessage.objects.filter(meeting=meeting, kind="cancelled").count() == 5
    assert not OutboxMessage.objects.filter(
        meeting=meeting, status="pending", kind__in=["reminder_day_before", "reminder_no_reply"]
    ).exists()
    with pytest.raises(DomainError):
        services.meeting_reschedule(
            actor=marea.nurse, meeting=meeting, starts_at=timezone.now() + dt.timedelta(days=9)
        )


def test_partner_cannot_cancel(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    with pytest.raises(DomainError, match="Only"):
        services.meeting_cancel(actor=marea.coordinator, meeting=meeting, reason="nej")


def test_withdrawal_stops_the_meeting_and_ends_access(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    assert meetings_visible_to(marea.coordinator).filter(pk=meeting.pk).exists()
    services.consent_withdraw(actor=marea.nurse, meeting=meeting, note="Vill inte längre.")
    meeting.refresh_from_db()
    assert meeting.state == S.DECLINED and not meeting.shared
    assert not meetings_visible_to(marea.coordinator).filter(pk=meeting.pk).exists()
    assert not meetings_visible_to(marea.assessor).filter(pk=meeting.pk).exists()
    assert meetings_visible_to(marea.nurse).filter(pk=meeting.pk).exists()  # history kept
    # Nothing that was waiting goes out; everyone invited is told the meeting will not
    # take place (they have it in their calendars), without the reason.
    pending = OutboxMessage.objects.filter(meeting=meeting, status="pending")
    assert set(pending.values_list("kind", flat=True)) == {"cancelled"}
    invited = {marea.physician, marea.assessor, marea.coordinator, marea.contact}
    assert {m.recipient_user for m in pending if m.recipient_user} == invited
    assert pending.filter(recipient_relative=marea.relative).count() == 1
    assert Consent.objects.get(meeting=meeting).withdrawn_at is not None
    assert StateChange.objects.filter(meeting=meeting).count() == 5


def test_withdrawal_after_the_meeting_closes_it(marea, meeting_in):
    meeting = meeting_in(S.HELD)
    services.consent_withdraw(actor=marea.nurse, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == S.CLOSED and not meeting.shared


def test_invitee_response_and_declined_standard_role_tells_the_convener(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    assessor = meeting.participants.get(user=marea.assessor)
    services.participation_respond(
        actor=marea.assessor, participant=assessor, response="declined", mode="phone"
    )
    assessor.refresh_from_db()
    assert assessor.response == "declined" and assessor.mode == "phone"
    message = OutboxMessage.objects.get(meeting=meeting, kind="role_declined")
    assert message.to_address == marea.nurse.email
    assert "needs_assessor" in services.missing_standard_roles(meeting)
    assert not OutboxMessage.objects.filter(
        participant=assessor, kind="reminder_no_reply", status="pending"
    ).exists()
    with pytest.raises(DomainError):
        services.participation_respond(
            actor=marea.coordinator, participant=assessor, response="accepted"
        )


def test_remove_participant_tells_them(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    contact = meeting.participants.get(user=marea.contact)
    services.participant_remove(actor=marea.nurse, participant=contact)
    assert OutboxMessage.objects.filter(participant=contact, kind="uninvited").exists()
    assert "contact_person" in services.missing_standard_roles(meeting)
    convener = meeting.participants.get(is_convener=True)
    with pytest.raises(DomainError):
        services.participant_remove(actor=marea.nurse, participant=convener)


def test_double_invite_gives_one_participant(marea, meeting_in):
    meeting = meeting_in(S.CONVENING)
    first = services.participant_invite(
        actor=marea.nurse, meeting=meeting, user=marea.assessor, organisation=marea.assessment,
        role="needs_assessor",
    )  # fmt: skip
    again = services.participant_invite(
        actor=marea.nurse, meeting=meeting, user=marea.assessor, organisation=marea.assessment,
        role="needs_assessor",
    )  # fmt: skip
    assert first.pk == again.pk


def test_preparation_checklist_per_role(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    physician = meeting.participants.get(user=marea.physician)
    tasks = set(physician.preparation_steps.values_list("task", flat=True))
    assert tasks == {
        "home_visit",
        "examination",
        "tests",
        "medication_review",
        "specialist_consulted",
    }
    services.preparation_record(
        actor=marea.physician, meeting=meeting, done_tasks={"home_visit", "medication_review"},
        minutes=55,
    )  # fmt: skip
    physician.refresh_from_db()
    assert physician.preparation_minutes == 55
    done = set(
        physician.preparation_steps.filter(done_at__isnull=False).values_list("task", flat=True)
    )
    assert done == {"home_visit", "medication_review"}
    with pytest.raises(DomainError):
        services.preparation_record(actor=marea.outsider, meeting=meeting, done_tasks=[], minutes=1)
    with pytest.raises(DomainError):
        services.preparation_record(
            actor=marea.physician, meeting=meeting, done_tasks=[], minutes=5000
        )


def test_agenda_notes_refuse_a_lost_update(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    note = services.agenda_note_save(
        actor=marea.nurse, meeting=meeting, item=4, text="Viktnedgång 4 kg.", base_revision=0
    )
    assert note.revision == 1
    # a retry of the same save is harmless
    services.agenda_note_save(
        actor=marea.nurse, meeting=meeting, item=4, text="Viktnedgång 4 kg.", base_revision=0
    )
    with pytest.raises(services.NoteConflict) as exc:
        services.agenda_note_save(
            actor=marea.physician, meeting=meeting, item=4, text="Annan text", base_revision=0
        )
    assert exc.value.current.text == "Viktnedgång 4 kg."
    services.agenda_note_save(
        actor=marea.physician, meeting=meeting, item=4, text="Viktnedgång 4 kg. Nattfasta.",
        base_revision=1,
    )  # fmt: skip
    with pytest.raises(DomainError):
        services.agenda_note_save(
            actor=marea.outsider, meeting=meeting, item=4, text="x", base_revision=2
        )


def test_decisions_belong_to_their_organisation(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    decision = services.decision_save(
        actor=marea.assessor, meeting=meeting, organisation=marea.assessment,
        category="extended_home_help", description="Kvällsbesök varje dag",
        responsible=marea.assessor, due_date=timezone.localdate() + dt.timedelta(days=14),
        person_answer="accepts",
    )  # fmt: skip
    assert decision.organisation == marea.assessment
    # bob (home help) cannot enter or change the assessment unit's decisions
    with pytest.raises(DomainError):
        services.decision_save(
            actor=marea.coordinator, meeting=meeting, organisation=marea.assessment,
            category="extended_home_help", description="x", responsible=marea.assessor,
            due_date=None, person_answer="accepts",
        )  # fmt: skip
    with pytest.raises(DomainError):
        services.decision_save(
            actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
            category="adjusted_home_help", description="Samma person vid dusch",
            responsible=marea.coordinator, due_date=None, person_answer="accepts",
            decision=decision,
        )  # fmt: skip
    # responsible must work for the deciding organisation
    with pytest.raises(DomainError) as exc:
        services.decision_save(
            actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
            category="adjusted_home_help", description="Samma person vid dusch",
            responsible=marea.assessor, due_date=None, person_answer="accepts",
        )  # fmt: skip
    assert exc.value.field == "responsible"
    confirmation = services.decisions_confirm(
        actor=marea.assessor, meeting=meeting, organisation=marea.assessment
    )
    assert confirmation.decision_count == 1
    # changing a decision asks for a new confirmation
    services.decision_save(
        actor=marea.assessor, meeting=meeting, organisation=marea.assessment,
        category="extended_home_help", description="Kvällsbesök 19.00", responsible=marea.assessor,
        due_date=None, person_answer="thinking", decision=decision,
    )  # fmt: skip
    assert not meeting.confirmations.exists()
    record = ChangeRecord.objects.filter(object_type="meetings.decision", action="update").get()
    assert record.changes["description"] == ["Kvällsbesök varje dag", "Kvällsbesök 19.00"]


def test_outsider_cannot_decide(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    with pytest.raises(DomainError):
        services.decision_save(
            actor=marea.outsider, meeting=meeting, organisation=marea.outsider_org,
            category="health_care", description="x", responsible=marea.outsider, due_date=None,
            person_answer="accepts",
        )  # fmt: skip


def test_private_topic_stays_with_its_organisation(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    topic = services.private_topic_add(
        actor=marea.nurse, meeting=meeting, organisation=marea.health_care, raised_by="person",
        text="Inkontinens, vill prata enskilt.",
    )  # fmt: skip
    assert topic.organisation == marea.health_care
    with pytest.raises(DomainError):
        services.private_topic_add(
            actor=marea.nurse, meeting=meeting, organisation=marea.home_help, raised_by="person",
            text="x",
        )  # fmt: skip


def test_mark_held_records_minutes_and_follow_up_notices(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help", description="Inköp en gång i veckan",
        responsible=marea.coordinator, due_date=None, person_answer="accepts",
    )  # fmt: skip
    now = timezone.now()
    with pytest.raises(DomainError):
        services.meeting_mark_held(
            actor=marea.nurse, meeting=meeting, actual_start=now, actual_end=now
        )
    with pytest.raises(DomainError):
        services.meeting_mark_held(
            actor=marea.coordinator, meeting=meeting, actual_start=now - dt.timedelta(hours=1),
            actual_end=now,
        )  # fmt: skip
    services.attendance_record(
        actor=marea.nurse, meeting=meeting,
        attendance={p.pk: (True, "in_person") for p in meeting.participants.all()},
        actual_start=now - dt.timedelta(minutes=70), actual_end=now,
    )  # fmt: skip
    services.meeting_mark_held(
        actor=marea.nurse, meeting=meeting, actual_start=now - dt.timedelta(minutes=70),
        actual_end=now,
    )  # fmt: skip
    meeting.refresh_from_db()
    assert meeting.state == S.HELD
    assert set(
        meeting.participants.filter(attended=True).values_list("meeting_minutes", flat=True)
    ) == {70}
    notices = OutboxMessage.objects.filter(meeting=meeting, kind__in=["followup_2w", "followup_2m"])
    assert notices.count() == 2
    assert {n.to_address for n in notices} == {marea.coordinator.email}
    participant = meeting.participants.get(user=marea.coordinator)
    services.minutes_record(
        actor=marea.coordinator, participant=participant, preparation_minutes=10,
        travel_minutes=30, meeting_minutes=60,
    )  # fmt: skip
    physician = meeting.participants.get(user=marea.physician)
    with pytest.raises(DomainError):
        services.minutes_record(
            actor=marea.coordinator, participant=physician, preparation_minutes=1,
            travel_minutes=1, meeting_minutes=1,
        )  # fmt: skip
    services.meeting_close(actor=marea.nurse, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == S.CLOSED


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        (S.INITIATED, ["convening_start", "schedule", "mark_held", "close"]),
        (S.CONSENT, ["schedule", "mark_held", "close"]),
        # (taking on convening again is a no-op for the convener: see
        # test_a_second_nurse_cannot_take_over_convening)
        (S.CONVENING, ["mark_held", "close"]),
        (S.SCHEDULED, ["convening_start", "schedule", "close"]),
        (S.HELD, ["convening_start", "schedule", "cancel", "mark_held"]),
        (S.CLOSED, ["convening_start", "schedule", "cancel", "mark_held", "close"]),
        (S.DECLINED, ["convening_start", "schedule", "cancel", "mark_held", "close"]),
        (S.CANCELLED, ["convening_start", "schedule", "cancel", "mark_held", "close"]),
    ],
)
def test_transitions_not_allowed_from_a_state_are_refused(marea, meeting_in, state, refused):
    meeting = meeting_in(state)
    now = timezone.now()
    calls = {
        "convening_start": lambda: services.convening_start(actor=marea.nurse, meeting=meeting),
        "schedule": lambda: services.meeting_schedule(
            actor=marea.nurse, meeting=meeting, starts_at=now + dt.timedelta(days=3)
        ),
        "cancel": lambda: services.meeting_cancel(actor=marea.nurse, meeting=meeting, reason="x"),
        "mark_held": lambda: services.meeting_mark_held(
            actor=marea.nurse,
            meeting=meeting,
            actual_start=now - dt.timedelta(hours=1),
            actual_end=now,
        ),  # fmt: skip
        "close": lambda: services.meeting_close(actor=marea.nurse, meeting=meeting),
    }
    for name in refused:
        with pytest.raises(DomainError):
            calls[name]()
        assert Meeting.objects.get(pk=meeting.pk).state == state, name


@pytest.mark.django_db(transaction=True)
def test_two_tabs_scheduling_at_once_give_one_result(marea, meeting_in):
    require_postgres("row locks")
    meeting = meeting_in(S.CONVENING)
    start = meeting.time_options.get().starts_at
    barrier = threading.Barrier(2)
    results = []

    def attempt():
        from django.db import connection as thread_connection

        barrier.wait()
        try:
            services.meeting_schedule(actor=marea.nurse, meeting=meeting, starts_at=start)
            results.append("ok")
        except DomainError:
            results.append("refused")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["ok", "refused"]
    assert StateChange.objects.filter(meeting=meeting, to_state=S.SCHEDULED).count() == 1
    assert OutboxMessage.objects.filter(meeting=meeting, kind="invitation").count() == 5
