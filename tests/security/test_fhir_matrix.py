"""The FHIR API's permission matrix (issue 21): every resource type, read by id and found by
search, for every persona of the pages' URL matrix (tests/security/test_url_matrix.py) and
for two record systems: the home-help provider's, which serves Märta, and the system of an
organisation that does not (an IDOR from outside: every id of hers is 404 and no search
finds it, whichever parameter names it).

The single-object rule and the list rule are checked against each other: for every persona
and every object, the read answers 200 exactly when the search lists the object."""

import pytest
from django.test import Client
from django.urls import reverse

from followup.models import Checkpoint, OutcomeMeasure
from meetings.models import SummaryDocument
from participants.models import Membership, Role

from ..factories import MembershipFactory
from ..fhir_api.conftest import bearer, build_fhir_world, make_client
from ..twofactor import verify_second_factor
from .test_url_matrix import PERSONAS as PAGE_PERSONAS

# Run with the cache on this host and with the shared cache of production (CACHE_URL).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_configuration")]

PERSONAS = (*PAGE_PERSONAS, "system", "system_outsider")


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
def world(marea, media):
    """tests/fhir_api/conftest.py's held meeting, with its two-week checkpoint done."""
    from django.utils import timezone

    from followup import services as followup_services

    world = build_fhir_world(marea)
    followup_services.decision_status_report(
        actor=marea.physician, decision=world.health_care_decision, status="not_started",
        date=timezone.localdate(),
    )  # fmt: skip
    followup_services.checkpoint_complete(
        actor=marea.nurse, meeting=world.held, kind="two_weeks", person_situation="at_home"
    )
    return world


def objects(world) -> dict[str, str]:
    """(type/id) of every kind of object the API serves, all about Märta's held meeting."""
    m, held = world.marea, world.held
    return {
        "Patient": str(m.person.pk),
        "Organization": str(m.health_care.pk),
        "Practitioner": str(m.nurse.pk),
        "PractitionerRole": str(Membership.objects.get(user=m.nurse).pk),
        "RelatedPerson": str(m.relative.pk),
        "CareTeam": f"person-{m.person.pk}",
        "CareTeam ": f"meeting-{held.pk}",
        "CarePlan": str(held.pk),
        "Task": f"decision-{world.home_help_decision.pk}",
        "Task ": f"decision-{world.health_care_decision.pk}",
        "Task  ": f"checkpoint-{Checkpoint.objects.get(meeting=held).pk}",
        "Consent": str(held.pk),
        "Encounter": str(held.pk),
        "Appointment": str(held.pk),
        "QuestionnaireResponse": str(OutcomeMeasure.objects.get(meeting=held).pk),
        "Observation": str(OutcomeMeasure.objects.get(meeting=held).pk),
        "DocumentReference": str(SummaryDocument.objects.get(meeting=held).pk),
    }


def clients(world) -> dict[str, Client]:
    from meetings import relatives as rel

    m = world.marea
    manager = MembershipFactory(organisation=m.health_care, role=Role.MANAGER).user
    admin = MembershipFactory(organisation=m.health_care, role=Role.ORG_ADMIN).user
    staff = {
        "nurse": m.nurse, "physician": m.physician, "assessor": m.assessor,
        "coordinator": m.coordinator, "contact": m.contact, "manager": manager,
        "admin": admin, "outsider": m.outsider,
    }  # fmt: skip
    found = {}
    for persona, user in staff.items():
        client = Client()
        client.force_login(user, backend="participants.auth.UsernameOrEmailBackend")
        if persona in ("manager", "admin"):
            verify_second_factor(client, user)
        found[persona] = client
    relative = Client()
    token = rel.signin_link(rel.relative_user_ensure(m.relative)).split("sesame=", 1)[1]
    assert relative.post(reverse("relatives_signin"), {"sesame": token}).status_code == 302
    found["relative"] = relative
    found["anonymous"] = Client()
    found["system"] = bearer(make_client(m.home_help))
    found["system_outsider"] = bearer(make_client(m.outsider_org))
    return found


# type (a trailing space tells a second object of the type apart): the read's status for
# each persona in the order of PERSONAS; the search by _id lists the object exactly when
# the read is 200. The directory (Organization) is open to all staff; colleagues see each
# other (a manager, an admin); what is about Märta is for her care team and its
# organisations' systems only. A relative is refused (403), someone not signed in 401.
# fmt: off
MATRIX = {
    #                          nurs phys asse coor cont mana admi rela outs anon syst sout
    "Patient":               "200 200 200 200 200 404 404 403 404 401 200 404",
    "Organization":          "200 200 200 200 200 200 200 403 200 401 200 200",
    "Practitioner":          "200 200 200 200 200 200 200 403 404 401 200 404",
    "PractitionerRole":      "200 200 200 200 200 200 200 403 404 401 200 404",
    "RelatedPerson":         "200 200 200 200 200 404 404 403 404 401 200 404",
    "CareTeam":              "200 200 200 200 200 404 404 403 404 401 200 404",
    "CareTeam ":             "200 200 200 200 200 404 404 403 404 401 200 404",
    "CarePlan":              "200 200 200 200 200 404 404 403 404 401 200 404",
    "Task":                  "200 200 200 200 200 404 404 403 404 401 200 404",
    "Task ":                 "200 200 200 200 200 404 404 403 404 401 200 404",
    "Task  ":                "200 200 200 200 200 404 404 403 404 401 200 404",
    "Consent":               "200 200 200 200 200 404 404 403 404 401 200 404",
    "Encounter":             "200 200 200 200 200 404 404 403 404 401 200 404",
    "Appointment":           "200 200 200 200 200 404 404 403 404 401 200 404",
    "QuestionnaireResponse": "200 200 200 200 200 404 404 403 404 401 200 404",
    "Observation":           "200 200 200 200 200 404 404 403 404 401 200 404",
    "DocumentReference":     "200 200 200 200 200 404 404 403 404 401 200 404",
}
# fmt: on


def test_every_type_has_a_row():
    from fhir_api.resources import TYPES

    assert {key.strip() for key in MATRIX} == set(TYPES)
    assert all(len(row.split()) == len(PERSONAS) for row in MATRIX.values())


def test_every_persona_reads_and_finds_what_the_matrix_says(world):
    found = clients(world)
    wrong = []
    for key, ident in objects(world).items():
        kind = key.strip()
        for persona, expected in zip(PERSONAS, MATRIX[key].split(), strict=True):
            http = found[persona]
            read = http.get(f"/fhir/R4/{kind}/{ident}")
            if read.status_code != int(expected):
                wrong.append(f"{kind}/{ident} as {persona}: {read.status_code}, not {expected}")
            assert read["Content-Type"].startswith("application/fhir+json"), (kind, persona)
            search = http.get(f"/fhir/R4/{kind}", {"_id": ident})
            if expected in ("401", "403"):
                if search.status_code != int(expected):
                    wrong.append(f"{kind}?_id as {persona}: {search.status_code}")
                continue
            listed = [e["resource"]["id"] for e in search.json().get("entry", [])]
            if (ident in listed) != (expected == "200"):
                wrong.append(f"{kind}?_id={ident} as {persona}: listed {listed}, read {expected}")
    # The versions of a plan and of a consent follow their read.
    for persona in PERSONAS:
        expected = MATRIX["CarePlan"].split()[PERSONAS.index(persona)]
        for path in [f"CarePlan/{world.held.pk}/_history", f"Consent/{world.held.pk}/_history",
                     f"Consent/{world.held.pk}/_history/1"]:  # fmt: skip
            status = found[persona].get(f"/fhir/R4/{path}").status_code
            if status != int(expected):
                wrong.append(f"{path} as {persona}: {status}, not {expected}")
    assert not wrong, "\n".join(wrong)


def test_no_search_parameter_finds_her_from_outside(world):
    """IDOR through the parameters: the outsider's staff and system name Märta, her plan,
    her staff and her organisation in every reference parameter and her personnummer; no
    search answers with anything about her (and none fails)."""
    m, held = world.marea, world.held
    person, plan = f"Patient/{m.person.pk}", f"CarePlan/{held.pk}"
    searches = [
        f"Patient?identifier={m.person.personnummer}",
        f"Patient?identifier=urn:oid:1.2.752.129.2.1.3.1|{m.person.personnummer}",
        f"RelatedPerson?patient={person}", f"CareTeam?patient={person}",
        f"CareTeam?subject={person}", f"CarePlan?patient={person}", f"CarePlan?subject={person}",
        f"Task?patient={person}", f"Task?based-on={plan}",
        f"Task?owner=Organization/{m.health_care.pk}", f"Task?owner=Practitioner/{m.physician.pk}",
        f"Consent?patient={person}", f"Encounter?patient={person}",
        f"Appointment?patient={person}", f"Appointment?actor={person}",
        f"Appointment?actor=Practitioner/{m.nurse.pk}",
        f"QuestionnaireResponse?patient={person}", f"Observation?subject={person}",
        f"DocumentReference?patient={person}",
        f"Practitioner?name={m.nurse.last_name}",
        f"PractitionerRole?practitioner=Practitioner/{m.nurse.pk}",
        f"PractitionerRole?organization=Organization/{m.health_care.pk}",
    ]  # fmt: skip
    found = clients(world)
    wrong = []
    for persona in ("outsider", "system_outsider"):
        for search in searches:
            response = found[persona].get(f"/fhir/R4/{search}")
            if response.status_code != 200:
                wrong.append(f"{search} as {persona}: {response.status_code}")
                continue
            ids = [e["resource"]["id"] for e in response.json().get("entry", [])]
            if search.startswith("Practitioner?"):
                # The outsider's own colleagues may share her surname.
                ids = [ident for ident in ids if ident == str(m.nurse.pk)]
            if ids:
                wrong.append(f"{search} as {persona} found {ids}")
    # The same searches as her own care team's system do find her: they can fail.
    for search in searches[:-3]:
        if not found["system"].get(f"/fhir/R4/{search}").json().get("entry"):
            wrong.append(f"{search} as the home-help system found nothing")
    assert not wrong, "\n".join(wrong)
