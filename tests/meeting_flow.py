"""Take a meeting to a given state through the real services (for the view tests)."""

import datetime as dt

from django.utils import timezone

from meetings import services
from meetings.choices import MeetingKind, RaisedBy, Reason, Urgency
from meetings.models import Meeting
from participants.models import Role

from .factories import CareTeamEntryFactory, proposed_days_ago

S = Meeting.State
ORDER = [S.INITIATED, S.CONSENT, S.CONVENING, S.SCHEDULED, S.HELD, S.CLOSED]


def future(days=7, hour=10):
    local = timezone.localtime() + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def initiate(area, *, actor=None, organisation=None):
    return proposed_days_ago(
        services.meeting_initiate(
            actor=actor or area.alice,
            person=area.person,
            organisation=organisation or area.health_care,
            reasons=[Reason.NOT_EATING, Reason.REPEATED_FALLS],
            reason_text="Har gått ner sex kilo sedan i våras.",
            raised_by=RaisedBy.RELATIVE,
            raised_by_detail="dottern",
            urgency=Urgency.SOON,
            kind=MeetingKind.FULL,
        )
    )


def advance(area, to_state, *, share=True, invite_bob=True):
    """A meeting initiated by alice (the nurse) and taken on to `to_state`; bob (home help)
    is invited when convening."""
    meeting = initiate(area)
    target = ORDER.index(to_state)
    if target >= 1:
        services.consent_record(
            actor=area.alice,
            meeting=meeting,
            wants_meeting=True,
            share_information=share,
            relatives=[],
            how="orally",
            given_at=timezone.now() - dt.timedelta(hours=1),
        )
    if target >= 2:
        services.convening_start(actor=area.alice, meeting=meeting)
        services.time_options_set(actor=area.alice, meeting=meeting, options=[future()])
        if invite_bob:
            services.participant_invite(
                actor=area.alice,
                meeting=meeting,
                user=area.bob,
                organisation=area.home_help,
                role=Role.HOME_HELP_COORDINATOR,
            )
    if target >= 3:
        services.meeting_schedule(actor=area.alice, meeting=meeting, starts_at=future())
    if target >= 4:
        now = timezone.now()
        services.meeting_mark_held(
            actor=area.alice,
            meeting=meeting,
            actual_start=now - dt.timedelta(hours=2),
            actual_end=now - dt.timedelta(hours=1),
        )
    if target >= 5:
        services.meeting_close(actor=area.alice, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.state == to_state
    return meeting


def add_bob_to_team(area):
    """bob serves the person by name too (not only his organisation)."""
    CareTeamEntryFactory(
        person=area.person,
        organisation=area.home_help,
        member=area.bob,
        role=Role.HOME_HELP_COORDINATOR,
    )
