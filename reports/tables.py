"""The report's shape and its scope, below everything that computes or shows figures: the
period, the tables with labelled columns and the report they make; which meetings an
organisation's figures are about; the order attendance is shown in; the settings of a
report's transaction. `figures` computes the report, `tallies` keeps its monthly parts,
`followup_figures` adds the follow-up's tables, `suppression` hides small cells, and all
of them import this module, never each other's upward."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from meetings.models import Meeting, Participant
from participants.models import Organisation, Role

# What a hidden small cell shows (reports.suppression decides which are hidden).
SUPPRESSED = "<5"


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
    # Shares that make a whole (each row's part of the total): shown so that they add up
    # to 100 % (reports.rounding.largest_remainder).
    whole: bool = False


@dataclass
class Table:
    key: str
    title: object
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)
    description: object = ""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def display_rows(self) -> list[dict]:
        """The rows as shown: a column whose shares make a whole is given in whole percent
        that add up to 100 %, unless a cell of it is hidden (then each is rounded alone,
        in the cell's formatting)."""
        from .rounding import largest_remainder

        rows = [dict(row) for row in self.rows]
        for column in self.columns:
            if not column.whole:
                continue
            values = [row.get(column.key) for row in rows]
            if any(v is None or v == SUPPRESSED for v in values):
                continue
            for row, shown in zip(rows, largest_remainder(values), strict=True):
                row[column.key] = shown
        return rows


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


# --- Scope ---


def meetings_in_scope(organisation: Organisation | None = None) -> QuerySet[Meeting]:
    meetings = Meeting.objects.all()
    if organisation is None:
        return meetings
    takes_part = Participant.objects.filter(
        meeting=OuterRef("pk"), organisation=organisation, removed_at__isnull=True
    )
    return meetings.filter(Q(initiator_organisation=organisation) | Exists(takes_part))


ATTENDANCE_ORDER = [
    Role.PHYSICIAN,
    Role.NURSE,
    Role.ASSISTANT_NURSE,
    Role.NEEDS_ASSESSOR,
    Role.HOME_HELP_COORDINATOR,
    Role.CONTACT_PERSON,
]


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
