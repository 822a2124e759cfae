"""One meeting from initiative to held, in real Chromium, as the demo staff would do it.

The demo nurse proposes a meeting from the person's page, records consent, convenes, agrees a
time and invites the care team in one form (fewer than 10 page loads from "Propose a
meeting" to the invitations sent, with two refused submits on the way). The needs assessor
and the home-help coordinator log in and enter their own organisation's decisions. The nurse
takes notes (autosave, also through a lost connection) and marks the meeting held. Every
page visited passes axe-core without serious or critical violations; every step leaves a
screenshot in test-artifacts/lifecycle/.
"""

import datetime as dt

import pytest
from django.utils import timezone

from meetings.models import AgendaNote, Decision, DecisionConfirmation, Meeting
from participants.demo import DEMO_PASSWORD, load_area

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

MAX_NURSE_PAGE_LOADS = 10


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_meeting_lifecycle_in_the_browser(journey):
    area = load_area(persons=6)
    person = area.persons[0]

    # --- the nurse: from "Propose a meeting" to "invitations ready" ---
    nurse = journey("lifecycle")
    page = nurse.page
    nurse.login("sjukskoterska", DEMO_PASSWORD)
    nurse.check("nurse home")
    with page.expect_navigation():
        page.click(f"main a[href='/persons/{person.pk}/']")
    nurse.check("person page")

    nurse.navigations = 0
    with page.expect_navigation():
        page.click(f"a[href='/meetings/new/{person.pk}/']")
    nurse.check("initiative form")
    # an empty proposal is refused next to the reasons, keeping the page usable
    nurse.submit("main form.vom-form")
    assert page.locator("#reasons-error").is_visible()
    nurse.check("initiative form with errors")
    page.check("input[name=reasons][value=not_eating]")
    page.check("input[name=reasons][value=repeated_falls]")
    page.fill(
        "textarea[name=reason_text]", "Har gått ner sex kilo sedan i våras och fallit två gånger."
    )
    page.check("input[name=raised_by][value=relative]")
    page.fill("input[name=raised_by_detail]", "dottern")
    page.check("input[name=urgency][value=soon]")
    page.check("input[name=kind][value=full]")
    nurse.submit("main form.vom-form")
    meeting = Meeting.objects.get(person=person)
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    nurse.check("meeting initiated")

    with page.expect_navigation():
        page.click(f"a[href='/meetings/{meeting.pk}/consent/']")
    nurse.check("consent form")
    page.check("input[name=wants_meeting][value=yes]")
    page.locator("input[name=relatives]").first.check()
    page.check("input[name=share_information][value=yes]")
    page.check("input[name=how][value=orally]")
    nurse.submit("main form.vom-form")
    nurse.check("consent recorded")

    # "I will convene", then one form for whom and when
    nurse.submit(f"form[action='/meetings/{meeting.pk}/convening/']")
    assert page.url.endswith(f"/meetings/{meeting.pk}/invitations/")
    nurse.check("convening form")
    proposed = page.locator("#invite-form input[name^=entry_]")
    assert proposed.count() == 4  # physician, needs assessor, coordinator, contact person
    assert all(proposed.nth(i).is_checked() for i in range(proposed.count()))
    # a time that does not exist (clocks go forward) is refused next to the field
    page.fill("input[name=option_1]", "2031-03-30T02:30")
    nurse.submit("#invite-form")
    assert page.locator("#id_option_1.is-invalid").count() == 1
    assert "02:30" in page.locator(".invalid-feedback").first.inner_text()
    nurse.check("time refused at the daylight-saving change")
    assert Meeting.objects.get(pk=meeting.pk).participants.filter(kind="staff").count() == 1
    starts = (timezone.localtime() + dt.timedelta(days=5)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.fill("input[name=option_1]", local(starts))
    nurse.submit("#invite-form")
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    assert nurse.navigations < MAX_NURSE_PAGE_LOADS, nurse.navigations
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.SCHEDULED
    nurse.check("meeting scheduled")

    # --- the needs assessor and the home-help coordinator enter their own decisions ---
    decisions = {
        "handlaggare": ("extended_home_help", "Kvällsbesök kl. 19 med kvällsmat och medicin."),
        "samordnare.kommunal": ("adjusted_home_help", "Samma personal vid dusch på tisdagar."),
    }
    for username, (category, text) in decisions.items():
        other = journey(f"lifecycle-{username}")
        p = other.page
        other.login(username, DEMO_PASSWORD)
        other.check("home with worklist")
        with p.expect_navigation():
            p.click(f"main a[href='/meetings/{meeting.pk}/']")
        other.check("meeting page")
        with p.expect_navigation():
            p.click(f"a[href='/meetings/{meeting.pk}/respond/']")
        p.check("input[name=response][value=accepted]")
        p.check("input[name=mode][value=in_person]")
        other.submit("main form.vom-form")
        other.check("invitation accepted")
        other.goto(f"/meetings/{meeting.pk}/day/")
        other.check("meeting day")
        form = "#decision-form"
        p.select_option(f"{form} select[name=category]", category)
        p.fill(f"{form} textarea[name=description]", text)
        p.fill(
            f"{form} input[name=due_date]",
            (timezone.localdate() + dt.timedelta(days=14)).isoformat(),
        )
        p.check(f"{form} input[name=person_answer][value=accepts]")
        other.submit(form)
        assert p.locator(f"text={text}").count() >= 1
        other.check("decision entered")
        other.submit("form[action$='/decisions/confirm/']")
        other.check("decisions confirmed")
    orgs = {d.organisation.kind for d in Decision.objects.filter(meeting=meeting)}
    assert orgs == {"needs_assessment", "home_help"}
    assert DecisionConfirmation.objects.filter(meeting=meeting).count() == 2
    for decision in Decision.objects.filter(meeting=meeting).select_related("created_by"):
        assert decision.created_by.memberships.filter(organisation=decision.organisation).exists()

    # --- the nurse at the meeting: notes autosave, also through a lost connection ---
    nurse.goto(f"/meetings/{meeting.pk}/day/")
    nurse.check("nurse meeting day")
    note = page.locator("#item-4 textarea")
    status = page.locator("#item-4 .vom-save-status")
    note.fill("Viktnedgång 6 kg; lång nattfasta.")
    page.wait_for_selector("#item-4 .vom-save-status.is-saved", timeout=10000)
    assert AgendaNote.objects.get(meeting=meeting, item=4).text.startswith("Viktnedgång")
    nurse.context.set_offline(True)
    note.fill("Viktnedgång 6 kg; lång nattfasta. Dosetten fungerar inte.")
    page.wait_for_selector("#item-4 .vom-save-status.is-failed", timeout=10000)
    assert status.inner_text().strip()
    nurse.check("note not saved while offline")
    nurse.context.set_offline(False)
    page.wait_for_selector("#item-4 .vom-save-status.is-saved", timeout=15000)
    assert "Dosetten" in AgendaNote.objects.get(meeting=meeting, item=4).text
    nurse.check("note saved after reconnecting")
    page.set_viewport_size({"width": 390, "height": 844})
    nurse.check("meeting day on a phone")
    page.set_viewport_size({"width": 1024, "height": 900})

    # --- held (time has passed: it was proposed weeks before) ---
    Meeting.objects.filter(pk=meeting.pk).update(
        initiated_at=timezone.now() - dt.timedelta(days=21)
    )
    nurse.goto(f"/meetings/{meeting.pk}/held/")
    start = timezone.now() - dt.timedelta(hours=2)
    page.fill("input[name=actual_start]", local(start))
    page.fill("input[name=actual_end]", local(start + dt.timedelta(minutes=65)))
    nurse.check("mark held")
    nurse.submit("main form.vom-form")
    assert page.url.endswith(f"/meetings/{meeting.pk}/minutes/")
    nurse.check("minutes per participant")
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.HELD
    nurse.goto(f"/meetings/{meeting.pk}/")
    nurse.check("meeting held")
    assert not nurse.console_errors, nurse.console_errors
