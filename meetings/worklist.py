"""What waits for a user: the meetings where they have something to do, in a fixed number of
queries (one for the meetings, whatever their number)."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.models import CareTeamEntry
from participants.selectors import care_organisation_ids

from .models import Meeting, Participant, PreparationStep
from .selectors import (
    convening_organisation_ids,
    meetings_of_person_visible_to,
    meetings_visible_to,
)

S = Meeting.State
WORK_STATES = (S.INITIATED, S.CONSENT, S.CONVENING, S.SCHEDULED, S.HELD)


@dataclass
class WorkItem:
    meeting: Meeting
    tasks: list[str] = field(default_factory=list)
    upcoming: bool = False


def open_meetings(user):
    """Open meetings where this user could have something to do: they are invited or
    convene, or (before convening) they proposed it or are named in the person's care team.

    Not every meeting the user may see: one home health care organisation can serve tens of
    thousands of persons, and the team's nurses each follow their own. Every branch is
    served by an index (participant user, meeting convener, meeting initiated_by, care team
    member). A page that shows both the worklist and the counts hands the result to
    `worklist_for` and `state_counts` (`base=`), so these lookups run once."""
    # Two small indexed lookups first, so the meeting query is an OR of index scans (primary
    # key, convener, initiated_by, person) instead of a filter over every open meeting.
    invited = list(
        Participant.objects.filter(
            user=user, removed_at__isnull=True, meeting__state__in=WORK_STATES
        ).values_list("meeting_id", flat=True)
    )
    my_persons = list(
        CareTeamEntry.objects.current().filter(member=user).values_list("person_id", flat=True)
    )
    before_convening = Q(state__in=(S.INITIATED, S.CONSENT)) & (
        Q(initiated_by=user) | Q(person_id__in=my_persons)
    )
    return meetings_visible_to(user).filter(
        Q(state__in=WORK_STATES) & (Q(pk__in=invited) | Q(convener=user) | before_convening)
    )


def _annotated(user, base=None):
    mine = Participant.objects.filter(meeting=OuterRef("pk"), user=user, removed_at__isnull=True)
    open_steps = (
        PreparationStep.objects.filter(
            participant__meeting=OuterRef("pk"),
            participant__user=user,
            participant__removed_at__isnull=True,
            done_at__isnull=True,
        )
        .order_by()
        .values("participant__meeting")
        .annotate(n=Count("pk"))
        .values("n")
    )
    nurse_orgs = convening_organisation_ids(user)
    can_convene = Exists(
        CareTeamEntry.objects.current().filter(
            person=OuterRef("person"), organisation_id__in=nurse_orgs
        )
    )
    return (
        (base if base is not None else open_meetings(user))
        .select_related("person", "convener")
        .annotate(
            my_response=Subquery(mine.values("response")[:1]),
            my_is_convener=Subquery(mine.values("is_convener")[:1]),
            my_travel=Subquery(mine.values("travel_minutes")[:1]),
            my_open_steps=Coalesce(Subquery(open_steps, output_field=IntegerField()), Value(0)),
            can_convene=can_convene if nurse_orgs else Value(False),
        )
        .order_by("starts_at", "initiated_at", "pk")
    )


def worklist_for(user, *, limit: int = 200, base=None) -> list[WorkItem]:
    """Meetings with something for this user to do, soonest first."""
    care_orgs = care_organisation_ids(user)
    if not care_orgs:
        return []
    now = timezone.now()
    items = []
    for meeting in _annotated(user, base)[:limit]:
        item = WorkItem(meeting)
        tasks = item.tasks
        is_convener = meeting.convener_id == user.pk
        invited = meeting.my_response is not None
        if meeting.state == S.INITIATED and (
            meeting.initiator_organisation_id in care_orgs or meeting.can_convene
        ):
            tasks.append(_("Ask the person for consent"))
        elif meeting.state == S.CONSENT and meeting.can_convene:
            tasks.append(_("Start convening"))
        elif meeting.state == S.CONVENING and is_convener:
            if not meeting.time_agreed_with_person:
                tasks.append(_("Agree a time with the person"))
            else:
                tasks.append(_("Invite and fix the time"))
        if (
            meeting.state in (S.CONVENING, S.SCHEDULED)
            and invited
            and not is_convener
            and meeting.my_response == Participant.Response.NEEDS_ACTION
        ):
            tasks.append(_("Answer the invitation"))
        if meeting.state in (S.CONVENING, S.SCHEDULED) and meeting.my_open_steps:
            tasks.append(_("Prepare"))
        if meeting.state == S.SCHEDULED:
            if is_convener and meeting.starts_at and meeting.starts_at <= now:
                tasks.append(_("Mark as held"))
            item.upcoming = invited and meeting.my_response != Participant.Response.DECLINED
        if meeting.state == S.HELD:
            if is_convener:
                tasks.append(_("Close the meeting"))
            if invited and meeting.my_travel is None:
                tasks.append(_("Record your minutes"))
        if tasks or item.upcoming:
            items.append(item)
    return items


def state_counts(user, base=None) -> list[tuple[str, str, int]]:
    """The user's open meetings (see `open_meetings`), by state: (state, label, count)."""
    if not care_organisation_ids(user):
        return []
    rows = dict(
        (base if base is not None else open_meetings(user))
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return [(state, S(state).label, rows.get(state, 0)) for state in WORK_STATES]


def meetings_for_person(user, person, team=None) -> list[Meeting]:
    """The person's latest meetings the user may see. `team`: the person's current care
    team (entries) when the caller has read it, which spares the per-row subqueries."""
    if team is not None:
        meetings = meetings_of_person_visible_to(
            user, person, frozenset(entry.organisation_id for entry in team)
        )
    else:
        meetings = meetings_visible_to(user).filter(person=person)
    return list(
        meetings.order_by("-initiated_at").only(
            "pk", "state", "kind", "starts_at", "initiated_at", "person_id"
        )[:20]
    )
