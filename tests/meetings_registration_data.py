"""A held meeting as the registration form and the import describe it (marea's people)."""

import datetime as dt

from django.utils import timezone

from meetings.registration import (
    HeldMeeting,
    RegisteredDecision,
    RelativeAttendance,
    StaffAttendance,
)
from participants.models import Role


def past(days: int, hour: int = 10) -> dt.datetime:
    local = timezone.localtime() - dt.timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def held_meeting(marea, *, days_ago: int = 60, **changes) -> HeldMeeting:
    start = past(days_ago)
    values = {
        "person": marea.person,
        "initiated_by": marea.nurse,
        "initiator_organisation": marea.health_care,
        "initiated_on": start.date() - dt.timedelta(days=20),
        "consent_on": start.date() - dt.timedelta(days=15),
        "starts_at": start,
        "ends_at": start + dt.timedelta(minutes=70),
        "convener": marea.nurse,
        "raised_by": "relative",
        "reasons": ["not_eating", "repeated_falls"],
        "reason_text": "Dottern ringde om viktnedgång.",
        "staff": [
            StaffAttendance(marea.nurse, marea.health_care, Role.NURSE, attended=True),
            StaffAttendance(marea.physician, marea.health_care, Role.PHYSICIAN, attended=True),
            StaffAttendance(
                marea.assessor,
                marea.assessment,
                Role.NEEDS_ASSESSOR,
                attended=True,
                mode="phone",
            ),
            StaffAttendance(
                marea.contact,
                marea.home_help,
                Role.CONTACT_PERSON,
                attended=False,
                absence_reason="ill",
                absence_note="Förkyld den veckan.",
            ),
        ],  # fmt: skip
        "relatives": [RelativeAttendance(marea.relative, attended=True)],
        "decisions": [
            RegisteredDecision(
                organisation=marea.assessment,
                category="extended_home_help",
                description="Kvällsbesök alla dagar",
                responsible=marea.assessor,
                person_answer="accepts",
                due_date=start.date() + dt.timedelta(days=14),
                status="implemented",
                status_date=start.date() + dt.timedelta(days=10),
            ),
            RegisteredDecision(
                organisation=marea.health_care,
                category="health_care",
                description="Läkemedelsgenomgång",
                responsible=marea.physician,
                person_answer="thinking",
            ),
        ],
    }
    values.update(changes)
    return HeldMeeting(**values)
