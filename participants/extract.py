"""The register extract of a person (GDPR art. 15): everything held about them, in one place.

`EXTRACT_SECTIONS` is a registry: each entry is a callable that takes the person and returns
an `ExtractSection`. Other apps append theirs in `AppConfig.ready()` (meetings: consents,
meetings, decisions; followup: follow-ups and measures), so the extract grows with the
product without this module knowing about them:

    from participants.extract import EXTRACT_SECTIONS
    EXTRACT_SECTIONS.append(meetings_section)

Section data is plain values (str, int, float, bool, None, date, datetime; lists and dicts of
them) that DjangoJSONEncoder can write: a dict for one record, a list of dicts for many.

Who asks matters. Each organisation is controller for what it holds and answers for that
(GDPR art. 15; the person can ask each organisation in the care team): staff get the extract
their organisation may see. A section builder that takes a `viewer` keyword gets the user
who asks; `EXTRACT_SCOPES` (registered by the meetings app) narrows the rest: list rows with a
"meeting_id" and change-history rows of meeting objects are kept only for the meetings the
viewer may see. Without a viewer (e.g. the operator) nothing is narrowed.
"""

import datetime as dt
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AccessLog, ChangeRecord, Person, Relative, Role
from .selectors import access_log_extract_rows
from .services import PERSON_FIELDS, RELATIVE_FIELDS

FORMAT = "vom-register-extract/1"


@dataclass(frozen=True)
class ExtractSection:
    key: str  # stable, English: the JSON key
    title: str  # for people: the heading in the page and the PDF
    data: dict[str, Any] | list[dict[str, Any]]
    labels: dict[str, str] = field(default_factory=dict)  # data key -> heading for people

    @property
    def is_record(self) -> bool:
        return isinstance(self.data, dict)

    @property
    def columns(self) -> list[str]:
        rows = [self.data] if isinstance(self.data, dict) else self.data
        keys: dict[str, None] = {}
        for row in rows:
            keys.update(dict.fromkeys(row))
        return list(keys)

    @property
    def headings(self) -> list[str]:
        return [self.labels.get(key, key) for key in self.columns]

    @property
    def record_items(self) -> list[tuple[str, Any]]:
        """(heading, value) pairs of a one-record section."""
        if not isinstance(self.data, dict):
            return []
        return [(self.labels.get(key, key), value) for key, value in self.data.items()]

    @property
    def table(self) -> list[list[Any]]:
        """The rows of a many-record section, one value per column."""
        if isinstance(self.data, dict):
            return []
        columns = self.columns
        return [[row.get(key) for key in columns] for row in self.data]


def _field_labels(model, names) -> dict[str, str]:
    return {name: model._meta.get_field(name).verbose_name for name in names}


COMMON_LABELS = {
    "id": _("record number"),
    "created_at": _("registered"),
    "updated_at": _("last changed"),
    "organisation": _("organisation"),
    "organisation_kind": _("kind of organisation"),
    "staff_member": _("staff member"),
    "role": _("role"),
    "from": _("from"),
    "until": _("until"),
    "at": _("time"),
    "object": _("what"),
    "object_id": _("record number"),
    "action": _("action"),
    "changes": _("changes (before → after)"),
    "outcome": _("outcome"),
}


def _plain(value):
    # Dates and times stay objects: DjangoJSONEncoder writes them as ISO 8601, the page and
    # the PDF show them in local time.
    if value is None or isinstance(value, bool | int | float | str | dt.date):
        return value
    return str(value)


def _object_label(label: str) -> str:
    """'participants.person' -> 'person', in the reader's language."""
    from django.apps import apps

    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


def person_section(person: Person) -> ExtractSection:
    data = {"id": person.pk} | {name: _plain(getattr(person, name)) for name in PERSON_FIELDS}
    data["created_at"] = _plain(person.created_at)
    data["updated_at"] = _plain(person.updated_at)
    return ExtractSection(
        "person", _("The person"), data, COMMON_LABELS | _field_labels(Person, PERSON_FIELDS)
    )


def care_team_section(person: Person) -> ExtractSection:
    entries = person.care_team.select_related("organisation", "member").order_by("start_date", "pk")
    data = [
        {
            "organisation": entry.organisation.name,
            "organisation_kind": str(entry.organisation.get_kind_display()),
            "staff_member": entry.member.get_full_name() if entry.member else None,
            "role": str(entry.get_role_display()) if entry.role else None,
            "from": _plain(entry.start_date),
            "until": _plain(entry.end_date),
        }
        for entry in entries
    ]
    return ExtractSection("care_team", _("Care team, current and earlier"), data, COMMON_LABELS)


def relatives_section(person: Person) -> ExtractSection:
    data = [
        {name: _plain(getattr(relative, name)) for name in RELATIVE_FIELDS}
        | {"created_at": _plain(relative.created_at)}
        for relative in person.relatives.order_by("pk")
    ]
    return ExtractSection(
        "relatives", _("Relatives"), data, COMMON_LABELS | _field_labels(Relative, RELATIVE_FIELDS)
    )


def change_history_section(person: Person, viewer=None) -> ExtractSection:
    # Staff are not named: the person has a right to know what was done with their data and
    # when, not who each employee was (CJEU C-579/21). The organisation answers for its staff.
    records = ChangeRecord.objects.filter(person=person).order_by("at", "pk")
    if viewer is not None:
        for scope in EXTRACT_SCOPES:
            records = scope.history(records, person, viewer)
    data = [
        {
            "at": _plain(record.at),
            "object": _object_label(record.object_type),
            "object_id": record.object_id,
            "action": record.action,
            "changes": {
                field: [_plain(old), _plain(new)] for field, (old, new) in record.changes.items()
            },
        }
        for record in records
    ]
    return ExtractSection("change_history", _("Change history"), data, COMMON_LABELS)


def access_log_section(person: Person) -> ExtractSection:
    roles = dict(Role.choices)
    actions = dict(AccessLog.Action.choices)
    outcomes = dict(AccessLog.Outcome.choices)
    lists = dict(AccessLog.ListName.choices)
    data = [
        {
            "at": _plain(row.at),
            "organisation": row.organisation.name if row.organisation else None,
            "role": str(roles.get(row.role, row.role)),
            "action": str(actions.get(row.action, row.action)),
            "object": (
                str(lists.get(row.list_name, row.list_name))
                if row.list_name
                else _object_label(row.object_type)
                if row.object_type
                else None
            ),
            "outcome": str(outcomes.get(row.outcome, row.outcome)),
        }
        for row in access_log_extract_rows(person).iterator(chunk_size=2000)
    ]
    return ExtractSection(
        "access_log", _("Access log: who looked at the data, and when"), data, COMMON_LABELS
    )


class ExtractScope:
    """What a viewer may see of data tied to meetings (see the module docstring)."""

    def meeting_ids(self, person: Person, viewer) -> set[int]:
        raise NotImplementedError

    def history(self, records, person: Person, viewer):
        """`records` (ChangeRecords) without those of objects the viewer may not see."""
        raise NotImplementedError


EXTRACT_SCOPES: list[ExtractScope] = []

EXTRACT_SECTIONS: list[Callable[[Person], ExtractSection]] = [
    person_section,
    care_team_section,
    relatives_section,
    change_history_section,
    access_log_section,
]


def _build(build, person: Person, viewer) -> ExtractSection:
    if "viewer" in inspect.signature(build).parameters:
        return build(person, viewer=viewer)
    return build(person)


def _narrowed(section: ExtractSection, meeting_ids: set[int]) -> ExtractSection:
    if isinstance(section.data, dict) or not any("meeting_id" in row for row in section.data):
        return section
    rows = [row for row in section.data if row.get("meeting_id", None) in meeting_ids]
    return replace(section, data=rows)


def person_extract_sections(person: Person, viewer=None) -> list[ExtractSection]:
    """The sections of the extract; with `viewer`, what the viewer's organisation may see."""
    sections = [_build(build, person, viewer) for build in EXTRACT_SECTIONS]
    if viewer is None:
        return sections
    for scope in EXTRACT_SCOPES:
        visible = scope.meeting_ids(person, viewer)
        sections = [_narrowed(section, visible) for section in sections]
    return sections


def person_extract(
    person: Person, sections: list[ExtractSection] | None = None, viewer=None
) -> dict:
    """Everything held about the person, as one dict for DjangoJSONEncoder."""
    sections = person_extract_sections(person, viewer) if sections is None else sections
    return {
        "format": FORMAT,
        "generated_at": timezone.now(),
        "person_id": person.pk,
        "sections": {section.key: section.data for section in sections},
    }
