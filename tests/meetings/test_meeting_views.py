"""The meeting pages over HTTP: three personas on every view, consent gating, a sample of
permission cells, the lifecycle in the browser's terms, bad input and double submits.

alice is the person's home health care nurse (initiator and convener), bob the home-help
coordinator of a partner organisation in the care team, charlie a nurse elsewhere.
"""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import (
    AgendaNote,
    Agreement,
    Contribution,
    Decision,
    DecisionConfirmation,
    Meeting,
    Participant,
    PrivateTopic,
)

from ..factories import RelativeFactory, proposed_days_ago
from ..meeting_flow import advance, future, initiate

pytestmark = pytest.mark.django_db
S = Meeting.State

GET_VIEWS = [
    "meeting_detail",
    "meeting_consent",
    "meeting_consent_withdraw",
    "meeting_invitations",
    "meeting_schedule",
    "meeting_reschedule",
    "meeting_cancel",
    "meeting_respond",
    "meeting_preparation",
    "meeting_contribution",
    "meeting_day",
    "meeting_private_topic",
    "meeting_decision_new",
    "meeting_agreement",
    "meeting_mark_held",
    "meeting_minutes",
]
POST_VIEWS = [
    "meeting_convening_start",
    "meeting_attendance",
    "meeting_decisions_confirm",
    "meeting_close",
]


def url(name, meeting, **kwargs):
    return reverse(name, kwargs={"pk": meeting.pk, **kwargs})


def local_input(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- three personas on every view ---


@pytest.mark.parametrize("state", [S.CONVENING, S.SCHEDULED, S.HELD])
@pytest.mark.parametrize("name", GET_VIEWS)
def test_every_page_member_partner_outsider(area, client, login, name, state):
    meeting = advance(area, state)
    for user, allowed in ((area.alice, True), (area.bob, True), (area.charlie, False)):
        client.logout()
        response = login(user).get(url(name, meeting))
        if allowed:
            assert response.status_code in (200, 302), (user, name, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/meetings/")
        else:
            assert response.status_code == 404, (user, name)


@pytest.mark.parametrize("name", POST_VIEWS)
def test_post_views_answer_404_to_outsider_and_never_500(area, client, login, name):
    meeting = advance(area, S.SCHEDULED)
    assert login(area.charlie).post(url(name, meeting), {}).status_code == 404
    client.logout()
    for user in (area.alice, area.bob):
        response = login(user).post(url(name, meeting), {"organisation": "x"})
        assert response.status_code in (302, 400), (user, name)
        client.logout()


def test_participant_and_note_views_outsider_404(area, login):
    meeting = advance(area, S.SCHEDULED)
    bob_p = meeting.participants.get(user=area.bob)
    client = login(area.charlie)
    for target in (
        url("meeting_participant_mode", meeting, participant_pk=bob_p.pk),
        url("meeting_participant_remove", meeting, participant_pk=bob_p.pk),
        url("meeting_note_save", meeting, item=1),
        url("meeting_decision_edit", meeting, decision_pk=1),
    ):
        assert client.post(target, {}).status_code == 404


def test_unknown_meeting_is_404_like_a_hidden_one(area, login):
    assert (
        login(area.alice).get(reverse("meeting_detail", kwargs={"pk": 999999})).status_code == 404
    )


def test_initiative_form_personas(area, client, login):
    target = reverse("meeting_new", kwargs={"person_pk": area.person.pk})
    assert login(area.alice).get(target).status_code == 200
    client.logout()
    assert login(area.bob).get(target).status_code == 200  # partner in the care team
    client.logout()
    assert login(area.charlie).get(target).status_code == 404


def test_meeting_list_shows_only_visible_meetings(
    area, client, login, django_assert_max_num_queries
):
    meeting = advance(area, S.SCHEDULED)
    c = login(area.alice)
    c.get(reverse("meeting_list"))
    with django_assert_max_num_queries(12):
        response = c.get(reverse("meeting_list"))
    assert response.status_code == 200
    assert area.person.full_name in response.content.decode()
    client.logout()
    response = login(area.charlie).get(reverse("meeting_list"))
    assert area.person.full_name not in response.content.decode()
    assert meeting.pk not in [m.pk for m in response.context["meetings"]]


# --- consent gating ---


def test_partner_sees_nothing_before_consent_c_and_loses_access_on_withdrawal(area, client, login):
    meeting = initiate(area)
    detail = url("meeting_detail", meeting)
    assert login(area.bob).get(detail).status_code == 404
    client.logout()
    # (c) no: still only the initiator's side
    response = login(area.alice).post(
        url("meeting_consent", meeting),
        {
            "wants_meeting": "yes",
            "share_information": "no",
            "how": "orally",
            "given_at": local_input(timezone.now() - dt.timedelta(minutes=30)),
        },
    )
    assert response.status_code == 302
    client.logout()
    assert login(area.bob).get(detail).status_code == 404
    client.logout()
    # (c) yes: the partner sees it
    login(area.alice).post(
        url("meeting_consent", meeting),
        {
            "wants_meeting": "yes",
            "share_information": "yes",
            "how": "orally",
            "given_at": local_input(timezone.now() - dt.timedelta(minutes=20)),
        },
    )
    client.logout()
    assert login(area.bob).get(detail).status_code == 200
    client.logout()
    # withdrawn: the partner loses access at once; the initiator keeps the history
    response = login(area.alice).post(
        url("meeting_consent_withdraw", meeting), {"note": "Per telefon", "confirm": "on"}
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == S.DECLINED and not meeting.shared
    page = client.get(detail)
    assert page.status_code == 200
    assert "Per telefon" in page.content.decode()
    client.logout()
    assert login(area.bob).get(detail).status_code == 404


def test_invited_partner_loses_access_after_withdrawal(area, client, login):
    meeting = advance(area, S.SCHEDULED)
    assert login(area.bob).get(url("meeting_day", meeting)).status_code == 200
    services.consent_withdraw(actor=area.alice, meeting=meeting)
    assert client.get(url("meeting_day", meeting)).status_code == 404
    assert client.get(url("meeting_detail", meeting)).status_code == 404


def test_address_and_access_notes_only_to_invited_staff(area, client, login):
    meeting = advance(area, S.CONVENING, invite_bob=False)
    page = login(area.bob).get(url("meeting_detail", meeting)).content.decode()
    assert "Portkod 1234" not in page
    client.logout()
    services.participant_invite(
        actor=area.alice,
        meeting=meeting,
        user=area.bob,
        organisation=area.home_help,
        role="home_help_coordinator",
    )
    page = login(area.bob).get(url("meeting_detail", meeting)).content.decode()
    assert "Portkod 1234" in page


# --- permission cells over HTTP (a sample; every cell is tested on the table itself) ---


def test_only_home_health_clinician_starts_convening(area, client, login):
    meeting = advance(area, S.CONSENT)
    response = login(area.bob).post(url("meeting_convening_start", meeting), follow=True)
    assert response.status_code == 200
    assert any("Bara" in m for m in messages_of(response))  # "Only … can do this."
    meeting.refresh_from_db()
    assert meeting.state == S.CONSENT
    client.logout()
    response = login(area.alice).post(url("meeting_convening_start", meeting))
    assert response.status_code == 302
    assert response["Location"] == url("meeting_invitations", meeting)
    meeting.refresh_from_db()
    assert meeting.state == S.CONVENING and meeting.convener == area.alice


def test_only_convener_changes_invitations(area, client, login):
    meeting = advance(area, S.CONVENING)
    response = login(area.bob).get(url("meeting_invitations", meeting))
    assert response.status_code == 302
    alice_p = meeting.participants.get(user=area.alice)
    response = client.post(url("meeting_participant_remove", meeting, participant_pk=alice_p.pk))
    assert response.status_code == 302
    assert Participant.objects.get(pk=alice_p.pk).removed_at is None


def test_each_organisation_enters_only_its_own_decisions(area, client, login):
    meeting = advance(area, S.SCHEDULED)
    data = {
        "organisation": area.home_help.pk,
        "category": "extended_home_help",
        "description": "Kvällsbesök kl. 19 för kvällsmat och medicin.",
        "responsible": area.bob.pk,
        "due_date": (timezone.localdate() + dt.timedelta(days=14)).isoformat(),
        "person_answer": "accepts",
    }
    # alice (health care) cannot decide for home help: the form refuses the organisation
    response = login(area.alice).post(url("meeting_decision_new", meeting), data)
    assert response.status_code == 200
    assert not Decision.objects.exists()
    client.logout()
    response = login(area.bob).post(url("meeting_decision_new", meeting), data)
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.organisation == area.home_help and decision.created_by == area.bob
    client.logout()
    # alice cannot change it either
    response = login(area.alice).post(
        url("meeting_decision_edit", meeting, decision_pk=decision.pk),
        data | {"description": "Ändrat av fel organisation"},
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.description.startswith("Kvällsbesök")
    # but she can enter her own
    own = data | {
        "organisation": area.health_care.pk,
        "category": "health_care",
        "description": "Läkemedelsgenomgång och nutritionsbedömning.",
        "responsible": area.alice.pk,
    }
    assert client.post(url("meeting_decision_new", meeting), own).status_code == 302
    assert Decision.objects.filter(organisation=area.health_care).count() == 1


def test_confirm_only_own_organisation(area, client, login):
    meeting = advance(area, S.SCHEDULED)
    response = login(area.bob).post(
        url("meeting_decisions_confirm", meeting), {"organisation": area.health_care.pk}
    )
    assert response.status_code == 302
    assert not DecisionConfirmation.objects.exists()
    client.post(url("meeting_decisions_confirm", meeting), {"organisation": area.home_help.pk})
    assert DecisionConfirmation.objects.get().organisation == area.home_help


def test_private_topic_visible_only_to_its_organisation(area, client, login):
    meeting = advance(area, S.SCHEDULED)
    response = login(area.alice).post(
        url("meeting_private_topic", meeting),
        {
            "organisation": area.health_care.pk,
            "raised_by": "person",
            "text": "Vill prata om inkontinens utan att alla hör.",
        },
    )
    assert response.status_code == 302
    assert PrivateTopic.objects.count() == 1
    assert "inkontinens" in client.get(url("meeting_day", meeting)).content.decode()
    client.logout()
    assert "inkontinens" not in login(area.bob).get(url("meeting_day", meeting)).content.decode()
    assert "inkontinens" not in client.get(url("meeting_detail", meeting)).content.decode()


# --- the lifecycle over HTTP ---


def test_lifecycle_from_initiative_to_closed(area, client, login):
    relative = RelativeFactory(person=area.person, name="Anna Åkesson", relation="dotter")
    c = login(area.alice)
    response = c.post(
        reverse("meeting_new", kwargs={"person_pk": area.person.pk}),
        {
            "organisation": area.health_care.pk,
            "reasons": ["not_eating", "repeated_falls"],
            "reason_text": "Tappat i vikt",
            "raised_by": "relative",
            "raised_by_detail": "dottern Anna",
            "urgency": "soon",
            "kind": "full",
        },
    )
    meeting = proposed_days_ago(Meeting.objects.get())
    assert response["Location"] == url("meeting_detail", meeting)
    page = c.get(url("meeting_detail", meeting)).content.decode()
    assert url("meeting_consent", meeting) in page

    c.post(
        url("meeting_consent", meeting),
        {
            "wants_meeting": "yes",
            "relatives": [relative.pk],
            "share_information": "yes",
            "how": "orally",
            "given_at": local_input(timezone.now() - dt.timedelta(minutes=5)),
        },
    )
    meeting.refresh_from_db()
    assert meeting.state == S.CONSENT and meeting.shared
    c.post(url("meeting_convening_start", meeting))
    one, two = future(5, 10), future(6, 14)
    page = c.get(url("meeting_invitations", meeting))
    assert page.status_code == 200
    # bob's organisation is in the team but he is not named: invite him as "someone else";
    # with two times, the invitees are sent both to mark which suit them
    from participants.models import Membership

    bob_membership = Membership.objects.get(user=area.bob)
    response = c.post(
        url("meeting_invitations", meeting),
        {
            "other": bob_membership.pk,
            "other_mode": "video",
            "option_1": local_input(one),
            "option_2": local_input(two),
            "duration_minutes": 60,
            "note": "Med dottern",
        },
    )
    assert response.status_code == 302
    bob_p = meeting.participants.get(user=area.bob)
    assert bob_p.mode == "video"
    assert meeting.participants.filter(relative=relative).exists()
    c.logout()
    options = list(meeting.time_options.order_by("starts_at"))
    b = login(area.bob)
    response = b.post(
        url("meeting_respond", meeting),
        {"response": "accepted", "mode": "video", f"suits_{options[1].pk}": "on"},
    )
    assert response.status_code == 302
    bob_p.refresh_from_db()
    assert bob_p.response == "accepted"
    b.logout()
    c = login(area.alice)
    # Until a time is fixed, the meeting page shows the proposed times with their votes.
    detail = c.get(url("meeting_detail", meeting)).content.decode()
    assert "Tider som personen har sagt passar:" in detail
    assert detail.count("passar 1, passar inte 0") == 1  # bob's vote, on the second time
    page = c.get(url("meeting_schedule", meeting)).content.decode()
    assert "1" in page
    response = c.post(
        url("meeting_schedule", meeting),
        {"option": options[1].pk, "duration_minutes": 60, "location": ""},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == S.SCHEDULED and meeting.starts_at == options[1].starts_at
    assert (
        "Tider som personen har sagt passar:"
        not in c.get(url("meeting_detail", meeting)).content.decode()
    )

    # the meeting day: notes (plain POST), attendance, agreement, decision, confirmation
    day = c.get(url("meeting_day", meeting))
    assert day.status_code == 200
    response = c.post(
        url("meeting_note_save", meeting, item=2),
        {"item2-text": "Hjärtsvikt, artros. Tar Furix 40 mg.", "item2-base_revision": 0},
    )
    assert response.status_code == 302
    assert AgendaNote.objects.get(meeting=meeting, item=2).text.startswith("Hjärtsvikt")
    participants = list(meeting.participants.filter(removed_at__isnull=True))
    start = timezone.now() - dt.timedelta(hours=2)
    attendance = {f"came_{p.pk}": "on" for p in participants} | {
        f"how_{p.pk}": "in_person" for p in participants
    }
    response = c.post(
        url("meeting_attendance", meeting),
        attendance
        | {
            "actual_start": local_input(start),
            "actual_end": local_input(start + dt.timedelta(minutes=65)),
        },
    )
    assert response.status_code == 302
    c.post(
        url("meeting_agreement", meeting),
        {
            "kind": "contingency",
            "situation": "hon faller igen",
            "text": "Ring hemsjukvården dagtid, 1177 nattetid.",
            "contact": "08-555 101 00",
        },
    )
    assert Agreement.objects.count() == 1
    c.post(
        url("meeting_decision_new", meeting),
        {
            "organisation": area.health_care.pk,
            "category": "health_care",
            "description": "Tandläkarbesök i hemmet.",
            "responsible": area.alice.pk,
            "due_date": "",
            "person_answer": "thinking",
        },
    )
    c.post(url("meeting_decisions_confirm", meeting), {"organisation": area.health_care.pk})
    summary = c.get(url("meeting_day", meeting)).content.decode()
    assert "Tandläkarbesök" in summary
    assert DecisionConfirmation.objects.filter(organisation=area.health_care).exists()

    response = c.post(
        url("meeting_mark_held", meeting),
        {
            "actual_start": local_input(start),
            "actual_end": local_input(start + dt.timedelta(minutes=65)),
        },
    )
    assert response["Location"] == url("meeting_minutes", meeting)
    meeting.refresh_from_db()
    assert meeting.state == S.HELD
    alice_p = meeting.participants.get(user=area.alice)
    response = c.post(
        url("meeting_minutes", meeting),
        {
            f"p{alice_p.pk}-preparation": 15,
            f"p{alice_p.pk}-travel": 20,
            f"p{alice_p.pk}-meeting": 65,
        },
    )
    assert response.status_code == 302
    alice_p.refresh_from_db()
    assert (alice_p.preparation_minutes, alice_p.travel_minutes) == (15, 20)
    c.post(url("meeting_close", meeting))
    meeting.refresh_from_db()
    assert meeting.state == S.CLOSED
    history = c.get(url("meeting_detail", meeting)).context["history"]
    assert all(change.by == area.alice for change in history)
    assert [sc.to_state for sc in meeting.state_changes.all()] == [
        S.INITIATED,
        S.CONSENT,
        S.CONVENING,
        S.SCHEDULED,
        S.HELD,
        S.CLOSED,
    ]


def test_invitations_page_prechecks_proposed_and_lists_missing_roles(area, login):
    from participants.models import Role

    from ..factories import CareTeamEntryFactory, MembershipFactory

    physician = MembershipFactory(organisation=area.health_care, role=Role.PHYSICIAN).user
    CareTeamEntryFactory(
        person=area.person, organisation=area.health_care, member=physician, role=Role.PHYSICIAN
    )
    meeting = advance(area, S.CONVENING, invite_bob=False)
    page = login(area.alice).get(url("meeting_invitations", meeting))
    html = page.content.decode()
    form = page.context["form"]
    entry_fields = [name for name in form.fields if name.startswith("entry_")]
    assert len(entry_fields) == 1 and form[entry_fields[0]].value() is True
    assert "checked" in html
    # Warned about: the roles no one in the care team has (the physician is ticked above).
    missing = page.context["missing_roles"]
    assert "Läkare" not in missing
    assert len(missing) == 3  # assessor, coordinator, contact


# --- autosave of agenda notes ---


def test_note_autosave_json_and_conflict(area, client, login):
    meeting = advance(area, S.SCHEDULED)
    target = url("meeting_note_save", meeting, item=4)
    headers = {"HTTP_ACCEPT": "application/json"}
    c = login(area.alice)
    response = c.post(
        target, {"item4-text": "Viktnedgång 6 kg", "item4-base_revision": 0}, **headers
    )
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["ok"] and body["revision"] == 1
    # the same text again (a retry after a lost answer) is fine
    response = c.post(
        target, {"item4-text": "Viktnedgång 6 kg", "item4-base_revision": 0}, **headers
    )
    assert response.status_code == 200
    c.logout()
    # bob saves from an older revision: conflict with the server's text, his text not saved
    b = login(area.bob)
    response = b.post(target, {"item4-text": "Nattfasta 14 h", "item4-base_revision": 0}, **headers)
    assert response.status_code == 409
    body = json.loads(response.content)
    assert body["conflict"] and body["text"] == "Viktnedgång 6 kg" and body["revision"] == 1
    assert AgendaNote.objects.get(meeting=meeting, item=4).text == "Viktnedgång 6 kg"
    # without JavaScript the page comes back with both texts
    response = b.post(target, {"item4-text": "Nattfasta 14 h", "item4-base_revision": 0})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Nattfasta 14 h" in html and "Viktnedgång 6 kg" in html
    # after merging on the current revision, it saves
    merged = "Viktnedgång 6 kg\nNattfasta 14 h"
    response = b.post(target, {"item4-text": merged, "item4-base_revision": 1}, **headers)
    assert response.status_code == 200
    assert AgendaNote.objects.get(meeting=meeting, item=4).text == merged


def test_note_save_refused_for_non_participant_and_bad_input(area, client, login):
    meeting = advance(area, S.SCHEDULED, invite_bob=False)
    headers = {"HTTP_ACCEPT": "application/json"}
    # bob sees the meeting (consent c) but is not invited: notes are not his to edit
    response = login(area.bob).post(
        url("meeting_note_save", meeting, item=1),
        {"item1-text": "x", "item1-base_revision": 0},
        **headers,
    )
    assert response.status_code == 403
    client.logout()
    c = login(area.alice)
    assert c.post(url("meeting_note_save", meeting, item=1), {}, **headers).status_code == 400
    assert c.post(url("meeting_note_save", meeting, item=9), {}).status_code == 404


# --- bad input and refused transitions: a message, never a 500 ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2031-03-30T02:30", "02:30"),  # the clocks go forward: does not exist
        ("2031-10-26T02:30", "02:30"),  # the clocks go back: occurs twice
        ("2020-01-01T10:00", None),  # passed
        ("tomorrow", None),
        ("0001-01-01T00:30", None),
        ("9999-12-31T23:59", None),
    ],
)
def test_time_options_bad_times_get_a_message_next_to_the_field(area, login, value, expected):
    meeting = advance(area, S.CONVENING)
    before = list(meeting.time_options.values_list("starts_at", flat=True))
    response = login(area.alice).post(
        url("meeting_invitations", meeting), {"option_1": value, "duration_minutes": 60}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["option_1"]
    assert errors
    if expected:
        assert expected in errors[0]
    html = response.content.decode()
    assert "invalid-feedback" in html and value in html  # kept what the user typed
    assert list(meeting.time_options.values_list("starts_at", flat=True)) == before


def test_dst_messages_say_what_is_wrong(area, login, settings):
    settings.LANGUAGE_CODE = "en"
    meeting = advance(area, S.CONVENING)
    c = login(area.alice)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    invitations = url("meeting_invitations", meeting)
    gap = c.post(invitations, {"option_1": "2031-03-30T02:30", "duration_minutes": 60})
    assert "does not exist" in gap.context["form"].errors["option_1"][0]
    overlap = c.post(invitations, {"option_1": "2031-10-26T02:30", "duration_minutes": 60})
    assert "occurs twice" in overlap.context["form"].errors["option_1"][0]
    past = c.post(invitations, {"option_1": "2021-06-01T10:00", "duration_minutes": 60})
    assert "already passed" in past.context["form"].errors["option_1"][0]


def test_reschedule_to_the_past_is_refused_next_to_the_field(area, login):
    meeting = advance(area, S.SCHEDULED)
    response = login(area.alice).post(
        url("meeting_reschedule", meeting),
        {"starts_at": "2021-06-01T10:00", "duration_minutes": 60},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"]


@pytest.mark.parametrize(
    ("state", "name"),
    [
        (S.INITIATED, "meeting_close"),
        (S.INITIATED, "meeting_convening_start"),
        (S.SCHEDULED, "meeting_convening_start"),
        (S.SCHEDULED, "meeting_close"),
        (S.HELD, "meeting_invitations"),
        (S.CLOSED, "meeting_close"),
    ],
)
def test_transition_not_allowed_answers_with_a_message(area, login, state, name):
    meeting = advance(area, state)
    response = login(area.alice).post(url(name, meeting), follow=True)
    assert response.status_code == 200
    assert messages_of(response)
    meeting.refresh_from_db()
    assert meeting.state == state


@pytest.mark.parametrize(
    ("state", "name"),
    [
        (S.INITIATED, "meeting_mark_held"),
        (S.CLOSED, "meeting_cancel"),
        # consent can be changed in every state but the ended ones (a closed meeting's
        # sharing can still end: see test_consent_after_the_meeting)
        (S.CANCELLED, "meeting_consent"),
        (S.CANCELLED, "meeting_reschedule"),
    ],
)
def test_form_pages_in_the_wrong_state_redirect_with_a_message(area, login, state, name):
    if state == S.CANCELLED:
        meeting = advance(area, S.SCHEDULED)
        services.meeting_cancel(actor=area.alice, meeting=meeting, reason="Personen på sjukhus")
    else:
        meeting = advance(area, state)
    response = login(area.alice).get(url(name, meeting), follow=True)
    assert response.status_code == 200
    assert messages_of(response)


def test_cancel_needs_a_reason_and_records_it(area, login):
    meeting = advance(area, S.SCHEDULED)
    c = login(area.alice)
    response = c.post(url("meeting_cancel", meeting), {"reason": "  "})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    c.post(url("meeting_cancel", meeting), {"reason": "Personen är inlagd på sjukhus."})
    meeting.refresh_from_db()
    assert meeting.state == S.CANCELLED and "sjukhus" in meeting.cancel_reason


def test_consent_representative_needs_a_name_and_no_future(area, login):
    meeting = initiate(area)
    c = login(area.alice)
    base = {"wants_meeting": "yes", "share_information": "yes"}
    response = c.post(
        url("meeting_consent", meeting),
        base | {"how": "representative", "given_at": local_input(timezone.now())},
    )
    assert response.context["form"].errors["representative_name"]
    response = c.post(
        url("meeting_consent", meeting),
        base | {"how": "orally", "given_at": local_input(timezone.now() + dt.timedelta(days=2))},
    )
    assert response.context["form"].errors["given_at"]
    meeting.refresh_from_db()
    assert meeting.state == S.INITIATED


# --- two tabs, double submits: one result ---


def test_double_submit_of_the_initiative_gives_one_meeting(area, login):
    c = login(area.alice)
    data = {
        "organisation": area.health_care.pk,
        "reasons": ["balance"],
        "reason_text": "",
        "raised_by": "nurse",
        "urgency": "routine",
        "kind": "small",
    }
    target = reverse("meeting_new", kwargs={"person_pk": area.person.pk})
    first = c.post(target, data)
    second = c.post(target, data)
    assert Meeting.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_double_submit_of_decision_agreement_contribution_gives_one_each(area, login):
    meeting = advance(area, S.SCHEDULED)
    c = login(area.bob)
    decision = {
        "organisation": area.home_help.pk,
        "category": "adjusted_home_help",
        "description": "Samma personal vid dusch.",
        "responsible": area.bob.pk,
        "person_answer": "accepts",
    }
    agreement = {"kind": "goal_of_care", "text": "Bo kvar hemma så länge det går."}
    for _ in range(2):
        c.post(url("meeting_decision_new", meeting), decision)
        c.post(url("meeting_agreement", meeting), agreement)
    assert Decision.objects.count() == 1
    assert Agreement.objects.count() == 1
    meeting2 = Meeting.objects.create(
        person=area.person,
        state=S.CONSENT,
        shared=True,
        raised_by="nurse",
        initiated_by=area.alice,
        initiator_organisation=area.health_care,
        initiator_role="nurse",
    )
    c = login(area.alice)
    for _ in range(2):
        c.post(
            url("meeting_contribution", meeting2),
            {"author": "person", "what_matters": "Att få vara kvar i mitt hus."},
        )
    assert Contribution.objects.filter(meeting=meeting2).count() == 1


def test_starting_convening_twice_gives_one_convener(area, client, login):
    meeting = advance(area, S.CONSENT)
    c = login(area.alice)
    c.post(url("meeting_convening_start", meeting))
    response = c.post(url("meeting_convening_start", meeting), follow=True)
    assert response.status_code == 200 and messages_of(response)
    assert meeting.participants.filter(is_convener=True).count() == 1


# --- contributions at the top, preparation checklist ---


def test_contributions_shown_at_the_top_of_the_meeting(area, login):
    meeting = advance(area, S.CONVENING)
    relative = RelativeFactory(person=area.person, name="Lars Åkesson", relation="son")
    c = login(area.alice)
    c.post(
        url("meeting_contribution", meeting),
        {
            "author": "relative",
            "relative": relative.pk,
            "what_matters": "Att mamma inte är ensam på kvällarna.",
            "questions": "Kan hon få trygghetslarm?",
        },
    )
    html = c.get(url("meeting_detail", meeting)).content.decode()
    assert html.index("inte är ensam") < html.index('id="next-heading"')
    assert "trygghetslarm" in html


def test_preparation_checklist_per_role(area, client, login):
    meeting = advance(area, S.CONVENING)
    c = login(area.bob)
    page = c.get(url("meeting_preparation", meeting))
    choices = [value for value, _label in page.context["form"].fields["done"].choices]
    assert choices == ["schedule", "care_plan"]
    response = c.post(url("meeting_preparation", meeting), {"done": ["schedule"], "minutes": 10})
    assert response.status_code == 302
    bob_p = meeting.participants.get(user=area.bob)
    assert bob_p.preparation_minutes == 10
    assert bob_p.preparation_steps.get(task="schedule").done_at is not None
    response = c.post(url("meeting_preparation", meeting), {"minutes": "-5"})
    assert response.status_code == 200 and response.context["form"].errors["minutes"]


# --- the home worklist and the person page ---


def test_worklist_on_home_lists_what_waits(area, client, login, django_assert_max_num_queries):
    advance(area, S.CONVENING)
    initiate(area)
    c = login(area.alice)
    c.get(reverse("home"))
    with django_assert_max_num_queries(14):
        response = c.get(reverse("home"))
    html = response.content.decode()
    items = response.context["items"]
    assert len(items) == 2
    assert any(item.meeting.state == S.INITIATED and item.tasks for item in items)
    assert 'id="worklist-heading"' in html
    client.logout()
    response = login(area.bob).get(reverse("home"))
    (item,) = response.context["items"]  # the initiated meeting is not shared yet
    assert item.meeting.state == S.CONVENING
    assert len(item.tasks) == 2  # answer the invitation, prepare
    client.logout()
    response = login(area.charlie).get(reverse("home"))
    assert response.context["items"] == []


def test_worklist_dates_name_the_year_only_when_it_is_not_this_one(area, login):
    """A meeting from another year left on the worklist ("close the meeting") must not read
    as this year's."""
    import re

    meeting = advance(area, S.CONVENING)
    c = login(area.alice)
    now = timezone.localtime()

    def shown():
        html = c.get(reverse("home")).content.decode()
        return re.search(r'<time datetime="[^"]+">([^<]+)</time>', html).group(1)

    Meeting.objects.filter(pk=meeting.pk).update(starts_at=now)
    assert str(now.year) not in shown()
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=now.replace(year=now.year - 2, day=1))
    assert shown().endswith(f"{now.year - 2} {now:%H:%M}")


def test_worklist_query_count_does_not_grow_with_meetings(
    area, login, django_assert_max_num_queries
):
    from ..factories import CareTeamEntryFactory, PersonFactory

    for _ in range(6):
        person = PersonFactory()
        CareTeamEntryFactory(person=person, organisation=area.health_care)
        services.meeting_initiate(
            actor=area.alice,
            person=person,
            organisation=area.health_care,
            reasons=["passive"],
            reason_text="",
            raised_by="nurse",
            urgency="routine",
            kind="small",
        )
    c = login(area.alice)
    c.get(reverse("home"))
    with django_assert_max_num_queries(14):
        response = c.get(reverse("home"))
    assert len(response.context["items"]) == 6


def test_meeting_pages_query_counts_do_not_grow(area, login, django_assert_max_num_queries):
    meeting = advance(area, S.SCHEDULED)
    c = login(area.alice)
    pages = {
        "meeting_detail": 31,  # with the summary panel and the follow-up link
        "meeting_day": 23,
        "meeting_invitations": 19,
    }
    for name in pages:
        c.get(url(name, meeting))  # session and language settle on the first request

    def measure():
        for name, limit in pages.items():
            with django_assert_max_num_queries(limit):
                assert c.get(url(name, meeting)).status_code == 200

    measure()
    for i in range(6):
        services.decision_save(
            actor=area.bob,
            meeting=meeting,
            organisation=area.home_help,
            category="extended_home_help",
            description=f"Beslut {i}",
            responsible=area.bob,
            due_date=None,
            person_answer="accepts",
        )
        services.agreement_add(actor=area.bob, meeting=meeting, kind="contingency", text=f"Om {i}")
        services.contribution_add(
            actor=area.alice, meeting=meeting, author="person", what_matters=f"Viktigt {i}"
        )
    measure()


def test_person_page_has_propose_button_and_meetings(area, client, login):
    meeting = advance(area, S.CONSENT)
    html = login(area.alice).get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    html = html.content.decode()
    assert reverse("meeting_new", kwargs={"person_pk": area.person.pk}) in html
    assert url("meeting_detail", meeting) in html
    client.logout()
    # a meeting not shared is not listed for the partner
    services.consent_record(
        actor=area.alice,
        meeting=meeting,
        wants_meeting=True,
        share_information=False,
        relatives=[],
        how="orally",
        given_at=timezone.now(),
    )
    html = login(area.bob).get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert url("meeting_detail", meeting) not in html.content.decode()


def test_meeting_pages_have_no_inline_script_or_style(area, login):
    meeting = advance(area, S.SCHEDULED)
    c = login(area.alice)
    for name in ("meeting_detail", "meeting_day", "meeting_invitations"):
        text = c.get(url(name, meeting), follow=True).content.decode()
        assert "<script>" not in text and " style=" not in text and "<style" not in text


def test_reschedule_asks_everyone_again_and_records_the_change(area, login):
    meeting = advance(area, S.SCHEDULED)
    bob_p = meeting.participants.get(user=area.bob)
    services.participation_respond(actor=area.bob, participant=bob_p, response="accepted")
    new_time = future(10, 13)
    response = login(area.alice).post(
        url("meeting_reschedule", meeting),
        {"starts_at": local_input(new_time), "duration_minutes": 90, "location": ""},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    bob_p.refresh_from_db()
    assert meeting.starts_at == new_time and meeting.duration_minutes == 90
    assert bob_p.response == Participant.Response.NEEDS_ACTION
    assert meeting.state_changes.filter(from_state=S.SCHEDULED, to_state=S.SCHEDULED).exists()


def test_convener_changes_mode_and_removes_an_invitee(area, login):
    meeting = advance(area, S.CONVENING)
    bob_p = meeting.participants.get(user=area.bob)
    c = login(area.alice)
    c.post(url("meeting_participant_mode", meeting, participant_pk=bob_p.pk), {"mode": "phone"})
    bob_p.refresh_from_db()
    assert bob_p.mode == "phone"
    response = c.post(
        url("meeting_participant_mode", meeting, participant_pk=bob_p.pk), {"mode": "fax"}
    )
    assert response.status_code == 302
    c.post(url("meeting_participant_remove", meeting, participant_pk=bob_p.pk))
    bob_p.refresh_from_db()
    assert bob_p.removed_at is not None
    alice_p = meeting.participants.get(user=area.alice)
    response = c.post(
        url("meeting_participant_remove", meeting, participant_pk=alice_p.pk), follow=True
    )
    assert messages_of(response)  # the convener cannot be removed
    alice_p.refresh_from_db()
    assert alice_p.removed_at is None


def test_invitee_declines_and_the_convener_sees_the_missing_role(area, client, login):
    meeting = advance(area, S.SCHEDULED)
    response = login(area.bob).post(
        url("meeting_respond", meeting), {"response": "declined", "mode": "in_person"}
    )
    assert response.status_code == 302
    client.logout()
    page = login(area.alice).get(url("meeting_detail", meeting))
    assert "Samordnare hemtjänst" in page.context["missing_roles"]


def test_notes_are_read_only_for_those_not_invited(area, login):
    meeting = advance(area, S.SCHEDULED, invite_bob=False)
    AgendaNote.objects.create(meeting=meeting, item=3, text="Beviljat: morgon och lunch.")
    page = login(area.bob).get(url("meeting_day", meeting))
    html = page.content.decode()
    assert "Beviljat: morgon och lunch." in html
    assert url("meeting_note_save", meeting, item=3) not in html
    assert "Portkod 1234" not in html


def test_double_submit_of_a_private_topic_gives_one(area, login):
    meeting = advance(area, S.SCHEDULED)
    c = login(area.alice)
    data = {"organisation": area.health_care.pk, "raised_by": "relative", "text": "Alkohol"}
    for _ in range(2):
        assert c.post(url("meeting_private_topic", meeting), data).status_code == 302
    assert PrivateTopic.objects.count() == 1
