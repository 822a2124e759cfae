"""Anonymisation of ended meetings once the retention period has run out (GDPR art. 5(1)(e)).

What is kept, and why. A meeting holds health and social-care data; the Patient Data Act
(PDL ch. 3 § 17) keeps patient records at least ten years after the last entry, so the
period, `MEETING_RETENTION_YEARS` (default and minimum 10), counts from the last entry in
any of the person's meetings: the meeting's own changes and its follow-up (status reports,
checkpoints, measures, health care use). A person's meetings are anonymised together, once
all of them have ended (closed, declined, cancelled) and the newest entry is older than the
period; while one meeting is open or recent, the older ones stay with it.

After anonymisation a meeting keeps only what the managers' figures count: its states and
dates, kind, urgency, who raised the concern (a category), the reason codes, the
organisations and roles that took part with their minutes and attendance, decision
categories and the person's answers, follow-up statuses, measures and health care use.
Everything typed in free text is emptied; relatives are unlinked (a relative's
participation stays as a count); stored summary PDFs are deleted; message payloads and
addresses are emptied; and the meeting moves from the person to a stand-in person with no
name, no personal identity number, no address and only the year of birth. All of one
person's meetings move to the same stand-in, so "how many persons" in the figures stays
right. Change-history rows of the meeting keep who changed which field and when, without
the values. Staff stay named on what they did (the organisation's account of its own
work). The access log is not touched: it is append-only and has its own retention
(`AUDIT_RETENTION_YEARS`); rows younger than that still name the person and a meeting
number, nothing of the content.

`anonymise_due(dry_run=True)` only lists what would go. The periodic task and
`manage.py anonymise_meetings` call it; running it twice does nothing the second time.

The person's own record comes after (`person_records_due`, `person_record_anonymise`):
once no meeting is left in their name (they have all moved to stand-ins), no care-team
entry is current or ended within the retention period, and nothing about the person has
changed within it, the record is anonymised in place: the name, personal identity number,
address, contact details, notes and representative are emptied (the year of birth stays),
the relatives' names and contact details too, and a relative's sign-in account is closed
and emptied; the change history keeps which fields changed and when, without the values.
The row itself stays, so the access log (append-only, `AUDIT_RETENTION_YEARS`, shorter
than this period) keeps pointing at something; by the time a record is due, nobody has
been able to see it for the whole period (only a current care team gives access).
"""

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from meetings.history import history_parts, records_of_rows
from meetings.models import (
    AgendaNote,
    Agreement,
    Consent,
    Contribution,
    Decision,
    Meeting,
    OutboxMessage,
    Participant,
    PreparationStep,
    PrivateTopic,
    StateChange,
    SummaryDocument,
)
from participants import audit
from participants.models import AccessLog, CareTeamEntry, ChangeRecord, Person, Relative

S = Meeting.State

# The free text of a meeting and what belongs to it: model -> fields emptied.
MEETING_TEXT = ["reason_text", "raised_by_detail", "time_agreement_note", "location",
                "cancel_reason"]  # fmt: skip
PART_TEXT = {
    StateChange: ["note"],
    Consent: ["representative_name", "withdrawal_note"],
    PreparationStep: ["note"],
    Contribution: ["what_matters", "questions"],
    AgendaNote: ["text"],
    PrivateTopic: ["text"],
    Decision: ["description"],
    Agreement: ["situation", "text", "contact"],
    OutboxMessage: ["to_address", "last_error"],
}


def retention_years() -> int:
    return settings.MEETING_RETENTION_YEARS


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    """The moment `retention_years()` years before now (29 February counts as 28)."""
    now = now or timezone.now()
    years = retention_years()
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _followup_models():
    from followup.models import Checkpoint, DecisionStatusChange, HealthCareUse, OutcomeMeasure

    return Checkpoint, DecisionStatusChange, HealthCareUse, OutcomeMeasure


def with_last_entry(meetings):
    """Annotate `last_entry`: the newest moment anything was written about the meeting."""
    Checkpoint, DecisionStatusChange, HealthCareUse, OutcomeMeasure = _followup_models()

    def newest(model, moment, path="meeting"):
        rows = model.objects.filter(**{path: OuterRef("pk")}).order_by().values(path)
        return Coalesce(
            Subquery(rows.annotate(newest=Max(moment)).values("newest")[:1]), F("updated_at")
        )

    return meetings.annotate(
        last_entry=Greatest(
            F("updated_at"),
            Coalesce(F("ended_at"), F("updated_at")),
            newest(DecisionStatusChange, "reported_at", "decision__meeting"),
            newest(Checkpoint, "completed_at"),
            newest(OutcomeMeasure, "entered_at"),
            newest(HealthCareUse, "recorded_at"),
        )
    )


def due_person_ids(now: dt.datetime | None = None, *, person_id: int | None = None) -> list[int]:
    """Persons all of whose meetings have ended, the newest entry before the cutoff."""
    cutoff = retention_cutoff(now)
    meetings = Meeting.objects.filter(anonymised_at__isnull=True)
    if person_id is not None:
        meetings = meetings.filter(person_id=person_id)
    meetings = with_last_entry(meetings)
    keep = meetings.filter(~Q(state__in=Meeting.ENDED_STATES) | Q(last_entry__gte=cutoff))
    return sorted(
        set(
            meetings.filter(state__in=Meeting.ENDED_STATES, last_entry__lt=cutoff)
            .exclude(person_id__in=keep.values("person_id"))
            .values_list("person_id", flat=True)
        )
    )


@dataclass
class MeetingPlan:
    """What anonymising one meeting removes (counts only: the plan is printed)."""

    meeting_id: int
    state: str
    last_entry: dt.datetime
    free_texts: int = 0
    relative_links: int = 0
    documents: int = 0
    changes: int = 0

    def line(self) -> str:
        day = timezone.localtime(self.last_entry).strftime("%Y-%m-%d")
        return (
            f"meeting {self.meeting_id} ({self.state}, last entry {day}): "
            f"{self.free_texts} free texts, {self.relative_links} links to relatives, "
            f"{self.documents} stored summaries, {self.changes} change-history rows"
        )


@dataclass
class PersonPlan:
    person_id: int
    meetings: list[MeetingPlan] = field(default_factory=list)


def _non_empty(queryset, names: list[str]) -> int:
    return sum(queryset.exclude(**{name: ""}).count() for name in names)


def _owned(model, meeting_ids):
    """The rows of `model` that belong to the meetings (directly, or through a participant
    or a decision)."""
    names = {f.name for f in model._meta.get_fields()}
    path = next(p for p in ("meeting", "participant__meeting", "decision__meeting")
                if p.split("__")[0] in names)  # fmt: skip
    return model.objects.filter(**{f"{path}__in": meeting_ids})


def _free_text() -> dict:
    """Every model with free text that belongs to a meeting -> its free-text fields."""
    Checkpoint, DecisionStatusChange, _use, OutcomeMeasure = _followup_models()
    return PART_TEXT | {
        DecisionStatusChange: ["note"],
        Checkpoint: ["note"],
        OutcomeMeasure: ["no_answer_note"],
    }


def _history(meeting_ids):
    """The change-history rows of the meetings and of everything that belongs to them."""
    query = Q(object_type=Meeting._meta.label_lower, object_id__in=[str(i) for i in meeting_ids])
    for model, path in history_parts().items():
        query |= records_of_rows(model.objects.filter(**{f"{path}__in": meeting_ids}))
    return ChangeRecord.objects.filter(query)


def plan_for(person_id: int, now: dt.datetime | None = None) -> PersonPlan:
    meetings = with_last_entry(
        Meeting.objects.filter(person_id=person_id, anonymised_at__isnull=True)
    ).order_by("pk")
    plan = PersonPlan(person_id)
    for meeting in meetings:
        ids = [meeting.pk]
        texts = _non_empty(Meeting.objects.filter(pk=meeting.pk), MEETING_TEXT)
        texts += sum(_non_empty(_owned(m, ids), names) for m, names in _free_text().items())
        relatives = (
            Participant.objects.filter(meeting=meeting, relative__isnull=False).count()
            + Contribution.objects.filter(meeting=meeting, relative__isnull=False).count()
            + Consent.relatives.through.objects.filter(consent__meeting=meeting).count()
        )
        plan.meetings.append(
            MeetingPlan(
                meeting_id=meeting.pk,
                state=meeting.state,
                last_entry=meeting.last_entry,
                free_texts=texts,
                relative_links=relatives,
                documents=SummaryDocument.objects.filter(meeting=meeting).count(),
                changes=_history(ids).count(),
            )
        )
    return plan


def _stand_in(person: Person) -> Person:
    """A person row with nothing that identifies anyone: the meetings' new owner."""
    while True:
        token = "ANON" + secrets.token_hex(4).upper()  # 12 characters, never a personnummer
        if not Person.objects.filter(personnummer=token).exists():
            break
    return Person.objects.create(
        first_name="–",
        last_name="–",
        personnummer=token,
        date_of_birth=dt.date(person.date_of_birth.year, 1, 1),
        preferred_language="",
    )


def person_meetings_anonymise(*, person_id: int, now: dt.datetime | None = None) -> int:
    """Anonymise all meetings of one person if they are (still) due; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        # The person's row serialises this with a new meeting being proposed for them.
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None or not due_person_ids(now, person_id=person_id):
            return 0
        meetings = Meeting.objects.select_for_update().filter(
            person=person, anonymised_at__isnull=True
        )
        ids = list(meetings.order_by("pk").values_list("pk", flat=True))
        stand_in = _stand_in(person)
        _Checkpoint, _Status, HealthCareUse, OutcomeMeasure = _followup_models()

        # Which fields changed, when and by whom stays; the old and new values go.
        records = list(_history(ids))
        for record in records:
            record.person = stand_in
            record.changes = {name: [None, None] for name in record.changes}
        ChangeRecord.objects.bulk_update(records, ["person", "changes"], batch_size=500)
        for model, names in _free_text().items():
            _owned(model, ids).update(**dict.fromkeys(names, ""))
        OutboxMessage.objects.filter(meeting_id__in=ids).update(payload={}, recipient_relative=None)
        Participant.objects.filter(meeting_id__in=ids).update(relative=None)
        Contribution.objects.filter(meeting_id__in=ids).update(relative=None)
        Consent.relatives.through.objects.filter(consent__meeting_id__in=ids).delete()
        for document in SummaryDocument.objects.filter(meeting_id__in=ids):
            if document.file:
                document.file.delete(save=False)
            document.delete()
        OutcomeMeasure.objects.filter(meeting_id__in=ids).update(person=stand_in)
        HealthCareUse.objects.filter(meeting_id__in=ids).update(person=stand_in)
        Meeting.objects.filter(pk__in=ids).update(
            person=stand_in, anonymised_at=now, **dict.fromkeys(MEETING_TEXT, "")
        )
        for meeting in Meeting.objects.filter(pk__in=ids).order_by("pk"):
            audit.record_change(
                user=None, obj=meeting, action="anonymise", before={"anonymised": False},
                after={"anonymised": True}, person=stand_in,
            )  # fmt: skip
            audit.log_access(
                None, user=None, person=stand_in, action=AccessLog.Action.UPDATE, obj=meeting
            )
        return len(ids)


def anonymise_due(*, dry_run: bool = False, now: dt.datetime | None = None) -> list[PersonPlan]:
    """Anonymise (or, with dry_run, only list) every person's meetings that are due."""
    plans = [plan_for(person_id, now) for person_id in due_person_ids(now)]
    if not dry_run:
        for plan in plans:
            person_meetings_anonymise(person_id=plan.person_id, now=now)
    return plans


# --- The person's own record ---

STAND_IN_PREFIX = "ANON"


def person_records_due(
    now: dt.datetime | None = None, *, person_id: int | None = None
) -> list[int]:
    """Persons whose own record has nothing left that keeps it (see the module's text)."""
    cutoff = retention_cutoff(now)
    cutoff_day = timezone.localdate(cutoff)
    team = CareTeamEntry.objects.filter(person=OuterRef("pk")).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=cutoff_day)
    )
    changed = ChangeRecord.objects.filter(person=OuterRef("pk"), at__gte=cutoff)
    meetings = Meeting.objects.filter(person=OuterRef("pk"))
    persons = Person.objects.filter(updated_at__lt=cutoff)
    if person_id is not None:
        persons = persons.filter(pk=person_id)
    return list(
        persons.exclude(personnummer__startswith=STAND_IN_PREFIX)
        .exclude(Exists(meetings))
        .exclude(Exists(team))
        .exclude(Exists(changed))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _stand_in_number() -> str:
    while True:
        token = STAND_IN_PREFIX + secrets.token_hex(4).upper()  # never a personnummer
        if not Person.objects.filter(personnummer=token).exists():
            return token


def person_record_anonymise(*, person_id: int, now: dt.datetime | None = None) -> bool:
    """Anonymise one person's own record if it is (still) due; True if it was."""
    now = now or timezone.now()
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(pk=person_id).first()
        if person is None or not person_records_due(now, person_id=person.pk):
            return False
        Person.objects.filter(pk=person.pk).update(
            first_name="–",
            last_name="–",
            personnummer=_stand_in_number(),
            date_of_birth=dt.date(person.date_of_birth.year, 1, 1),
            street_address="",
            postal_code="",
            city="",
            access_notes="",
            phone="",
            preferred_language="",
            interpreter_needed=False,
            hearing_vision_notes="",
            representative_kind="",
            representative_name="",
            representative_phone="",
            representative_email="",
        )
        for relative in Relative.objects.select_related("user").filter(person=person):
            if relative.user is not None:
                user = relative.user
                user.username = f"anonymised-{user.pk}"
                user.first_name = user.last_name = user.email = ""
                user.is_active = False
                user.set_unusable_password()
                user.save()
        Relative.objects.filter(person=person).update(name="–", relation="", phone="", email="")
        records = list(ChangeRecord.objects.filter(person=person))
        for record in records:
            record.changes = {name: [None, None] for name in record.changes}
        ChangeRecord.objects.bulk_update(records, ["changes"], batch_size=500)
        person.refresh_from_db()
        audit.record_change(
            user=None, obj=person, action="anonymise", before={"anonymised": False},
            after={"anonymised": True}, person=person,
        )  # fmt: skip
        audit.log_access(None, user=None, person=person, action=AccessLog.Action.UPDATE, obj=person)
        return True


def anonymise_person_records_due(
    *, dry_run: bool = False, now: dt.datetime | None = None
) -> list[int]:
    """Anonymise (or, with dry_run, only list) the person records that are due: run after
    `anonymise_due`, whose meetings leave their persons."""
    due = person_records_due(now)
    if not dry_run:
        due = [pk for pk in due if person_record_anonymise(person_id=pk, now=now)]
    return due
