"""The organisation administrator's import of meetings already held (from paper, or from
before the organisation used the product), from a CSV or XLSX file.

One row per staff member invited, per relative, and per decision of a meeting; the rows of
one meeting share its reference (column `meeting`) and its meeting columns (filled on at
least one of its rows; where filled on several they must agree). Every row is checked and
every error is listed (row, column, what is wrong). Nothing is saved unless the whole file
is valid: the meetings are registered in one transaction, each through
`meetings.registration.meeting_register_held`, the service of the care staff's form.
"""

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from followup.models import DecisionStatus
from participants import personnummer as pnr
from participants import services as participant_services
from participants.models import CareTeamEntry, Membership, Organisation, Person, Relative, Role
from participants.selectors import CARE_ROLES
from vom.errors import DomainError
from vom.timeutil import aware_local

from .choices import AbsenceReason, DecisionCategory, MeetingKind, PersonAnswer, RaisedBy, Reason
from .models import Consent, Meeting, Participant
from .registration import (
    HeldMeeting,
    RegisteredDecision,
    RelativeAttendance,
    StaffAttendance,
    meeting_register_held,
)

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    help: object  # a lazy translation
    meeting_level: bool = False


COLUMNS = [
    Column("meeting", gettext_lazy("Your reference for the meeting; the same on all its rows.")),
    Column("personnummer", gettext_lazy("The person's personal identity number."), True),
    Column("initiated_on", gettext_lazy("Date of the initiative (YYYY-MM-DD)."), True),
    Column("initiated_by", gettext_lazy("Who took the initiative: user name or email."), True),
    Column("initiator_organisation", gettext_lazy("The initiator's organisation."), True),
    Column("raised_by", gettext_lazy("Who raised the concern."), True),
    Column("reasons", gettext_lazy("Reasons, separated by semicolons."), True),
    Column("reason_text", gettext_lazy("More about the reasons (optional)."), True),
    Column("kind", gettext_lazy("Full or small meeting (empty: full)."), True),
    Column("consent_on", gettext_lazy("Date of consent (YYYY-MM-DD)."), True),
    Column("consent_how", gettext_lazy("How consent was given (empty: orally)."), True),
    Column("share_information", gettext_lazy("Sharing agreed (yes/no, empty: yes)."), True),
    Column("starts_at", gettext_lazy("When the meeting started (YYYY-MM-DD HH:MM)."), True),
    Column("ends_at", gettext_lazy("When it ended (YYYY-MM-DD HH:MM)."), True),
    Column("convener", gettext_lazy("Who convened: user name or email of the nurse."), True),
    Column("location", gettext_lazy("Place (empty: the person's home)."), True),
    Column("person_attended", gettext_lazy("The person took part (yes/no, empty: yes)."), True),
    Column("row", gettext_lazy("What the row is: staff, relative or decision.")),
    Column("organisation", gettext_lazy("Staff and decisions: the organisation.")),
    Column("staff", gettext_lazy("Staff: user name or email. Decisions: who is responsible.")),
    Column("role", gettext_lazy("Staff: the role in which they were invited.")),
    Column("relative", gettext_lazy("Relatives: the name (added to the person if new).")),
    Column("relation", gettext_lazy("Relatives: the relation, for a new relative.")),
    Column("took_part", gettext_lazy("Staff and relatives: yes or no.")),
    Column("mode", gettext_lazy("How they took part (empty: in person).")),
    Column("absence_reason", gettext_lazy("Why someone invited did not come.")),
    Column("absence_note", gettext_lazy("More about the absence (optional).")),
    Column("category", gettext_lazy("Decisions: the category.")),
    Column("decision", gettext_lazy("Decisions: what was decided.")),
    Column("person_answer", gettext_lazy("Decisions: the person's answer.")),
    Column("due_date", gettext_lazy("Decisions: by when (optional, YYYY-MM-DD).")),
    Column("status", gettext_lazy("Decisions: where it stands (optional).")),
    Column("status_date", gettext_lazy("Decisions: the status applies from (YYYY-MM-DD).")),
]  # fmt: skip
KEYS = [c.key for c in COLUMNS]
MEETING_KEYS = [c.key for c in COLUMNS if c.meeting_level]
REQUIRED_MEETING_KEYS = [
    "personnummer", "initiated_on", "initiated_by", "initiator_organisation", "raised_by",
    "consent_on", "starts_at", "ends_at", "convener",
]  # fmt: skip
ROW_KINDS = {
    "staff": "staff", "personal": "staff",
    "relative": "relative", "anhörig": "relative",
    "decision": "decision", "beslut": "decision",
}  # fmt: skip
YES = {"yes", "ja", "y", "j", "1", "true", "sant"}
NO = {"no", "nej", "n", "0", "false", "falskt"}


def choices_for(key: str) -> list[tuple[str, str]]:
    """The values a coded column takes (code, label), for the template's instructions."""
    return {
        "raised_by": RaisedBy.choices,
        "reasons": Reason.choices,
        "kind": MeetingKind.choices,
        "consent_how": Consent.How.choices,
        "role": [(r.value, r.label) for r in Role if r.value in CARE_ROLES],
        "mode": Participant.Mode.choices,
        "absence_reason": AbsenceReason.choices,
        "category": DecisionCategory.choices,
        "person_answer": PersonAnswer.choices,
        "status": DecisionStatus.choices,
    }.get(key, [])


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


class ImportRefused(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass
class ImportResult:
    meetings: list[Meeting] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- Reading the file ---


def read_table(data: bytes, filename: str) -> list[dict]:
    """The rows of a CSV (comma or semicolon, UTF-8 with or without BOM) or XLSX file as
    {column: text-or-cell-value}, each with its row number under "_row"."""
    if len(data) > MAX_BYTES:
        raise ImportRefused([RowError(0, "", _("The file is larger than 5 MB."))])
    table = _xlsx_rows(data) if filename.lower().endswith(".xlsx") else _csv_rows(data)
    try:
        header = next(table)
    except StopIteration:
        raise ImportRefused([RowError(1, "", _("The file is empty."))]) from None
    header = [str(h or "").strip().lower() for h in header]
    missing = [k for k in ("meeting", "row") if k not in header]
    unknown = [h for h in header if h and h not in KEYS]
    errors = [RowError(1, k, _("This column is missing.")) for k in missing]
    errors += [RowError(1, h, _("Unknown column.")) for h in unknown]
    if errors:
        raise ImportRefused(errors)
    rows = []
    for number, values in enumerate(table, start=2):
        if number > MAX_ROWS + 1:
            raise ImportRefused([RowError(number, "", _("At most 5,000 rows in one file."))])
        row = {h: v for h, v in zip(header, values, strict=False) if h}
        if all(v in (None, "") or str(v).strip() == "" for v in row.values()):
            continue
        row["_row"] = number
        rows.append(row)
    return rows


def _csv_rows(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused([RowError(0, "", _("Save the CSV file as UTF-8."))]) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return iter(csv.reader(io.StringIO(text), delimiter=delimiter))


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable file is the same answer to the user
        raise ImportRefused([RowError(0, "", _("The file could not be read as XLSX."))]) from None
    return book.worksheets[0].iter_rows(values_only=True)


# --- Checking the rows ---


class _Row:
    """One row's values, collecting its errors."""

    def __init__(self, values: dict, errors: list[RowError]):
        self.values = values
        self.number = values["_row"]
        self.errors = errors

    def error(self, column: str, message) -> None:
        self.errors.append(RowError(self.number, column, str(message)))

    def text(self, key: str) -> str:
        value = self.values.get(key)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value).strip()

    def required(self, key: str) -> str:
        value = self.text(key)
        if not value:
            self.error(key, _("Fill this in."))
        return value

    def date(self, key: str, *, required: bool = True) -> dt.date | None:
        value = self.values.get(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = self.text(key)
        if not text:
            if required:
                self.error(key, _("Fill this in."))
            return None
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            self.error(key, _("Give a date as YYYY-MM-DD."))
            return None

    def moment(self, key: str) -> dt.datetime | None:
        value = self.values.get(key)
        if not isinstance(value, dt.datetime):
            text = self.text(key)
            if not text:
                self.error(key, _("Fill this in."))
                return None
            try:
                value = dt.datetime.fromisoformat(text.replace("T", " "))
            except ValueError:
                self.error(key, _("Give a date and time as YYYY-MM-DD HH:MM."))
                return None
        try:
            return aware_local(value.replace(tzinfo=None))
        except DomainError as exc:
            self.error(key, exc.message)
            return None

    def choice(self, key: str, *, default: str = "", required: bool = False) -> str:
        text = self.text(key)
        if not text:
            if required and not default:
                self.error(key, _("Fill this in."))
            return default
        found = _match(text, choices_for(key))
        if found is None:
            self.error(key, _("Unknown value “%(value)s”.") % {"value": text[:60]})
            return default
        return found

    def yes_no(self, key: str, *, default: bool | None = None) -> bool | None:
        text = self.text(key).lower()
        if not text:
            if default is None:
                self.error(key, _("Fill this in: yes or no."))
            return default
        if text in YES:
            return True
        if text in NO:
            return False
        self.error(key, _("Give yes or no."))
        return default


def _match(text: str, choices) -> str | None:
    wanted = text.strip().lower()
    for value, label in choices:
        if wanted in (str(value).lower(), str(label).lower()):
            return value
    return None


class _Lookups:
    """The organisations, people and persons the rows name, read once."""

    def __init__(self, organisation: Organisation, rows: list[dict]):
        self.organisation = organisation
        self.organisations = {
            o.name.lower(): o for o in Organisation.objects.filter(is_active=True)
        }
        keys = ("initiated_by", "convener", "staff")
        names = {str(r.get(k) or "").strip().lower() for r in rows for k in keys} - {""}
        memberships = (
            Membership.objects.active()
            .filter(Q(user__username__in=names) | Q(user__email__in=names))
            .select_related("user", "organisation")
        )
        self.memberships: dict[str, list[Membership]] = {}
        for m in memberships:
            for key in (m.user.username.lower(), m.user.email.lower()):
                self.memberships.setdefault(key, []).append(m)
        for name in names:
            if name not in self.memberships:
                # Email addresses are matched case-insensitively too.
                found = [m for m in memberships if m.user.email and m.user.email.lower() == name]
                if found:
                    self.memberships[name] = found
        self.persons: dict[str, Person | None] = {}

    def org(self, row: _Row, key: str) -> Organisation | None:
        name = row.required(key)
        if not name:
            return None
        found = self.organisations.get(name.lower())
        if found is None:
            row.error(key, _("No organisation is called “%(name)s”.") % {"name": name[:80]})
        return found

    def member(self, row: _Row, key: str, organisation, roles) -> Membership | None:
        """The membership of the user the column names in `organisation` (any of `roles`)."""
        name = row.required(key)
        if not name:
            return None
        memberships = self.memberships.get(name.lower())
        if not memberships:
            row.error(key, _("No active user “%(name)s”.") % {"name": name[:80]})
            return None
        fitting = [
            m for m in memberships
            if (organisation is None or m.organisation_id == organisation.pk) and m.role in roles
        ]  # fmt: skip
        if not fitting:
            row.error(
                key,
                _("%(name)s does not have that role at %(organisation)s.")
                % {"name": name[:80], "organisation": organisation or "—"},
            )
            return None
        return fitting[0]

    def person(self, row: _Row) -> Person | None:
        text = row.required("personnummer")
        if not text:
            return None
        try:
            digits = pnr.parse(text).digits
        except pnr.InvalidPersonnummer:
            row.error("personnummer", _("Not a valid personal identity number."))
            return None
        if digits not in self.persons:
            # Only persons the administrator's organisation serves now; anyone else is
            # answered the same as someone who does not exist.
            serving = CareTeamEntry.objects.current().filter(organisation=self.organisation)
            self.persons[digits] = Person.objects.filter(
                personnummer=digits, pk__in=serving.values("person_id")
            ).first()
        person = self.persons[digits]
        if person is None:
            row.error(
                "personnummer",
                _("%(organisation)s serves no person with this number.")
                % {"organisation": self.organisation},
            )
        return person


@dataclass
class _PlannedMeeting:
    first_row: int
    held: HeldMeeting | None = None
    # The row each meeting column was read from, for an error the registration finds.
    first_number: dict[str, int] = field(default_factory=dict)
    new_relatives: list[tuple[str, str]] = field(default_factory=list)  # name, relation
    relative_rows: list[tuple[str, bool, str, str]] = field(default_factory=list)


def check(organisation: Organisation, rows: list[dict]) -> tuple[list[_PlannedMeeting], list]:
    """Every row checked; the meetings the rows describe, and every error found."""
    errors: list[RowError] = []
    lookups = _Lookups(organisation, rows)
    by_meeting: dict[str, list[_Row]] = {}
    for values in rows:
        row = _Row(values, errors)
        reference = row.required("meeting")
        if reference:
            by_meeting.setdefault(reference, []).append(row)
    planned = [_meeting(lookups, group) for group in by_meeting.values()]
    errors.sort(key=lambda e: (e.row, KEYS.index(e.column) if e.column in KEYS else -1))
    return planned, errors


def _meeting(lookups: _Lookups, group: list[_Row]) -> _PlannedMeeting:
    # The meeting's columns: from the first row that fills each; later rows must agree.
    merged = {"_row": group[0].number}
    for key in MEETING_KEYS:
        for row in group:
            value = row.text(key)
            if not value:
                continue
            if key not in merged:
                merged[key] = row.values[key]
                merged[f"_{key}_row"] = row.number
            elif value != _Row(merged, []).text(key):
                row.error(
                    key,
                    _("Differs from row %(row)s of the same meeting.")
                    % {"row": merged[f"_{key}_row"]},
                )
    head = _Row(merged, group[0].errors)
    first_number = {key: merged.get(f"_{key}_row", group[0].number) for key in MEETING_KEYS}

    def at(key):  # report a meeting column's error on the row that gave it
        head.number = first_number.get(key, group[0].number)
        return head

    person = lookups.person(at("personnummer"))
    initiator_org = lookups.org(at("initiator_organisation"), "initiator_organisation")
    initiator = lookups.member(at("initiated_by"), "initiated_by", initiator_org, CARE_ROLES)
    convener = lookups.member(at("convener"), "convener", None, (Role.NURSE, Role.PHYSICIAN))
    if convener and convener.organisation.kind != Organisation.Kind.HOME_HEALTH_CARE:
        at("convener").error(
            "convener", _("The convener is a nurse or physician in home health care.")
        )
    initiated_on = at("initiated_on").date("initiated_on")
    consent_on = at("consent_on").date("consent_on")
    starts_at = at("starts_at").moment("starts_at")
    ends_at = at("ends_at").moment("ends_at")
    raised_by = at("raised_by").choice("raised_by", required=True)
    kind = at("kind").choice("kind", default=MeetingKind.FULL)
    consent_how = at("consent_how").choice("consent_how", default=Consent.How.ORALLY)
    share = at("share_information").yes_no("share_information", default=True)
    person_attended = at("person_attended").yes_no("person_attended", default=True)
    reasons = []
    for part in filter(None, (p.strip() for p in at("reasons").text("reasons").split(";"))):
        code = _match(part, Reason.choices)
        if code is None:
            at("reasons").error("reasons", _("Unknown value “%(value)s”.") % {"value": part[:60]})
        else:
            reasons.append(code)
    reason_text = at("reason_text").text("reason_text")
    if not reasons and not reason_text:
        at("reasons").error("reasons", _("Give at least one reason."))

    staff, decisions, plan = [], [], _PlannedMeeting(group[0].number)
    seen_staff: dict[int, int] = {}
    for row in group:
        kind_of_row = ROW_KINDS.get(row.text("row").lower())
        if kind_of_row is None:
            row.error("row", _("Give staff, relative or decision."))
        elif kind_of_row == "staff":
            organisation = lookups.org(row, "organisation")
            role = row.choice("role", required=True)
            member = lookups.member(row, "staff", organisation, (role,)) if role else None
            attended = row.yes_no("took_part")
            mode = row.choice("mode", default=Participant.Mode.IN_PERSON)
            reason = row.choice("absence_reason")
            note = row.text("absence_note")[:300]
            if reason and attended:
                row.error(
                    "absence_reason",
                    _("A reason for absence only for someone invited who did not come."),
                )
            if reason == AbsenceReason.OTHER and not note:
                row.error("absence_note", _("Describe the other reason."))
            if member is not None:
                if member.user_id in seen_staff:
                    row.error(
                        "staff",
                        _("Already on row %(row)s of this meeting.")
                        % {"row": seen_staff[member.user_id]},
                    )
                seen_staff[member.user_id] = row.number
                staff.append(
                    StaffAttendance(
                        user=member.user, organisation=member.organisation, role=member.role,
                        attended=bool(attended), mode=mode, absence_reason=reason,
                        absence_note=note,
                    )
                )  # fmt: skip
        elif kind_of_row == "relative":
            name = row.required("relative")[:200]
            attended = row.yes_no("took_part", default=True)
            reason = row.choice("absence_reason")
            if reason and attended:
                row.error(
                    "absence_reason",
                    _("A reason for absence only for someone invited who did not come."),
                )
            if name:
                plan.relative_rows.append(
                    (name, bool(attended), reason, row.text("absence_note")[:300])
                )
                if person is not None and not _relative_named(person, name):
                    plan.new_relatives.append((name, row.text("relation")[:100]))
        else:
            organisation = lookups.org(row, "organisation")
            responsible = lookups.member(row, "staff", organisation, CARE_ROLES)
            category = row.choice("category", required=True)
            description = row.required("decision")
            answer = row.choice("person_answer", required=True)
            status = row.choice("status")
            due = row.date("due_date", required=False)
            status_date = row.date("status_date", required=False)
            if organisation and responsible and category and description and answer:
                decisions.append(
                    RegisteredDecision(
                        organisation=organisation, category=category, description=description,
                        responsible=responsible.user, person_answer=answer, due_date=due,
                        status=status, status_date=status_date,
                    )
                )  # fmt: skip
    if convener is not None and convener.user_id not in seen_staff:
        at("convener").error(
            "convener",
            _("List the convener on a staff row of the meeting, with whether she took part."),
        )
    complete = all(
        v is not None
        for v in (person, initiator, initiator_org, convener, initiated_on, consent_on,
                  starts_at, ends_at)
    ) and raised_by  # fmt: skip
    if complete:
        plan.held = HeldMeeting(
            person=person, initiated_by=initiator.user, initiator_organisation=initiator_org,
            initiated_on=initiated_on, consent_on=consent_on, starts_at=starts_at,
            ends_at=ends_at, convener=convener.user, raised_by=raised_by, reasons=reasons,
            reason_text=reason_text, kind=kind, location=at("location").text("location")[:300],
            consent_how=consent_how, share_information=share, person_attended=person_attended,
            staff=staff, decisions=decisions,
        )  # fmt: skip
    plan.first_number = first_number
    return plan


def _relative_named(person: Person, name: str) -> Relative | None:
    return Relative.objects.filter(person=person, name__iexact=name).first()


# --- Registering ---


# The registration's fields (DomainError.field) and the columns they come from.
FIELD_COLUMNS = {
    "initiated_on": "initiated_on", "consent_on": "consent_on", "starts_at": "starts_at",
    "ends_at": "ends_at", "convener": "convener", "organisation": "initiated_by",
    "person": "personnummer", "user": "staff", "responsible": "staff", "due_date": "due_date",
    "date": "status_date", "description": "decision", "absence_reason": "absence_reason",
    "absence_note": "absence_note", "reasons": "reasons",
}  # fmt: skip


def import_held_meetings(*, actor, organisation: Organisation, data: bytes, filename: str,
                         request=None) -> ImportResult:  # fmt: skip
    """Check every row of the file and, only if all are valid, register every meeting in
    one transaction. The result lists the meetings, or every error (and nothing saved)."""
    try:
        rows = read_table(data, filename)
    except ImportRefused as refused:
        return ImportResult(errors=refused.errors)
    if not rows:
        return ImportResult(errors=[RowError(2, "", _("The file has no rows to import."))])
    planned, errors = check(organisation, rows)
    if errors:
        return ImportResult(errors=errors)
    result = ImportResult()
    try:
        with transaction.atomic():
            for plan in planned:
                _register(actor, plan, result, request=request)
            if result.errors:
                raise ImportRefused(result.errors)
    except ImportRefused as refused:
        return ImportResult(errors=sorted(refused.errors, key=lambda e: e.row))
    return result


def _register(actor, plan: _PlannedMeeting, result: ImportResult, *, request) -> None:
    held = plan.held
    try:
        with transaction.atomic():
            relatives = []
            for name, attended, reason, note in plan.relative_rows:
                relative = _relative_named(held.person, name)
                if relative is None:
                    relation = dict(plan.new_relatives).get(name, "") or _("relative")
                    relative = participant_services.relative_save(
                        actor=actor, person=held.person,
                        data={"name": name, "relation": relation}, request=request,
                    )  # fmt: skip
                relatives.append(RelativeAttendance(relative, attended, reason, note))
            held = dataclasses.replace(held, relatives=relatives)
            result.meetings.append(meeting_register_held(actor=actor, held=held, request=request))
    except DomainError as exc:
        column = FIELD_COLUMNS.get(exc.field or "", "")
        row = plan.first_number.get(column, plan.first_row)
        result.errors.append(RowError(row, column, str(exc.message)))


# --- The template ---


def template_rows() -> Iterable[list[str]]:
    yield KEYS


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in template_rows():
        writer.writerow(row)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Meetings")
    for row in template_rows():
        sheet.append(row)
    notes = book.create_sheet(_("Instructions"))
    notes.append([_("Column"), _("What to write"), _("Values")])
    for column in COLUMNS:
        values = "; ".join(f"{code} ({label})" for code, label in choices_for(column.key))
        notes.append([column.key, str(column.help), values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
