"""What a user may see of the follow-up. Visibility is the meeting's (meetings.selectors):
whoever sees the meeting sees its follow-up; anyone else gets 404."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Case,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from meetings.models import Decision, Meeting
from meetings.selectors import (
    log_denied,
    meetings_of_person_visible_to,
    meetings_visible_to,
    own_parts_q,
)
from participants.models import Person
from participants.selectors import care_organisation_ids

from . import rules
from .models import (
    CLOSED_STATUSES,
    Checkpoint,
    DecisionStatusChange,
    HealthCareUse,
    OutcomeMeasure,
)


def decisions_with_status() -> QuerySet[Decision]:
    """Decisions annotated with their current status (the latest report) and its date."""
    latest = DecisionStatusChange.objects.filter(decision=OuterRef("pk")).order_by(
        "-reported_at", "-pk"
    )
    return Decision.objects.annotate(
        current_status=Subquery(latest.values("status")[:1]),
        current_status_date=Subquery(latest.values("date")[:1]),
    )


def open_decision_q() -> Q:
    """Not yet implemented, declined by the person or no longer relevant (or no report yet)."""
    return Q(current_status__isnull=True) | ~Q(current_status__in=CLOSED_STATUSES)


def overdue_decision_q(today: dt.date) -> Q:
    return open_decision_q() & Q(due_date__lt=today)


def is_overdue(decision: Decision, status: str | None, today: dt.date) -> bool:
    return (
        decision.due_date is not None
        and decision.due_date < today
        and (status is None or status not in CLOSED_STATUSES)
    )


def followup_meetings_visible_to(user) -> QuerySet[Meeting]:
    return meetings_visible_to(user).filter(state__in=rules.FOLLOWUP_STATES)


def open_decisions_for_user(user, *, today: dt.date | None = None) -> QuerySet[Decision]:
    """The worklist: open decisions of held meetings the user can see, where the user is
    responsible or their organisation decided; overdue first, then by due date."""
    today = today or timezone.localdate()
    org_ids = care_organisation_ids(user)
    if not org_ids:
        return Decision.objects.none()
    return (
        decisions_with_status()
        .filter(meeting__in=followup_meetings_visible_to(user).values("pk"))
        .filter(Q(responsible=user) | Q(organisation_id__in=org_ids))
        .filter(open_decision_q())
        .annotate(
            is_overdue=Case(
                When(due_date__lt=today, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .select_related("meeting__person", "organisation", "responsible")
        .order_by("-is_overdue", "due_date", "meeting__person__last_name", "pk")
    )


def overdue_decisions_visible_to(user, *, today: dt.date | None = None) -> QuerySet[Decision]:
    """Every overdue decision in the held meetings the user can see (any organisation)."""
    today = today or timezone.localdate()
    return (
        decisions_with_status()
        .filter(meeting__in=followup_meetings_visible_to(user).values("pk"))
        .filter(own_parts_q(user))
        .filter(overdue_decision_q(today))
        .select_related("meeting__person", "organisation", "responsible")
        .order_by("due_date", "pk")
    )


def get_decision_for_user(user, pk, *, request=None) -> Decision:
    """A decision of a meeting the user may see; after consent to share was withdrawn, only
    their own organisation's (each keeps what is its own)."""
    try:
        decisions = Decision.objects.filter(
            own_parts_q(user), meeting__in=meetings_visible_to(user).values("pk")
        )
        return decisions.select_related("meeting__person", "organisation", "responsible").get(pk=pk)
    except (Decision.DoesNotExist, ValueError, TypeError):
        if request is not None:  # a refused look at a decision that exists is logged as denied
            log_denied(request, Decision.objects.filter(pk=pk).select_related("meeting__person"))
        raise Http404 from None


def status_history(decision: Decision) -> list[DecisionStatusChange]:
    return list(decision.status_changes.select_related("reported_by").order_by("reported_at", "pk"))


def measures_visible_to(user, person: Person, *, team_org_ids=None) -> QuerySet[OutcomeMeasure]:
    """A person's measures from the meetings the user can see, oldest first. `team_org_ids`:
    the person's current care team when the caller has read it (no per-row subqueries)."""
    return (
        OutcomeMeasure.objects.filter(
            person=person,
            meeting__in=meetings_of_person_visible_to(user, person, team_org_ids).values("pk"),
        )
        .select_related("meeting")
        .order_by("date", "pk")
    )


# --- The follow-up page ---


@dataclass
class DecisionRow:
    decision: Decision
    history: list[DecisionStatusChange]
    can_report: bool
    overdue: bool
    needs_report: bool  # open, and no report since the meeting or the last checkpoint
    form: object = None  # the status form, set by the view where the user may report

    @property
    def current(self) -> DecisionStatusChange | None:
        return self.history[-1] if self.history else None

    @property
    def is_open(self) -> bool:
        return self.current is None or not self.current.is_closed


@dataclass
class OrganisationGroup:
    organisation: object
    rows: list[DecisionRow]
    is_mine: bool


@dataclass
class CheckpointRow:
    kind: str
    label: str
    due_date: dt.date | None
    checkpoint: Checkpoint | None
    is_due: bool

    @property
    def is_completed(self) -> bool:
        return self.checkpoint is not None and self.checkpoint.is_completed


@dataclass
class PeriodRow:
    period: str
    label: str
    row: HealthCareUse | None


@dataclass
class MeasureRow:
    timepoint: str
    label: str
    measure: OutcomeMeasure | None
    can_enter: bool


@dataclass
class FollowupPage:
    meeting: Meeting
    started: bool  # the meeting has been held (or closed)
    meeting_day: dt.date | None
    groups: list[OrganisationGroup]
    checkpoints: list[CheckpointRow]
    health_care_use: dict[str, HealthCareUse]
    measures: dict[str, OutcomeMeasure]
    can_follow_up: bool
    can_record_health_care: bool
    can_record_baseline: bool
    follow_on_meetings: list[Meeting]
    overdue_count: int = 0
    missing_count: int = 0
    rows: list[DecisionRow] = field(default_factory=list)

    @property
    def health_care_rows(self) -> list[PeriodRow]:
        return [
            PeriodRow(period, label, self.health_care_use.get(period))
            for period, label in HealthCareUse.Period.choices
        ]

    @property
    def measure_rows(self) -> list[MeasureRow]:
        rows = []
        for timepoint, label in OutcomeMeasure.Timepoint.choices:
            allowed = (
                self.can_record_baseline
                if timepoint == OutcomeMeasure.Timepoint.BASELINE
                else self.can_follow_up
            )
            rows.append(MeasureRow(timepoint, label, self.measures.get(timepoint), allowed))
        return rows


def followup_page(
    user, meeting: Meeting, *, today: dt.date | None = None, team_org_ids=None
) -> FollowupPage:
    """Everything the follow-up page shows, in a fixed number of queries whatever the number
    of decisions and reports."""
    today = today or timezone.localdate()
    started = meeting.state in rules.FOLLOWUP_STATES
    participating = rules.participating_organisation_ids(meeting)
    mine = care_organisation_ids(user)
    # With who completed them: the page names them (one query, not one per checkpoint).
    checkpoints = {c.kind: c for c in meeting.checkpoints.select_related("completed_by")}
    completed = [c.completed_at for c in checkpoints.values() if c.completed_at]
    since = max(completed) if completed else None

    own_only = meeting.sharing_withdrawn  # each organisation sees only its own decisions
    decisions = list(
        meeting.decisions.filter(*([Q(organisation_id__in=mine)] if own_only else []))
        .select_related("organisation", "responsible")
        .prefetch_related(
            Prefetch(
                "status_changes",
                queryset=DecisionStatusChange.objects.select_related("reported_by").order_by(
                    "reported_at", "pk"
                ),
            )
        )
        .order_by("organisation__name", "organisation_id", "created_at", "pk")
    )
    groups: dict[int, OrganisationGroup] = {}
    rows = []
    for decision in decisions:
        history = list(decision.status_changes.all())
        current = history[-1] if history else None
        is_open = current is None or not current.is_closed
        row = DecisionRow(
            decision=decision,
            history=history,
            can_report=started and decision.organisation_id in mine,
            overdue=started and is_overdue(decision, current.status if current else None, today),
            needs_report=started
            and is_open
            and not any(since is None or change.reported_at > since for change in history),
        )
        rows.append(row)
        group = groups.get(decision.organisation_id)
        if group is None:
            group = groups[decision.organisation_id] = OrganisationGroup(
                decision.organisation, [], decision.organisation_id in mine
            )
        group.rows.append(row)

    checkpoint_rows = []
    for kind, label in Checkpoint.Kind.choices:
        due = rules.checkpoint_due_date(meeting, kind) if started else None
        checkpoint_rows.append(
            CheckpointRow(
                kind=kind,
                label=label,
                due_date=due,
                checkpoint=checkpoints.get(kind),
                is_due=due is not None and due <= today,
            )
        )
    follow_up_orgs = rules.follow_up_organisation_ids(user, participating)
    return FollowupPage(
        meeting=meeting,
        started=started,
        meeting_day=rules.meeting_day(meeting),
        # The user's own organisations first: that is where they act.
        groups=sorted(groups.values(), key=lambda g: not g.is_mine),
        checkpoints=checkpoint_rows,
        health_care_use={row.period: row for row in meeting.health_care_use.all()},
        measures={m.timepoint: m for m in meeting.outcome_measures.select_related("entered_by")},
        can_follow_up=started and bool(follow_up_orgs),
        can_record_health_care=started
        and bool(rules.health_care_organisation_ids(user, participating)),
        can_record_baseline=meeting.state in rules.BASELINE_STATES and bool(follow_up_orgs),
        follow_on_meetings=list(
            meetings_of_person_visible_to(user, meeting.person, team_org_ids)
            .filter(previous_meeting=meeting)
            .only("pk", "state", "initiated_at")
            .order_by("initiated_at")
        ),
        overdue_count=sum(1 for row in rows if row.overdue),
        missing_count=sum(1 for row in rows if row.needs_report),
        rows=rows,
    )
