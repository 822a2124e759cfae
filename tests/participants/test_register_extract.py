"""Register extract (GDPR art. 15): everything held about a person, as a page, JSON and PDF."""

import io
import json

import pytest
from django.urls import reverse

from participants import extract
from participants.models import AccessLog, Role

from ..factories import MembershipFactory, RelativeFactory

pytestmark = pytest.mark.django_db

NAMES = ["person_extract", "person_extract_json", "person_extract_pdf"]


def _url(name, area):
    return reverse(name, kwargs={"pk": area.person.pk})


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("persona", "status"), [("alice", 200), ("bob", 200), ("charlie", 404), ("manager", 404)]
)
def test_extract_by_persona(area, login, name, persona, status):
    if persona == "manager":
        user = MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user
    else:
        user = getattr(area, persona)
    assert login(user).get(_url(name, area)).status_code == status


def test_anonymous_is_sent_to_login(area, client):
    for name in NAMES:
        assert client.get(_url(name, area)).status_code == 302


def test_json_holds_everything_about_the_person(area, login):
    RelativeFactory(person=area.person, name="Ulla Åkesson", relation="dotter")
    client = login(area.alice)
    client.post(
        reverse("person_edit", kwargs={"pk": area.person.pk}),
        {
            "first_name": "Märta",
            "last_name": "Åkesson-Lind",
            "personnummer": area.person.personnummer,
            "preferred_language": "svenska",
        },
    )
    login(area.bob).get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    response = login(area.alice).get(_url("person_extract_json", area))
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["format"] == "vom-register-extract/1"
    sections = data["sections"]
    # other apps append their sections after these (EXTRACT_SECTIONS)
    assert list(sections)[:5] == [
        "person",
        "care_team",
        "relatives",
        "change_history",
        "access_log",
    ]
    assert sections["person"]["last_name"] == "Åkesson-Lind"
    assert sections["person"]["personnummer"] == area.person.personnummer
    assert {e["organisation"] for e in sections["care_team"]} == {
        "Hemsjukvården Åby",
        "Hemtjänst Öst AB",
    }
    assert sections["relatives"][0]["name"] == "Ulla Åkesson"
    change = next(c for c in sections["change_history"] if c["action"] == "update")
    assert change["changes"]["last_name"] == ["Åkesson", "Åkesson-Lind"]
    organisations = {row["organisation"] for row in sections["access_log"]}
    assert {"Hemsjukvården Åby", "Hemtjänst Öst AB"} <= organisations
    # who looked and who changed is told by organisation and role, not by employee (CJEU
    # C-579/21); the care team does name the person's own nurse, as the person page does
    assert sections["care_team"][1]["staff_member"] == area.alice.get_full_name()
    text = json.dumps([sections["change_history"], sections["access_log"]], ensure_ascii=False)
    for user in (area.alice, area.bob):
        assert user.username not in text and user.get_full_name() not in text


def test_extract_views_are_logged(area, login):
    client = login(area.alice)
    client.get(_url("person_extract", area))
    client.get(_url("person_extract_json", area))
    client.get(_url("person_extract_pdf", area))
    actions = list(
        AccessLog.objects.filter(person=area.person, user=area.alice)
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [AccessLog.Action.VIEW, AccessLog.Action.EXPORT, AccessLog.Action.PRINT]


def test_other_apps_add_sections_through_the_registry(area, login, monkeypatch):
    def meetings_section(person):
        return extract.ExtractSection("meetings", "Meetings", [{"when": "2026-05-04"}])

    monkeypatch.setattr(extract, "EXTRACT_SECTIONS", [*extract.EXTRACT_SECTIONS, meetings_section])
    data = extract.person_extract(area.person)
    assert data["sections"]["meetings"] == [{"when": "2026-05-04"}]
    page = login(area.alice).get(_url("person_extract", area))
    assert "2026-05-04" in page.content.decode()


def test_pdf_is_a_real_pdf_with_the_persons_data(area, login):
    from pypdf import PdfReader

    RelativeFactory(person=area.person, name="Ulla Åkesson")
    response = login(area.alice).get(_url("person_extract_pdf", area))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "Märta Åkesson" in text
    assert "Ulla Åkesson" in text
    assert "Hemsjukvården Åby" in text


def test_pdf_fetcher_refuses_the_network_and_the_file_system(settings):
    from participants.pdf import RefusedURL, make_url_fetcher, pdf_static_url

    fetcher = make_url_fetcher()
    for url in [
        "http://evil.example/x.png",
        "https://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        f"{settings.SITE_URL}/persons/1/",
        f"{settings.SITE_URL}{settings.STATIC_URL}../../vom/settings.py",
        f"https://other.example{settings.STATIC_URL}css/vom.css",
        f"{settings.SITE_URL}{settings.STATIC_URL}participants/extract-pdf.css",  # not the PDF host
    ]:
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    css = fetcher.fetch(pdf_static_url("participants/extract-pdf.css"))
    assert b"@page" in css.read()
    assert fetcher.fetch("data:text/plain;base64,aGVq").read() == b"hej"


def test_pdf_rendering_never_fetches_foreign_urls(monkeypatch):
    from participants import pdf

    asked = []
    original = pdf.static_file_path

    def spy(url):
        asked.append(url)
        return original(url)

    monkeypatch.setattr(pdf, "static_file_path", spy)
    html = (
        '<link rel="stylesheet" href="http://evil.example/x.css">'
        '<img src="file:///etc/passwd"><img src="http://evil.example/p.png"><p>hej</p>'
    )
    assert pdf.render_pdf(html).startswith(b"%PDF")
    assert set(asked) == {
        "http://evil.example/x.css",
        "file:///etc/passwd",
        "http://evil.example/p.png",
    }
