"""What waits for a user: the meetings where they have something to do, in a fixed number of
queries (one for the meetings, whatever their number)."""

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from participants.models import CareTeamEntry, Organisation, Role
from participants.selectors import active_memberships, care_organisation_ids

from .models import Meeting, Participant, PreparationStep
from .selectors import (
    convening_organisation_ids,
    meetings_of_person_visible_to,
    meetings_visible_to,
    sees_meeting,
)

S = Meeting.State
WORK_STATES = (S.INITIATED, S.CONSENT, S.CONVENING, S.SCHEDULED, S.HELD)


class WorkMeeting:
    """What the worklist reads of a meeting (`WORKLIST_FIELDS`, as a row, not a model
    instance: a coordinator's worklist weighs hundreds of open meetings to show 50)."""

    __slots__ = (
        "pk", "state", "starts_at", "initiated_at", "person_id", "convener_id", "shared",
        "initiator_organisation_id", "time_agreed_with_person", "convening_organisation_id",
        "actual_start", "first_name", "last_name",
        "my_response", "my_travel", "can_convene", "my_open_steps", "awaits_me",
    )  # fmt: skip

    def __init__(self, row):
        for name, value in zip(self.__slots__, row, strict=False):
            setattr(self, name, value)

    @property
    def person(self) -> "WorkMeeting":
        return self  # the template's meeting.person.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_state_display(self) -> str:
        return S(self.state).label

    @property
    def when(self):
        """The meeting's one date (Meeting.when)."""
        return self.actual_start or self.starts_at


@dataclass
class WorkItem:
    meeting: WorkMeeting
    tasks: list[str] = field(default_factory=list)
    upcoming: bool = False
    # The user may take on convening ("I will convene") from the worklist.
    claim: bool = False


def _involvement(user) -> tuple[dict[int, tuple[str, int | None]], Q]:
    """The user's participations in open meetings ({meeting id: (response, travel
    minutes)}) and the condition for the open meetings where they could have something to
    do: they are invited or convene, or (before convening) they proposed it or are named in
    the person's care team, or, for a home health care nurse, the meeting waits for a
    convener from her organisation. Two small indexed lookups first, so the meeting query
    is an OR of index scans (primary key, convener, initiated_by, person, awaiting
    convener) instead of a filter over every open meeting."""
    mine = {
        meeting_id: (response, travel)
        for meeting_id, response, travel in Participant.objects.filter(
            user=user, removed_at__isnull=True, meeting__state__in=WORK_STATES
        )
        .order_by()
        .values_list("meeting_id", "response", "travel_minutes")
    }
    my_persons = list(
        CareTeamEntry.objects.current()
        .filter(member=user)
        .order_by()
        .values_list("person_id", flat=True)
    )
    before_convening = Q(state__in=(S.INITIATED, S.CONSENT)) & (
        Q(initiated_by=user) | Q(person_id__in=my_persons)
    )
    involved = Q(state__in=WORK_STATES) & (
        Q(pk__in=list(mine)) | Q(convener=user) | before_convening
    )
    nurse_orgs = nursing_organisation_ids(user)
    if nurse_orgs:
        # Matches the partial index meeting_awaiting_convener_idx.
        involved |= Q(
            state=S.CONSENT, convener__isnull=True, convening_organisation_id__in=nurse_orgs
        )
    return mine, involved


def nursing_organisation_ids(user) -> frozenset[int]:
    """Home health care organisations in which the user is a nurse: theirs is to convene."""
    return frozenset(
        m.organisation_id
        for m in active_memberships(user)
        if m.role == Role.NURSE and m.organisation.kind == Organisation.Kind.HOME_HEALTH_CARE
    )


def open_meetings(user):
    """Open meetings where this user could have something to do (`_involvement`) and may
    see: the definition the worklist is checked against.

    Not every meeting the user may see: one home health care organisation can serve tens of
    thousands of persons, and the team's nurses each follow their own. Every branch is
    served by an index (participant user, meeting convener, meeting initiated_by, care team
    member)."""
    _mine, involved = _involvement(user)
    return meetings_visible_to(user).filter(involved)


# What the worklist's rule, tasks and rows read of a meeting (meetings/_worklist.html).
WORKLIST_FIELDS = (
    "pk", "state", "starts_at", "initiated_at", "person_id", "convener_id", "shared",
    "initiator_organisation_id", "time_agreed_with_person", "convening_organisation_id",
    "actual_start", "person__first_name", "person__last_name",
)  # fmt: skip

# How many of the user's open meetings the worklist reads at most. A nurse is involved in tens;
# beyond this the counts come from the database (`state_counts`) and the list is cut.
WORKLIST_READ_MAX = 2000


def worklist(user, *, limit: int = 200) -> tuple[list[WorkItem], list[tuple[str, str, int]]]:
    """What waits for the user (soonest first, at most `limit`) and their open meetings by
    state (see `open_meetings` for which meetings: the same set).

    In five small queries instead of one with a subquery per column: the user's own
    participations, their caseload, the candidate meetings, those persons' care teams and the
    open preparation steps. Visibility is decided per meeting by `selectors.sees_meeting`
    (the rule of `meetings_visible_to`, tested to agree with it)."""
    care_orgs = care_organisation_ids(user)
    if not care_orgs:
        return [], []
    mine, involved = _involvement(user)
    candidates = [
        WorkMeeting(row)
        for row in Meeting.objects.filter(involved)
        .order_by("starts_at", "initiated_at", "pk")
        .values_list(*WORKLIST_FIELDS)[:WORKLIST_READ_MAX]
    ]
    # Only the user's own care organisations in each care team: the rule asks no more.
    teams: dict[int, set[int]] = {}
    for person_id, organisation_id in (
        CareTeamEntry.objects.current()
        .filter(person_id__in={m.person_id for m in candidates}, organisation_id__in=care_orgs)
        .order_by()
        .values_list("person_id", "organisation_id")
        .distinct()
    ):
        teams.setdefault(person_id, set()).add(organisation_id)
    nurse_orgs = convening_organisation_ids(user)
    meetings = []
    for meeting in candidates:
        team = frozenset(teams.get(meeting.person_id, ()))
        invited = meeting.pk in mine
        if sees_meeting(
            user,
            meeting,
            team_org_ids=team,
            invited=invited,
            participating_org_ids=care_orgs if invited else (),
            care_orgs=care_orgs,
            convening_orgs=nurse_orgs,
        ):
            meeting.my_response, meeting.my_travel = mine.get(meeting.pk, (None, None))
            meeting.can_convene = bool(nurse_orgs & team)
            meeting.awaits_me = (
                meeting.state == S.CONSENT
                and meeting.convener_id is None
                and meeting.convening_organisation_id in nurse_orgs
            )
            meetings.append(meeting)
    preparing = [m.pk for m in meetings if m.pk in mine and m.state in (S.CONVENING, S.SCHEDULED)]
    open_steps = dict(
        PreparationStep.objects.filter(
            participant__meeting_id__in=preparing,
            participant__user=user,
            participant__removed_at__isnull=True,
            done_at__isnull=True,
        )
        .order_by()
        .values_list("participant__meeting_id")
        .annotate(n=Count("pk"))
        if preparing
        else ()
    )
    for meeting in meetings:
        meeting.my_open_steps = open_steps.get(meeting.pk, 0)
    items = _items(user, care_orgs, meetings)[:limit]
    if len(candidates) < WORKLIST_READ_MAX:
        by_state = Counter(m.state for m in meetings)
        counts = [(state, S(state).label, by_state.get(state, 0)) for state in WORK_STATES]
    else:
        counts = state_counts(user)
    return items, counts


def start_page_worklist(user) -> dict:
    """The start page's "what waits for you" and open meetings by state (template
    meetings/_worklist.html); the caller logs the meetings' persons as the worklist."""
    if not care_organisation_ids(user):
        return {"show": False}
    items, counts = worklist(user, limit=50)
    return {"show": True, "items": items, "counts": counts}


def _items(user, care_orgs, meetings) -> list[WorkItem]:
    """The tasks of each meeting for this user; meetings with none are left out."""
    now = timezone.now()
    items = []
    for meeting in meetings:
        item = WorkItem(meeting)
        tasks = item.tasks
        is_convener = meeting.convener_id == user.pk
        invited = meeting.my_response is not None
        if meeting.state == S.INITIATED and (
            meeting.initiator_organisation_id in care_orgs or meeting.can_convene
        ):
            tasks.append(_("Ask the person for consent"))
        elif meeting.state == S.CONSENT and meeting.awaits_me:
            tasks.append(_("Waits for a convener"))
            item.claim = True
        elif meeting.state == S.CONSENT and meeting.can_convene:
            tasks.append(_("Convene: invite and agree a time"))
            item.claim = True
        elif meeting.state == S.CONVENING and is_convener:
            if not meeting.time_agreed_with_person:
                tasks.append(_("Invite and agree a time"))
            else:
                tasks.append(_("Fix the time"))
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


def state_counts(user) -> list[tuple[str, str, int]]:
    """The user's open meetings (see `open_meetings`), by state: (state, label, count)."""
    if not care_organisation_ids(user):
        return []
    rows = dict(
        open_meetings(user)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return [(state, S(state).label, rows.get(state, 0)) for state in WORK_STATES]


def meetings_for_person(user, person, team=None) -> list[Meeting]:
    """The person's latest meetings the user may see. `team`: the person's current care
    team (entries) when the caller has read it, which spares the per-row subqueries."""
    team_org_ids = None if team is None else frozenset(e.organisation_id for e in team)
    meetings = meetings_of_person_visible_to(user, person, team_org_ids)
    return list(
        meetings.order_by("-initiated_at").only(
            "pk", "state", "kind", "starts_at", "initiated_at", "person_id"
        )[:20]
    )
