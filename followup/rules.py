"""The follow-up's shared rules: which meeting states are followed up, when the checkpoints
fall due, and whose organisations take part. The services enforce them and the selectors use
them to show only what the services allow; both import them from here, so the arrows run one
way (services -> selectors -> rules)."""

import datetime as dt

from django.utils import timezone

from meetings.models import Decision, Meeting, Participant
from participants.memberships import active_memberships, care_organisation_ids
from participants.models import Organisation

from .models import Checkpoint

S = Meeting.State
FOLLOWUP_STATES = (S.HELD, S.CLOSED)
# The baseline is taken the week before the meeting, once the invitations are out.
BASELINE_STATES = (S.CONVENING, S.SCHEDULED, S.HELD, S.CLOSED)
# The same offsets as the follow-up notices (meetings.notifications.followup_notices).
CHECKPOINT_OFFSETS = {
    Checkpoint.Kind.TWO_WEEKS: dt.timedelta(days=14),
    Checkpoint.Kind.TWO_MONTHS: dt.timedelta(days=61),
}


def meeting_day(meeting: Meeting) -> dt.date | None:
    """The day the meeting took place: its actual start, else when it was marked held."""
    moment = meeting.actual_start or meeting.held_at
    return timezone.localdate(moment) if moment else None


def checkpoint_due_date(meeting: Meeting, kind: str) -> dt.date | None:
    day = meeting_day(meeting)
    return day + CHECKPOINT_OFFSETS[kind] if day else None


def participating_organisation_ids(meeting: Meeting) -> frozenset[int]:
    return frozenset(
        Participant.objects.filter(
            meeting=meeting, removed_at__isnull=True, organisation__isnull=False
        ).values_list("organisation_id", flat=True)
    )


def follow_up_organisation_ids(user, participating: frozenset[int]) -> frozenset[int]:
    """The user's organisations that take part in the meeting (care roles only)."""
    return care_organisation_ids(user) & participating


def health_care_organisation_ids(user, participating: frozenset[int]) -> frozenset[int]:
    return frozenset(
        m.organisation_id
        for m in active_memberships(user)
        if m.organisation_id in follow_up_organisation_ids(user, participating)
        and m.organisation.principal == Organisation.Principal.REGION
    )


def may_report_on(user, decision: Decision) -> bool:
    return decision.organisation_id in care_organisation_ids(user)
