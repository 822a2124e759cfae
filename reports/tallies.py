"""The report's figures per organisation and month, kept ahead of any request.

Every figure of `reports.figures` is a sum over months of parts that add up: counts, sums
(a mean is a sum and a count), and the persons behind a cell. `parts(period, organisation)`
computes those parts from the meeting tables for one month (or a piece of one); they are
stored as one `MonthTally` row per organisation's scope (and one for the whole area) and
month. A report reads the rows of its months and adds them up (`read`): no request reads
the meeting tables for a period of whole months.

Keeping them current: PostgreSQL triggers on every table a figure reads write a
`TallyMark` with the month(s) of the changed meeting in the same transaction (migration
0002), whatever wrote the change (a service, `QuerySet.update()`, raw SQL, anonymising).
The "reports-fold" task (every REPORTS_FOLD_SECONDS, 20 by default; in-process under
`make run`) computes the marked months again and replaces their rows. A month is computed
whole from the tables, never patched with deltas, so a figure is written once, in
`parts`, and a new figure needs no trigger of its own (only its table in the migration's
list when it reads a new one). A daily rebuild of every month (`rebuild`) keeps the
figures that depend on today's date (decisions past their due date) right.

Persons: a cell is suppressed for the steering group when fewer than five distinct persons
are behind it (`reports.suppression`). Distinct counts do not add up over months, so each
cell keeps the lowest MIN_PERSONS person ids it saw: the union over months has fewer than
five ids exactly when fewer than five persons are behind the cell. "Persons who had a
meeting" and "different people" per role are shown, so those keep every id.
"""

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    JSONField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from followup.models import Checkpoint, DecisionStatus, DecisionStatusChange, HealthCareUse
from followup.models import OutcomeMeasure as Outcome
from meetings.choices import PersonAnswer
from meetings.models import Decision, Meeting, MeetingReason, Participant, ReadReceipt, StateChange
from participants.models import Organisation

from .models import MonthTally, TallyMark
from .tables import ATTENDANCE_ORDER, Period, meetings_in_scope, without_jit

logger = logging.getLogger(__name__)

MIN_PERSONS = 5  # reports.suppression.MIN_PERSONS (imported there from here)
# Sets whose every id is kept (shown as counts); all others keep MIN_PERSONS ids.
EXACT = "all_"
REMOTE_MODES = (Participant.Mode.VIDEO, Participant.Mode.PHONE)
S = Meeting.State


def _ids(values) -> list[int]:
    return sorted({v for v in values or () if v is not None})


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value or 0


def _entry(key, counts: dict, sets: dict | None = None) -> list:
    stored = {}
    for name, values in (sets or {}).items():
        ids = _ids(values)
        stored[name] = ids if name.startswith(EXACT) else ids[:MIN_PERSONS]
    return [list(key), {k: _plain(v) for k, v in counts.items()}, stored]


class _DistinctIds(Aggregate):
    """The distinct values of a column as a list: array_agg(DISTINCT ...) on PostgreSQL,
    json_group_array(DISTINCT ...) on SQLite (`make run`)."""

    function = "ARRAY_AGG"
    allow_distinct = True
    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


def _persons(field: str, **kwargs):
    if connection.vendor == "postgresql":
        return ArrayAgg(field, distinct=True, **kwargs)
    return _DistinctIds(field, distinct=True, **kwargs)


def kept_current() -> bool:
    """Only PostgreSQL has the triggers that mark what changed (migration 0002), so only
    there are the stored tallies kept current; elsewhere (SQLite under `make run`) every
    month is computed from the tables when it is read, and there is nothing to fold."""
    return connection.vendor == "postgresql"


# --- The parts of one month (or part of one) ---


def parts(period, organisation: Organisation | None) -> dict[str, list]:
    """Every figure's parts for `period` (within one month) and the scope of
    `organisation` (None: the whole area): {figure: [[key, counts, persons], ...]}."""

    with transaction.atomic():
        without_jit()
        # The scope's meetings of the month, read once by id: every query below then
        # finds its rows through the meeting indexes instead of testing the scope again.
        in_month = period.within("initiated_at") | period.within("held_at")
        in_month |= period.within("ended_at")
        ids, held_ids = [], []
        for pk, held_at in (
            meetings_in_scope(organisation).filter(in_month).values_list("pk", "held_at")
        ):
            ids.append(pk)
            if held_at is not None and period.start_at <= held_at < period.end_at:
                held_ids.append(pk)
        meetings = Meeting.objects.filter(pk__in=ids)
        held = Meeting.objects.filter(pk__in=held_ids)
        participants = Participant.objects.filter(meeting_id__in=held_ids, removed_at__isnull=True)
        return {
            "totals": _totals(period, meetings),
            "initiators": _initiators(period, meetings),
            "raised_by": _grouped(meetings.filter(period.within("initiated_at")), "raised_by"),
            "reasons": _reasons(period, meetings),
            "endings": _endings(period, meetings),
            **_attendance(participants),
            "priced": _priced(participants),
            "per_organisation": _per_organisation(participants, organisation),
            **_decisions(held, organisation),
            "home_help": _home_help(held),
            "health_care": _health_care(held),
            "outcomes": _outcomes(held),
        }


def _totals(period, meetings) -> list:
    in_init, in_held, in_ended = (
        period.within("initiated_at"),
        period.within("held_at"),
        period.within("ended_at"),
    )
    cancelled, declined = in_ended & Q(state=S.CANCELLED), in_ended & Q(state=S.DECLINED)
    date = Coalesce("actual_start", "starts_at")
    t = meetings.filter(in_init | in_held | in_ended).aggregate(
        initiated=Count("pk", filter=in_init),
        initiated_p=_persons("person", filter=in_init),
        held=Count("pk", filter=in_held),
        held_p=_persons("person", filter=in_held),
        cancelled=Count("pk", filter=cancelled),
        cancelled_p=_persons("person", filter=cancelled),
        declined=Count("pk", filter=declined),
        declined_p=_persons("person", filter=declined),
        consent_s=Sum(F("consent_at") - F("initiated_at"), filter=in_held),
        consent_n=Count("consent_at", filter=in_held),
        meeting_s=Sum(date - F("initiated_at"), filter=in_held),
        meeting_n=Count(date, filter=in_held),
    )
    sets = {name: t.pop(f"{name}_p") for name in ("initiated", "held", "cancelled", "declined")}
    sets["all_held"] = sets["held"]
    return [_entry((), t, sets)]


def _grouped(rows, *key, person="person") -> list:
    return [
        _entry([row[k] for k in key], {"n": row["n"]}, {"persons": row["p"]})
        for row in rows.values(*key).annotate(n=Count("pk"), p=_persons(person)).order_by()
    ]


def _initiators(period, meetings) -> list:
    return _grouped(
        meetings.filter(period.within("initiated_at")), "initiator_organisation", "initiator_role"
    )


def _reasons(period, meetings) -> list:
    rows = MeetingReason.objects.filter(
        meeting__in=meetings.filter(period.within("initiated_at")).values("pk")
    )
    return _grouped(rows, "code", person="meeting__person")


def _endings(period, meetings) -> list:
    rows = (
        StateChange.objects.filter(
            meeting__in=meetings.filter(period.within("ended_at")).values("pk"),
            to_state__in=[S.CANCELLED, S.DECLINED],
        )
        .values("to_state", "from_state")
        .annotate(n=Count("meeting", distinct=True), p=_persons("meeting__person"))
        .order_by()
    )
    return [
        _entry([r["to_state"], r["from_state"]], {"n": r["n"]}, {"persons": r["p"]}) for r in rows
    ]


def attendance_lines():

    K = Participant.Kind
    return [(K.PERSON, ""), (K.RELATIVE, "")] + [(K.STAFF, r.value) for r in ATTENDANCE_ORDER]


def _attendance(participants) -> dict:
    """Per kind and role: at how many meetings invited and present, attendances, remote;
    relatives present per meeting in buckets; the different people present."""
    lines = attendance_lines()
    attended, remote = Q(attended=True), Q(attended_mode__in=REMOTE_MODES)
    inner = {"pid": Max("meeting__person")}
    outer = {}
    for i, (kind, role) in enumerate(lines):
        who = Q(kind=kind, role=role)
        inner[f"inv{i}"] = Count("pk", filter=who)
        inner[f"att{i}"] = Count("pk", filter=who & attended)
        inner[f"rem{i}"] = Count("pk", filter=who & attended & remote)
        outer[f"invited{i}"] = Count("meeting", filter=Q(**{f"inv{i}__gt": 0}))
        outer[f"attended{i}"] = Count("meeting", filter=Q(**{f"att{i}__gt": 0}))
        outer[f"attendances{i}"] = Sum(f"att{i}")
        outer[f"remote{i}"] = Sum(f"rem{i}")
        outer[f"persons{i}"] = _persons("pid", filter=Q(**{f"att{i}__gt": 0}))
    buckets = {"1": Q(att1=1), "2": Q(att1=2), "3+": Q(att1__gte=3)}  # line 1: relatives
    for label, q in buckets.items():
        outer[f"relatives{label}"] = Count("meeting", filter=q)
        outer[f"relatives_persons{label}"] = _persons("pid", filter=q)
    outer["relatives_persons0"] = _persons("pid", filter=Q(att1=0))
    t = participants.values("meeting").annotate(**inner).order_by().aggregate(**outer)
    people = {
        (row["kind"], row["role"]): row
        for row in participants.filter(attended=True)
        .values("kind", "role")
        .annotate(users=_persons("user"), relatives=_persons("relative"))
        .order_by()
    }
    lines_parts = []
    for i, (kind, role) in enumerate(lines):
        found = people.get((kind, role), {})
        lines_parts.append(
            _entry(
                [kind, role],
                {
                    "invited": t[f"invited{i}"],
                    "attended": t[f"attended{i}"],
                    "attendances": t[f"attendances{i}"],
                    "remote": t[f"remote{i}"],
                },
                {
                    "persons": t[f"persons{i}"],
                    "all_users": found.get("users"),
                    "all_relatives": found.get("relatives"),
                },
            )
        )
    relatives = [
        _entry([label], {"n": t[f"relatives{label}"] if label != "0" else 0},
               {"persons": t[f"relatives_persons{label}"]})
        for label in ("0", "1", "2", "3+")
    ]  # fmt: skip
    return {"attendance": lines_parts, "relatives": relatives}


def _priced(participants) -> list:
    """Staff minutes per (organisation, role, in person or remote): priced when read, with
    the rates of the reader's cost model."""
    attended = Q(attended=True)
    counted = participants.filter(kind=Participant.Kind.STAFF).filter(
        attended | Q(preparation_minutes__gt=0) | Q(is_convener=True)
    )
    rows = (
        counted.annotate(
            remote=Case(
                When(attended_mode__in=REMOTE_MODES, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .values("organisation", "role", "remote")
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
    result = []
    for row in rows:
        key = [row.pop("organisation"), row.pop("role"), row.pop("remote")]
        result.append(_entry(key, row))
    return result


def _per_organisation(participants, organisation) -> list:
    rows = participants.filter(kind=Participant.Kind.STAFF, organisation__isnull=False)
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    read = ReadReceipt.objects.filter(
        meeting=OuterRef("meeting"), organisation=OuterRef("organisation")
    )
    return [
        _entry(
            [row["organisation"]],
            {k: row[k] for k in ("meetings", "attended_meetings", "read")},
            {"persons": row["p"]},
        )
        for row in rows.annotate(has_read=Exists(read))
        .values("organisation")
        .annotate(
            meetings=Count("meeting", distinct=True),
            attended_meetings=Count("meeting", distinct=True, filter=Q(attended=True)),
            read=Count("meeting", distinct=True, filter=Q(has_read=True)),
            p=_persons("meeting__person"),
        )
        .order_by()
    ]


OUTCOME_KEYS = ("implemented", "partly", "declined", "on_time", "judged", "no_report")


def _decisions(held, organisation) -> dict:
    """Per (organisation, category): the person's answer at the meeting and what became of
    the decisions (each one's latest status and whether, and by its due date, it was
    implemented; "past due" is judged against today, hence the daily rebuild)."""
    decisions = Decision.objects.filter(meeting__in=held.values("pk"))
    if organisation is not None:
        decisions = decisions.filter(organisation=organisation)
    today = timezone.localdate()
    reports = DecisionStatusChange.objects.filter(decision=OuterRef("pk"))
    implemented = reports.filter(status=DecisionStatus.IMPLEMENTED)
    groups = (
        decisions.annotate(
            latest_status=Subquery(reports.order_by("-reported_at", "-id").values("status")[:1]),
            implemented=Exists(implemented),
            implemented_by_due=Exists(implemented.filter(date__lte=OuterRef("due_date"))),
            due=Case(
                When(due_date__isnull=True, then=Value("none")),
                When(due_date__lt=today, then=Value("past")),
                default=Value("future"),
            ),
        )
        .values(
            "organisation",
            "category",
            "person_answer",
            "latest_status",
            "implemented",
            "implemented_by_due",
            "due",
        )
        .annotate(n=Count("pk"), p=_persons("meeting__person"))
        .order_by()
    )
    cells: dict[tuple, dict] = {}
    for g in groups:
        cell = cells.setdefault(
            (g["organisation"], g["category"]),
            {"counts": defaultdict(int), "persons": set()},
        )
        counts, n, latest = cell["counts"], g["n"], g["latest_status"]
        cell["persons"].update(v for v in g["p"] or () if v is not None)
        declined = (
            g["person_answer"] == PersonAnswer.DECLINES
            or latest == DecisionStatus.DECLINED_BY_PERSON
        )
        # Can be judged on time: a due date, still wanted, and implemented or past due.
        judged = (
            g["due"] != "none"
            and not declined
            and latest != DecisionStatus.NO_LONGER_RELEVANT
            and (g["implemented"] or g["due"] == "past")
        )
        counts["n"] += n
        counts["accepted"] += n if g["person_answer"] == PersonAnswer.ACCEPTS else 0
        counts["declined_at_meeting"] += n if g["person_answer"] == PersonAnswer.DECLINES else 0
        counts["thinking"] += n if g["person_answer"] == PersonAnswer.THINKING else 0
        counts["implemented"] += n if latest == DecisionStatus.IMPLEMENTED else 0
        counts["partly"] += n if latest == DecisionStatus.PARTLY else 0
        counts["declined"] += n if declined else 0
        counts["judged"] += n if judged else 0
        counts["on_time"] += n if judged and g["implemented_by_due"] else 0
        counts["no_report"] += n if latest is None else 0
    everyone = set().union(*(cell["persons"] for cell in cells.values()))
    return {
        "decisions": [
            _entry(key, dict(cell["counts"]), {"persons": cell["persons"]})
            for key, cell in cells.items()
        ],
        "decisions_all": [_entry((), {}, {"persons": everyone})],
    }


def _home_help(held) -> list:
    rows = (
        Checkpoint.objects.filter(
            meeting__in=held.values("pk"),
            completed_at__isnull=False,
            home_help_hours_before__isnull=False,
            home_help_hours_after__isnull=False,
        )
        .values("kind")
        .annotate(
            n=Count("pk"),
            p=_persons("meeting__person"),
            before_s=Sum("home_help_hours_before"),
            after_s=Sum("home_help_hours_after"),
            more=Count("pk", filter=Q(home_help_hours_after__gt=F("home_help_hours_before"))),
        )
        .order_by()
    )
    return [
        _entry([r["kind"]], {k: r[k] for k in ("n", "before_s", "after_s", "more")},
               {"persons": r["p"]})
        for r in rows
    ]  # fmt: skip


def _health_care(held) -> list:
    B, A = HealthCareUse.Period.BEFORE, HealthCareUse.Period.AFTER
    # One row per meeting with before and after side by side, then the sums over them.
    per_meeting = (
        HealthCareUse.objects.filter(meeting__in=held.values("pk"))
        .values("meeting", "person")
        .annotate(
            adm_before=Max("hospital_admissions", filter=Q(period=B)),
            adm_after=Max("hospital_admissions", filter=Q(period=A)),
            em_before=Max("emergency_visits", filter=Q(period=B)),
            em_after=Max("emergency_visits", filter=Q(period=A)),
            months_before=Max("months", filter=Q(period=B)),
            months_after=Max("months", filter=Q(period=A)),
        )
        .order_by()
    )
    paired = Q(adm_before__isnull=False, adm_after__isnull=False)
    t = per_meeting.aggregate(
        total_n=Count("meeting", filter=paired),
        total_p=_persons("person", filter=paired),
        total_adm_before=Sum("adm_before", filter=paired),
        total_adm_after=Sum("adm_after", filter=paired),
        total_em_before=Sum("em_before", filter=paired),
        total_em_after=Sum("em_after", filter=paired),
        total_months_before_s=Sum("months_before", filter=paired),
        total_months_before_n=Count("months_before", filter=paired),
        total_months_after_s=Sum("months_after", filter=paired),
        total_months_after_n=Count("months_after", filter=paired),
    )
    t = {key.removeprefix("total_"): value for key, value in t.items()}
    persons = t.pop("p")
    return [_entry((), t, {"persons": persons})]


def _outcomes(held) -> list:
    from .followup_figures import LATER, MEASURES, THRESHOLDS

    # One row per meeting with each measure at each timepoint side by side (conditional
    # aggregation), then the sums over those rows. Names use single underscores.
    timepoints = [Outcome.Timepoint.BASELINE] + [tp for tp, _label in LATER]
    pivot = {
        f"{name}_{tp}": Max(name, filter=Q(timepoint=tp))
        for name, _label, _places in MEASURES
        for tp in timepoints
    }
    per_meeting = (
        Outcome.objects.filter(meeting__in=held.values("pk"), could_not_answer=False)
        .values("meeting", "person")
        .annotate(**pivot)
        .order_by()
    )
    aggregates = {}
    for name, _label, _places in MEASURES:
        base, threshold = f"{name}_{Outcome.Timepoint.BASELINE}", THRESHOLDS[name]
        for timepoint, _tlabel in LATER:
            later = key = f"{name}_{timepoint}"
            paired = Q(**{f"{base}__isnull": False, f"{later}__isnull": False})
            # Positive gain is better: a higher EQ-5D index or VAS, a lower STAI-6.
            if name == "stai6_sum":
                better = paired & Q(**{f"{base}__gt": F(later) + threshold})
                worse = paired & Q(**{f"{later}__gt": F(base) + threshold})
            else:
                better = paired & Q(**{f"{later}__gte": F(base) + threshold})
                worse = paired & Q(**{f"{base}__gte": F(later) + threshold})
            aggregates[f"{key}_n"] = Count("meeting", filter=paired)
            aggregates[f"{key}_p"] = _persons("person", filter=paired)
            aggregates[f"{key}_before_s"] = Sum(base, filter=paired)
            aggregates[f"{key}_after_s"] = Sum(later, filter=paired)
            aggregates[f"{key}_better"] = Count("meeting", filter=better)
            aggregates[f"{key}_worse"] = Count("meeting", filter=worse)
    t = per_meeting.aggregate(**aggregates)
    result = []
    for name, _label, _places in MEASURES:
        for timepoint, _tlabel in LATER:
            key = f"{name}_{timepoint}"
            counts = {
                part: t[f"{key}_{part}"] for part in ("n", "before_s", "after_s", "better", "worse")
            }
            result.append(_entry([name, timepoint], counts, {"persons": t[f"{key}_p"]}))
    return result


# --- Adding months up ---


@dataclass
class Cell:
    counts: dict = field(default_factory=lambda: defaultdict(float))
    sets: dict = field(default_factory=lambda: defaultdict(set))

    def add(self, counts: dict, sets: dict) -> None:
        for name, value in counts.items():
            self.counts[name] += value or 0
        for name, ids in sets.items():
            self.sets[name].update(ids)

    def n(self, name: str) -> int:
        return int(self.counts.get(name, 0))

    def value(self, name: str):
        return self.counts.get(name, 0)

    def mean(self, total: str, n: str):
        count = self.counts.get(n, 0)
        return self.counts.get(total, 0) / count if count else None

    def persons(self, name: str = "persons") -> int:
        return len(self.sets.get(name, ()))


@dataclass
class Tallies:
    """The parts of a report's months, added up per figure and key (`figure`), and per month
    for the figures shown month by month (`months`)."""

    figures: dict = field(default_factory=lambda: defaultdict(dict))
    months: dict = field(default_factory=dict)

    def add(self, month: dt.date, stored: dict) -> None:
        own = self.months.setdefault(month, defaultdict(dict))
        for name, entries in stored.items():
            for key, counts, sets in entries:
                key = tuple(key)
                for target in (self.figures[name], own[name]):
                    target.setdefault(key, Cell()).add(counts, sets)

    def figure(self, name: str) -> dict[tuple, Cell]:
        return self.figures.get(name, {})

    def cell(self, name: str, key=()) -> Cell:
        return self.figure(name).get(tuple(key)) or Cell()


def _month_end(month: dt.date) -> dt.date:
    return (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def read(period, organisation: Organisation | None) -> Tallies:
    """The added-up parts of the period. Whole months (and the current month up to today)
    come from the stored tallies; the days of a month the period covers only partly are
    computed from the tables (a period not chosen by months)."""

    today = timezone.localdate()
    stored, partial = [], []
    for month in period.months():
        end = _month_end(month)
        whole = period.start <= month and (period.end >= end or period.end >= today)
        if whole and kept_current():
            stored.append(month)
        else:
            partial.append(Period(max(period.start, month), min(period.end, end)))
    tallies = Tallies()
    for month in stored:
        tallies.months.setdefault(month, defaultdict(dict))
    rows = MonthTally.objects.filter(organisation=organisation, month__in=stored).values_list(
        "month", "figures"
    )
    for month, figures in rows:
        tallies.add(month, figures)
    for piece in partial:
        tallies.add(piece.start.replace(day=1), parts(piece, organisation))
    return tallies


# --- Folding ---


def scopes_of_month(month: dt.date) -> list[int]:
    """The organisations with a meeting in their scope that has a figure in `month`."""

    period = Period(month, _month_end(month))
    meetings = Meeting.objects.filter(
        period.within("initiated_at") | period.within("held_at") | period.within("ended_at")
    )
    initiators = set(
        meetings.exclude(initiator_organisation=None)
        .values_list("initiator_organisation", flat=True)
        .distinct()
    )
    taking_part = set(
        Participant.objects.filter(
            meeting__in=meetings.values("pk"), removed_at__isnull=True, organisation__isnull=False
        )
        .values_list("organisation", flat=True)
        .distinct()
    )
    return sorted(initiators | taking_part)


def build_month(month: dt.date) -> int:
    """Compute every scope's tally of `month` again and replace the stored ones; returns
    how many scopes have figures that month."""

    month = month.replace(day=1)
    period = Period(month, _month_end(month))
    now = timezone.now()
    organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=scopes_of_month(month))}
    rows = [MonthTally(organisation=None, month=month, figures=parts(period, None),
                       computed_at=now)]  # fmt: skip
    rows += [
        MonthTally(organisation=o, month=month, figures=parts(period, o), computed_at=now)
        for o in organisations.values()
    ]
    with transaction.atomic():
        MonthTally.objects.filter(month=month).delete()
        MonthTally.objects.bulk_create(rows)
    return len(rows)


FOLD_LOCK = 7_317_001  # pg_advisory lock id: one fold at a time across processes


def fold() -> list[dt.date]:
    """Compute again each month with a mark and remove its marks; returns the months.

    A month's marks are deleted in the transaction that rebuilds it, before it reads the
    tables: a change whose mark is deleted committed before that DELETE, so the rebuild's
    later statements see it (READ COMMITTED); a mark written meanwhile stays for the next
    fold. Folds do not run side by side (an advisory lock); a second one returns at once.
    """
    done = []
    if not kept_current():
        return done
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return done
        try:
            months = sorted(set(TallyMark.objects.values_list("month", flat=True)))
            for month in months:
                with transaction.atomic():
                    TallyMark.objects.filter(month=month).delete()
                    build_month(month)
                done.append(month)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [FOLD_LOCK])
    return done


def rebuild() -> int:
    """Mark every month with meetings (the daily run: figures judged against today)."""
    if not kept_current():
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO reports_tallymark (month)
            SELECT DISTINCT date_trunc('month', t.at AT TIME ZONE %s)::date
            FROM meetings_meeting r
            CROSS JOIN LATERAL (VALUES (r.initiated_at), (r.held_at), (r.ended_at)) t(at)
            WHERE t.at IS NOT NULL
            """,
            [timezone.get_default_timezone_name()],
        )
        return cursor.rowcount


def behind() -> dt.datetime | None:
    """When the oldest change not yet in the tallies was made: None when none is waiting."""
    return TallyMark.objects.order_by("pk").values_list("created_at", flat=True).first()
