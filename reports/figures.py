"""Every figure of the managers' report, for a period, per month and per organisation.

Pure functions of the database: no request, no user. Who may see which figures is decided
in `reports.selectors`; suppression of small cells for the steering group in
`reports.suppression`.

Everything is aggregated in the database (GROUP BY with filtered COUNT/SUM/AVG). The number
of queries is fixed: it does not grow with the number of meetings, months or organisations
(each table is one grouped query; costs are priced in Python per (organisation, role)
group, of which there are few). The indexes the date filters need are on Meeting
(`initiated_at`, `held_at`, `ended_at`).

When is a meeting counted in a month?
- initiated: by `initiated_at`;
- held (and everything measured at the meeting: attendance, minutes, cost, decisions and
  their follow-up, outcomes): by `held_at`;
- cancelled and declined: by `ended_at`.

Scope: without an organisation, every meeting in the area. With one, the meetings the
organisation took part in (it initiated them or had staff invited); whole-meeting figures
(cost per meeting and its split, attendance) are about those meetings, while tables "by
organisation" (cost borne, decisions, summaries read) show that organisation only.
"""

import contextvars
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.choices import REASON_GROUPS, DecisionCategory, PersonAnswer, RaisedBy, Reason
from meetings.models import Decision, Meeting, MeetingReason, Participant, ReadReceipt, StateChange
from participants.models import Organisation, Role

from .costs import MUNICIPAL, REGION, CostModel, side_of

S = Meeting.State
REMOTE_MODES = (Participant.Mode.VIDEO, Participant.Mode.PHONE)


# --- Period ---


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included, in the local time zone."""

    start: dt.date
    end: dt.date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("the period ends before it starts")

    @classmethod
    def last_months(cls, months: int = 12, today: dt.date | None = None) -> "Period":
        today = today or timezone.localdate()
        year, month = today.year, today.month - (months - 1)
        while month < 1:
            year, month = year - 1, month + 12
        return cls(dt.date(year, month, 1), today)

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        """Midnight after the last day (exclusive bound)."""
        return timezone.make_aware(
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min)
        )

    def months(self) -> list[dt.date]:
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            months.append(day)
            day = (day + dt.timedelta(days=32)).replace(day=1)
        return months

    def within(self, name: str) -> Q:
        return Q(**{f"{name}__gte": self.start_at, f"{name}__lt": self.end_at})


# --- The report's shape: tables with labelled columns, and a summary ---


@dataclass(frozen=True)
class Column:
    key: str
    label: object
    kind: str = "int"  # text, int, share, days, sek, minutes, decimal
    # The count of distinct persons that decides whether the cell is small (suppression);
    # None: the row's "persons".
    basis: str | None = None
    # A count that adds up to a shown total: one suppressed cell would be given away by
    # the others, so a second one is suppressed with it.
    additive: bool = False


@dataclass
class Table:
    key: str
    title: object
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    description: object = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


@dataclass
class Report:
    period: Period
    organisation: Organisation | None
    summary: dict
    # For each summary key, the number of distinct persons it is computed from.
    summary_basis: dict
    tables: dict[str, Table]
    suppressed: bool = False
    # False when computed without the persons behind each cell (cannot be suppressed).
    has_persons: bool = True
    computed_at: dt.datetime = field(default_factory=timezone.now)

    def as_json(self) -> dict:
        def plain(value):
            if isinstance(value, Decimal):
                return float(value)
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, Organisation):
                return value.pk
            return value

        return {
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "organisation": (
                {"id": self.organisation.pk, "name": self.organisation.name}
                if self.organisation
                else None
            ),
            "suppressed_below": 5 if self.suppressed else None,
            **{key: plain(value) for key, value in self.summary.items()},
            "tables": {
                key: [
                    {k: plain(v) for k, v in row.items() if not k.startswith("_")}
                    for row in table.rows
                ]
                for key, table in self.tables.items()
            },
        }


# --- Distinct persons: the basis of small-cell suppression ---

# Counting distinct persons is the most expensive part of most queries, and it is needed
# only to suppress small cells (the steering group's view). `compute(..., persons=False)`
# replaces it by a constant 0.
_COUNT_PERSONS = contextvars.ContextVar("reports_count_persons", default=True)


def persons_count(field: str, **kwargs):
    if _COUNT_PERSONS.get():
        return Count(field, distinct=True, **kwargs)
    return Count(Value(None), **kwargs)


# --- Scope ---


def meetings_in_scope(organisation: Organisation | None = None) -> QuerySet[Meeting]:
    meetings = Meeting.objects.all()
    if organisation is None:
        return meetings
    takes_part = Participant.objects.filter(
        meeting=OuterRef("pk"), organisation=organisation, removed_at__isnull=True
    )
    return meetings.filter(Q(initiator_organisation=organisation) | Exists(takes_part))


def _held_participants(period: Period, organisation: Organisation | None) -> QuerySet:
    """Active participants of the meetings in scope held in the period."""
    rows = Participant.objects.filter(period.within("meeting__held_at"), removed_at__isnull=True)
    if organisation is not None:
        takes_part = Participant.objects.filter(
            meeting=OuterRef("meeting"), organisation=organisation, removed_at__isnull=True
        )
        rows = rows.filter(Q(meeting__initiator_organisation=organisation) | Exists(takes_part))
    return rows


def _month(value) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date()
    return value


def _days(duration: dt.timedelta | None) -> float | None:
    if duration is None:
        return None
    return round(duration.total_seconds() / 86400, 1)


def _share(part, whole) -> float | None:
    if not whole:
        return None
    return round(float(part) / float(whole), 4)


def _sek(value: Decimal | None) -> float | None:
    if value is None:
        return None
    return float(Decimal(value).quantize(Decimal("0.01")))


# --- The figures ---


def compute(
    period: Period,
    organisation: Organisation | None = None,
    *,
    cost_model: CostModel | None = None,
    persons: bool = True,
) -> Report:
    """All figures for the period; `organisation` narrows to the meetings it took part in.

    `persons=False` skips the counts of distinct persons behind each cell: the report
    cannot then be suppressed (`reports.suppression`), but it is much cheaper.
    """
    token = _COUNT_PERSONS.set(persons)
    try:
        with transaction.atomic():
            without_jit()
            return _compute(period, organisation, cost_model or CostModel.load(), persons)
    finally:
        _COUNT_PERSONS.reset(token)


# Memory for each sort and hash of the report's queries. With PostgreSQL's default (4 MB)
# the per-meeting grouping of a year's participants (about 240,000 rows) spilled to disk
# in five batches; 32 MB keeps it in memory (docs/performance.md, "Dashboard").
REPORT_WORK_MEM = "32MB"


def without_jit() -> None:
    """PostgreSQL compiles queries it estimates as expensive (JIT). For these aggregates the
    compiling took longer than the query itself (about 3 s of 3.5 s over 200,000 meetings),
    so it is switched off for the report's transaction, which is also given enough memory
    to group in memory. Both end with the transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # set_config(..., true) is SET LOCAL; one statement for both.
            cursor.execute(
                "SELECT set_config('jit', 'off', true), set_config('work_mem', %s, true)",
                [REPORT_WORK_MEM],
            )


def _compute(
    period: Period, organisation: Organisation | None, costs: CostModel, persons: bool
) -> Report:
    meetings = meetings_in_scope(organisation)
    in_init, in_held, in_ended = (
        period.within("initiated_at"),
        period.within("held_at"),
        period.within("ended_at"),
    )
    totals = meetings.filter(in_init | in_held | in_ended).aggregate(
        initiated=Count("pk", filter=in_init),
        initiated_persons=persons_count("person", filter=in_init),
        held=Count("pk", filter=in_held),
        # Always counted: "persons who had a meeting" is a figure of its own.
        held_persons=Count("person", distinct=True, filter=in_held),
        cancelled=Count("pk", filter=in_ended & Q(state=S.CANCELLED)),
        cancelled_persons=persons_count("person", filter=in_ended & Q(state=S.CANCELLED)),
        declined=Count("pk", filter=in_ended & Q(state=S.DECLINED)),
        declined_persons=persons_count("person", filter=in_ended & Q(state=S.DECLINED)),
        to_consent=Avg(F("consent_at") - F("initiated_at"), filter=in_held),
        to_meeting=Avg(Coalesce("actual_start", "starts_at") - F("initiated_at"), filter=in_held),
    )
    held_persons = totals["held_persons"]
    held_participants = _held_participants(period, organisation)

    by_month = _by_month(period, meetings)
    attendance, relatives, remote, staff_attendances = _attendance(
        held_participants, totals["held"]
    )
    priced = _priced_groups(held_participants, costs)
    per_org = _per_organisation(held_participants, organisation)
    cost = _cost_tables(priced, per_org, by_month, attendance, totals["held"], organisation)
    decisions = _decisions(period, meetings, organisation)

    summary = {
        "meetings_initiated": totals["initiated"],
        "meetings_held": totals["held"],
        "meetings_cancelled": totals["cancelled"],
        "meetings_declined": totals["declined"],
        "persons_met": held_persons,
        "mean_days_to_consent": _days(totals["to_consent"]),
        "mean_days_to_meeting": _days(totals["to_meeting"]),
        "meetings_with_relatives_share": _share(
            sum(r["meetings"] for r in relatives.rows if r["relatives"] != "0"), totals["held"]
        ),
        "remote_attendance_share": _share(remote, staff_attendances),
        **cost.pop("summary"),
        **decisions.pop("summary"),
    }
    basis = {
        "meetings_initiated": totals["initiated_persons"],
        "meetings_cancelled": totals["cancelled_persons"],
        "meetings_declined": totals["declined_persons"],
    }
    for key in summary:
        basis.setdefault(
            key, decisions["persons"] if key.startswith("decisions_") else held_persons
        )

    tables = [
        by_month,
        _initiators(period, meetings),
        _raised_by(period, meetings),
        _reasons(period, meetings),
        _endings(period, meetings),
        attendance,
        relatives,
        _minutes(priced, attendance),
        *cost["tables"],
        *decisions["tables"],
        _summaries_read(per_org),
    ]
    followup = _followup(period, meetings, organisation, costs)
    summary.update(followup["summary"])
    basis.update(followup["basis"])
    tables.extend(followup["tables"])
    return Report(
        period=period,
        organisation=organisation,
        summary=summary,
        summary_basis=basis,
        tables={t.key: t for t in tables},
        has_persons=persons,
    )


def _by_month(period: Period, meetings: QuerySet) -> Table:
    rows = {
        month: {
            "month": month,
            "initiated": 0,
            "held": 0,
            "cancelled": 0,
            "declined": 0,
            "mean_days_to_meeting": None,
            "cost_sek": None,
            "mean_cost_sek": None,
            "municipal_cost_share": None,
            "_basis": defaultdict(int),
        }
        for month in period.months()
    }
    for row in (
        meetings.filter(period.within("initiated_at"))
        .annotate(month=TruncMonth("initiated_at"))
        .values("month")
        .annotate(n=Count("pk"), persons=persons_count("person"))
        .order_by()
    ):
        target = rows[_month(row["month"])]
        target["initiated"] = row["n"]
        target["_basis"]["initiated"] = row["persons"]
    for row in (
        meetings.filter(period.within("held_at"))
        .annotate(month=TruncMonth("held_at"))
        .values("month")
        .annotate(
            n=Count("pk"),
            persons=persons_count("person"),
            to_meeting=Avg(Coalesce("actual_start", "starts_at") - F("initiated_at")),
        )
        .order_by()
    ):
        target = rows[_month(row["month"])]
        target["held"] = row["n"]
        target["mean_days_to_meeting"] = _days(row["to_meeting"])
        for key in ("held", "mean_days_to_meeting", "cost_sek", "mean_cost_sek"):
            target["_basis"][key] = row["persons"]
        target["_basis"]["municipal_cost_share"] = row["persons"]
    for row in (
        meetings.filter(period.within("ended_at"), state__in=[S.CANCELLED, S.DECLINED])
        .annotate(month=TruncMonth("ended_at"))
        .values("month", "state")
        .annotate(n=Count("pk"), persons=persons_count("person"))
        .order_by()
    ):
        target = rows[_month(row["month"])]
        target[row["state"]] = row["n"]
        target["_basis"][row["state"]] = row["persons"]
    return Table(
        key="by_month",
        title=_("Meetings per month"),
        columns=[
            Column("month", _("Month"), "month"),
            Column("initiated", _("Initiated"), basis="initiated", additive=True),
            Column("held", _("Held"), basis="held", additive=True),
            Column("cancelled", _("Cancelled"), basis="cancelled", additive=True),
            Column("declined", _("Declined by the person"), basis="declined", additive=True),
            Column("mean_days_to_meeting", _("Days from initiative to meeting"), "days", "held"),
            Column("cost_sek", _("Cost (SEK)"), "sek", "held"),
            Column("mean_cost_sek", _("Cost per meeting (SEK)"), "sek", "held"),
            Column("municipal_cost_share", _("Municipal share of cost"), "share", "held"),
        ],
        rows=list(rows.values()),
    )


def _initiators(period: Period, meetings: QuerySet) -> Table:
    rows = [
        {
            "organisation": row["initiator_organisation__name"],
            "organisation_id": row["initiator_organisation"],
            "role": Role(row["initiator_role"]).label
            if row["initiator_role"] in Role.values
            else row["initiator_role"],
            "meetings": row["n"],
            "persons": row["persons"],
        }
        for row in meetings.filter(period.within("initiated_at"))
        .values("initiator_organisation", "initiator_organisation__name", "initiator_role")
        .annotate(n=Count("pk"), persons=persons_count("person"))
        .order_by("initiator_organisation__name", "initiator_role")
    ]
    return Table(
        key="initiators",
        title=_("Who initiated"),
        columns=[
            Column("organisation", _("Organisation"), "text"),
            Column("role", _("Role"), "text"),
            Column("meetings", _("Meetings initiated"), additive=True),
        ],
        rows=rows,
    )


def _raised_by(period: Period, meetings: QuerySet) -> Table:
    labels = dict(RaisedBy.choices)
    rows = [
        {
            "raised_by": labels.get(row["raised_by"], row["raised_by"]),
            "meetings": row["n"],
            "persons": row["persons"],
        }
        for row in meetings.filter(period.within("initiated_at"))
        .values("raised_by")
        .annotate(n=Count("pk"), persons=persons_count("person"))
        .order_by("-n", "raised_by")
    ]
    return Table(
        key="raised_by",
        title=_("Who raised the concern"),
        columns=[
            Column("raised_by", _("Raised by"), "text"),
            Column("meetings", _("Meetings initiated"), additive=True),
        ],
        rows=rows,
    )


def _reasons(period: Period, meetings: QuerySet) -> Table:
    counts = {
        row["code"]: row
        for row in MeetingReason.objects.filter(
            meeting__in=meetings.filter(period.within("initiated_at")).values("pk")
        )
        .values("code")
        .annotate(n=Count("pk"), persons=persons_count("meeting__person"))
        .order_by()
    }
    rows = []
    for group, codes in REASON_GROUPS:
        for code in codes:
            found = counts.get(code, {"n": 0, "persons": 0})
            rows.append(
                {
                    "group": group,
                    "reason": Reason(code).label,
                    "code": code,
                    "meetings": found["n"],
                    "persons": found["persons"],
                }
            )
    return Table(
        key="reasons",
        title=_("Reasons for the initiative (seed 000, Table 1)"),
        description=_("A meeting can have several reasons."),
        columns=[
            Column("group", _("Group"), "text"),
            Column("reason", _("Reason"), "text"),
            Column("meetings", _("Meetings")),
        ],
        rows=rows,
    )


def _endings(period: Period, meetings: QuerySet) -> Table:
    """Cancelled and declined meetings by the stage they had reached: the "why" that can be
    counted. The free-text reasons are in the meeting export."""
    states = dict(S.choices)
    rows = [
        {
            "outcome": states[row["to_state"]],
            "stage": states.get(row["from_state"], row["from_state"]),
            "from_state": row["from_state"],
            "meetings": row["n"],
            "persons": row["persons"],
        }
        for row in StateChange.objects.filter(
            meeting__in=meetings.filter(period.within("ended_at")).values("pk"),
            to_state__in=[S.CANCELLED, S.DECLINED],
        )
        .values("to_state", "from_state")
        .annotate(n=Count("meeting", distinct=True), persons=persons_count("meeting__person"))
        .order_by("to_state", "from_state")
    ]
    return Table(
        key="endings",
        title=_("Cancelled and declined, by how far the meeting had come"),
        columns=[
            Column("outcome", _("Outcome"), "text"),
            Column("stage", _("Stage reached"), "text"),
            Column("meetings", _("Meetings"), additive=True),
        ],
        rows=rows,
    )


ATTENDANCE_ORDER = [
    Role.PHYSICIAN,
    Role.NURSE,
    Role.ASSISTANT_NURSE,
    Role.NEEDS_ASSESSOR,
    Role.HOME_HELP_COORDINATOR,
    Role.CONTACT_PERSON,
]


def _attendance(participants: QuerySet, held: int) -> tuple[Table, Table, int, int]:
    """Seed 000, Table 2 (at how many of the held meetings each role was present, and how
    many different people that was) and the relatives present.

    One pass counts, per meeting, who of each kind and role was invited, attended and
    attended remotely; a second counts the different people per role.
    """
    K = Participant.Kind
    lines = [(K.PERSON, "", _("The person")), (K.RELATIVE, "", _("Relatives"))]
    lines += [(K.STAFF, role.value, role.label) for role in ATTENDANCE_ORDER]
    attended, remote = Q(attended=True), Q(attended_mode__in=REMOTE_MODES)
    inner = {"pid": Max("meeting__person")}
    outer = {}
    for i, (kind, role, _label) in enumerate(lines):
        who = Q(kind=kind, role=role)
        inner[f"inv{i}"] = Count("pk", filter=who)
        inner[f"att{i}"] = Count("pk", filter=who & attended)
        inner[f"rem{i}"] = Count("pk", filter=who & attended & remote)
        outer[f"invited{i}"] = Count("meeting", filter=Q(**{f"inv{i}__gt": 0}))
        outer[f"attended{i}"] = Count("meeting", filter=Q(**{f"att{i}__gt": 0}))
        outer[f"attendances{i}"] = Sum(f"att{i}")
        outer[f"remote{i}"] = Sum(f"rem{i}")
        outer[f"persons{i}"] = persons_count("pid", filter=Q(**{f"att{i}__gt": 0}))
    buckets = {"1": Q(att1=1), "2": Q(att1=2), "3+": Q(att1__gte=3)}  # line 1: relatives
    for label, q in buckets.items():
        outer[f"relatives{label}"] = Count("meeting", filter=q)
        outer[f"relatives_persons{label}"] = persons_count("pid", filter=q)
    outer["relatives_persons0"] = persons_count("pid", filter=Q(att1=0))
    totals = participants.values("meeting").annotate(**inner).order_by().aggregate(**outer)
    people = {
        (row["kind"], row["role"]): row["people"]
        for row in participants.filter(attended=True)
        .values("kind", "role")
        .annotate(people=Count("user", distinct=True) + Count("relative", distinct=True))
        .order_by()
    }
    rows = []
    for i, (kind, role, label) in enumerate(lines):
        rows.append(
            {
                "who": label,
                "kind": kind,
                "role": role,
                "meetings_invited": totals[f"invited{i}"],
                "meetings_attended": totals[f"attended{i}"],
                "attended_share": _share(totals[f"attended{i}"], held),
                "different_people": people.get((kind, role), 0) if kind != K.PERSON else None,
                "remote_share": _share(totals[f"remote{i}"] or 0, totals[f"attendances{i}"]),
                "persons": totals[f"persons{i}"],
            }
        )
    staff = range(2, len(lines))
    counts = {label: totals[f"relatives{label}"] for label in buckets}
    # A held meeting without any participant row has no relatives either.
    counts["0"] = held - sum(counts.values())
    relatives = Table(
        key="relatives",
        title=_("Relatives present"),
        columns=[
            Column("relatives", _("Relatives at the meeting"), "text"),
            Column("meetings", _("Meetings"), additive=True),
        ],
        rows=[
            {
                "relatives": label,
                "meetings": counts[label],
                "persons": totals[f"relatives_persons{label}"],
            }
            for label in ("0", "1", "2", "3+")
        ],
    )
    attendance = Table(
        key="attendance",
        title=_("Attendance by role (seed 000, Table 2)"),
        description=_("At how many of the held meetings each was present."),
        columns=[
            Column("who", _("Who"), "text"),
            Column("meetings_invited", _("Meetings invited to")),
            Column("meetings_attended", _("Meetings attended")),
            Column("attended_share", _("Share of held meetings"), "share"),
            Column("different_people", _("Different people")),
            Column("remote_share", _("Share by video or phone"), "share"),
        ],
        rows=rows,
    )
    return (
        attendance,
        relatives,
        sum(totals[f"remote{i}"] or 0 for i in staff),
        sum(totals[f"attendances{i}"] or 0 for i in staff),
    )


@dataclass
class PricedGroup:
    month: dt.date
    organisation_id: int | None
    organisation: str
    side: str
    role: str
    attendances: int = 0
    preparation: int = 0
    travel: int = 0
    meeting: int = 0
    convening: int = 0
    recorded: int = 0  # values recorded by participants (the rest are standards)
    values: int = 0
    cost: Decimal = Decimal(0)


def _priced_groups(participants: QuerySet, costs: CostModel) -> list[PricedGroup]:
    """Staff minutes per (month, organisation, role, in person or remote), with standard
    times where nothing was recorded, priced with the organisation's hourly rate."""
    attended = Q(attended=True)
    counted = participants.filter(kind=Participant.Kind.STAFF).filter(
        attended | Q(preparation_minutes__gt=0) | Q(is_convener=True)
    )
    rows = (
        counted.annotate(
            month=TruncMonth("meeting__held_at"),
            remote=Case(
                When(attended_mode__in=REMOTE_MODES, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .values(
            "month",
            "organisation",
            "organisation__name",
            "organisation__principal",
            "role",
            "remote",
        )
        .annotate(
            attendances=Count("pk", filter=attended),
            prep_sum=Sum("preparation_minutes", filter=attended | Q(preparation_minutes__gt=0)),
            prep_missing=Count("pk", filter=attended & Q(preparation_minutes__isnull=True)),
            travel_sum=Sum("travel_minutes", filter=attended),
            travel_missing=Count("pk", filter=attended & Q(travel_minutes__isnull=True)),
            meeting_sum=Sum("meeting_minutes", filter=attended),
            meeting_missing=Count("pk", filter=attended & Q(meeting_minutes__isnull=True)),
            convening=Sum("meeting__convening_minutes", filter=Q(is_convener=True)),
        )
        .order_by()
    )
    groups = []
    for row in rows:
        org, role = row["organisation"], row["role"]
        standards = costs.standards_for(org)
        n = row["attendances"]
        preparation = (row["prep_sum"] or 0) + row["prep_missing"] * costs.preparation_minutes(
            org, role
        )
        travel = (row["travel_sum"] or 0) + (
            0 if row["remote"] else row["travel_missing"] * standards.travel_minutes
        )
        meeting = (row["meeting_sum"] or 0) + row["meeting_missing"] * standards.meeting_minutes
        convening = row["convening"] or 0
        missing = (
            row["prep_missing"]
            + row["meeting_missing"]
            + (0 if row["remote"] else row["travel_missing"])
        )
        values = n * 2 + (0 if row["remote"] else n)
        group = PricedGroup(
            month=_month(row["month"]),
            organisation_id=org,
            organisation=row["organisation__name"] or "",
            side=side_of(row["organisation__principal"]),
            role=role,
            attendances=n,
            preparation=preparation,
            travel=travel,
            meeting=meeting,
            convening=convening,
            recorded=max(values - missing, 0),
            values=values,
        )
        group.cost = costs.cost(org, role, preparation + travel + meeting + convening)
        groups.append(group)
    return groups


def _minutes(groups: list[PricedGroup], attendance: Table) -> Table:
    by_role: dict[str, dict] = {}
    for g in groups:
        row = by_role.setdefault(g.role, defaultdict(int))
        for key in (
            "attendances",
            "preparation",
            "travel",
            "meeting",
            "convening",
            "recorded",
            "values",
        ):
            row[key] += getattr(g, key)
    persons = {row["role"]: row["persons"] for row in attendance.rows if row["kind"] == "staff"}
    rows = []
    for role in ATTENDANCE_ORDER:
        row = by_role.get(role)
        if not row:
            continue
        n = row["attendances"]
        rows.append(
            {
                "role": role.label,
                "attendances": n,
                "preparation_mean": round(row["preparation"] / n, 1) if n else None,
                "travel_mean": round(row["travel"] / n, 1) if n else None,
                "meeting_mean": round(row["meeting"] / n, 1) if n else None,
                "convening_total": row["convening"],
                "hours_total": round(
                    (row["preparation"] + row["travel"] + row["meeting"] + row["convening"]) / 60, 1
                ),
                "recorded_share": _share(row["recorded"], row["values"]),
                "persons": persons.get(role, 0),
            }
        )
    return Table(
        key="minutes",
        title=_("Preparation, travel and meeting time per role"),
        description=_(
            "Minutes per attendance. Where a participant recorded nothing, the organisation's "
            "standard time is used; the last column says how much was recorded."
        ),
        columns=[
            Column("role", _("Role"), "text"),
            Column("attendances", _("Attendances")),
            Column("preparation_mean", _("Preparation (min)"), "minutes"),
            Column("travel_mean", _("Travel (min)"), "minutes"),
            Column("meeting_mean", _("Meeting (min)"), "minutes"),
            Column("convening_total", _("Convening, total (min)"), "minutes"),
            Column("hours_total", _("Hours in total"), "decimal"),
            Column("recorded_share", _("Share recorded"), "share"),
        ],
        rows=rows,
    )


def _per_organisation(participants: QuerySet, organisation: Organisation | None) -> dict[int, dict]:
    """Per taking-part organisation: meetings, persons, and whether it read the summary."""
    rows = participants.filter(kind=Participant.Kind.STAFF, organisation__isnull=False)
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    read = ReadReceipt.objects.filter(
        meeting=OuterRef("meeting"), organisation=OuterRef("organisation")
    )
    return {
        row["organisation"]: row
        for row in rows.annotate(has_read=Exists(read))
        .values("organisation", "organisation__name", "organisation__principal")
        .annotate(
            meetings=Count("meeting", distinct=True),
            attended_meetings=Count("meeting", distinct=True, filter=Q(attended=True)),
            read=Count("meeting", distinct=True, filter=Q(has_read=True)),
            persons=persons_count("meeting__person"),
        )
        .order_by()
    }


def _cost_tables(
    groups: list[PricedGroup],
    per_org: dict[int, dict],
    by_month: Table,
    attendance: Table,
    held: int,
    organisation: Organisation | None,
) -> dict:
    total = sum((g.cost for g in groups), Decimal(0))
    sides = {REGION: Decimal(0), MUNICIPAL: Decimal(0)}
    for g in groups:
        sides[g.side] += g.cost
    month_cost: dict[dt.date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for g in groups:
        month_cost[g.month][g.side] += g.cost
    for row in by_month.rows:
        costs = month_cost.get(row["month"])
        if costs and row["held"]:
            month_total = costs[REGION] + costs[MUNICIPAL]
            row["cost_sek"] = _sek(month_total)
            row["mean_cost_sek"] = _sek(month_total / row["held"])
            row["municipal_cost_share"] = _share(costs[MUNICIPAL], month_total)

    role_persons = {r["role"]: r["persons"] for r in attendance.rows if r["kind"] == "staff"}
    role_side: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for g in groups:
        role_side[(g.role, g.side)] += g.cost
    role_rows = [
        {
            "role": Role(role).label,
            "side": _side_label(side),
            "cost_sek": _sek(cost),
            "per_meeting_sek": _sek(cost / held) if held else None,
            "share": _share(cost, total),
            "persons": role_persons.get(role, 0),
        }
        for (role, side), cost in sorted(
            role_side.items(),
            key=lambda item: (
                ATTENDANCE_ORDER.index(item[0][0]) if item[0][0] in ATTENDANCE_ORDER else 99
            ),
        )
    ]
    org_cost: dict[int, Decimal] = defaultdict(Decimal)
    org_hours: dict[int, int] = defaultdict(int)
    for g in groups:
        org_cost[g.organisation_id] += g.cost
        org_hours[g.organisation_id] += g.preparation + g.travel + g.meeting + g.convening
    org_rows = []
    for org_id, row in sorted(per_org.items(), key=lambda item: item[1]["organisation__name"]):
        org_rows.append(
            {
                "organisation": row["organisation__name"],
                "organisation_id": org_id,
                "side": _side_label(side_of(row["organisation__principal"])),
                "meetings": row["attended_meetings"],
                "hours": round(org_hours.get(org_id, 0) / 60, 1),
                "cost_sek": _sek(org_cost.get(org_id, Decimal(0))),
                "per_meeting_sek": _sek(org_cost[org_id] / row["attended_meetings"])
                if row["attended_meetings"]
                else None,
                "persons": row["persons"],
            }
        )
    summary = {
        "total_cost_sek": _sek(total),
        "mean_cost_sek": _sek(total / held) if held else None,
        "region_cost_sek": _sek(sides[REGION]),
        "municipal_cost_sek": _sek(sides[MUNICIPAL]),
        "municipal_cost_share": _share(sides[MUNICIPAL], total),
    }
    if organisation is not None:
        own = org_cost.get(organisation.pk, Decimal(0))
        summary["own_cost_sek"] = _sek(own)
        summary["own_cost_share"] = _share(own, total)
    return {
        "summary": summary,
        "tables": [
            Table(
                key="cost_by_role",
                title=_("Cost by role and principal"),
                description=_(
                    "Preparation, travel, meeting and convening time priced with each "
                    "organisation's hourly rate. Private home-help providers are counted on "
                    "the municipal side."
                ),
                columns=[
                    Column("role", _("Role"), "text"),
                    Column("side", _("Borne by"), "text"),
                    Column("cost_sek", _("Cost (SEK)"), "sek"),
                    Column("per_meeting_sek", _("Per held meeting (SEK)"), "sek"),
                    Column("share", _("Share of cost"), "share"),
                ],
                rows=role_rows,
            ),
            Table(
                key="cost_by_organisation",
                title=_("Cost by organisation"),
                columns=[
                    Column("organisation", _("Organisation"), "text"),
                    Column("side", _("Borne by"), "text"),
                    Column("meetings", _("Meetings attended")),
                    Column("hours", _("Hours"), "decimal"),
                    Column("cost_sek", _("Cost (SEK)"), "sek"),
                    Column("per_meeting_sek", _("Per meeting attended (SEK)"), "sek"),
                ],
                rows=org_rows,
            ),
        ],
    }


def _side_label(side: str):
    return _("Region") if side == REGION else _("Municipal side")


def _summaries_read(per_org: dict[int, dict]) -> Table:
    return Table(
        key="summaries_read",
        title=_("Summaries read per organisation"),
        description=_(
            "Of the held meetings the organisation took part in, how many it confirmed "
            "having read the summary of."
        ),
        columns=[
            Column("organisation", _("Organisation"), "text"),
            Column("meetings", _("Meetings taken part in")),
            Column("read", _("Summary read")),
            Column("read_share", _("Share read"), "share"),
        ],
        rows=[
            {
                "organisation": row["organisation__name"],
                "organisation_id": org_id,
                "meetings": row["meetings"],
                "read": row["read"],
                "read_share": _share(row["read"], row["meetings"]),
                "persons": row["persons"],
            }
            for org_id, row in sorted(
                per_org.items(), key=lambda item: item[1]["organisation__name"]
            )
        ],
    )


def _decisions(period: Period, meetings: QuerySet, organisation: Organisation | None) -> dict:
    """The organisations' decisions at the meetings held in the period: the person's answer
    at the meeting here, what became of them from the follow-up (`followup_figures`)."""
    from . import followup_figures

    decisions = Decision.objects.filter(
        meeting__in=meetings.filter(period.within("held_at")).values("pk")
    )
    if organisation is not None:
        decisions = decisions.filter(organisation=organisation)
    outcomes = followup_figures.decision_outcomes(decisions)
    categories = dict(DecisionCategory.choices)
    rows, totals = [], defaultdict(int)
    for row in (
        decisions.values("organisation", "organisation__name", "category")
        .annotate(
            n=Count("pk"),
            accepted=Count("pk", filter=Q(person_answer=PersonAnswer.ACCEPTS)),
            declined_at_meeting=Count("pk", filter=Q(person_answer=PersonAnswer.DECLINES)),
            thinking=Count("pk", filter=Q(person_answer=PersonAnswer.THINKING)),
            persons=persons_count("meeting__person"),
        )
        .order_by("organisation__name", "category")
    ):
        outcome = outcomes.get((row["organisation"], row["category"]), {})
        for key in ("n", "declined_at_meeting"):
            totals[key] += row[key]
        for key, value in outcome.items():
            totals[key] += value
        rows.append(
            {
                "organisation": row["organisation__name"],
                "organisation_id": row["organisation"],
                "category": categories.get(row["category"], row["category"]),
                "decisions": row["n"],
                "accepted": row["accepted"],
                "declined_at_meeting": row["declined_at_meeting"],
                "thinking": row["thinking"],
                **followup_figures.decision_outcome_row(outcome, row["n"]),
                "persons": row["persons"],
            }
        )
    persons = decisions.aggregate(persons=persons_count("meeting__person"))["persons"]
    summary = {
        "decisions_total": totals["n"],
        "decisions_declined_at_meeting_share": _share(totals["declined_at_meeting"], totals["n"]),
        **followup_figures.decision_outcome_summary(totals, totals["n"]),
    }
    return {
        "summary": summary,
        "persons": persons,
        "tables": [
            Table(
                key="decisions",
                title=_("Decisions by organisation and category"),
                columns=[
                    Column("organisation", _("Organisation"), "text"),
                    Column("category", _("Category"), "text"),
                    Column("decisions", _("Decisions"), additive=True),
                    Column("accepted", _("Accepted at the meeting")),
                    Column("declined_at_meeting", _("Declined at the meeting")),
                    Column("thinking", _("Time to think")),
                    *followup_figures.decision_outcome_columns(),
                ],
                rows=rows,
            )
        ],
    }


def _followup(period, meetings, organisation, costs) -> dict:
    from . import followup_figures

    return followup_figures.compute(period, meetings, organisation, costs)
