import pytest
from django.urls import reverse

from participants.models import CareTeamEntry, ChangeRecord, Person, Relative
from participants.personnummer import with_check_digit

pytestmark = pytest.mark.django_db

VALID = "19" + with_check_digit("380505123")


def _person_data(area, **overrides):
    data = {
        "first_name": "Gösta",
        "last_name": "Ängström",
        "personnummer": VALID,
        "organisation": area.health_care.pk,
        "preferred_language": "svenska",
        "street_address": "Sjögatan 4",
        "postal_code": "136 41",
        "city": "Sjöstad",
    }
    data.update(overrides)
    return data


def test_nurse_registers_a_person_and_joins_the_care_team(area, login):
    client = login(area.alice)
    response = client.post(reverse("person_create"), _person_data(area))
    person = Person.objects.get(personnummer=VALID)
    assert response.status_code == 302
    assert response["Location"] == reverse("person_detail", kwargs={"pk": person.pk})
    assert person.date_of_birth.isoformat() == "1938-05-05"
    assert CareTeamEntry.objects.filter(person=person, organisation=area.health_care).exists()
    assert ChangeRecord.objects.filter(object_id=str(person.pk), action="create").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("19380505-1230", "check digit"),
        ("19380231-1234", "does not exist"),
        ("hello", "YYYYMMDD-NNNN"),
    ],
)
def test_bad_personnummer_gets_a_message_next_to_the_field_and_keeps_input(
    area, login, value, message
):
    client = login(area.alice)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("person_create"), _person_data(area, personnummer=value))
    assert response.status_code == 200
    assert message in response.context["form"].errors["personnummer"][0]
    body = response.content.decode()
    assert 'id="error_1_id_personnummer"' in body  # crispy renders it under the field
    assert 'value="Gösta"' in body
    assert not Person.objects.filter(first_name="Gösta").exists()


def test_registering_an_existing_number_adds_the_organisation_instead_of_a_duplicate(area, login):
    client = login(area.bob)
    data = _person_data(area, personnummer=area.person.personnummer, organisation=area.home_help.pk)
    # bob's organisation is already in the team: nothing new
    response = client.post(reverse("person_create"), data)
    assert response.status_code == 302
    assert Person.objects.count() == 1
    client = login(area.charlie)
    data["organisation"] = area.outsider_org.pk
    response = client.post(reverse("person_create"), data)
    assert response.status_code == 302
    assert Person.objects.count() == 1
    assert CareTeamEntry.objects.filter(person=area.person, organisation=area.outsider_org).exists()


def test_cannot_register_for_an_organisation_one_does_not_work_for(area, login):
    client = login(area.alice)
    response = client.post(
        reverse("person_create"), _person_data(area, organisation=area.outsider_org.pk)
    )
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert not Person.objects.filter(personnummer=VALID).exists()


def test_edit_records_old_and_new_values(area, login):
    client = login(area.alice)
    url = reverse("person_edit", kwargs={"pk": area.person.pk})
    data = {
        "first_name": "Märta",
        "last_name": "Åkesson-Lind",
        "personnummer": area.person.personnummer,
        "preferred_language": "svenska",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    record = ChangeRecord.objects.filter(object_id=str(area.person.pk), action="update").get()
    assert record.changes["last_name"] == ["Åkesson", "Åkesson-Lind"]
    detail = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert "Åkesson-Lind" in detail.content.decode()


def test_representative_needs_a_name(area, login):
    client = login(area.alice)
    response = client.post(
        reverse("person_create"), _person_data(area, representative_kind="god_man")
    )
    assert response.status_code == 200
    assert "representative_name" in response.context["form"].errors


def test_relative_needs_a_way_to_reach_them(area, login):
    client = login(area.alice)
    url = reverse("relative_create", kwargs={"pk": area.person.pk})
    response = client.post(url, {"name": "Ulla", "relation": "dotter", "preferred_language": "sv"})
    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not Relative.objects.exists()
    response = client.post(
        url,
        {
            "name": "Ulla Åkesson",
            "relation": "dotter",
            "email": "ulla@example.org",
            "preferred_language": "sv",
            "wants_involved": "on",
        },
    )
    assert response.status_code == 302
    assert Relative.objects.get().wants_involved


def test_care_team_member_must_work_for_the_organisation(area, login):
    client = login(area.alice)
    url = reverse("care_team_add", kwargs={"pk": area.person.pk})
    response = client.post(
        url,
        {
            "organisation": area.home_help.pk,
            "member": area.alice.pk,
            "role": "nurse",
            "start_date": "2026-01-01",
        },
    )
    assert response.status_code == 200
    assert "member" in response.context["form"].errors


def test_care_team_end_before_start_is_refused(area, login):
    client = login(area.alice)
    url = reverse("care_team_add", kwargs={"pk": area.person.pk})
    response = client.post(
        url,
        {"organisation": area.home_help.pk, "start_date": "2026-05-01", "end_date": "2026-04-01"},
    )
    assert response.status_code == 200
    assert "end_date" in response.context["form"].errors


def test_eligibility_is_shown(area, login):
    client = login(area.alice)
    client.cookies["django_language"] = "en"
    body = client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).content.decode()
    assert "Eligible for a care meeting" in body
    CareTeamEntry.objects.filter(organisation=area.home_help).delete()
    body = client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).content.decode()
    assert "no home-help provider in the care team" in body
