"""Registering a held meeting afterwards: the one path where the lifecycle services accept
the past; the live lifecycle keeps refusing it."""

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from followup.models import DecisionStatusChange
from meetings import afterwards, services
from meetings.models import Meeting, OutboxMessage, Participant, StateChange
from meetings.registration import meeting_register_held
from participants.models import ChangeRecord, Role
from vom.errors import DomainError

from ..conftest import advance_meeting
from ..factories import MembershipFactory
from ..meetings_registration_data import held_meeting, past

pytestmark = pytest.mark.django_db
S = Meeting.State


def test_a_registered_meeting_keeps_its_real_dates_and_everything_recorded(marea):
    held = held_meeting(marea)
    meeting = meeting_register_held(actor=marea.nurse, held=held)

    meeting.refresh_from_db()
    assert meeting.state == S.HELD
    assert timezone.localdate(meeting.initiated_at) == held.initiated_on
    assert timezone.localdate(meeting.consent_at) == held.consent_on
    assert meeting.actual_start == held.starts_at
    assert meeting.held_at == held.ends_at
    assert meeting.duration_minutes == 70
    assert meeting.convener == marea.nurse
    assert meeting.registered_by == marea.nurse
    assert timezone.now() - meeting.registered_at < dt.timedelta(minutes=1)
    assert sorted(r.code for r in meeting.reasons.all()) == ["not_eating", "repeated_falls"]

    rows = {p.user_id or p.kind: p for p in meeting.participants.all()}
    assert rows[marea.nurse.pk].is_convener and rows[marea.nurse.pk].attended
    assert rows[marea.assessor.pk].attended_mode == "phone"
    contact = rows[marea.contact.pk]
    assert (contact.attended, contact.absence_reason, contact.absence_note) == (
        False,
        "ill",
        "Förkyld den veckan.",
    )
    assert rows["relative"].attended and rows["person"].attended
    assert rows[marea.physician.pk].response == Participant.Response.ACCEPTED
    assert contact.response == Participant.Response.NEEDS_ACTION
    # Standard meeting time for everyone who came, none for who did not.
    assert rows[marea.physician.pk].meeting_minutes == 70
    assert contact.meeting_minutes is None

    decisions = {d.description: d for d in meeting.decisions.all()}
    assert decisions["Kvällsbesök alla dagar"].organisation == marea.assessment
    status = DecisionStatusChange.objects.get(decision=decisions["Kvällsbesök alla dagar"])
    assert (status.status, status.reported_by) == ("implemented", marea.nurse)
    assert not decisions["Läkemedelsgenomgång"].status_changes.exists()

    # Marked in the history: every state change says so, and the registration is recorded.
    notes = set(StateChange.objects.filter(meeting=meeting).values_list("note", flat=True))
    assert notes == {gettext("Registered afterwards")}
    assert ChangeRecord.objects.filter(
        object_type="meetings.meeting", object_id=str(meeting.pk), action="register"
    ).exists()


def test_nothing_is_sent_for_a_meeting_in_the_past(marea):
    meeting = meeting_register_held(actor=marea.nurse, held=held_meeting(marea, days_ago=90))
    assert not OutboxMessage.objects.filter(meeting=meeting).exists()


def test_a_meeting_held_last_week_still_gets_its_follow_up_questions(marea):
    held = held_meeting(marea, days_ago=5)
    no_status_yet = [dataclasses.replace(d, status="") for d in held.decisions]
    meeting = meeting_register_held(
        actor=marea.nurse, held=held_meeting(marea, days_ago=5, decisions=no_status_yet)
    )
    kinds = set(OutboxMessage.objects.filter(meeting=meeting).values_list("kind", flat=True))
    assert kinds == {OutboxMessage.Kind.FOLLOWUP_2W, OutboxMessage.Kind.FOLLOWUP_2M}
    assert not OutboxMessage.objects.filter(meeting=meeting, due_at__lte=timezone.now()).exists()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"consent_on": "before_initiative"}, "consent_on"),
        ({"starts_at": "before_consent"}, "starts_at"),
        ({"initiated_on": "tomorrow"}, "initiated_on"),
        ({"ends_at": "in_an_hour"}, "ends_at"),
    ],
)
def test_dates_out_of_order_or_in_the_future_are_refused_and_nothing_is_saved(
    marea, changes, field
):
    base = held_meeting(marea)
    values = {
        "before_initiative": base.initiated_on - dt.timedelta(days=1),
        "before_consent": timezone.make_aware(
            dt.datetime.combine(base.consent_on - dt.timedelta(days=1), dt.time(10))
        ),
        "tomorrow": timezone.localdate() + dt.timedelta(days=1),
        "in_an_hour": timezone.now() + dt.timedelta(hours=1),
    }
    ((name, key),) = changes.items()
    held = held_meeting(marea, **{name: values[key]})
    with pytest.raises(DomainError) as refused:
        meeting_register_held(actor=marea.nurse, held=held)
    assert refused.value.field == field
    assert not Meeting.objects.exists()


def test_a_refusal_halfway_leaves_nothing(marea):
    # The responsible for the second decision does not work for the deciding organisation:
    # refused by decision_save after the meeting, its participants and the first decision.
    held = held_meeting(marea)
    bad = dataclasses.replace(held.decisions[1], responsible=marea.contact)
    with pytest.raises(DomainError):
        meeting_register_held(
            actor=marea.nurse, held=held_meeting(marea, decisions=[held.decisions[0], bad])
        )
    assert not Meeting.objects.exists()
    assert not Participant.objects.exists()
    assert afterwards.current() is None


def test_only_staff_or_the_admin_of_an_organisation_serving_the_person_may_register(marea):
    with pytest.raises(DomainError):
        meeting_register_held(actor=marea.outsider, held=held_meeting(marea))
    admin = MembershipFactory(organisation=marea.health_care, role=Role.ORG_ADMIN).user
    manager = MembershipFactory(organisation=marea.health_care, role=Role.MANAGER).user
    with pytest.raises(DomainError):
        meeting_register_held(actor=manager, held=held_meeting(marea))
    meeting = meeting_register_held(actor=admin, held=held_meeting(marea))
    assert meeting.registered_by == admin
    assert meeting.initiated_by == marea.nurse


def test_the_convener_must_be_a_home_health_care_clinician(marea):
    with pytest.raises(DomainError) as refused:
        meeting_register_held(actor=marea.nurse, held=held_meeting(marea, convener=marea.assessor))
    assert refused.value.field == "convener"
    assert not Meeting.objects.exists()


# --- The live lifecycle keeps refusing the past ---


def test_live_scheduling_still_refuses_a_time_in_the_past(marea):
    meeting = advance_meeting(marea, S.CONVENING)
    with pytest.raises(DomainError):
        services.time_options_set(actor=marea.nurse, meeting=meeting, options=[past(3)])
    with pytest.raises(DomainError):
        services.meeting_schedule(actor=marea.nurse, meeting=meeting, starts_at=past(3))


def test_live_initiative_cannot_be_back_dated_or_made_for_someone_else(marea):
    kwargs = {
        "actor": marea.nurse, "person": marea.person, "organisation": marea.health_care,
        "reasons": ["not_eating"], "reason_text": "", "raised_by": "nurse", "urgency": "routine",
        "kind": "full",
    }  # fmt: skip
    with pytest.raises(DomainError):
        services.meeting_initiate(**kwargs, initiated_at=past(30))
    with pytest.raises(DomainError):
        services.meeting_initiate(**kwargs, initiated_by=marea.physician)
    with pytest.raises(DomainError):
        services.convening_start(
            actor=marea.nurse, meeting=advance_meeting(marea, S.CONSENT), convener=marea.physician
        )


def test_live_permissions_still_apply_outside_a_registration(marea):
    meeting = advance_meeting(marea, S.HELD)
    # The nurse may not decide for the assessment unit on the live path.
    with pytest.raises(DomainError):
        services.decision_save(
            actor=marea.nurse, meeting=meeting, organisation=marea.assessment,
            category="extended_home_help", description="Kvällsbesök",
            responsible=marea.assessor, due_date=None, person_answer="accepts",
        )  # fmt: skip


def test_absence_reasons_on_the_live_attendance(marea):
    meeting = advance_meeting(marea, S.SCHEDULED)
    contact = meeting.participants.get(user=marea.contact)
    others = {p.pk: (True, "in_person") for p in meeting.participants.exclude(pk=contact.pk)}
    with pytest.raises(DomainError):
        services.attendance_record(
            actor=marea.nurse, meeting=meeting, attendance={**others, contact.pk: (False, "")},
            absences={contact.pk: ("other", "  ")}, actual_start=None, actual_end=None,
        )  # fmt: skip
    services.attendance_record(
        actor=marea.nurse, meeting=meeting, attendance={**others, contact.pk: (False, "")},
        absences={contact.pk: ("no_time", "Hann inte")}, actual_start=None, actual_end=None,
    )  # fmt: skip
    contact.refresh_from_db()
    assert (contact.absence_reason, contact.absence_note) == ("no_time", "Hann inte")
    # Present after all: the reason goes.
    services.attendance_record(
        actor=marea.nurse, meeting=meeting, attendance={**others, contact.pk: (True, "video")},
        absences={contact.pk: ("no_time", "Hann inte")}, actual_start=None, actual_end=None,
    )  # fmt: skip
    contact.refresh_from_db()
    assert (contact.attended, contact.absence_reason, contact.absence_note) == (True, "", "")


def test_the_same_meeting_registered_twice_is_refused(marea):
    held = held_meeting(marea)
    first = meeting_register_held(actor=marea.nurse, held=held)
    with pytest.raises(DomainError) as refused:
        meeting_register_held(actor=marea.nurse, held=held)
    assert refused.value.field == "starts_at"
    assert str(first.pk) in str(refused.value.message)
    assert Meeting.objects.count() == 1
