"""Anonymisation of ended meetings after MEETING_RETENTION_YEARS (issue 8, data-subject rights).

A dry run lists and changes nothing; a real run empties the free text, unlinks the relatives,
deletes the stored summaries and moves the meetings to a stand-in person, only for persons whose
meetings have all ended more than the retention period ago; the managers' figures are the same
before and after; running it twice does nothing more."""

import dataclasses
import datetime as dt
import io
import os

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from followup import services as followup_services
from followup.models import Checkpoint, DecisionStatusChange, HealthCareUse, OutcomeMeasure
from meetings import services, summary_services
from meetings.models import (
    AgendaNote,
    Agreement,
    Consent,
    Contribution,
    Decision,
    Meeting,
    OutboxMessage,
    Participant,
    PrivateTopic,
    StateChange,
    SummaryDocument,
)
from participants.extract import person_extract
from participants.models import AccessLog, ChangeRecord, Person
from retention import anonymise
from retention import tasks as retention_tasks

from ..conftest import advance_meeting
from ..factories import CareTeamEntryFactory, PersonFactory, RelativeFactory
from ..reports_data import computed
from ..summary_fixtures import make_held_meeting

pytestmark = pytest.mark.django_db
S = Meeting.State
SECRET = "Dottern Ulla vill inte att grannen får veta"


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def shift_back(meeting: Meeting, years: int) -> None:
    """Move everything written about the meeting `years` back (test data only)."""
    delta = dt.timedelta(days=365 * years + years // 4 + 1)
    moments = ["initiated_at", "consent_at", "scheduled_at", "starts_at", "actual_start",
               "actual_end", "held_at", "closed_at", "ended_at", "updated_at"]  # fmt: skip
    Meeting.objects.filter(pk=meeting.pk).update(**{m: F(m) - delta for m in moments})
    DecisionStatusChange.objects.filter(decision__meeting=meeting).update(
        reported_at=F("reported_at") - delta, date=F("date") - delta
    )
    Checkpoint.objects.filter(meeting=meeting).update(completed_at=F("completed_at") - delta)
    OutcomeMeasure.objects.filter(meeting=meeting).update(
        entered_at=F("entered_at") - delta, date=F("date") - delta
    )
    HealthCareUse.objects.filter(meeting=meeting).update(recorded_at=F("recorded_at") - delta)


def closed_meeting_with_everything(marea, meeting_in) -> Meeting:
    """Held with notes, a private topic, decisions, agreements and a relative's words (the
    summary fixture), then follow-up, a stored summary, a cancel-free close."""
    meeting = make_held_meeting(marea, meeting_in)
    decision = meeting.decisions.get(organisation=marea.home_help)
    today = timezone.localdate()
    followup_services.decision_status_report(
        actor=marea.coordinator, decision=decision, status="implemented", date=today, note=SECRET
    )
    followup_services.health_care_use_record(
        actor=marea.nurse, meeting=meeting, period="before", months=6, hospital_admissions=2,
        emergency_visits=3,
    )  # fmt: skip
    followup_services.outcome_record(
        actor=marea.nurse, meeting=meeting, timepoint="after", date=today,
        eq5d={"mobility": 2, "self_care": 1, "usual_activities": 2, "pain_discomfort": 2,
              "anxiety_depression": 1},
        vas=60, stai={"calm": 2, "tense": 3, "upset": 2, "relaxed": 2, "content": 3, "worried": 3},
    )  # fmt: skip
    summary_services.summary_store(meeting_id=meeting.pk, language="sv")
    services.meeting_close(actor=marea.nurse, meeting=Meeting.objects.get(pk=meeting.pk))
    return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def old_and_recent(marea, meeting_in, media):
    """Märta's meeting closed eleven years ago; Gösta's closed nine years ago."""
    old = closed_meeting_with_everything(marea, meeting_in)
    shift_back(old, 11)
    other = PersonFactory(first_name="Gösta")
    for entry in marea.person.care_team.all():
        CareTeamEntryFactory(
            person=other, organisation=entry.organisation, member=entry.member, role=entry.role
        )
    gosta = dataclasses.replace(
        marea, person=other, relative=RelativeFactory(person=other, name="Kerstin")
    )
    recent = advance_meeting(gosta, S.CANCELLED)
    Meeting.objects.filter(pk=recent.pk).update(cancel_reason=SECRET)
    shift_back(recent, 9)
    return Meeting.objects.get(pk=old.pk), Meeting.objects.get(pk=recent.pk)


def fingerprint() -> tuple:
    return (
        list(
            Meeting.objects.order_by("pk").values_list(
                "person_id", "reason_text", "cancel_reason", "anonymised_at"
            )
        ),  # fmt: skip
        list(Decision.objects.order_by("pk").values_list("description", flat=True)),
        list(AgendaNote.objects.order_by("pk").values_list("text", flat=True)),
        list(Participant.objects.order_by("pk").values_list("relative_id", flat=True)),
        list(Contribution.objects.order_by("pk").values_list("what_matters", "relative_id")),
        Consent.relatives.through.objects.count(),
        SummaryDocument.objects.count(),
        Person.objects.count(),
        ChangeRecord.objects.count(),
        AccessLog.objects.count(),
    )


def test_a_dry_run_lists_what_would_go_and_changes_nothing(old_and_recent):
    old, recent = old_and_recent
    before = fingerprint()
    out = io.StringIO()
    call_command("anonymise_meetings", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"meeting {old.pk} (closed, last entry " in text
    assert f"meeting {recent.pk} " not in text
    assert "would anonymise 1 meetings of 1 persons" in text
    assert "1 stored summaries" in text and "links to relatives" in text
    assert old.person.first_name not in text and SECRET not in text  # no names, no text
    assert fingerprint() == before


def test_real_run_anonymises_only_meetings_past_retention(old_and_recent, marea):
    old, recent = old_and_recent
    document = SummaryDocument.objects.get(meeting=old)
    stored = document.file.path
    out = io.StringIO()
    call_command("anonymise_meetings", stdout=out)
    assert "anonymised 1 meetings of 1 persons" in out.getvalue()

    old.refresh_from_db()
    assert old.anonymised_at is not None and old.person != marea.person
    stand_in = old.person
    assert stand_in.first_name == "–" and stand_in.personnummer.startswith("ANON")
    assert not stand_in.street_address and not stand_in.access_notes and not stand_in.phone
    assert stand_in.date_of_birth == dt.date(marea.person.date_of_birth.year, 1, 1)
    assert not stand_in.care_team.exists()  # nobody's list shows it
    # free text gone, everywhere
    assert old.reason_text == "" and old.location == ""
    for queryset, fields in [
        (Decision.objects.filter(meeting=old), ["description"]),
        (Agreement.objects.filter(meeting=old), ["text", "situation", "contact"]),
        (AgendaNote.objects.filter(meeting=old), ["text"]),
        (PrivateTopic.objects.filter(meeting=old), ["text"]),
        (Contribution.objects.filter(meeting=old), ["what_matters", "questions"]),
        (StateChange.objects.filter(meeting=old), ["note"]),
        (DecisionStatusChange.objects.filter(decision__meeting=old), ["note"]),
        (OutboxMessage.objects.filter(meeting=old), ["to_address"]),
    ]:
        assert queryset.exists()
        for row in queryset.values(*fields):
            assert set(row.values()) == {""}, (queryset.model, row)
    assert not OutboxMessage.objects.filter(meeting=old).exclude(payload={}).exists()
    # relatives unlinked, their participation still counted
    assert Participant.objects.filter(meeting=old, kind="relative", relative__isnull=True).exists()
    assert not Participant.objects.filter(meeting=old, relative__isnull=False).exists()
    assert not Contribution.objects.filter(meeting=old, relative__isnull=False).exists()
    assert not Consent.relatives.through.objects.filter(consent__meeting=old).exists()
    # the stored PDF is deleted, file and row
    assert not SummaryDocument.objects.filter(meeting=old).exists()
    assert not os.path.exists(stored)
    # what the figures count stays
    assert old.reasons.count() == 2 and old.decisions.count() == 3
    assert OutcomeMeasure.objects.get(meeting=old).person == stand_in
    assert HealthCareUse.objects.get(meeting=old).hospital_admissions == 2
    # the change history keeps who changed which field, without the values
    records = ChangeRecord.objects.filter(object_type="meetings.decision")
    assert records.exists() and not records.filter(person=marea.person).exists()
    for record in records:
        assert all(values == [None, None] for values in record.changes.values())
    assert SECRET not in str(list(ChangeRecord.objects.values_list("changes", flat=True)))
    anonymised = ChangeRecord.objects.get(object_id=str(old.pk), action="anonymise")
    assert anonymised.user is None and anonymised.person == stand_in
    assert AccessLog.objects.filter(
        object_type="meetings.meeting", object_id=str(old.pk), action="update", user=None
    ).exists()
    # the person's register extract no longer holds the meeting
    assert not ChangeRecord.objects.filter(person=marea.person).exists()
    assert person_extract(marea.person)["sections"]["change_history"] == []
    # the recent meeting is untouched
    recent.refresh_from_db()
    assert recent.anonymised_at is None and recent.cancel_reason == SECRET

    # a second run finds nothing
    out = io.StringIO()
    call_command("anonymise_meetings", stdout=out)
    assert "anonymised 0 meetings of 0 persons" in out.getvalue()


def test_the_managers_figures_are_the_same_after_anonymisation(old_and_recent, marea):
    from reports import figures

    period = figures.Period(
        timezone.localdate() - dt.timedelta(days=365 * 13), timezone.localdate()
    )
    before = [
        computed(period, organisation).as_json()
        for organisation in (None, marea.health_care, marea.home_help)
    ]
    assert before[0]["meetings_held"] == 1 and before[0]["persons_met"] == 1
    assert retention_tasks.anonymise_meetings() == 1  # the periodic task
    assert retention_tasks.anonymise_meetings() == 0  # safe to run twice
    after = [
        computed(period, organisation).as_json()
        for organisation in (None, marea.health_care, marea.home_help)
    ]
    assert after == before


def test_open_or_recent_meetings_keep_the_persons_older_ones(old_and_recent, marea, settings):
    old, _recent = old_and_recent
    newer = advance_meeting(marea, S.CONSENT)  # Märta has an open meeting again
    assert marea.person.pk not in anonymise.due_person_ids()
    Meeting.objects.filter(pk=newer.pk).update(state=S.CANCELLED, ended_at=timezone.now())
    assert marea.person.pk not in anonymise.due_person_ids()  # ended, but recent
    Meeting.objects.filter(pk=newer.pk).delete()
    assert anonymise.due_person_ids() == [marea.person.pk]
    settings.MEETING_RETENTION_YEARS = 12  # a longer period: eleven years is not enough
    assert anonymise.due_person_ids() == []
    # a follow-up entry made last year counts as the newest entry
    settings.MEETING_RETENTION_YEARS = 10
    DecisionStatusChange.objects.filter(decision__meeting=old).update(
        reported_at=timezone.now() - dt.timedelta(days=365)
    )
    assert anonymise.due_person_ids() == []


def test_beat_runs_it_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["anonymise-meetings"]
    assert entry["task"] == "retention.tasks.anonymise_meetings"
    assert entry["schedule"] == 24 * 3600
    assert "retention.tasks" in settings.CELERY_IMPORTS
    assert settings.MEETING_RETENTION_YEARS == 10


# --- The person's own record ---


def _age(person: Person, years: int) -> None:
    """Make everything about the person's record `years` old (test data only)."""
    delta = dt.timedelta(days=365 * years + years // 4 + 1)
    Person.objects.filter(pk=person.pk).update(updated_at=F("updated_at") - delta)
    ChangeRecord.objects.filter(person=person).update(at=F("at") - delta)


def test_a_person_record_nothing_keeps_is_anonymised_in_place(marea, login):
    from meetings import relatives as rel
    from participants.models import CareTeamEntry, User

    person = PersonFactory(first_name="Sigvard", last_name="Öhrn", street_address="Ekvägen 3")
    relative = RelativeFactory(person=person, name="Berit Öhrn", email="berit@example.se")
    user = rel.relative_user_ensure(relative)
    old_day = timezone.localdate() - dt.timedelta(days=365 * 11)
    CareTeamEntryFactory(
        person=person, organisation=marea.health_care, start_date=old_day, end_date=old_day
    )
    ChangeRecord.objects.create(
        object_type="participants.person", object_id=str(person.pk), person=person,
        action="update", changes={"street_address": ["Ekvägen 1", "Ekvägen 3"]},
    )  # fmt: skip
    # A list that showed the person years ago (one log row, the person beside it).
    from participants.models import AccessLogPerson

    listed = AccessLog.objects.create(
        at=timezone.now() - dt.timedelta(days=365 * 4), organisation=marea.health_care,
        role="nurse", action=AccessLog.Action.LIST, list_name=AccessLog.ListName.CASELOAD,
    )  # fmt: skip
    AccessLogPerson.objects.create(log=listed, person=person)
    _age(person, 11)
    # a person still served, one changed recently, and one with a meeting are kept
    served = PersonFactory(first_name="Served")
    CareTeamEntryFactory(person=served, organisation=marea.health_care)
    _age(served, 11)
    recent = PersonFactory(first_name="Recent")
    keep = {marea.person.pk, served.pk, recent.pk}

    dry = anonymise.anonymise_person_records_due(dry_run=True)
    assert person.pk in dry and not keep & set(dry)
    assert Person.objects.get(pk=person.pk).first_name == "Sigvard"  # a dry run changes nothing

    out = io.StringIO()
    call_command("anonymise_meetings", stdout=out)
    assert f"person record {person.pk}" in out.getvalue()
    assert "Sigvard" not in out.getvalue()
    row = Person.objects.get(pk=person.pk)
    assert (row.first_name, row.last_name, row.street_address) == ("–", "–", "")
    assert row.personnummer.startswith("ANON") and row.date_of_birth.month == 1
    assert not Person.objects.filter(personnummer=person.personnummer).exists()
    kin = relative.__class__.objects.get(pk=relative.pk)
    assert (kin.name, kin.email) == ("–", "")
    account = User.objects.get(pk=user.pk)
    assert not account.is_active and not account.has_usable_password()
    assert account.first_name == "" and "Berit" not in account.username
    old = ChangeRecord.objects.filter(person=person, action="update").get()
    assert old.changes == {"street_address": [None, None]}  # which field, not the values
    assert CareTeamEntry.objects.filter(person=person).count() == 1  # the row stays
    # The access log is not touched: the list look still names the (anonymised) record.
    from participants.selectors import access_log_extract_rows

    assert listed in access_log_extract_rows(row)
    for pk in keep:
        assert not Person.objects.get(pk=pk).personnummer.startswith("ANON")
    # twice does nothing more
    assert anonymise.anonymise_person_records_due() == []


def test_a_person_whose_meetings_are_anonymised_follows_later(old_and_recent, marea):
    old, _recent = old_and_recent
    anonymise.anonymise_due()
    # Märta's meetings have moved to a stand-in; her care team is current, so she stays
    assert marea.person.pk not in anonymise.person_records_due()
    CareTeamEntry = marea.person.care_team.model
    old_day = timezone.localdate() - dt.timedelta(days=365 * 11)
    CareTeamEntry.objects.filter(person=marea.person).update(start_date=old_day, end_date=old_day)
    _age(marea.person, 11)
    assert marea.person.pk in anonymise.person_records_due()
    assert anonymise.person_record_anonymise(person_id=marea.person.pk)
    assert Person.objects.get(pk=marea.person.pk).first_name == "–"
