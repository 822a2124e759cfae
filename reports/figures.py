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

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.choices import REASON_GROUPS, DecisionCategory, RaisedBy, Reason
from meetings.models import Meeting, Participant
from participants.models import Organisation, Role

from .costs import MUNICIPAL, REGION, CostModel, side_of
from .tables import (  # noqa: F401 - the report's shape, named here for its readers
    ATTENDANCE_ORDER,
    REPORT_WORK_MEM,
    Column,
    Period,
    Report,
    Table,
    meetings_in_scope,
    without_jit,
)

S = Meeting.State
REMOTE_MODES = (Participant.Mode.VIDEO, Participant.Mode.PHONE)


# --- Scope ---


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


def _days(seconds: float | None) -> float | None:
    if seconds is None:
        return None
    return round(seconds / 86400, 1)


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

    Added up from the stored month tallies (`reports.tallies`), which carry the persons
    behind each cell, so every report can be suppressed; `persons` is kept for callers.
    """
    with transaction.atomic():
        return _compute(period, organisation, cost_model or CostModel.load(), persons)


def _compute(
    period: Period, organisation: Organisation | None, costs: CostModel, persons: bool
) -> Report:
    from . import tallies as stored

    parts = stored.read(period, organisation)
    totals = parts.cell("totals")
    held = totals.n("held")
    held_persons = totals.persons("all_held")
    names = _organisation_names(parts)

    by_month = _by_month(period, parts)
    attendance, relatives, remote, staff_attendances = _attendance(parts, held)
    priced = _priced_groups(parts, costs, names)
    per_org = _per_organisation(parts, names)
    cost = _cost_tables(priced, per_org, by_month, attendance, held, organisation)
    decisions = _decisions(parts, names)

    summary = {
        "meetings_initiated": totals.n("initiated"),
        "meetings_held": held,
        "meetings_cancelled": totals.n("cancelled"),
        "meetings_declined": totals.n("declined"),
        "persons_met": held_persons,
        "mean_days_to_consent": _days(totals.mean("consent_s", "consent_n")),
        "mean_days_to_meeting": _days(totals.mean("meeting_s", "meeting_n")),
        "meetings_with_relatives_share": _share(
            sum(r["meetings"] for r in relatives.rows if r["relatives"] != "0"), held
        ),
        "remote_attendance_share": _share(remote, staff_attendances),
        **cost.pop("summary"),
        **decisions.pop("summary"),
    }
    basis = {
        "meetings_initiated": totals.persons("initiated"),
        "meetings_cancelled": totals.persons("cancelled"),
        "meetings_declined": totals.persons("declined"),
    }
    for key in summary:
        basis.setdefault(
            key, decisions["persons"] if key.startswith("decisions_") else held_persons
        )

    tables = [
        by_month,
        _initiators(parts, names),
        _raised_by(parts),
        _reasons(parts),
        _endings(parts),
        attendance,
        relatives,
        _minutes(priced, attendance),
        *cost["tables"],
        *decisions["tables"],
        _summaries_read(per_org),
    ]
    followup = _followup(parts, organisation, costs)
    summary.update(followup["summary"])
    basis.update(followup["basis"])
    tables.extend(followup["tables"])
    return Report(
        period=period,
        organisation=organisation,
        summary=summary,
        summary_basis=basis,
        tables={t.key: t for t in tables},
        has_persons=True,
    )


def _organisation_names(parts) -> dict[int, dict]:
    """Name and principal of every organisation the figures name (read now, so a renamed
    organisation shows its new name)."""
    ids = {key[0] for key in parts.figure("initiators")}
    ids |= {
        key[0] for name in ("priced", "per_organisation", "decisions") for key in parts.figure(name)
    }
    for cells in parts.months.values():
        ids |= {key[0] for key in cells.get("priced", {})}
    ids.discard(None)
    return {
        row["pk"]: row
        for row in Organisation.objects.filter(pk__in=ids).values("pk", "name", "principal")
    }


def _by_month(period: Period, parts) -> Table:
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
    for month, target in rows.items():
        cell = parts.months.get(month, {}).get("totals", {}).get(())
        if cell is None:
            continue
        for key in ("initiated", "held", "cancelled", "declined"):
            target[key] = cell.n(key)
            target["_basis"][key] = cell.persons(key)
        target["mean_days_to_meeting"] = _days(cell.mean("meeting_s", "meeting_n"))
        for key in ("mean_days_to_meeting", "cost_sek", "mean_cost_sek", "municipal_cost_share"):
            target["_basis"][key] = cell.persons("held")
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


def _initiators(parts, names) -> Table:
    def label(role):
        return Role(role).label if role in Role.values else role

    rows = [
        {
            "organisation": names.get(org, {}).get("name"),
            "organisation_id": org,
            "role": label(role),
            "meetings": cell.n("n"),
            "persons": cell.persons(),
        }
        for (org, role), cell in sorted(
            parts.figure("initiators").items(),
            key=lambda item: (names.get(item[0][0], {}).get("name") or "", item[0][1] or ""),
        )
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


def _raised_by(parts) -> Table:
    labels = dict(RaisedBy.choices)
    rows = [
        {
            "raised_by": labels.get(raised_by, raised_by),
            "meetings": cell.n("n"),
            "persons": cell.persons(),
        }
        for (raised_by,), cell in sorted(
            parts.figure("raised_by").items(), key=lambda item: (-item[1].n("n"), item[0][0] or "")
        )
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


def _reasons(parts) -> Table:
    counts = {
        code: {"n": cell.n("n"), "persons": cell.persons()}
        for (code,), cell in parts.figure("reasons").items()
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


def _endings(parts) -> Table:
    """Cancelled and declined meetings by the stage they had reached: the "why" that can be
    counted. The free-text reasons are in the meeting export."""
    states = dict(S.choices)
    rows = [
        {
            "outcome": states[to_state],
            "stage": states.get(from_state, from_state),
            "from_state": from_state,
            "meetings": cell.n("n"),
            "persons": cell.persons(),
        }
        for (to_state, from_state), cell in sorted(parts.figure("endings").items())
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


def _attendance(parts, held: int) -> tuple[Table, Table, int, int]:
    """Seed 000, Table 2 (at how many of the held meetings each role was present, and how
    many different people that was) and the relatives present."""
    K = Participant.Kind
    lines = [(K.PERSON, "", _("The person")), (K.RELATIVE, "", _("Relatives"))]
    lines += [(K.STAFF, role.value, role.label) for role in ATTENDANCE_ORDER]
    cells = [parts.cell("attendance", (kind, role)) for kind, role, _label in lines]
    totals = {}
    for i, cell in enumerate(cells):
        for name in ("invited", "attended", "attendances", "remote"):
            totals[f"{name}{i}"] = cell.n(name)
        totals[f"persons{i}"] = cell.persons()
    buckets = ("1", "2", "3+")
    for label in ("0", *buckets):
        bucket = parts.cell("relatives", (label,))
        totals[f"relatives{label}"] = bucket.n("n")
        totals[f"relatives_persons{label}"] = bucket.persons()
    people = {
        (kind, role): cell.persons("all_users") + cell.persons("all_relatives")
        for (kind, role, _label), cell in zip(lines, cells, strict=True)
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
                "remote_share": _share(totals[f"remote{i}"], totals[f"attendances{i}"]),
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


def _priced_groups(parts, costs: CostModel, names) -> list[PricedGroup]:
    """Staff minutes per (month, organisation, role, in person or remote), with standard
    times where nothing was recorded, priced with the organisation's hourly rate."""
    groups = []
    for month, cells in sorted(parts.months.items()):
        for (org, role, remote), cell in cells.get("priced", {}).items():
            standards = costs.standards_for(org)
            n = cell.n("attendances")
            preparation = cell.n("prep_sum") + cell.n("prep_missing") * costs.preparation_minutes(
                org, role
            )
            travel = cell.n("travel_sum") + (
                0 if remote else cell.n("travel_missing") * standards.travel_minutes
            )
            meeting = cell.n("meeting_sum") + cell.n("meeting_missing") * standards.meeting_minutes
            convening = cell.n("convening")
            missing = (
                cell.n("prep_missing")
                + cell.n("meeting_missing")
                + (0 if remote else cell.n("travel_missing"))
            )
            values = n * 2 + (0 if remote else n)
            found = names.get(org, {})
            group = PricedGroup(
                month=month,
                organisation_id=org,
                organisation=found.get("name") or "",
                side=side_of(found.get("principal")),
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


def _per_organisation(parts, names) -> dict[int, dict]:
    """Per taking-part organisation: meetings, persons, and whether it read the summary."""
    return {
        org: {
            "organisation": org,
            "organisation__name": names.get(org, {}).get("name") or "",
            "organisation__principal": names.get(org, {}).get("principal"),
            "meetings": cell.n("meetings"),
            "attended_meetings": cell.n("attended_meetings"),
            "read": cell.n("read"),
            "persons": cell.persons(),
        }
        for (org,), cell in parts.figure("per_organisation").items()
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
                    Column("share", _("Share of cost"), "share", whole=True),
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


def _decisions(parts, names) -> dict:
    """The organisations' decisions at the meetings held in the period: the person's answer
    at the meeting, and what became of them from the follow-up (`tallies._decisions`)."""
    from . import followup_figures

    categories = dict(DecisionCategory.choices)
    rows, totals = [], defaultdict(int)
    cells = sorted(
        parts.figure("decisions").items(),
        key=lambda item: (names.get(item[0][0], {}).get("name") or "", item[0][1]),
    )
    for (org, category), cell in cells:
        outcome = {key: cell.n(key) for key in followup_figures.OUTCOME_KEYS}
        n = cell.n("n")
        totals["n"] += n
        totals["declined_at_meeting"] += cell.n("declined_at_meeting")
        for key, value in outcome.items():
            totals[key] += value
        rows.append(
            {
                "organisation": names.get(org, {}).get("name"),
                "organisation_id": org,
                "category": categories.get(category, category),
                "decisions": n,
                "accepted": cell.n("accepted"),
                "declined_at_meeting": cell.n("declined_at_meeting"),
                "thinking": cell.n("thinking"),
                **followup_figures.decision_outcome_row(outcome, n),
                "persons": cell.persons(),
            }
        )
    persons = parts.cell("decisions_all").persons()
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


def _followup(parts, organisation, costs) -> dict:
    from . import followup_figures

    return followup_figures.compute(parts, organisation, costs)
