import pytest

from .conftest import bearer, make_client

pytestmark = pytest.mark.django_db


def test_smoke(fhir_world, login):
    m = fhir_world.marea
    http = login(m.nurse)
    for path in [
        "/fhir/R4/metadata",
        f"/fhir/R4/Patient/{m.person.pk}",
        "/fhir/R4/Patient",
        "/fhir/R4/Organization",
        "/fhir/R4/Practitioner",
        "/fhir/R4/PractitionerRole",
        "/fhir/R4/CareTeam",
        f"/fhir/R4/CarePlan/{fhir_world.held.pk}",
        "/fhir/R4/CarePlan",
        "/fhir/R4/Task",
        "/fhir/R4/Consent",
        f"/fhir/R4/Consent/{fhir_world.held.pk}/_history",
        f"/fhir/R4/CarePlan/{fhir_world.held.pk}/_history",
        "/fhir/R4/Encounter",
        "/fhir/R4/Appointment",
        "/fhir/R4/RelatedPerson",
        "/fhir/R4/QuestionnaireResponse",
        "/fhir/R4/Observation",
        "/fhir/R4/DocumentReference",
        "/fhir/R4/Task?_sort=_lastUpdated&_count=1",
    ]:
        response = http.get(path)
        print(path, response.status_code, response.content[:1500].decode())
        assert response.status_code == 200, path
    client = bearer(make_client(m.home_help))
    response = client.get(f"/fhir/R4/Task?owner=Organization/{m.home_help.pk}")
    print(response.content.decode()[:2000])
    assert response.status_code == 200
