"""An outside record system reads a person's current care plan and its tasks with the SMART
on FHIR Python client (`fhirclient`), against the API served on loopback (pytest-django's
`live_server`), the way the home-help provider's planning tool would: it reads /metadata to
find the token endpoint, signs in SMART Backend Services style (a signed JWT assertion,
client credentials), finds the person by personnummer, then the active plan and its tasks,
following the paging links.

fhirclient parses every answer with its own R4 (4.0.1) models, so this also checks what we
return against a second implementation of the specification than fhir.resources' R4B."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fhirclient import client as smart_client
from fhirclient.models.careplan import CarePlan
from fhirclient.models.patient import Patient
from fhirclient.models.task import Task
from fhirclient.server import FHIRNotFoundException

from meetings import services
from participants.models import AccessLog

from .conftest import make_client

PERSONNUMMER = "urn:oid:1.2.752.129.2.1.3.1"


@pytest.fixture
def api(live_server, settings):
    """The API's base URL on loopback; its links (paging, the token endpoint in /metadata)
    name the live server, as they name SITE_URL in production."""
    settings.SITE_URL = live_server.url
    return f"{live_server.url}/fhir/R4/"


def signed_assertion(key, client_id: str, token_url: str) -> str:
    claims = {
        "iss": client_id, "sub": client_id, "aud": token_url,
        "exp": int(time.time()) + 240, "jti": f"consumer-{time.time_ns()}",
    }  # fmt: skip
    return jwt.encode(claims, key, algorithm="ES384")


@pytest.fixture
def connect(api):
    """fhirclient as a backend service: /metadata, then the token, then ready. Its HTTP
    session is closed at the end (a kept-alive socket holds the server thread's database
    connection)."""
    opened = []

    def _connect(system_client, key, scope: str) -> smart_client.FHIRClient:
        smart = smart_client.FHIRClient(
            settings={
                "app_id": system_client.client_id,
                "api_base": api,
                "scope": scope,
                "jwt_token": signed_assertion(key, system_client.client_id, f"{api}auth/token"),
            }
        )
        opened.append(smart)
        assert not smart.ready
        smart.prepare()  # reads the CapabilityStatement (parsed by fhirclient's R4 models)
        assert smart.server.capabilityStatement.fhirVersion == "4.0.1"
        smart.authorize()  # client_credentials with the signed assertion
        assert smart.ready
        return smart

    yield _connect
    for smart in opened:
        smart.server.session.close()


@pytest.fixture
def home_help_system(fhir_world):
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return make_client(fhir_world.marea.home_help, public_key=public.decode()), key


def test_an_outside_system_reads_the_current_care_plan_and_its_tasks(
    connect, fhir_world, home_help_system
):
    m = fhir_world.marea
    system_client, key = home_help_system
    smart = connect(system_client, key, "system/Patient.read system/CarePlan.read "
                    "system/Task.read")  # fmt: skip
    server = smart.server

    # The person, found by personnummer (the outside system does not know our ids).
    found = list(
        Patient.where(
            {"identifier": f"{PERSONNUMMER}|{m.person.personnummer}"}
        ).perform_resources_iter(server)
    )
    assert [p.id for p in found] == [str(m.person.pk)]
    patient = found[0]
    assert patient.name[0].family == m.person.last_name

    # The person's current plan: the held meeting's, active, a SIP.
    plans = list(
        CarePlan.where({"patient": patient.id, "status": "active"}).perform_resources_iter(server)
    )
    assert [plan.id for plan in plans] == [str(fhir_world.held.pk)]
    plan = plans[0]
    assert plan.intent == "plan" and plan.subject.reference == f"Patient/{patient.id}"
    assert "sip" in [coding.code for cat in plan.category for coding in cat.coding]
    activities = {a.detail.description: a.detail for a in plan.activity}
    assert set(activities) == {"Kvällsbesök för mat", "Läkemedelsgenomgång"}
    evening = activities["Kvällsbesök för mat"]
    assert evening.status == "in-progress"  # the coordinator's report: started
    assert {p.reference for p in evening.performer} == {
        f"Organization/{m.home_help.pk}",
        f"Practitioner/{m.coordinator.pk}",
    }
    assert evening.scheduledPeriod.end.as_json() == (
        fhir_world.home_help_decision.due_date.isoformat()
    )
    assert any("Om Märta faller" in note.text for note in plan.note)  # the contingency plan

    # The plan's tasks, one page at a time (_count=1: the client follows the next links).
    pages = list(
        Task.where(
            {"based-on": f"CarePlan/{plan.id}", "code": "decision", "_count": "1"}
        ).perform_iter(server)
    )
    assert len(pages) == 2 and all(len(page.entry) == 1 for page in pages)
    tasks = {entry.resource.description: entry.resource for page in pages for entry in page.entry}
    assert set(tasks) == set(activities)
    task = tasks["Kvällsbesök för mat"]
    assert task.status == "in-progress" and task.businessStatus.coding[0].code == "in_progress"
    assert task.owner.reference == f"Organization/{m.home_help.pk}"
    assert task.note[0].text == "Startar på måndag"
    assert tasks["Läkemedelsgenomgång"].status == "requested"  # nothing reported yet

    # A read by id is what the search gave; the access log names the system, not a user.
    again = Task.read(task.id, server)
    assert again.as_json() == task.as_json()
    rows = AccessLog.objects.filter(system_client=system_client)
    assert rows.exists() and not rows.filter(user__isnull=False).exists()
    assert set(rows.values_list("object_type", flat=True)) == {
        "fhir.patient", "fhir.careplan", "fhir.task",
    }  # fmt: skip


def test_after_withdrawal_the_outside_system_loses_the_others_parts(
    connect, fhir_world, home_help_system
):
    """Consent withdrawn: the health care's decision is gone for the home-help system at
    once (404 on a read it made before), its own decision stays, and it learns of the
    withdrawal from the inactive Consent."""
    from fhirclient.models.consent import Consent

    m = fhir_world.marea
    system_client, key = home_help_system
    smart = connect(system_client, key, "system/*.read")
    server = smart.server
    other = f"decision-{fhir_world.health_care_decision.pk}"
    assert Task.read(other, server).owner.reference == f"Organization/{m.health_care.pk}"

    services.consent_withdraw(actor=m.nurse, meeting=fhir_world.held)

    with pytest.raises(FHIRNotFoundException):
        Task.read(other, server)
    plan = CarePlan.read(str(fhir_world.held.pk), server)
    assert [a.detail.description for a in plan.activity] == ["Kvällsbesök för mat"]
    consent = Consent.read(str(fhir_world.held.pk), server)
    assert consent.status == "inactive"
