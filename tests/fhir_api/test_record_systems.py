"""Record systems sign in with client credentials and see what their organisation's care
staff may see (issue 21, "Done when"): the home-help provider's system lists the decisions
its organisation is responsible for across the persons it serves, page by page, and nothing
of a meeting whose consent was withdrawn, while the withdrawn (inactive) Consent stays
readable to it as an organisation that took part, and the change feed lists it."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone

from meetings import services
from meetings.models import Meeting
from participants.models import AccessLog, AccessLogPerson

from ..conftest import advance_meeting
from .conftest import (
    SECRET,
    another_person,
    bearer,
    home_help_decision,
    make_client,
)

pytestmark = pytest.mark.django_db
S = Meeting.State
TOKEN = "/fhir/R4/auth/token"


def pages(http, url: str) -> list[list[dict]]:
    found = []
    while url:
        response = http.get(url)
        assert response.status_code == 200, response.content
        bundle = response.json()
        found.append([entry["resource"] for entry in bundle.get("entry", [])])
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        url = url and url.split("127.0.0.1:8000", 1)[1]
    return found


@pytest.fixture
def served(fhir_world):
    """Märta's held meeting (fhir_world), Gösta's held meeting with a home-help decision,
    and Stina's scheduled meeting, with a home-help decision, whose consent she withdraws."""
    m = fhir_world.marea
    gosta = another_person(m, "Gösta")
    gosta_meeting = advance_meeting(gosta, S.HELD)
    gosta_decision = home_help_decision(gosta, gosta_meeting, "Samma personal vid dusch")
    stina = another_person(m, "Stina")
    stina_meeting = advance_meeting(stina, S.SCHEDULED)
    stina_decision = home_help_decision(stina, stina_meeting, "Matleverans")
    before_withdrawal = timezone.now()
    services.consent_withdraw(actor=m.nurse, meeting=stina_meeting, note="Vill inte längre")
    return {
        "gosta": (gosta, gosta_meeting, gosta_decision),
        "stina": (stina, stina_meeting, stina_decision),
        "before_withdrawal": before_withdrawal,
    }


def test_home_help_system_lists_its_decisions_with_paging(fhir_world, served):
    m = fhir_world.marea
    system_client = make_client(m.home_help)
    http = bearer(system_client)
    result = pages(
        http, f"/fhir/R4/Task?owner=Organization/{m.home_help.pk}&code=decision&_count=1"
    )
    assert len(result) == 2 and all(len(page) == 1 for page in result)
    tasks = [task for page in result for task in page]
    gosta, _meeting, gosta_decision = served["gosta"]
    assert {t["id"] for t in tasks} == {
        f"decision-{fhir_world.home_help_decision.pk}",
        f"decision-{gosta_decision.pk}",
    }
    assert {t["for"]["reference"] for t in tasks} == {
        f"Patient/{m.person.pk}",
        f"Patient/{gosta.person.pk}",
    }
    assert all(t["owner"]["reference"] == f"Organization/{m.home_help.pk}" for t in tasks)
    # Each page is one list row in the access log naming the client, with its person.
    rows = AccessLog.objects.filter(system_client=system_client, action="list")
    assert rows.count() == 2
    for row in rows:
        assert row.user_id is None and row.organisation_id == m.home_help.pk
        assert row.role == "system" and row.list_name == "record_system"
        assert row.object_type == "fhir.task"
    listed = set(AccessLogPerson.objects.filter(log__in=rows).values_list("person_id", flat=True))
    assert listed == {m.person.pk, gosta.person.pk}


def test_nothing_of_a_withdrawn_meeting_but_its_inactive_consent(fhir_world, served):
    m = fhir_world.marea
    stina, meeting, decision = served["stina"]
    http = bearer(make_client(m.home_help))
    for path in [
        f"CarePlan/{meeting.pk}",
        f"Task/decision-{decision.pk}",
        f"Encounter/{meeting.pk}",
        f"Appointment/{meeting.pk}",
        f"CareTeam/meeting-{meeting.pk}",
    ]:
        response = http.get(f"/fhir/R4/{path}")
        assert response.status_code == 404, path
        assert response.json()["resourceType"] == "OperationOutcome"
    for search in ["Task", "CarePlan", "Encounter", "Appointment", "CareTeam"]:
        bundle = http.get(f"/fhir/R4/{search}?patient=Patient/{stina.person.pk}").json()
        ids = [e["resource"]["id"] for e in bundle.get("entry", [])]
        gone = {str(meeting.pk), f"meeting-{meeting.pk}", f"decision-{decision.pk}"}
        assert not gone & set(ids), (search, ids)
    # The consent itself stays readable, inactive, with its history; the feed lists it.
    consent = http.get(f"/fhir/R4/Consent/{meeting.pk}")
    assert consent.status_code == 200
    assert consent.json()["status"] == "inactive"
    history = http.get(f"/fhir/R4/Consent/{meeting.pk}/_history").json()
    assert [e["resource"]["status"] for e in history["entry"]] == ["inactive", "active"]
    assert history["entry"][0]["resource"]["meta"]["versionId"] == "2"
    since = served["before_withdrawal"].isoformat().replace("+00:00", "Z")
    feed = http.get(f"/fhir/R4/Consent?_lastUpdated=gt{since}&_sort=_lastUpdated", {}).json()
    assert [e["resource"]["id"] for e in feed["entry"]] == [str(meeting.pk)]
    # The person's record follows the care team, as on the pages.
    assert http.get(f"/fhir/R4/Patient/{stina.person.pk}").status_code == 200


def test_an_organisation_not_in_the_meeting_reads_no_consent(fhir_world, served):
    m = fhir_world.marea
    _stina, meeting, _decision = served["stina"]
    http = bearer(make_client(m.outsider_org))
    assert http.get(f"/fhir/R4/Consent/{meeting.pk}").status_code == 404
    assert http.get("/fhir/R4/Consent").json().get("entry") is None
    denied = AccessLog.objects.filter(outcome="denied", object_type="fhir.consent").get()
    assert denied.system_client.organisation == m.outsider_org


def test_scopes_limit_what_a_client_reads(fhir_world):
    m = fhir_world.marea
    system_client = make_client(m.home_help, scopes="system/Patient.read system/Task.rs")
    http = bearer(system_client, scope="system/Patient.read system/Task.rs")
    assert http.get(f"/fhir/R4/Patient/{m.person.pk}").status_code == 200
    assert http.get("/fhir/R4/Task").status_code == 200
    refused = http.get(f"/fhir/R4/CarePlan/{fhir_world.held.pk}")
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    # A scope the client was not given is not granted.
    response = Client().post(TOKEN, {
        "grant_type": "client_credentials", "client_id": system_client.client_id,
        "client_secret": SECRET, "scope": "system/CarePlan.read",
    })  # fmt: skip
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_token_endpoint_refuses_wrong_credentials(fhir_world):
    system_client = make_client(fhir_world.marea.home_help)
    anonymous = Client()
    cases = [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "client_id": system_client.client_id,
          "client_secret": "wrong"}, 401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": SECRET},
         401, "invalid_client"),
        ({"grant_type": "client_credentials", "client_assertion_type": "x",
          "client_assertion": "y"}, 400, "invalid_request"),
    ]  # fmt: skip
    for data, status, error in cases:
        response = anonymous.post(TOKEN, data)
        assert response.status_code == status, data
        assert response.json()["error"] == error
    # The secret by HTTP Basic works as well.
    import base64

    basic = base64.b64encode(f"{system_client.client_id}:{SECRET}".encode()).decode()
    response = anonymous.post(
        TOKEN, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 200


def _key_pair():
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def _assertion(key, client_id: str, **changes) -> str:
    claims = {
        "iss": client_id, "sub": client_id, "aud": "http://127.0.0.1:8000/fhir/R4/auth/token",
        "exp": int(time.time()) + 240, "jti": f"jti-{time.time_ns()}",
    } | changes  # fmt: skip
    return jwt.encode(claims, key, algorithm="ES384")


def test_a_signed_assertion_signs_in_smart_backend_services_style(fhir_world):
    m = fhir_world.marea
    key, public = _key_pair()
    system_client = make_client(m.home_help, public_key=public)
    anonymous = Client()
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "scope": "system/CarePlan.read",
    }
    response = anonymous.post(
        TOKEN, data | {"client_assertion": _assertion(key, system_client.client_id)}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "bearer" and body["scope"] == "system/CarePlan.read"
    http = Client(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert http.get(f"/fhir/R4/CarePlan/{fhir_world.held.pk}").status_code == 200
    other_key, _public = _key_pair()
    for assertion in [
        _assertion(other_key, system_client.client_id),  # not its key
        _assertion(key, system_client.client_id, aud="http://elsewhere/token"),
        _assertion(key, system_client.client_id, exp=int(time.time()) - 10),
        _assertion(key, system_client.client_id, exp=int(time.time()) + 3600),
    ]:
        response = anonymous.post(TOKEN, data | {"client_assertion": assertion})
        assert response.status_code == 401, response.content


def test_a_client_made_inactive_stops_at_once(fhir_world):
    m = fhir_world.marea
    system_client = make_client(m.home_help)
    http = bearer(system_client)
    assert http.get(f"/fhir/R4/Patient/{m.person.pk}").status_code == 200
    system_client.is_active = False
    system_client.save()
    response = http.get(f"/fhir/R4/Patient/{m.person.pk}")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    forged = Client(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert forged.get(f"/fhir/R4/Patient/{m.person.pk}").status_code == 401


def test_a_read_names_the_client_and_the_person(fhir_world):
    m = fhir_world.marea
    system_client = make_client(m.home_help)
    http = bearer(system_client)
    response = http.get(f"/fhir/R4/CarePlan/{fhir_world.held.pk}")
    assert response.status_code == 200
    row = AccessLog.objects.get(system_client=system_client, action="view")
    assert row.person_id == m.person.pk and row.object_type == "fhir.careplan"
    assert row.organisation_id == m.home_help.pk and row.user_id is None
    from django.utils import translation

    with translation.override("en"):
        assert str(row.role_label) == "Record system"
    with translation.override("sv"):
        assert str(row.role_label) == "Journalsystem"
