"""Earlier meetings with their real dates, in Chromium on a tablet (768 px): the nurse
registers one she held on paper, the administrator imports seed 000's eight from the
filled-in template, and the manager's dashboard shows the seed's figures."""

from base64 import b32decode
from pathlib import Path

import pytest

from meetings.models import Meeting
from participants.demo import DEMO_PASSWORD, load_area
from participants.models import Membership, Role

from ..twofactor import token_for_key
from .conftest import WIDTHS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEED_000 = Path(__file__).parent.parent / "data" / "seed_000_held_meetings.csv"


def _second_factor(user):
    page = user.page
    key = page.locator("code").first.inner_text().replace(" ", "")
    page.fill("input[name=token]", token_for_key(b32decode(key).hex()))
    user.submit("main form")
    with page.expect_navigation():
        page.click("text=Jag har sparat koderna, fortsätt")


def _membership(username, role):
    return str(Membership.objects.get(user__username=username, role=role).pk)


def test_the_nurse_registers_a_meeting_held_on_paper(journey):
    area = load_area(persons=12)
    person = area.persons[9]
    nurse = journey("earlier-meeting-nurse", width=768)
    page = nurse.page
    nurse.login("sjukskoterska", DEMO_PASSWORD)
    nurse.goto(f"/persons/{person.pk}/")
    with page.expect_navigation():
        page.click("text=Registrera ett hållet möte")
    nurse.check("register a held meeting", widths=WIDTHS)

    me = _membership("sjukskoterska", Role.NURSE)
    page.select_option("#id_initiator", me)
    page.fill("#id_initiated_on", "2026-06-01")
    page.select_option("#id_raised_by", "relative")
    page.check("input[name=reasons][value=repeated_falls]")
    page.fill("#id_consent_on", "2026-05-20")  # before the initiative: refused
    page.fill("#id_starts_at", "2026-06-10T10:00")
    page.fill("#id_ends_at", "2026-06-10T11:05")
    page.select_option("#id_convener", me)
    for username, role, took_part in (
        ("sjukskoterska", Role.NURSE, "came"),
        ("lakare", Role.PHYSICIAN, "came"),
        ("handlaggare", Role.NEEDS_ASSESSOR, "absent"),
    ):
        page.select_option(f"#id_staff_{_membership(username, role)}_took_part", took_part)
    assessor = _membership("handlaggare", Role.NEEDS_ASSESSOR)
    page.select_option(f"#id_staff_{assessor}_absence_reason", "ill")
    page.fill("#id_decision_0_description", "Läkemedelsgenomgång")
    page.select_option("#id_decision_0_organisation", str(area.home_health_care.pk))
    page.select_option("#id_decision_0_category", "health_care")
    page.select_option("#id_decision_0_responsible", _membership("lakare", Role.PHYSICIAN))
    page.select_option("#id_decision_0_person_answer", "accepts")
    page.select_option("#id_decision_0_status", "implemented")
    page.fill("#id_decision_0_status_date", "2026-06-20")
    nurse.submit("main form.vom-form")
    summary = page.locator(".vom-error-summary")
    assert "Samtycket kan inte komma före initiativet" in summary.inner_text()
    assert not Meeting.objects.exists()
    nurse.check("dates out of order", widths=WIDTHS)

    page.fill("#id_consent_on", "2026-06-03")
    nurse.submit("main form.vom-form")
    meeting = Meeting.objects.get()
    assert page.url.endswith(f"/meetings/{meeting.pk}/"), page.url
    assert "Registrerat i efterhand av Sara Lindqvist" in page.inner_text("main")
    assert meeting.participants.get(user__username="handlaggare").absence_reason == "ill"
    nurse.check("registered meeting", widths=WIDTHS)
    nurse.goto(f"/meetings/{meeting.pk}/?history=1")
    assert "registrerat i efterhand" in page.inner_text("main")
    nurse.check("history of a registered meeting", widths=WIDTHS)
    assert not nurse.console_errors, nurse.console_errors


def test_the_administrator_imports_seed_000_and_the_dashboard_shows_its_figures(journey, tmp_path):
    area = load_area(persons=12)
    hhc = area.home_health_care
    admin = journey("earlier-meetings-admin", width=768)
    page = admin.page
    admin.login("admin.hsv", DEMO_PASSWORD)
    _second_factor(admin)
    with page.expect_navigation():
        page.click("text=Tidigare möten")
    assert page.url.endswith(f"/meetings/import/{hhc.pk}/"), page.url
    admin.check("import page", widths=WIDTHS)

    # A file with mistakes: every error listed by row and column, nothing saved.
    text = SEED_000.read_text(encoding="utf-8")
    bad = tmp_path / "fel.csv"
    bad.write_text(
        text.replace("2026-09-26,orally", "2026-09-31,orally").replace(
            "handlaggare3,needs_assessor", "handlaggare3,physician"
        ),
        encoding="utf-8",
    )
    page.set_input_files("#id_file", str(bad))
    admin.submit("main form.vom-form")
    errors = page.locator("table.vom-import-errors tbody tr")
    assert errors.count() >= 3
    assert "consent_on" in page.inner_text("table.vom-import-errors")
    assert not Meeting.objects.exists()
    admin.check("import errors", widths=WIDTHS)

    page.set_input_files("#id_file", str(SEED_000))
    admin.submit("main form.vom-form")
    assert "8 möten registrerades i efterhand" in page.inner_text("main")
    assert Meeting.objects.filter(registered_at__isnull=False).count() == 8
    admin.check("imported", widths=WIDTHS)
    assert not admin.console_errors, admin.console_errors

    from reports import tallies

    tallies.fold()
    manager = journey("earlier-meetings-manager", width=768)
    manager.login("chef.hsv", DEMO_PASSWORD)
    _second_factor(manager)
    manager.goto("/reports/?date_from=2026-09-01&date_to=2026-11-30")
    main = manager.page.inner_text("main")
    assert "3 824" in main or "3\xa0824" in main, main[:2000]
    assert "34 %" in main or "34\xa0%" in main
    manager.check("dashboard with seed 000", widths=WIDTHS)
    assert not manager.console_errors, manager.console_errors
