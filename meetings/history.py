"""The change history shown on a meeting and on a decision's follow-up page.

Services write a `participants.ChangeRecord` (old and new values) for every change of a
meeting and of what belongs to it; this module reads them back for one object and turns them
into rows a person can read. The pages that include it find the meeting or decision through
the selectors first, so a user only ever sees the history of objects they can see. Private
topics have no history here: they belong to one organisation and are never on these pages.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, CharField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from participants.models import ChangeRecord, Role

from .models import (
    AgendaNote,
    Agreement,
    Consent,
    Contribution,
    Decision,
    DecisionConfirmation,
    Meeting,
    MeetingReason,
    Participant,
    PrivateTopic,
)

# Models whose records appear on the meeting page, each found through its meeting.
MEETING_PARTS = [Consent, Participant, Decision, Agreement, AgendaNote, Contribution,
                 DecisionConfirmation]  # fmt: skip

ACTIONS = {
    "create": gettext_lazy("added"),
    "update": gettext_lazy("changed"),
    "withdraw": gettext_lazy("withdrawn"),
    "anonymise": gettext_lazy("anonymised"),
}

# Keys that are not model fields, or whose field has no translated label of its own.
LABELS = {
    "state": gettext_lazy("state"),
    "shared": gettext_lazy("information shared between the organisations"),
    "reasons": gettext_lazy("reasons"),
    "time_options": gettext_lazy("times agreed as possible"),
    "time_agreement_note": gettext_lazy("note on the time"),
    "removed": gettext_lazy("no longer invited"),
    "withdrawn": gettext_lazy("withdrawn"),
    "withdrawal_note": gettext_lazy("note on the withdrawal"),
    "relative": gettext_lazy("relative"),
    "relatives": gettext_lazy("relatives to invite"),
    "user": gettext_lazy("staff member"),
    "organisation": gettext_lazy("organisation"),
    "role": gettext_lazy("role"),
    "decision_count": gettext_lazy("number of decisions"),
    "attended_mode": gettext_lazy("attended how"),
    "author": gettext_lazy("written by"),
    "text": gettext_lazy("text"),
    "anonymised": gettext_lazy("anonymised"),
}
PERSON_LABEL = gettext_lazy("The person")
HIDDEN = {"decision"}  # a status report's own decision: the page is that decision's


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    at: dt.datetime
    who: str
    what: str
    action: str
    changes: list[Change] = field(default_factory=list)


def _as_text(pks: QuerySet) -> QuerySet:
    return pks.annotate(pk_text=Cast("pk", CharField())).values("pk_text")


# Objects of the apps above this one that belong to a meeting or to one of its decisions
# and keep change history of their own (the follow-up's checkpoints, measures and status
# reports): each app adds its models in its AppConfig.ready, model -> path to the meeting
# (MEETING_PARTS_ABOVE) or to the decision (DECISION_PARTS_ABOVE). This app reads them
# without importing those apps.
MEETING_PARTS_ABOVE: dict = {}
DECISION_PARTS_ABOVE: dict = {}


def history_parts() -> dict:
    """Every object of a meeting with change history of its own (those on the meeting page,
    the organisations' private topics and the follow-up): model -> its path to the meeting.
    The register extract and the anonymisation both go through this list."""
    parts = dict.fromkeys([*MEETING_PARTS, PrivateTopic], "meeting")
    parts.update(MEETING_PARTS_ABOVE)
    return parts


def records_of_rows(rows: QuerySet) -> Q:
    """The change records of the rows of `rows` (a record names its object by type and pk)."""
    return Q(object_type=rows.model._meta.label_lower, object_id__in=_as_text(rows))


def meeting_records(meeting: Meeting) -> QuerySet[ChangeRecord]:
    """Records of the meeting and of everything that belongs to it, newest first."""
    query = Q(object_type=Meeting._meta.label_lower, object_id=str(meeting.pk))
    for model in MEETING_PARTS:
        query |= records_of_rows(model.objects.filter(meeting=meeting))
    return ChangeRecord.objects.filter(query).select_related("user").order_by("-at", "-pk")


def decision_records(decision: Decision) -> QuerySet[ChangeRecord]:
    """Records of the decision and of the follow-up reports on it, newest first."""
    query = Q(object_type=Decision._meta.label_lower, object_id=str(decision.pk))
    for model, path in DECISION_PARTS_ABOVE.items():
        query |= records_of_rows(model.objects.filter(**{path: decision}))
    return ChangeRecord.objects.filter(query).select_related("user").order_by("-at", "-pk")


def _model_for(label: str):
    from django.apps import apps

    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _field(model, name):
    try:
        return model._meta.get_field(name) if model is not None else None
    except Exception:  # noqa: BLE001 - FieldDoesNotExist and relations without a field
        return None


def _label(model, name: str) -> str:
    if name in LABELS:
        return str(LABELS[name])
    model_field = _field(model, name)
    if model_field is not None and hasattr(model_field, "verbose_name"):
        return str(model_field.verbose_name)
    return name.replace("_", " ")


def _moment(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def _value(model, name: str, value) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "reasons" and isinstance(value, list):
        labels = dict(MeetingReason._meta.get_field("code").choices)
        return ", ".join(str(labels.get(code, code)) for code in value)
    if name == "time_options" and isinstance(value, list):
        return ", ".join(_moment(str(v)) for v in value)
    if name == "role" and value in Role.values:
        return str(Role(value).label)
    model_field = _field(model, name)
    choices = dict(model_field.flatchoices) if getattr(model_field, "choices", None) else {}
    if value in choices:
        return str(choices[value])
    internal = model_field.get_internal_type() if model_field is not None else ""
    if isinstance(value, str) and internal == "DateTimeField":
        return _moment(value)
    return str(value)


def _describe(record: ChangeRecord) -> str:
    model = _model_for(record.object_type)
    kind = str(model._meta.verbose_name) if model is not None else record.object_type
    name = _short(getattr(record, "object_name", "") or "")
    return f"{kind[:1].upper()}{kind[1:]}: {name}" if name else f"{kind[:1].upper()}{kind[1:]}"


def entries(records) -> list[HistoryEntry]:
    rows = []
    for record in records:
        model = _model_for(record.object_type)
        who = (record.user.get_full_name() or record.user.username) if record.user else _("system")
        changes = [
            Change(_label(model, key), _value(model, key, old), _value(model, key, new))
            for key, (old, new) in sorted(record.changes.items())
            if key not in HIDDEN
        ]
        changes = [c for c in changes if (c.old, c.new) != ("–", "–")]  # empty on creation
        rows.append(
            HistoryEntry(
                at=record.at,
                who=who,
                what=_describe(record),
                action=str(ACTIONS.get(record.action, record.action)),
                changes=changes,
            )
        )
    return rows


def _short(text: str, length: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _named(records: QuerySet, meeting: Meeting) -> QuerySet:
    """Annotate each record with the name of its participant or decision, in the same query."""
    participants = (
        Participant.objects.filter(meeting=meeting)
        .annotate(pk_text=Cast("pk", CharField()))
        .filter(pk_text=OuterRef("object_id"))
        .annotate(
            label=Case(
                When(kind=Participant.Kind.PERSON, then=Value(str(PERSON_LABEL))),
                default=Coalesce(
                    NullIf(
                        Trim(Concat("user__first_name", Value(" "), "user__last_name")), Value("")
                    ),
                    "user__username",
                    "relative__name",
                    Value(""),
                ),
                output_field=CharField(),
            )
        )
    )
    decisions = (
        Decision.objects.filter(meeting=meeting)
        .annotate(pk_text=Cast("pk", CharField()))
        .filter(pk_text=OuterRef("object_id"))
    )
    return records.annotate(
        object_name=Case(
            When(
                object_type=Participant._meta.label_lower,
                then=Subquery(participants.values("label")[:1]),
            ),
            When(
                object_type=Decision._meta.label_lower,
                then=Subquery(decisions.values("description")[:1]),
            ),
            default=Value(""),
            output_field=CharField(),
        )
    )


def meeting_history(meeting: Meeting) -> list[HistoryEntry]:
    """The rows of the meeting page's change history: one query whatever its length."""
    return entries(_named(meeting_records(meeting), meeting))


def decision_history(decision: Decision) -> list[HistoryEntry]:
    return entries(decision_records(decision))
