"""Every resource the API returns validates with the fhir.resources R4B models and with
fhirclient's R4 (4.0.1) models, and the invariants the API relies on hold (FHIRPath,
fhirpathpy): a walk over the whole demo area (manage.py seed_demo) as a record system of
every organisation, page by page. Where R4 and R4B differ for the types we return is
checked too (the README says what the answer is)."""

import importlib
import typing

import pytest
from django.core.management import call_command
from fhir.resources.R4B import get_fhir_model_class
from fhirclient.models.fhirabstractbase import FHIRAbstractBase, FHIRValidationError
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


def r4_model(kind: str) -> type[FHIRAbstractBase]:
    """fhirclient's model of `kind`: FHIR R4 4.0.1, strict (an unknown or mistyped element,
    or a missing required one, is an error)."""
    return getattr(importlib.import_module(f"fhirclient.models.{kind.lower()}"), kind)


def check(resource: dict) -> list[str]:
    kind = resource["resourceType"]
    problems = []
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except Exception as exc:  # noqa: BLE001 - the message is the finding
        problems.append(f"{kind}/{resource['id']}: {exc}")
    try:
        r4_model(kind)(resource, strict=True)
    except FHIRValidationError as exc:
        problems.append(f"{kind}/{resource['id']} (R4): {exc}")
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


# --- R4 and R4B, for what we return ---


def _r4_elements(model) -> dict:
    instance = model.__new__(model)
    model.__init__(instance, strict=False)
    return {
        json_name: (kind, bool(is_list), bool(required and not one_of_many))
        for _name, json_name, kind, is_list, one_of_many, required in instance.elementProperties()
    }


def _r4b_elements(model) -> dict:
    found = {}
    for name, info in model.model_fields.items():
        json_name = info.alias or name
        if json_name.startswith("_") or json_name in ("resourceType", "fhir_comments"):
            continue
        extra = info.json_schema_extra or {}
        found[json_name] = (
            info.annotation,
            info.is_required() or bool(extra.get("element_required")),
        )
    return found


def _r4b_inner(annotation):
    """(the model class inside an annotation, whether it is a list)."""
    args = typing.get_args(annotation)
    if not args:
        return annotation, False
    is_list = typing.get_origin(annotation) is list
    for arg in args:
        inner, inner_list = _r4b_inner(arg)
        if isinstance(inner, type):
            return inner, is_list or inner_list
    return None, is_list


def r4_r4b_differences(kind: str) -> list[str]:
    """Elements, cardinality and types of `kind` and its backbone elements that differ
    between fhirclient's R4 models and fhir.resources' R4B models."""
    differences, seen = [], set()

    def compare(path, r4, r4b):
        if (r4, r4b) in seen:
            return
        seen.add((r4, r4b))
        left, right = _r4_elements(r4), _r4b_elements(r4b)
        for name in sorted(set(left) | set(right)):
            if name not in right or name not in left:
                differences.append(f"{path}.{name} only in {'R4' if name in left else 'R4B'}")
                continue
            kind_r4, list_r4, required_r4 = left[name]
            annotation, required_r4b = right[name]
            inner, list_r4b = _r4b_inner(annotation)
            if (list_r4, required_r4) != (list_r4b, required_r4b):
                differences.append(f"{path}.{name} cardinality")
            if inner is not None and inner.__name__.endswith("Type"):
                try:  # fhir.resources names a model by a placeholder: "<Model>Type"
                    inner = get_fhir_model_class(inner.__name__[:-4])
                except (KeyError, ValueError):
                    inner = None
            if isinstance(kind_r4, type) and issubclass(kind_r4, FHIRAbstractBase) and inner:
                same = kind_r4.__name__ == inner.__name__ or (kind_r4.__name__, inner.__name__) == (
                    "FHIRReference",
                    "Reference",
                )
                if not same:
                    differences.append(f"{path}.{name} type {kind_r4.__name__}/{inner.__name__}")
                if kind_r4.__module__ == r4.__module__:  # a backbone element of this type
                    compare(f"{path}.{name}", kind_r4, inner)

    compare(kind, r4_model(kind), get_fhir_model_class(kind))
    return differences


def test_r4_and_r4b_agree_on_every_element_we_return():
    """The README's claim: for the types the API returns, R4B changed no element, no
    cardinality and no type (R4B's changes are elsewhere: subscriptions, medication
    definitions, evidence). fhirVersion says 4.0.1 all the same."""
    kinds = [*TYPES, "Bundle", "OperationOutcome", "CapabilityStatement"]
    assert {kind: r4_r4b_differences(kind) for kind in kinds} == {kind: [] for kind in kinds}
    # The comparison finds a change where R4B made one: canonical became a type of
    # ActivityDefinition.subject[x].
    assert r4_r4b_differences("ActivityDefinition") == [
        "ActivityDefinition.subjectCanonical only in R4B"
    ]
