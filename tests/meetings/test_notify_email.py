"""What the messages say: received by a real SMTP server on loopback, parsed with the email
package, the calendar parsed back with icalendar."""

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from meetings import delivery, ical, mail, services
from meetings.choices import Reason
from meetings.models import OutboxMessage, Participant
from participants.models import Role

from ..notify_support import outbox, schedule_meeting, smtp_server, subject, use_smtp

Kind = OutboxMessage.Kind
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def inbox(settings):
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        yield inbox


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def _calendar(message) -> icalendar.Calendar:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "exactly one calendar part"
    return icalendar.Calendar.from_ical(parts[0].get_content())


def _event(calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


def _attendees(event) -> dict[str, str]:
    values = event.get("attendee")
    values = values if isinstance(values, list) else [values]
    return {str(a).removeprefix("mailto:"): a.params["PARTSTAT"] for a in values}


def _deliver(message: OutboxMessage) -> str:
    return delivery.deliver(message.pk)


def test_invitation_to_staff_says_why_where_who_and_how_to_reply(area, inbox):
    s = schedule_meeting(area)
    row = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()

    assert _deliver(row) == delivery.SENT

    (received,) = inbox.to("bob@example.org")
    assert subject(received).startswith("Inbjudan: vård- och omsorgsmöte")
    assert received["Message-ID"] == mail.message_id(row)
    text = _text(received)
    # Why (consent to share is given), with the free text for staff.
    with translation.override("sv"):
        assert str(Reason.REPEATED_FALLS.label) in text
    assert "Har fallit tre gånger i köket" in text
    # Where: the address and the door code, for staff.
    assert "Björkvägen 3" in text
    assert "Portkod 1234" in text
    # Who else comes, and how to reply.
    assert "Dora Doktorsson" in text
    assert "Karin Åkesson" in text
    assert text.count("/r/") == 3
    assert "Björkvägen 3" in _html(received)

    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.SENT
    assert row.attempts == 1
    assert row.sent_at is not None


def test_invitation_calendar_has_uid_sequence_local_start_and_attendees(area, inbox):
    s = schedule_meeting(area)
    services.participation_respond(
        actor=area.bob, participant=s.bob, response=Participant.Response.ACCEPTED
    )
    _deliver(outbox(s.meeting, kind=Kind.INVITATION, participant=s.dora).get())

    (received,) = inbox.to(s.dora.user.email)
    calendar = _calendar(received)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Stockholm"]
    event = _event(calendar)
    assert str(event["UID"]) == f"meeting-{s.meeting.pk}@127.0.0.1"
    assert event["SEQUENCE"] == 0
    start = event["DTSTART"]
    assert start.params["TZID"] == "Europe/Stockholm"
    assert start.dt == s.meeting.starts_at.astimezone(STOCKHOLM)
    assert start.dt.hour == 10
    assert event["DTEND"].dt - start.dt == dt.timedelta(minutes=60)
    assert _attendees(event) == {
        "alice@example.org": "ACCEPTED",  # the convener
        "bob@example.org": "ACCEPTED",
        s.dora.user.email: "NEEDS-ACTION",
        "karin@example.org": "NEEDS-ACTION",
    }
    assert "alice@example.org" in str(event["ORGANIZER"])
    # Calendars are shared and synced: initials only, no reasons, no door code.
    assert "Åkesson" not in str(event["SUMMARY"])
    assert "Portkod" not in calendar.to_ical().decode()
    assert "fallit" not in calendar.to_ical().decode().lower()


def test_relative_gets_english_text_without_address_door_code_or_staff_notes(area, inbox):
    s = schedule_meeting(area)
    _deliver(outbox(s.meeting, kind=Kind.INVITATION, participant=s.relative).get())

    (received,) = inbox.to("karin@example.org")
    assert subject(received).startswith("Invitation: care meeting in the home")
    text, html = _text(received), _html(received)
    for body in (text, html, _calendar(received).to_ical().decode()):
        assert "Björkvägen" not in body
        assert "136 40" not in body
        assert "Portkod" not in body
        assert "köket" not in body  # the free-text reason is for staff
    assert "Repeated falls" in text  # the reasons from the checklist: consent to share
    assert "At Märta's home" in text
    assert "Hello Karin Åkesson" in text
    assert text.count("/r/") == 3


def test_without_consent_to_share_no_reason_is_given(area, inbox):
    s = schedule_meeting(area, shared=False)
    _deliver(outbox(s.meeting, kind=Kind.INVITATION, participant=s.dora).get())

    text = _text(inbox.to(s.dora.user.email)[0])
    with translation.override("sv"):
        assert str(Reason.REPEATED_FALLS.label) not in text
        assert gettext("Why the meeting is called") not in text
    assert "köket" not in text


def test_reschedule_raises_sequence_and_cancel_sends_method_cancel(area, inbox):
    s = schedule_meeting(area)
    new_time = s.meeting.starts_at + dt.timedelta(days=1, hours=3)
    services.meeting_reschedule(actor=area.alice, meeting=s.meeting, starts_at=new_time)
    delivery.sweep()
    (moved,) = [m for m in inbox.to("bob@example.org") if subject(m).startswith("Ny tid")]
    event = _event(_calendar(moved))
    assert event["SEQUENCE"] == 1
    assert event["DTSTART"].dt == new_time.astimezone(STOCKHOLM)
    assert str(event["UID"]) == f"meeting-{s.meeting.pk}@127.0.0.1"

    services.meeting_cancel(actor=area.alice, meeting=s.meeting, reason="Märta är inlagd")
    delivery.sweep()
    (cancelled,) = [m for m in inbox.to("bob@example.org") if subject(m).startswith("Inställt")]
    calendar = _calendar(cancelled)
    assert str(calendar["METHOD"]) == "CANCEL"
    event = _event(calendar)
    assert event["SEQUENCE"] == 2
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"meeting-{s.meeting.pk}@127.0.0.1"


def test_removed_invitee_gets_a_cancel_for_themselves_only(area, inbox):
    s = schedule_meeting(area)
    services.participant_remove(actor=area.alice, participant=s.bob)
    delivery.sweep()
    (withdrawn,) = [m for m in inbox.to("bob@example.org") if "återkallad" in subject(m)]
    calendar = _calendar(withdrawn)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert list(_attendees(_event(calendar))) == ["bob@example.org"]
    # The invitation that had not gone out yet was cancelled, not sent.
    assert not [m for m in inbox.to("bob@example.org") if subject(m).startswith("Inbjudan:")]


def test_role_declined_notice_reaches_the_convener(area, inbox):
    s = schedule_meeting(area)
    services.participation_respond(
        actor=s.dora.user, participant=s.dora, response=Participant.Response.DECLINED
    )
    row = OutboxMessage.objects.get(kind=Kind.ROLE_DECLINED)
    assert _deliver(row) == delivery.SENT
    (notice,) = inbox.to("alice@example.org")
    text = _text(notice)
    assert "Dora Doktorsson" in text
    with translation.override("sv"):
        assert str(Role.PHYSICIAN.label) in text


def test_followup_notice_lists_the_recipients_decisions(area, inbox):
    s = schedule_meeting(area, starts_at=timezone.localtime() + dt.timedelta(hours=2))
    services.decision_save(
        actor=area.bob,
        meeting=s.meeting,
        organisation=area.home_help,
        category="extended_home_help",
        description="Kvällsbesök varje dag",
        responsible=area.bob,
        due_date=timezone.localdate() + dt.timedelta(days=14),
        person_answer="accepts",
    )
    now = timezone.now()
    services.meeting_mark_held(
        actor=area.alice, meeting=s.meeting,
        actual_start=now - dt.timedelta(hours=1), actual_end=now,
    )  # fmt: skip
    row = OutboxMessage.objects.get(kind=Kind.FOLLOWUP_2W, recipient_user=area.bob)
    assert delivery.deliver(row.pk) == ""  # not due for two weeks
    assert delivery.deliver(row.pk, now=row.due_at) == delivery.SENT
    (notice,) = inbox.to("bob@example.org")
    assert subject(notice) == "Uppföljning efter 2 veckor: beslut från ett vård- och omsorgsmöte"
    assert "Kvällsbesök varje dag" in _text(notice)


def test_sms_text_carries_no_health_data_no_name_and_no_address(area):
    s = schedule_meeting(area)
    for kind in [Kind.INVITATION, Kind.REMINDER_DAY_BEFORE, Kind.RESCHEDULED, Kind.CANCELLED]:
        row = OutboxMessage(
            channel=OutboxMessage.Channel.SMS, kind=kind, meeting=s.meeting,
            participant=s.relative, to_address="+46701234567", language="sv",
            idempotency_key=f"sms-test:{kind}", due_at=timezone.now(),
            payload={"sequence": s.meeting.ical_sequence},
        )  # fmt: skip
        text = mail.render_sms(row)
        assert "VOM" in text
        for secret in ["Märta", "Åkesson", "Björkvägen", "Portkod", "fall", "Fall", "äter"]:
            assert secret not in text, (kind, secret, text)
        assert len(text) <= 160 or "/r/" in text


def test_sms_without_a_gateway_is_marked_not_delivered(area):
    s = schedule_meeting(area)
    row = OutboxMessage.objects.create(
        channel=OutboxMessage.Channel.SMS, kind=Kind.REMINDER_DAY_BEFORE, meeting=s.meeting,
        participant=s.relative, to_address="+46701234567", idempotency_key="sms:1",
        due_at=timezone.now(), payload={"sequence": s.meeting.ical_sequence},
    )  # fmt: skip
    assert delivery.deliver(row.pk) == delivery.FAILED
    row.refresh_from_db()
    assert row.status == OutboxMessage.Status.FAILED
    assert "SMS gateway" in row.last_error


def test_uid_is_stable_per_meeting(area):
    s = schedule_meeting(area)
    assert ical.meeting_uid(s.meeting) == f"meeting-{s.meeting.pk}@127.0.0.1"


def test_after_proposed_times_the_fixed_time_is_sent_with_its_calendar_entry(area, inbox):
    """Invitees who got the proposed times must still get the fixed time (and the .ics)."""
    from meetings.choices import MeetingKind, RaisedBy, Urgency
    from meetings.models import Consent

    from ..factories import MembershipFactory

    dora = MembershipFactory(
        organisation=area.health_care, role=Role.PHYSICIAN, user__email="dora@example.org"
    ).user
    meeting = services.meeting_initiate(
        actor=area.alice, person=area.person, organisation=area.health_care,
        reasons=[Reason.REPEATED_FALLS], reason_text="", raised_by=RaisedBy.NURSE,
        urgency=Urgency.SOON, kind=MeetingKind.FULL,
    )  # fmt: skip
    services.consent_record(
        actor=area.alice, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[], how=Consent.How.ORALLY, given_at=timezone.now(),
    )  # fmt: skip
    services.convening_start(actor=area.alice, meeting=meeting)
    services.participant_invite(
        actor=area.alice, meeting=meeting, user=dora, organisation=area.health_care,
        role=Role.PHYSICIAN,
    )  # fmt: skip
    first = timezone.localtime() + dt.timedelta(days=6)
    first = first.replace(hour=10, minute=0, second=0, microsecond=0)
    services.time_options_set(
        actor=area.alice, meeting=meeting, options=[first, first + dt.timedelta(days=1)]
    )
    assert services.invitations_send(actor=area.alice, meeting=meeting) == 1
    assert services.invitations_send(actor=area.alice, meeting=meeting) == 0  # double click
    delivery.sweep()
    (proposal,) = inbox.to("dora@example.org")
    assert not [p for p in proposal.walk() if p.get_content_type() == "text/calendar"]
    text = _text(proposal)
    assert first.strftime("%H:%M") in text and "/r/" in text

    services.meeting_schedule(actor=area.alice, meeting=meeting, starts_at=first)
    delivery.sweep()
    proposal_again, fixed = inbox.to("dora@example.org")
    assert proposal_again is proposal
    event = _event(_calendar(fixed))
    assert event["DTSTART"].dt == first.astimezone(STOCKHOLM)
    assert outbox(meeting, kind=Kind.REMINDER_NO_REPLY, status=OutboxMessage.Status.PENDING)
