"""Every resource the API returns validates with the fhir.resources R4B models, and the
invariants the API relies on hold (FHIRPath, fhirpathpy): a walk over the whole demo area
(manage.py seed_demo) as a record system of every organisation, page by page."""

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class
from fhirpathpy import evaluate
from fhirpathpy.models import models

from fhir_api.resources import TYPES
from meetings import summary_services
from meetings.models import Meeting
from participants.models import Organisation

from .conftest import bearer, make_client

pytestmark = pytest.mark.django_db

PERSONNUMMER = "urn:oid:1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER = "urn:oid:1.2.752.129.2.1.3.3"

# What the API promises beyond the base specification, and the base invariants it could
# break, per type (FHIRPath on the R4 model).
INVARIANTS = {
    "*": ["meta.versionId.exists()", "id.matches('^[A-Za-z0-9\\\\-\\\\.]{1,64}$')"],
    "Patient": [
        f"identifier.where(system = '{PERSONNUMMER}' or system = '{SAMORDNINGSNUMMER}')"
        ".value.matches('^[0-9]{12}$')",
    ],
    "CarePlan": [
        "activity.all(reference.empty() or detail.empty())",  # cpl-3
        "category.coding.where(code = 'sip').exists()",
        "activity.detail.all(performer.where(reference.startsWith('Organization/')).count() = 1)",
        "activity.detail.all(extension.where(url.endsWith('/person-answer')).exists())",
        "subject.reference.startsWith('Patient/')",
    ],
    "Task": [
        "owner.reference.startsWith('Organization/')",
        "basedOn.reference.startsWith('CarePlan/')",
        "for.reference.startsWith('Patient/')",
    ],
    "CareTeam": [
        # ctm-1: onBehalfOf only for a Practitioner member.
        "participant.all(onBehalfOf.exists() implies member.reference.startsWith('Practitioner/'))",
    ],
    "Consent": [
        "policy.exists() or policyRule.exists()",  # ppc-1
        "scope.coding.where(code = 'patient-privacy').exists() implies patient.exists()",  # ppc-2
        "status = 'inactive' implies provision.period.end.exists()",
    ],
    "Appointment": [
        "(start.exists() and end.exists()) or status = 'proposed' or status = 'cancelled'",
        "participant.all(type.exists() or actor.exists())",  # app-1
    ],
    "Observation": [
        "dataAbsentReason.empty() or component.empty()",
        "component.all(code.coding.system.exists())",
    ],
    "Encounter": ["class.code = 'HH'"],
    "DocumentReference": [
        "content.attachment.all(contentType = 'application/pdf' and url.exists())"
    ],
}


def walk(http, resource_type: str) -> list[dict]:
    """Every resource of a search, following the next links."""
    url = f"/fhir/R4/{resource_type}?_count=50"
    found = []
    while url:
        response = http.get(url)
        assert response.status_code == 200, (url, response.content[:500])
        assert response["Content-Type"].startswith("application/fhir+json")
        bundle = response.json()
        get_fhir_model_class("Bundle").model_validate(bundle)
        found += [entry["resource"] for entry in bundle.get("entry", [])]
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
        if url:
            url = url.split("://", 1)[1].split("/", 1)[1]
            url = "/" + url
    return found


def check(resource: dict) -> list[str]:
    kind = resource["resourceType"]
    problems = []
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except Exception as exc:  # noqa: BLE001 - the message is the finding
        problems.append(f"{kind}/{resource['id']}: {exc}")
    for expression in INVARIANTS["*"] + INVARIANTS.get(kind, []):
        if evaluate(resource, expression, model=models["r4"]) not in ([True], []):
            problems.append(f"{kind}/{resource['id']}: {expression}")
        if evaluate(resource, expression, model=models["r4"]) == []:
            problems.append(f"{kind}/{resource['id']}: {expression} is empty")
    return problems


@pytest.fixture
def demo_area(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    call_command("seed_demo", quiet_logins=True)
    held = Meeting.objects.filter(state__in=["held", "closed"], shared=True).first()
    summary_services.summary_store(meeting_id=held.pk, language="sv")


def test_every_resource_of_the_demo_area_validates(demo_area):
    seen = {name: set() for name in TYPES}
    problems = []
    for organisation in Organisation.objects.all():
        http = bearer(make_client(organisation))
        for name in TYPES:
            for resource in walk(http, name):
                assert resource["resourceType"] == name
                if resource["id"] not in seen[name]:
                    seen[name].add(resource["id"])
                    problems += check(resource)
    assert not problems, "\n".join(problems[:30])
    empty = [name for name, ids in seen.items() if not ids]
    assert not empty, f"the demo area gave no {empty}"


def test_a_read_gives_what_the_search_gave(demo_area):
    organisation = Organisation.objects.get(kind=Organisation.Kind.HOME_HEALTH_CARE)
    http = bearer(make_client(organisation))
    for name in TYPES:
        for resource in walk(http, name)[:5]:
            response = http.get(f"/fhir/R4/{name}/{resource['id']}")
            assert response.status_code == 200
            assert response.json() == resource
            assert response["ETag"] == f'W/"{resource["meta"]["versionId"]}"'


def test_the_checks_find_what_is_wrong():
    """The walk can fail: a wrong type and a broken invariant are both found."""
    plan = {
        "resourceType": "CarePlan", "id": "1", "meta": {"versionId": "a"}, "status": "active",
        "intent": "plan", "subject": {"reference": "Patient/1"},
        "category": [{"coding": [{"system": "x", "code": "sip"}]}],
        "activity": [{"reference": {"reference": "Task/1"}, "detail": {"status": "completed"}}],
    }  # fmt: skip
    assert any("cpl-3" in p or "reference.empty()" in p for p in check(plan))
    patient = {"resourceType": "Patient", "id": "1", "meta": {"versionId": "a"}, "birthDate": "1"}
    assert check(patient)
