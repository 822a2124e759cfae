"""CSV and XLSX exports that stream in constant memory.

Two exports:
- the figures (every table of the report, suppressed for the steering group);
- the meetings, one row per meeting, for a manager's own organisation only.

Rows are produced by generators over `QuerySet.iterator(chunk_size=2000)` (participants and
reasons are prefetched per chunk), so memory does not grow with the number of meetings.
CSV is written row by row to the response. XLSX is written with openpyxl's write-only
workbook, which streams rows to a temporary file; the finished file is then sent in chunks
(a zip cannot be sent before it is complete).

Every text cell that a spreadsheet would read as a formula (starting with = + - @, tab or
carriage return) gets a leading apostrophe: a cancel reason typed as `=HYPERLINK(...)`
stays text.
"""

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from meetings.choices import AbsenceReason, MeetingKind, RaisedBy, Reason, Urgency
from meetings.models import Agreement, Decision, Meeting, MeetingReason, Participant, ReadReceipt
from participants.models import Organisation, Role
from vom.replica import reports_alias
from vom.textsafety import neutralise

from .costs import MUNICIPAL, CostModel, side_of
from .figures import Period, Report, without_jit
from .suppression import SUPPRESSED

CHUNK_SIZE = 2000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if value is None or isinstance(value, bool | int | float | dt.date):
        return value
    return neutralise(str(value))


# --- Writers ---


class _Echo:
    def write(self, value):
        return value


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV is written: `plain` is RFC 4180 for programs (comma, decimal point, UTF-8
    without a byte-order mark); `excel` is what Excel opens in the reader's language: in
    Swedish a semicolon and a decimal comma, and a byte-order mark so it reads å, ä, ö."""

    delimiter: str = ","
    decimal: str = "."
    bom: bool = False


PLAIN_CSV = CsvDialect()


def excel_csv(language: str) -> CsvDialect:
    if language == "sv":
        return CsvDialect(delimiter=";", decimal=",", bom=True)
    return CsvDialect(bom=True)


def csv_stream(rows: Iterable[list], dialect: CsvDialect = PLAIN_CSV) -> Iterator[bytes]:
    writer = csv.writer(_Echo(), delimiter=dialect.delimiter, lineterminator="\r\n")
    if dialect.bom:
        yield "\ufeff".encode()
    for row in rows:
        cells = ["" if v is None else _csv_value(_cell(v), dialect) for v in row]
        yield writer.writerow(cells).encode()


def _csv_value(value, dialect: CsvDialect = PLAIN_CSV):
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and dialect.decimal != ".":
        return repr(value).replace(".", dialect.decimal)
    return value


def _xlsx_text(value):
    value = _cell(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_stream(sheets: Iterable[tuple], *, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """An XLSX workbook with one sheet per (title, rows) or (title, rows, charts), written
    by openpyxl in write-only mode to a temporary file and then sent in chunks. `charts`
    gives the sheet's charts (openpyxl charts referring to its cells) for the sheet."""
    from openpyxl.utils import get_column_letter

    with tempfile.TemporaryFile() as tmp:
        workbook = Workbook(write_only=True)
        used = set()
        for title, rows, *charts in sheets:
            sheet = workbook.create_sheet(title=_sheet_title(title, used))
            width = 0
            for row in rows:
                width = max(width, len(row))
                sheet.append([_xlsx_text(v) for v in row])
            for i, chart in enumerate(charts[0](sheet) if charts else ()):
                sheet.add_chart(chart, f"{get_column_letter(width + 2)}{2 + 16 * i}")
        workbook.save(tmp)
        tmp.seek(0)
        while data := tmp.read(chunk):
            yield data


def _sheet_title(title, used: set) -> str:
    # Excel: at most 31 characters, none of []:*?/\ and unique.
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in str(title)).strip()[:31] or "Sheet"
    candidate, n = clean, 2
    while candidate.lower() in used:
        suffix = f" {n}"
        candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.lower())
    return candidate


# --- The figures ---


def _table_value(value, kind):
    if value == SUPPRESSED or value is None:
        return value
    if kind == "share":
        return round(value, 4)
    return value


def summary_rows(report: Report) -> Iterator[list]:
    from .labels import summary_fields

    yield [_("Period"), report.period.start, report.period.end]
    yield [
        _("Organisation"),
        report.organisation.name if report.organisation else _("All organisations"),
    ]
    if report.suppressed:
        yield [_("Cells based on fewer than 5 persons are shown as <5.")]
    yield []
    yield [_("Figure"), _("Value"), _("Key")]
    for key, label, kind in summary_fields(report):
        yield [str(label), _table_value(report.summary.get(key), kind), key]


def table_rows(table) -> Iterator[list]:
    yield [str(c.label) for c in table.columns]
    for row in table.rows:
        yield [_table_value(row.get(c.key), c.kind) for c in table.columns]


def figures_csv(report: Report, dialect: CsvDialect = PLAIN_CSV) -> Iterator[bytes]:
    def rows():
        yield from summary_rows(report)
        for table in report.tables.values():
            yield []
            yield [str(table.title)]
            yield from table_rows(table)

    return csv_stream(rows(), dialect)


def figures_xlsx(report: Report) -> Iterator[bytes]:
    sheets = [(_("Summary"), summary_rows(report))]
    from .charts import xlsx_charts

    sheets += [
        (str(table.title), table_rows(table), partial(xlsx_charts, table))
        for table in report.tables.values()
    ]
    return xlsx_stream(sheets)


# --- The meetings, one row per meeting ---


MEETING_COLUMNS = [
    ("meeting", gettext_lazy("Meeting")),
    ("state", gettext_lazy("State")),
    ("kind", gettext_lazy("Type")),
    ("urgency", gettext_lazy("Urgency")),
    ("initiated", gettext_lazy("Initiated")),
    ("consent", gettext_lazy("Consent")),
    ("meeting_date", gettext_lazy("Meeting date")),
    ("ended", gettext_lazy("Cancelled or declined")),
    ("days_to_consent", gettext_lazy("Days to consent")),
    ("days_to_meeting", gettext_lazy("Days to meeting")),
    ("initiator_organisation", gettext_lazy("Initiating organisation")),
    ("initiator_role", gettext_lazy("Initiator's role")),
    ("raised_by", gettext_lazy("Raised by")),
    ("reasons", gettext_lazy("Reasons")),
    ("cancel_reason", gettext_lazy("Reason for cancelling")),
    ("staff_invited", gettext_lazy("Staff invited")),
    ("staff_present", gettext_lazy("Staff present")),
    ("staff_remote", gettext_lazy("Staff by video or phone")),
    ("relatives_present", gettext_lazy("Relatives present")),
    ("own_staff_present", gettext_lazy("Our staff present")),
    ("own_minutes", gettext_lazy("Our minutes")),
    ("own_cost_sek", gettext_lazy("Our cost (SEK)")),
    ("cost_sek", gettext_lazy("Cost of the meeting (SEK)")),
    ("region_cost_sek", gettext_lazy("Region (SEK)")),
    ("municipal_cost_sek", gettext_lazy("Municipal side (SEK)")),
    ("decisions", gettext_lazy("Decisions")),
    ("own_decisions", gettext_lazy("Our decisions")),
    ("agreements", gettext_lazy("Agreements about care")),
    ("summary_read", gettext_lazy("We read the summary")),
    ("staff_absent", gettext_lazy("Staff invited but absent, why")),
    ("registered_afterwards", gettext_lazy("Registered afterwards")),
]
MEETING_COLUMN_KEYS = [key for key, _label in MEETING_COLUMNS]


def meeting_columns() -> list[str]:
    return [str(label) for _key, label in MEETING_COLUMNS]


MEETING_FIELDS = (
    "pk",
    "state",
    "kind",
    "urgency",
    "initiated_at",
    "consent_at",
    "starts_at",
    "actual_start",
    "held_at",
    "ended_at",
    "initiator_organisation__name",
    "initiator_role",
    "raised_by",
    "cancel_reason",
    "convening_minutes",
    "relatives_present",
    "decisions_total",
    "decisions_own",
    "agreements_total",
    "read_by_us",
    "registered_at",
)
STAFF_FIELDS = (
    "meeting_id",
    "organisation_id",
    "organisation__principal",
    "role",
    "is_convener",
    "attended",
    "attended_mode",
    "preparation_minutes",
    "travel_minutes",
    "meeting_minutes",
    "absence_reason",
)


def _count(queryset, **outer):
    return Coalesce(
        Subquery(
            queryset.filter(**outer)
            .order_by()
            .values("meeting")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def _export_queryset(meetings, organisation: Organisation):
    """Plain values (no model instances) with the per-meeting counts as subqueries."""
    present = Participant.objects.filter(
        kind=Participant.Kind.RELATIVE, attended=True, removed_at__isnull=True
    )
    return (
        meetings.annotate(
            relatives_present=_count(present, meeting=OuterRef("pk")),
            decisions_total=_count(Decision.objects.all(), meeting=OuterRef("pk")),
            decisions_own=_count(
                Decision.objects.filter(organisation=organisation), meeting=OuterRef("pk")
            ),
            agreements_total=_count(Agreement.objects.all(), meeting=OuterRef("pk")),
            read_by_us=Exists(
                ReadReceipt.objects.filter(meeting=OuterRef("pk"), organisation=organisation)
            ),
        )
        .order_by("pk")
        .values_list(*MEETING_FIELDS, named=True)
    )


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _local_date(value):
    return timezone.localtime(value).date() if value else None


def _days_between(start, end):
    if not start or not end:
        return None
    return round((end - start).total_seconds() / 86400, 1)


def _labels(choices) -> dict[str, str]:
    # Translated once, not once per row.
    return {value: str(label) for value, label in choices}


def meeting_rows(
    meetings,
    organisation: Organisation,
    *,
    cost_model: CostModel | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[list]:
    """The header, then one row per meeting; `meetings` must already be limited to what the
    organisation may see (`selectors.meetings_for_export`).

    Meetings are read through a server-side cursor (`iterator(chunk_size=...)`) inside one
    read-only transaction; for each chunk, its staff and reasons are read in one query each.
    """
    costs = cost_model or CostModel.load()
    states, kinds = _labels(Meeting.State.choices), _labels(MeetingKind.choices)
    urgencies, raised = _labels(Urgency.choices), _labels(RaisedBy.choices)
    roles, reasons = _labels(Role.choices), _labels(Reason.choices)
    absences = _labels(AbsenceReason.choices)
    yes, no = _("yes"), _("no")
    remote_modes = (Participant.Mode.VIDEO, Participant.Mode.PHONE)
    ended_states = (Meeting.State.CANCELLED, Meeting.State.DECLINED)
    yield meeting_columns()
    # Inside `vom.replica.report_reads()` (vom.replica.streamed): on the replica.
    using = reports_alias()
    with transaction.atomic(using=using):
        without_jit(using)
        rows = _export_queryset(meetings, organisation).iterator(chunk_size=chunk_size)
        for chunk in _chunks(rows, chunk_size):
            ids = [m.pk for m in chunk]
            staff: dict[int, list] = {}
            for p in (
                Participant.objects.filter(
                    meeting_id__in=ids, kind=Participant.Kind.STAFF, removed_at__isnull=True
                )
                .order_by()
                .values_list(*STAFF_FIELDS, named=True)
            ):
                staff.setdefault(p.meeting_id, []).append(p)
            codes: dict[int, list[str]] = {}
            for meeting_id, code in (
                MeetingReason.objects.filter(meeting_id__in=ids)
                .order_by("pk")
                .values_list("meeting_id", "code")
            ):
                codes.setdefault(meeting_id, []).append(reasons.get(code, code))
            for m in chunk:
                yield _meeting_row(
                    m, staff.get(m.pk, ()), codes.get(m.pk, ()), organisation, costs,
                    labels=(states, kinds, urgencies, raised, roles, absences, yes, no),
                    remote_modes=remote_modes, ended_states=ended_states,
                )  # fmt: skip


def _meeting_row(m, staff, codes, organisation, costs, *, labels, remote_modes, ended_states):
    states, kinds, urgencies, raised, roles, absences, yes, no = labels
    total = {"region": Decimal(0), MUNICIPAL: Decimal(0)}
    # The reason only: the note is free text and may name someone (need-to-know).
    absent = sorted(
        f"{roles.get(p.role, p.role)}: {absences[p.absence_reason]}"
        for p in staff
        if m.held_at is not None and p.attended is False and p.absence_reason
    )
    own_cost, own_minutes, own_present = Decimal(0), 0, 0
    invited = present = remote = 0
    held = m.held_at is not None
    on = _local_date(m.held_at)
    for p in staff:
        invited += 1
        attended = bool(p.attended) and held
        is_remote = p.attended_mode in remote_modes
        present += attended
        remote += attended and is_remote
        if not held:
            continue
        minutes = sum(
            costs.minutes(
                p.organisation_id,
                p.role,
                preparation=p.preparation_minutes,
                travel=p.travel_minutes,
                meeting=p.meeting_minutes,
                attended=attended,
                remote=is_remote,
                on=on,
            )
        )
        if p.is_convener:
            minutes += costs.convening(p.organisation_id, m.convening_minutes, on)
        cost = costs.cost(p.organisation_id, p.role, minutes, on)
        side = side_of(p.organisation__principal)
        total[side if side == MUNICIPAL else "region"] += cost
        if p.organisation_id == organisation.pk:
            own_cost += cost
            own_minutes += minutes
            own_present += attended
    meeting_cost = total["region"] + total[MUNICIPAL]
    date = m.actual_start or m.starts_at
    return [
        m.pk,
        states.get(m.state, m.state),
        kinds.get(m.kind, m.kind),
        urgencies.get(m.urgency, m.urgency),
        _local_date(m.initiated_at),
        _local_date(m.consent_at),
        _local_date(date),
        _local_date(m.ended_at) if m.state in ended_states else None,
        _days_between(m.initiated_at, m.consent_at),
        _days_between(m.initiated_at, date) if held else None,
        m.initiator_organisation__name,
        roles.get(m.initiator_role, m.initiator_role),
        raised.get(m.raised_by, m.raised_by),
        "; ".join(codes),
        m.cancel_reason,
        invited,
        present if held else None,
        remote if held else None,
        m.relatives_present if held else None,
        own_present if held else None,
        own_minutes if held else None,
        round(own_cost, 2) if held else None,
        round(meeting_cost, 2) if held else None,
        round(total["region"], 2) if held else None,
        round(total[MUNICIPAL], 2) if held else None,
        m.decisions_total,
        m.decisions_own,
        m.agreements_total,
        (yes if m.read_by_us else no) if held else None,
        "; ".join(absent) if held else None,
        _local_date(m.registered_at) if m.registered_at else no,
    ]


def meetings_csv(
    meetings, organisation: Organisation, dialect: CsvDialect = PLAIN_CSV, **kwargs
) -> Iterator[bytes]:
    return csv_stream(meeting_rows(meetings, organisation, **kwargs), dialect)


def meetings_xlsx(meetings, organisation: Organisation, **kwargs) -> Iterator[bytes]:
    return xlsx_stream([(_("Meetings"), meeting_rows(meetings, organisation, **kwargs))])


def export_filename(kind: str, period: Period, organisation: Organisation | None, ext: str) -> str:
    who = f"-{organisation.pk}" if organisation else ""
    return f"vom-{kind}{who}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{ext}"


__all__ = [
    "csv_stream",
    "figures_csv",
    "figures_xlsx",
    "meeting_rows",
    "meetings_csv",
    "meetings_xlsx",
    "neutralise",
    "xlsx_stream",
]
