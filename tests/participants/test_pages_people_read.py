"""The pages as their readers need them: a manager starts on the reports, the care team
sees the whole personal identity number where it needs it, Swedish dates and tap-to-call
numbers, and tables that can be reached by keyboard."""

import re

import pytest
from django.urls import reverse

from meetings import relatives as rel
from meetings import services
from meetings.models import Meeting
from participants.models import AccessLog, Role

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db
S = Meeting.State


# --- 13. A manager's start page is their reports ---


def test_a_manager_lands_on_the_reports_not_an_empty_list(area, login):
    manager = MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user
    response = login(manager).get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("reports:dashboard")
    html = response.content.decode()
    # No links to pages that can never show them anything.
    assert f'href="{reverse("meeting_list")}"' not in html
    assert "Mina personer" not in html


def test_an_admin_lands_on_the_staff_list(area, login):
    admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    response = login(admin).get(reverse("home"))
    assert response["Location"] == reverse("staff_list", kwargs={"org_pk": area.health_care.pk})


# --- 15. The whole personal identity number for the care team, logged; masked in lists ---


def test_the_care_team_sees_the_whole_number_on_the_person_page(area, login):
    person = area.person
    digits = person.personnummer
    whole = f"{digits[:8]}-{digits[8:]}"
    c = login(area.alice)
    listed = c.get(reverse("home"), {"q": digits[-4:]}).content.decode()
    assert person.personnummer_masked in listed and whole not in listed
    page = c.get(reverse("person_detail", kwargs={"pk": person.pk})).content.decode()
    assert whole in page
    assert AccessLog.objects.filter(
        user=area.alice, person=person, action="view", object_type="participants.person"
    ).exists()


def test_relatives_see_the_masked_number(marea, meeting_in, client):
    meeting = meeting_in(S.SCHEDULED)
    client.force_login(rel.relative_user_ensure(marea.relative))
    html = client.get(reverse("relatives_meeting", args=[meeting.pk])).content.decode()
    assert marea.person.personnummer[8:] not in html


# --- 16. Swedish dates, tap-to-call numbers ---


def test_swedish_dates_in_the_summary_and_its_pdf(marea, meeting_in, login):
    from meetings.summary import render_summary, summary_context

    meeting = meeting_in(S.HELD)
    services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök", responsible=marea.coordinator,
        due_date=meeting.actual_start.date().replace(year=meeting.actual_start.year + 1, month=1,
                                                      day=10),
        person_answer="accepts",
    )  # fmt: skip
    html = login(marea.nurse).get(reverse("summary_page", args=[meeting.pk])).content.decode()
    assert "10 januari" in html and "10 jan " not in html
    context = summary_context(meeting, language="sv", audience="pdf")
    assert context["decision_groups"]
    pdf = render_summary(meeting, "sv", version=1).pdf
    from ..meetings.test_summary_pdf import pdf_text

    assert "10 januari" in pdf_text(pdf)


def test_phone_numbers_on_the_relatives_pages_are_tap_to_call(marea, meeting_in, client):
    meeting = meeting_in(S.HELD)
    client.force_login(rel.relative_user_ensure(marea.relative))
    for page in (
        reverse("relatives_home"),
        reverse("relatives_meeting", args=[meeting.pk]),
    ):
        html = client.get(page).content.decode()
        main = html.split("<main", 1)[1]
        text = re.sub(r"<a [^>]*href=\"tel:[^\"]*\"[^>]*>.*?</a>", "", main, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        loose = re.findall(r"\b0\d{1,3}-\d{2,3} ?\d{2,3} ?\d{2}\b", text)
        assert not loose, (page, loose)
        assert 'href="tel:' in main


# --- 17. Scrolling tables can be reached by keyboard ---


@pytest.mark.parametrize(
    "template",
    [
        "participants/templates/participants/includes/extract_sections.html",
        "participants/templates/participants/access_review.html",
        "participants/templates/participants/access_log.html",
        "participants/templates/participants/staff_list.html",
        "participants/templates/participants/person_detail.html",
        "followup/templates/followup/meeting.html",
    ],
)
def test_every_scrolling_table_is_a_focusable_labelled_region(template):
    from django.conf import settings

    source = (settings.BASE_DIR / template).read_text()
    for wrapper in re.findall(r'<div class="table-responsive"[^>]*>', source):
        assert 'tabindex="0"' in wrapper and 'role="region"' in wrapper, (template, wrapper)
        assert "aria-label" in wrapper, (template, wrapper)


def test_a_form_with_errors_puts_its_summary_first_to_take_focus(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    response = login(marea.nurse).post(
        reverse("meeting_cancel", kwargs={"pk": meeting.pk}), {"reason": " "}
    )
    html = response.content.decode()
    summary = html.index("vom-error-summary")
    assert html.index("<form", summary) > summary  # before the form
    assert 'role="alert"' in html[summary - 200 : summary + 200]
