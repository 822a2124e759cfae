import datetime as dt

import pytest
from django.utils import timezone

from followup.notices import overdue_notices
from followup.tasks import notify_overdue_decisions
from meetings import services
from meetings.models import Meeting, OutboxMessage

pytestmark = pytest.mark.django_db


def _held_with_decision(marea, meeting_in, *, due_in_days: int):
    """A meeting held an hour ago, with a decision (made at it) due in `due_in_days`."""
    meeting = meeting_in(Meeting.State.SCHEDULED)
    now = timezone.now()
    services.meeting_mark_held(
        actor=marea.nurse, meeting=meeting, actual_start=now - dt.timedelta(hours=1),
        actual_end=now,
    )  # fmt: skip
    decision = services.decision_save(
        actor=marea.coordinator, meeting=Meeting.objects.get(pk=meeting.pk),
        organisation=marea.home_help, category="extended_home_help",
        description="Inköp en gång i veckan", responsible=marea.coordinator,
        due_date=timezone.localdate() + dt.timedelta(days=due_in_days), person_answer="accepts",
    )  # fmt: skip
    return meeting, decision


def test_an_overdue_decision_tells_the_convener_once(marea, meeting_in):
    meeting, decision = _held_with_decision(marea, meeting_in, due_in_days=3)
    assert overdue_notices() == 0  # not yet due
    later = timezone.localdate() + dt.timedelta(days=4)
    assert overdue_notices(today=later) == 1
    notice = OutboxMessage.objects.get(kind="decision_overdue")
    assert notice.to_address == marea.nurse.email
    assert notice.payload == {"decision": decision.pk}
    # run again (a second beat, the task twice): nothing new
    assert overdue_notices(today=later) == 0
    notify_overdue_decisions()
    assert OutboxMessage.objects.filter(kind="decision_overdue").count() == 1


def test_a_decision_carried_out_is_not_overdue(marea, meeting_in):
    from followup import services as followup_services

    meeting, decision = _held_with_decision(marea, meeting_in, due_in_days=3)
    followup_services.decision_status_report(
        actor=marea.coordinator, decision=decision, status="implemented",
        date=timezone.localdate(), note="Klart",
    )  # fmt: skip
    assert overdue_notices(today=timezone.localdate() + dt.timedelta(days=10)) == 0


def test_no_notice_after_consent_is_withdrawn(marea, meeting_in):
    meeting, decision = _held_with_decision(marea, meeting_in, due_in_days=1)
    services.consent_withdraw(actor=marea.nurse, meeting=meeting)
    assert overdue_notices(today=timezone.localdate() + dt.timedelta(days=5)) == 0
