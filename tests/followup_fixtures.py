"""Held meetings with decisions for the follow-up tests, built through the real services.

Personas (tests/conftest.py `marea`): alice the nurse (home health care, the member), bob the
home-help coordinator (a partner organisation in the same meeting), charlie an outsider.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import Decision, Meeting

# A fixed day the tests count from (overdue decisions, checkpoint due dates).
MEETING_DAY = dt.date(2026, 3, 2)


@dataclass
class Held:
    meeting: Meeting
    nurse_decision: Decision  # home health care (alice's organisation)
    help_decision: Decision  # home help (bob's organisation)
    assessor_decision: Decision  # needs assessment


def add_decision(marea, meeting, *, actor, organisation, description, due_date=None, **extra):
    return meeting_services.decision_save(
        actor=actor,
        meeting=meeting,
        organisation=organisation,
        category=extra.get("category", "health_care"),
        description=description,
        responsible=extra.get("responsible", actor),
        due_date=due_date,
        person_answer=extra.get("person_answer", "accepts"),
    )


def set_meeting_day(meeting: Meeting, day: dt.date) -> Meeting:
    """Move a held meeting to a fixed day (test data only: the services use now)."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    Meeting.objects.filter(pk=meeting.pk).update(
        actual_start=start, actual_end=start + dt.timedelta(hours=1), held_at=start
    )
    return Meeting.objects.get(pk=meeting.pk)


def build_held(marea, meeting_in) -> Held:
    """A held meeting with one decision from each organisation; use it as a fixture:

    @pytest.fixture
    def held(marea, meeting_in):
        return build_held(marea, meeting_in)
    """
    meeting = meeting_in(Meeting.State.HELD)
    nurse_decision = add_decision(
        marea,
        meeting,
        actor=marea.nurse,
        organisation=marea.health_care,
        description="Läkemedelsgenomgång och ny dosett",
        due_date=timezone.localdate() + dt.timedelta(days=14),
    )
    help_decision = add_decision(
        marea,
        meeting,
        actor=marea.coordinator,
        organisation=marea.home_help,
        description="Samma personal vid dusch",
        category="adjusted_home_help",
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    assessor_decision = add_decision(
        marea,
        meeting,
        actor=marea.assessor,
        organisation=marea.assessment,
        description="Kvällsbesök för mat",
        category="extended_home_help",
    )
    meeting = Meeting.objects.get(pk=meeting.pk)
    return Held(meeting, nurse_decision, help_decision, assessor_decision)
