"""A held meeting around Märta (tests/conftest.py `marea`) with every kind of record the
FHIR API serves, and record-system clients of the organisations."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from followup import services as followup_services
from meetings import services, summary_services
from meetings.models import Decision, Meeting
from participants.models import Organisation, SystemClient

from ..conftest import MeetingArea, advance_meeting

SECRET = "client-secret-for-tests"  # noqa: S105
ALL_SCOPES = "system/*.read"


def make_client(organisation: Organisation, *, scopes: str = ALL_SCOPES, public_key: str = ""):
    return SystemClient.objects.create(
        name=f"Journal {organisation.name}",
        organisation=organisation,
        client_id=f"client-{organisation.pk}-{SystemClient.objects.count()}",
        secret_hash=make_password(SECRET),
        public_key=public_key,
        scopes=scopes,
    )


def bearer(system_client: SystemClient, scope: str = ALL_SCOPES) -> Client:
    """A test client that signed in at the token endpoint with the client secret."""
    http = Client()
    response = http.post(
        "/fhir/R4/auth/token",
        {
            "grant_type": "client_credentials",
            "client_id": system_client.client_id,
            "client_secret": SECRET,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@dataclass
class FhirWorld:
    marea: MeetingArea
    held: Meeting
    home_help_decision: Decision
    health_care_decision: Decision


def build_fhir_world(marea: MeetingArea) -> FhirWorld:
    held = advance_meeting(marea, Meeting.State.HELD)
    home_help_decision = services.decision_save(
        actor=marea.coordinator, meeting=held, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök för mat",
        responsible=marea.coordinator, due_date=timezone.localdate() + dt.timedelta(days=14),
        person_answer="accepts",
    )  # fmt: skip
    health_care_decision = services.decision_save(
        actor=marea.physician, meeting=held, organisation=marea.health_care,
        category="health_care", description="Läkemedelsgenomgång",
        responsible=marea.physician, due_date=None, person_answer="thinking",
    )  # fmt: skip
    services.agreement_add(
        actor=marea.nurse, meeting=held, kind="contingency", situation="Om Märta faller",
        text="Ring hemsjukvården", contact="08-123 456", organisation=marea.health_care,
    )  # fmt: skip
    followup_services.decision_status_report(
        actor=marea.coordinator, decision=home_help_decision, status="in_progress",
        date=timezone.localdate(), note="Startar på måndag",
    )  # fmt: skip
    followup_services.outcome_record(
        actor=marea.nurse, meeting=held, timepoint="baseline",
        date=timezone.localdate() - dt.timedelta(days=1),
        eq5d={"mobility": 2, "self_care": 1, "usual_activities": 2, "pain_discomfort": 2,
              "anxiety_depression": 1},
        vas=60, stai={"calm": 3, "tense": 2, "upset": 1, "relaxed": 3, "content": 3, "worried": 2},
    )  # fmt: skip
    summary_services.summary_store(meeting_id=held.pk, language="sv")
    return FhirWorld(marea, held, home_help_decision, health_care_decision)


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def fhir_world(marea, media) -> FhirWorld:
    return build_fhir_world(marea)


def another_person(marea: MeetingArea, first_name: str) -> MeetingArea:
    """The same organisations and staff around another person (advance_meeting drives a
    meeting for `marea.person`)."""
    import dataclasses

    from participants.models import CareTeamEntry

    from ..factories import CareTeamEntryFactory, PersonFactory, RelativeFactory

    person = PersonFactory(first_name=first_name, last_name="Lind")
    for entry in CareTeamEntry.objects.filter(person=marea.person):
        CareTeamEntryFactory(
            person=person, organisation=entry.organisation, member=entry.member, role=entry.role
        )
    relative = RelativeFactory(person=person, name=f"Anhörig till {first_name}")
    return dataclasses.replace(marea, person=person, relative=relative)


def home_help_decision(area: MeetingArea, meeting: Meeting, text: str) -> Decision:
    return services.decision_save(
        actor=area.coordinator, meeting=meeting, organisation=area.home_help,
        category="adjusted_home_help", description=text, responsible=area.contact,
        due_date=None, person_answer="accepts",
    )  # fmt: skip
