import os

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_security_headers_on_pages(area, login):
    response = login(area.alice).get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


def test_no_inline_script_or_style_in_pages(area, login):
    body = login(area.alice).get(reverse("person_detail", kwargs={"pk": area.person.pk})).content
    text = body.decode()
    assert "<script>" not in text and " style=" not in text and "<style" not in text


def test_static_files_are_served_by_the_app(client):
    from django.templatetags.static import static

    response = client.get(static("vendor/bootstrap/bootstrap.min.css"))
    assert response.status_code == 200


def test_healthz(client):
    assert client.get(reverse("healthz")).content == b"ok"


def test_idle_session_times_out(area, client, settings, password):
    import time

    assert (
        client.post(reverse("login"), {"username": "alice", "password": password}).status_code
        == 302
    )
    session = client.session
    session["last_seen"] = int(time.time()) - settings.SESSION_IDLE_SECONDS - 5
    session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_swedish_catalogue_is_complete():
    from pathlib import Path

    import polib
    from django.conf import settings

    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale/sv/LC_MESSAGES/django.po"))
    missing = [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]
    assert missing == []


def test_every_string_in_the_code_is_in_the_swedish_catalogue(tmp_path, settings):
    """The catalogue holds every string the code and templates mark for translation: a string
    added without `make messages` would show in English on a Swedish page."""
    import shutil
    from pathlib import Path

    import polib
    from django.core.management import call_command

    if shutil.which("xgettext") is None:
        from ..conftest import unavailable

        unavailable("GNU gettext (xgettext) is needed to read the strings out of the code")
    base = Path(settings.BASE_DIR)
    target = tmp_path / "locale" / "sv" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(base / "locale/sv/LC_MESSAGES/django.po", target / "django.po")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    # makemessages updates the catalogue of the nearest "locale" folder it finds (the working
    # directory's comes before LOCALE_PATHS), so run it in a folder of links to the code
    # without the real catalogue: it then updates the copy, and the real one is only read.
    source = tmp_path / "source"
    source.mkdir()
    skip = {"locale", ".venv", "staticfiles", "test-artifacts", "node_modules", "var", ".git"}
    for entry in base.iterdir():
        if entry.name not in skip:
            (source / entry.name).symlink_to(entry)
    cwd = Path.cwd()
    try:
        os.chdir(source)
        call_command(
            "makemessages", locale=["sv"], no_obsolete=True, no_location=True, symlinks=True,
            ignore_patterns=["*/node_modules/*"], verbosity=0,
        )  # fmt: skip
    finally:
        os.chdir(cwd)
    po = polib.pofile(str(target / "django.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == [], f"run `make messages` and translate: {missing}"


def test_home_query_count_does_not_grow(area, login, django_assert_max_num_queries):
    from ..factories import CareTeamEntryFactory

    client = login(area.alice)
    for _ in range(30):
        CareTeamEntryFactory(organisation=area.health_care)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("home") + "?all=1")
    assert len(response.context["page"].object_list) == 25


def test_person_page_query_count_does_not_grow(area, login, django_assert_max_num_queries):
    from participants.models import Role

    from ..factories import CareTeamEntryFactory, MembershipFactory, RelativeFactory

    for _ in range(15):
        member = MembershipFactory(organisation=area.home_help, role=Role.CONTACT_PERSON).user
        CareTeamEntryFactory(
            person=area.person, organisation=area.home_help, member=member, role=Role.CONTACT_PERSON
        )
        RelativeFactory(person=area.person)
    client = login(area.alice)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response.status_code == 200


def test_swedish_by_default_even_for_an_english_browser(client):
    from django.urls import reverse

    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "Logga in" in response.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_an_expired_form_says_so_in_the_products_own_words():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "Sidan hade gått ut" in text and "sparades inte" in text


def test_a_page_that_does_not_exist_is_the_products_own_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Vi hittade inte sidan" in response.content.decode()
