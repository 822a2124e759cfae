"""The five users' journeys as they live them, in real Chromium against the live app, with
the real SMTP server on loopback: the nurse who convenes, the needs assessor who proposes a
meeting herself, the home-help coordinator of another provider, a relative on a phone and a
manager. Each asserts what the person sees and receives: the page text, the emails (who got
what, exactly once), the nurse's page loads, no sideways scroll at 768 and 390 px and no
serious or critical axe violation on any page. Screenshots go to test-artifacts/<journey>/.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from meetings import relatives, services
from meetings.models import Decision, Meeting, OutboxMessage, Participant, TimeVote
from participants.demo import DEMO_PASSWORD, load_area
from participants.models import Role

from ..notify_support import subject, wait_until
from .conftest import WIDTHS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# From the person's page to "invitations sent" (issue 16: at most 6; the journey needs 3).
MAX_NURSE_PAGE_LOADS = 6


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def in_days(days: int, hour: int = 10) -> dt.datetime:
    return (timezone.localtime() + dt.timedelta(days=days)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )


def member(person, role):
    return person.care_team.current().get(role=role).member


def mailbox(inbox, address: str, *, kind: str = "") -> list:
    return [m for m in inbox.to(address) if kind in subject(m)]


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message) -> list[str]:
    return re.findall(r"https?://\S+", body(message))


def as_if_held_now(meeting: Meeting) -> Meeting:
    """Time passes: the meeting's time has come (it was proposed three weeks ago)."""
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=now - dt.timedelta(minutes=70), initiated_at=now - dt.timedelta(days=21)
    )
    return Meeting.objects.get(pk=meeting.pk)


def held_an_hour_ago(meeting: Meeting, *, by) -> Meeting:
    """The meeting's time came and it was held (what the nurse does in her journey)."""
    meeting = as_if_held_now(meeting)
    now = timezone.now()
    services.meeting_mark_held(
        actor=by, meeting=meeting, actual_start=now - dt.timedelta(minutes=60), actual_end=now
    )
    return Meeting.objects.get(pk=meeting.pk)


def propose_and_convene(person, *, nurse, relatives, times, invite_roles):
    """What the nurse did earlier through the pages (tested in the nurse's journey)."""
    meeting = services.meeting_initiate(
        actor=nurse, person=person, organisation=nurse.memberships.first().organisation,
        reasons=["not_eating", "anxious_alarms"], reason_text="Larmar ofta på kvällarna.",
        raised_by="relative", urgency="soon", kind="full",
        consent=services.ConsentAnswer(
            wants_meeting=True, share_information=True, relatives=tuple(relatives),
            how="orally", given_at=timezone.now(),
        ),
    )  # fmt: skip
    invitees = [
        services.Invitee(e.member, e.organisation, e.role)
        for e in services.proposed_invitees(meeting, exclude_user=nurse)
        if e.role in invite_roles
    ]
    services.meeting_convene(actor=nurse, meeting=meeting, invitees=invitees, times=times)
    return Meeting.objects.get(pk=meeting.pk)


# --- the nurse: from the search to invitations sent, the meeting, the minutes, closing ---


def test_the_nurse_convenes_holds_and_closes_the_meeting(journey, mail):
    area = load_area(persons=6)
    person = area.persons[0]
    physician, assessor = member(person, Role.PHYSICIAN), member(person, Role.NEEDS_ASSESSOR)
    coordinator = member(person, Role.HOME_HELP_COORDINATOR)
    contact = member(person, Role.CONTACT_PERSON)
    relative = person.relatives.filter(wants_involved=True).exclude(relation="granne").first()

    nurse = journey("nurse", width=768)
    page = nurse.page
    nurse.login("sjukskoterska", DEMO_PASSWORD)
    nurse.check("start page", widths=WIDTHS)
    # She searches by the last four digits; the list shows them masked.
    page.fill("input[name=q]", person.personnummer[-4:])
    nurse.submit("form[role=search]")
    assert person.personnummer_masked in page.inner_text("main table")
    nurse.check("search result", widths=WIDTHS)
    with page.expect_navigation():
        page.click(f"main a[href='/persons/{person.pk}/']")
    whole = f"{person.personnummer[:8]}-{person.personnummer[8:]}"
    assert whole in page.inner_text("main")  # the care team sees it whole
    nurse.check("person page", widths=WIDTHS)

    nurse.navigations = 0
    with page.expect_navigation():
        page.click(f"a[href='/meetings/new/{person.pk}/']")
    page.check("input[name=reasons][value=not_eating]")
    page.fill("textarea[name=reason_text]", "Har gått ner sex kilo sedan i våras.")
    page.check("input[name=raised_by][value=relative]")
    page.check("input[name=urgency][value=soon]")
    page.check("input[name=kind][value=full]")
    # She asked the person herself: the consent goes with the proposal.
    assert page.locator(".vom-consent-fields").is_hidden()
    page.check("input[name=asked][value=now]")
    page.check("input[name=consent-wants_meeting][value=yes]")
    page.check(f"input[name=consent-relatives][value='{relative.pk}']")
    page.check("input[name=consent-share_information][value=yes]")
    page.check("input[name=consent-how][value=orally]")
    nurse.check("proposal with consent", widths=WIDTHS)
    nurse.submit("main form.vom-form")
    meeting = Meeting.objects.get(person=person)
    assert page.url.endswith(f"/meetings/{meeting.pk}/invitations/")
    # What she sees ticked is what gets invited: the care team's four, ticked.
    proposed = page.locator("#invite-form input[name^=entry_]")
    assert proposed.count() == 4 and all(proposed.nth(i).is_checked() for i in range(4))
    physician_invite = page.locator(".vom-invite-row", has_text=physician.get_full_name())
    physician_invite.locator("select").select_option("video")
    page.fill("input[name=option_1]", local(in_days(5)))
    nurse.check("convening form", widths=WIDTHS)
    nurse.submit("#invite-form")
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    assert nurse.navigations <= MAX_NURSE_PAGE_LOADS, nurse.navigations
    said = page.inner_text("main .vom-flash")
    for who in (physician, assessor, coordinator, contact):
        assert who.get_full_name() in said
    assert relative.name in said
    nurse.check("invitations sent", widths=WIDTHS)
    print(f"nurse page loads from the person page to invitations sent: {nurse.navigations}")

    # Each invitee got exactly one invitation, with the time and a calendar file.
    everyone = [physician.email, assessor.email, coordinator.email, contact.email, relative.email]
    assert wait_until(lambda: len(mail.messages) >= len(everyone), 15)
    for address in everyone:
        (invitation,) = mail.to(address)
        assert "Inbjudan" in subject(invitation)
        assert "Tid:" in body(invitation) or "När:" in body(invitation)
    assert len(mail.messages) == len(everyone)

    # --- the meeting itself ---
    meeting = as_if_held_now(meeting)
    nurse.goto(f"/meetings/{meeting.pk}/day/")
    note = page.locator("#item-4 textarea")
    note.fill("Viktnedgång 6 kg; lång nattfasta.")
    page.wait_for_selector("#item-4 .vom-save-status.is-saved", timeout=10000)
    # A text over the limit says so next to the field and is not sent (nothing retried).
    posts = []
    page.on("request", lambda r: posts.append(r.url) if "/notes/" in r.url else None)
    note.fill("x" * 20_001)
    page.wait_for_selector("#item-4 .vom-limit.is-over", timeout=5000)
    page.wait_for_timeout(2500)
    assert not posts
    assert "20" in page.inner_text("#item-4 .vom-limit")
    note.fill("Viktnedgång 6 kg; lång nattfasta. Dosetten fungerar inte.")
    page.wait_for_selector("#item-4 .vom-save-status.is-saved", timeout=10000)
    nurse.check("meeting day", widths=WIDTHS)
    nurse.goto(f"/meetings/{meeting.pk}/held/")
    start = timezone.now() - dt.timedelta(minutes=65)
    page.fill("input[name=actual_start]", local(start))
    page.fill("input[name=actual_end]", local(start + dt.timedelta(minutes=60)))
    nurse.submit("main form.vom-form")
    assert page.url.endswith(f"/meetings/{meeting.pk}/minutes/")
    # One date everywhere: the header shows the actual start now.
    head = page.inner_text(".vom-meeting-head")
    assert timezone.localtime(start).strftime("%H:%M") in head
    # Everyone's minutes in one form; the physician took part by video: no travel field.
    physician_row = Participant.objects.get(meeting=meeting, user=physician)
    assert page.locator(f"input[name='p{physician_row.pk}-travel']").count() == 0
    assert page.locator("#minutes-form input[name$='-travel']").count() == 4
    nurse.check("minutes", widths=WIDTHS)
    nurse.submit("#minutes-form")
    physician_row.refresh_from_db()
    assert physician_row.travel_minutes == 0
    nurse.submit(f"form[action='/meetings/{meeting.pk}/close/']")
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.CLOSED
    nurse.check("meeting closed", widths=WIDTHS)
    assert not nurse.console_errors, nurse.console_errors


# --- the needs assessor: she proposes, a nurse takes it on, she marks the times ---


def test_the_assessor_proposes_and_a_nurse_takes_it_on(journey, mail):
    area = load_area(persons=6)
    person = area.persons[5]  # handlaggare's caseload
    hhc = area.home_health_care
    assessor = journey("assessor", width=768)
    page = assessor.page
    assessor.login("handlaggare", DEMO_PASSWORD)
    assessor.goto(f"/meetings/new/{person.pk}/")
    # An empty proposal: the error summary comes first and takes the focus.
    assessor.submit("main form.vom-form")
    assert page.evaluate("document.activeElement.classList.contains('vom-error-summary')")
    assessor.check("proposal refused", widths=WIDTHS)
    page.check("input[name=reasons][value=anxious_alarms]")
    page.check("input[name=raised_by][value=home_help]")
    page.check("input[name=urgency][value=soon]")
    page.check("input[name=kind][value=full]")
    page.check("input[name=asked][value=now]")
    page.check("input[name=consent-wants_meeting][value=yes]")
    page.check("input[name=consent-share_information][value=yes]")
    page.check("input[name=consent-how][value=orally]")
    assessor.submit("main form.vom-form")
    meeting = Meeting.objects.get(person=person)
    assert page.url.endswith(f"/meetings/{meeting.pk}/")
    assert hhc.name in page.inner_text("main .vom-flash")
    assessor.check("proposed, waiting for a nurse", widths=WIDTHS)
    # One message, to the home health care's mailbox, naming no one.
    assert wait_until(lambda: mailbox(mail, hhc.email), 10)
    (asked,) = mail.to(hhc.email)
    assert person.last_name not in subject(asked) + body(asked)
    assert f"/meetings/{meeting.pk}/" in body(asked)

    # Every nurse of the home health care sees it waiting; one takes it on.
    other_nurse = journey("assessor-nurse3", width=768)
    other_nurse.login("sjukskoterska3", DEMO_PASSWORD)
    assert person.full_name in other_nurse.page.inner_text(".vom-worklist")
    taker = journey("assessor-nurse2", width=768)
    taker.login("sjukskoterska2", DEMO_PASSWORD)
    item = taker.page.locator(".vom-worklist li", has_text=person.full_name)
    assert "Väntar på någon som kallar" in item.inner_text()
    taker.check("worklist with a meeting waiting", widths=WIDTHS)
    with taker.page.expect_navigation():
        item.locator("button", has_text="Jag kallar").click()
    assert taker.page.url.endswith(f"/meetings/{meeting.pk}/invitations/")
    taker.page.fill("input[name=option_1]", local(in_days(6)))
    taker.page.fill("input[name=option_2]", local(in_days(7, 13)))
    taker.submit("#invite-form")
    taker.check("proposed times sent", widths=WIDTHS)
    other_nurse.goto("/")
    assert person.full_name not in other_nurse.page.inner_text("main")  # taken on: gone

    # The assessor marks which proposed time suits her, from the link in the email.
    assessor_user = member(person, Role.NEEDS_ASSESSOR)
    assert wait_until(lambda: mailbox(mail, assessor_user.email, kind="Inbjudan"), 10)
    (invitation,) = mail.to(assessor_user.email)
    assert "vilka av de föreslagna tiderna" in body(invitation)
    reply = next(link for link in links_in(invitation) if "/r/" in link)
    stranger = journey("assessor-reply-link", width=390)
    stranger.page.goto(reply)
    times = stranger.page.locator("input[name^=suits_]")
    assert times.count() == 2
    times.nth(1).check()
    stranger.check("reply page with the proposed times", widths=WIDTHS)
    stranger.submit("main form")
    participant = Participant.objects.get(meeting=meeting, user=assessor_user)
    votes = dict(TimeVote.objects.filter(participant=participant).values_list("option", "suits"))
    assert sorted(votes.values()) == [False, True]

    # The nurse fixes the time; the assessor enters her decision on the meeting day.
    taker.goto(f"/meetings/{meeting.pk}/invitations/")
    taker.page.locator("#schedule-form input[name=option]").nth(1).check()  # suits her
    taker.submit("#schedule-form")
    assert Meeting.objects.get(pk=meeting.pk).state == Meeting.State.SCHEDULED
    meeting = as_if_held_now(Meeting.objects.get(pk=meeting.pk))
    assessor.goto(f"/meetings/{meeting.pk}/day/")
    form = "#decision-form"
    page.select_option(f"{form} select[name=category]", "extended_home_help")
    page.fill(f"{form} textarea[name=description]", "Kvällsbesök kl. 19 med kvällsmat.")
    page.fill(
        f"{form} input[name=due_date]", (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    )
    page.check(f"{form} input[name=person_answer][value=accepts]")
    assessor.submit(form)
    assert "mötesdagen eller senare" in page.inner_text("main")  # next to the field
    assessor.check("due date refused", widths=WIDTHS)
    page.fill("input[name=due_date]", (timezone.localdate() + dt.timedelta(days=14)).isoformat())
    assessor.submit("main form.vom-form")
    assert Decision.objects.filter(meeting=meeting, organisation=area.assessment).count() == 1
    assert not assessor.console_errors, assessor.console_errors


# --- the home-help coordinator of another provider ---


def test_the_coordinator_of_another_provider_keeps_her_own_after_withdrawal(journey, mail):
    area = load_area(persons=6)
    person = area.persons[1]  # served by Omsorgshuset (a private provider)
    nurse_user = member(person, Role.NURSE)
    coordinator_user = member(person, Role.HOME_HELP_COORDINATOR)
    relative = person.relatives.filter(wants_involved=True).exclude(relation="granne").first()
    meeting = propose_and_convene(
        person, nurse=nurse_user, relatives=[relative], times=[in_days(4)],
        invite_roles={Role.PHYSICIAN, Role.NEEDS_ASSESSOR, Role.HOME_HELP_COORDINATOR},
    )  # fmt: skip
    assert wait_until(lambda: mailbox(mail, coordinator_user.email), 10)
    (invitation,) = mail.to(coordinator_user.email)
    accept = next(link for link in links_in(invitation) if "/r/" in link)

    coordinator = journey("coordinator", width=768)
    page = coordinator.page
    page.goto(accept)
    assert page.locator("input[name^=suits_]").count() == 0  # the time is fixed
    coordinator.check("reply page", widths=WIDTHS)
    coordinator.submit("main form")
    coordinator.login("samordnare.omsorgshuset", DEMO_PASSWORD)
    coordinator.goto(f"/meetings/{meeting.pk}/")
    # She may record that the person withdraws consent, not change what the nurse recorded.
    assert page.locator(f"a[href='/meetings/{meeting.pk}/consent/']").count() == 0
    assert page.locator(f"a[href='/meetings/{meeting.pk}/consent/withdraw/']").count() == 1
    coordinator.check("meeting page", widths=WIDTHS)

    # The meeting is held; each organisation enters its decision; it is closed.
    meeting = held_an_hour_ago(meeting, by=nurse_user)
    coordinator.goto(f"/meetings/{meeting.pk}/day/")
    form = "#decision-form"
    page.select_option(f"{form} select[name=category]", "adjusted_home_help")
    page.fill(f"{form} textarea[name=description]", "Samma personal vid dusch på tisdagar.")
    page.fill(
        f"{form} input[name=due_date]", (timezone.localdate() + dt.timedelta(days=14)).isoformat()
    )
    page.check(f"{form} input[name=person_answer][value=accepts]")
    coordinator.submit(form)
    services.decision_save(
        actor=nurse_user, meeting=meeting, organisation=nurse_user.memberships.first().organisation,
        category="health_care", description="Dosett via apoteket.", responsible=nurse_user,
        due_date=timezone.localdate() + dt.timedelta(days=7), person_answer="accepts",
    )  # fmt: skip
    services.agenda_note_save(
        actor=nurse_user, meeting=meeting, item=3, text="Larmar fyra gånger per kväll.",
        base_revision=0,
    )  # fmt: skip
    services.meeting_close(actor=nurse_user, meeting=meeting)
    sent_before = len(mail.messages)
    pending = OutboxMessage.objects.filter(meeting=meeting, status="pending")
    assert pending.filter(kind__startswith="followup").exists()

    # The person tells her she withdraws consent: she records it, after confirming.
    coordinator.goto(f"/meetings/{meeting.pk}/consent/withdraw/")
    sentence = page.inner_text("main .lead-sm")
    assert "Mötet förblir som det är" in sentence and relative.name in sentence
    coordinator.check("withdrawal to confirm", widths=WIDTHS)
    page.check("input[name=confirm]")
    coordinator.submit("main form.vom-form")
    meeting.refresh_from_db()
    assert meeting.state == Meeting.State.CLOSED and not meeting.shared
    assert not pending.exists()  # nothing waiting goes out
    text = page.inner_text("main")
    assert "Samma personal vid dusch" in text and "Dosett via apoteket" not in text
    coordinator.check("after withdrawal: her own parts", widths=WIDTHS)
    coordinator.goto(f"/meetings/{meeting.pk}/day/")
    assert "Larmar fyra gånger" not in page.inner_text("main")
    coordinator.goto(f"/followup/meetings/{meeting.pk}/")
    assert "Samma personal vid dusch" in page.inner_text("main")
    coordinator.check("her follow-up", widths=WIDTHS)
    assert len(mail.messages) == sent_before  # no one was sent anything more
    assert not coordinator.console_errors, coordinator.console_errors


# --- a relative, on a phone ---


def test_the_relative_reads_the_summary_and_loses_access_when_left_out(journey, mail):
    area = load_area(persons=6)
    person = area.persons[0]
    nurse_user = member(person, Role.NURSE)
    relative = person.relatives.filter(wants_involved=True).exclude(relation="granne").first()
    meeting = propose_and_convene(
        person, nurse=nurse_user, relatives=[relative], times=[in_days(3)],
        invite_roles={Role.PHYSICIAN, Role.HOME_HELP_COORDINATOR},
    )  # fmt: skip
    meeting = held_an_hour_ago(meeting, by=nurse_user)
    relatives.relative_signin_send(
        actor=nurse_user, meeting=Meeting.objects.get(pk=meeting.pk), relative=relative
    )
    assert wait_until(lambda: mailbox(mail, relative.email, kind="inloggning"), 10)
    (signin,) = [m for m in mail.to(relative.email) if "inloggning" in subject(m).lower()]
    link = next(link for link in links_in(signin) if "sesame=" in link)

    phone = journey("relative", width=390, height=844)
    page = phone.page
    page.goto(link)
    if page.locator("main form button[type=submit]").count():
        phone.submit("main form")  # the page asks before it signs in
    assert person.first_name in page.inner_text("main")
    # Every phone number is a link to call.
    numbers = page.locator("main a[href^='tel:']")
    assert numbers.count() >= 2
    phone.check("relative start page", widths=(390, 768))
    with page.expect_navigation():
        page.locator(f"main a[href*='/{meeting.pk}/']").first.click()
    text = page.inner_text("main")
    assert re.search(
        r"\d{1,2} (januari|februari|mars|april|maj|juni|juli|augusti|september|"
        r"oktober|november|december) \d{4}",
        text,
    )
    phone.check("relative meeting page", widths=(390, 768))
    meeting_url = page.url

    # The person leaves her out of the consent: her access ends at once.
    services.consent_record(
        actor=nurse_user, meeting=Meeting.objects.get(pk=meeting.pk), wants_meeting=True,
        share_information=True, relatives=[], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    response = page.goto(meeting_url)
    assert response.status == 404
    phone.goto("/anhorig/")
    assert person.personnummer[-4:] not in page.inner_text("main")
    phone.check("relative after being left out", widths=(390, 768))
    assert not phone.console_errors, phone.console_errors


# --- a manager ---


def test_the_manager_starts_on_the_reports(journey, mail):
    from ..twofactor import token_for_key

    load_area(persons=6)
    manager = journey("manager", width=768)
    page = manager.page
    manager.login("chef.hsv", DEMO_PASSWORD)
    # The second factor first (an authenticator app holding the key shown).
    assert "/accounts/two-factor/setup/" in page.url
    key = page.locator("code").first.inner_text().replace(" ", "")
    from base64 import b32decode

    hex_key = b32decode(key).hex()
    page.fill("input[name=token]", token_for_key(hex_key))
    manager.submit("main form")
    # Ten backup codes for a lost phone, shown once; then on to her start page.
    assert page.locator("ol.backup-codes li").count() == 10
    manager.check("backup codes", widths=WIDTHS)
    with page.expect_navigation():
        page.click("text=Jag har sparat koderna, fortsätt")
    assert page.url.endswith("/reports/"), page.url
    assert "Mina personer" not in page.inner_text("header")
    manager.check("reports", widths=WIDTHS)
    manager.goto("/")
    assert page.url.endswith("/reports/")
    assert not manager.console_errors, manager.console_errors


# --- the organisation administrator: the staff list and the access log's tables ---


def test_the_administrators_tables_fit_and_can_be_reached_by_keyboard(journey, mail):
    from base64 import b32decode

    from ..twofactor import token_for_key

    area = load_area(persons=6)
    hhc = area.home_health_care
    person = area.persons[0]
    # Some looks to review: the nurse has opened the person's page and a register extract.
    nurse = journey("admin-nurse", width=768)
    nurse.login("sjukskoterska", DEMO_PASSWORD)
    nurse.goto(f"/persons/{person.pk}/")
    nurse.goto(f"/persons/{person.pk}/extract/")
    nurse.check("register extract", widths=WIDTHS)

    admin = journey("admin", width=768)
    page = admin.page
    admin.login("admin.hsv", DEMO_PASSWORD)
    key = page.locator("code").first.inner_text().replace(" ", "")
    page.fill("input[name=token]", token_for_key(b32decode(key).hex()))
    admin.submit("main form")
    with page.expect_navigation():
        page.click("text=Jag har sparat koderna, fortsätt")
    assert page.url.endswith(f"/organisations/{hhc.pk}/staff/"), page.url  # her start page
    admin.check("staff list", widths=WIDTHS)
    admin.goto(f"/organisations/{hhc.pk}/access-log/")
    admin.check("access log", widths=WIDTHS)
    admin.submit(f"form[action='/organisations/{hhc.pk}/access-log/reviews/new/']")
    assert "/access-log/reviews/" in page.url
    region = page.locator(".table-responsive[role=region]").first
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
    admin.check("access log review", widths=WIDTHS)
    assert not admin.console_errors, admin.console_errors
