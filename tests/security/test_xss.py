"""Script in free-text fields is shown as text, never run: pages, the extract and its PDF."""

import io

import pytest
from django.urls import reverse

from participants.models import Role

from ..factories import MembershipFactory, RelativeFactory

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg/onload=alert(3)>",
    "javascript:alert(4)",
    "</textarea><script>alert(5)</script>",
]
MARKUP = ["<script>alert", "<img src=x", "<svg/onload", "</textarea><script>"]


def _assert_inert(body: str) -> None:
    for raw in MARKUP:
        assert raw not in body, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body or "&lt;script&gt;" in body


@pytest.fixture
def hostile(area):
    person = area.person
    person.first_name = PAYLOADS[0]
    person.last_name = PAYLOADS[1]
    person.access_notes = "\n".join(PAYLOADS)
    person.hearing_vision_notes = PAYLOADS[4]
    person.street_address = PAYLOADS[2]
    person.city = PAYLOADS[3]
    person.preferred_language = PAYLOADS[2]
    person.representative_kind = "god_man"
    person.representative_name = PAYLOADS[0]
    person.representative_phone = PAYLOADS[1]
    person.phone = PAYLOADS[1]
    person.save()
    RelativeFactory(person=person, name=PAYLOADS[0], relation=PAYLOADS[1], phone=PAYLOADS[2])
    return person


@pytest.mark.parametrize(
    "name",
    ["person_detail", "person_edit", "person_extract", "relative_create", "care_team_add"],
)
def test_person_pages_escape_free_text(area, hostile, login, name):
    response = login(area.alice).get(reverse(name, kwargs={"pk": hostile.pk}))
    assert response.status_code == 200
    _assert_inert(response.content.decode())


def test_relative_form_escapes_free_text(area, hostile, login):
    relative = hostile.relatives.get()
    url = reverse("relative_edit", kwargs={"pk": hostile.pk, "relative_pk": relative.pk})
    body = login(area.alice).get(url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    _assert_inert(body)


def test_home_list_escapes_names(area, hostile, login):
    _assert_inert(login(area.alice).get(reverse("home")).content.decode())


def test_phone_in_a_tel_link_cannot_break_out_of_the_attribute(area, hostile, login):
    body = login(area.alice).get(reverse("person_detail", kwargs={"pk": hostile.pk}))
    assert 'href="tel:&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"' in body.content.decode()


def test_form_redisplay_escapes_what_was_typed(area, login):
    response = login(area.alice).post(
        reverse("person_create"),
        {
            "first_name": PAYLOADS[0],
            "last_name": PAYLOADS[4],
            "personnummer": "not a number",
            "access_notes": PAYLOADS[4],
            "organisation": area.health_care.pk,
            "preferred_language": "svenska",
        },
    )
    assert response.status_code == 200
    _assert_inert(response.content.decode())


def test_admin_log_pages_escape_names(area, hostile, login):
    admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    login(area.alice).get(reverse("person_detail", kwargs={"pk": hostile.pk}))
    client = login(admin)
    for url in [
        reverse("access_log", kwargs={"org_pk": area.health_care.pk}),
        reverse("access_log", kwargs={"org_pk": area.health_care.pk}) + "?person=<script>",
        reverse(
            "access_log_person", kwargs={"org_pk": area.health_care.pk, "person_pk": hostile.pk}
        ),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        for raw in MARKUP:
            assert raw not in body, (url, raw)


def test_staff_names_are_escaped_in_the_staff_list(area, login):
    admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    area.alice.first_name = PAYLOADS[0]
    area.alice.save()
    body = login(admin).get(reverse("staff_list", kwargs={"org_pk": area.health_care.pk}))
    assert "<script>alert" not in body.content.decode()


def test_pdf_shows_script_as_text(area, hostile, login):
    from pypdf import PdfReader

    response = login(area.alice).get(reverse("person_extract_pdf", kwargs={"pk": hostile.pk}))
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "<script>alert(1)</script>" in text  # printed literally, not interpreted


def test_json_extract_is_served_as_json_not_html(area, hostile, login):
    response = login(area.alice).get(reverse("person_extract_json", kwargs={"pk": hostile.pk}))
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
