"""Convening as the nurse lives it: one form for whom and when whose message says exactly
who was sent what; a meeting proposed by someone else reaches every home health care nurse
until one takes it on; the reply link lets an invitee mark the proposed times."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import reply_links, services
from meetings.models import Meeting, OutboxMessage, Participant, TimeVote
from meetings.worklist import worklist
from participants.models import Role

from ..factories import MembershipFactory
from ..meeting_flow import future

pytestmark = pytest.mark.django_db
S = Meeting.State


def local(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def url(name, meeting, **kwargs):
    return reverse(name, kwargs={"pk": meeting.pk, **kwargs})


def consent_now(**overrides) -> services.ConsentAnswer:
    values = {
        "wants_meeting": True,
        "share_information": True,
        "relatives": (),
        "how": "orally",
        "given_at": timezone.now(),
    }
    return services.ConsentAnswer(**(values | overrides))


def propose(marea, actor, organisation, *, consent=None):
    return services.meeting_initiate(
        actor=actor,
        person=marea.person,
        organisation=organisation,
        reasons=["not_eating"],
        reason_text="Äter dåligt.",
        raised_by="home_help",
        urgency="soon",
        kind="full",
        consent=consent,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- 1. What the nurse sees ticked is what gets invited, and the message is true ---


def test_the_nurse_proposes_with_consent_and_convenes_in_one_form(marea, login):
    """From the person's page to invitations sent in three page loads: the proposal with the
    consent she asked for herself, then one form for whom and when."""
    c = login(marea.nurse)
    response = c.post(
        reverse("meeting_new", kwargs={"person_pk": marea.person.pk}),
        {
            "organisation": marea.health_care.pk,
            "reasons": ["not_eating"],
            "raised_by": "relative",
            "urgency": "soon",
            "kind": "full",
            "asked": "now",
            "consent-wants_meeting": "yes",
            "consent-relatives": [marea.relative.pk],
            "consent-share_information": "yes",
            "consent-how": "orally",
            "consent-given_at": local(timezone.now() - dt.timedelta(minutes=10)),
        },
    )
    meeting = Meeting.objects.get()
    assert response["Location"] == url("meeting_invitations", meeting)
    assert meeting.state == S.CONVENING and meeting.convener == marea.nurse and meeting.shared
    page = c.get(url("meeting_invitations", meeting))
    ticked = [
        name
        for name, field in page.context["form"].fields.items()
        if name.startswith("entry_") and field.initial
    ]
    assert len(ticked) == 4  # physician, assessor, coordinator, contact person
    post = dict.fromkeys(ticked, "on") | {
        name.replace("entry_", "mode_"): "in_person" for name in ticked
    }
    # The physician is unticked: she is not invited and not told she was.
    physician_entry = next(
        e for e in page.context["form"].proposed if e.member_id == marea.physician.pk
    )
    del post[f"entry_{physician_entry.pk}"]
    response = c.post(
        url("meeting_invitations", meeting),
        post | {"option_1": local(future()), "duration_minutes": 60},
        follow=True,
    )
    meeting.refresh_from_db()
    assert meeting.state == S.SCHEDULED
    invited = set(
        meeting.participants.filter(kind="staff", is_convener=False).values_list("user", flat=True)
    )
    assert invited == {marea.assessor.pk, marea.coordinator.pk, marea.contact.pk}
    text = " ".join(messages_of(response))
    for user in (marea.assessor, marea.coordinator, marea.contact):
        assert user.get_full_name() in text
    assert marea.relative.name in text
    assert marea.physician.get_full_name() not in text
    sent = OutboxMessage.objects.filter(meeting=meeting, kind="invitation")
    assert {m.to_address for m in sent} == {
        marea.assessor.email,
        marea.coordinator.email,
        marea.contact.email,
        marea.relative.email,
    }


def test_a_message_never_says_invitations_went_out_when_none_did(marea, meeting_in, login):
    """The defect: pressing "send the proposed times" without first pressing "Invite" said
    "everyone has already been sent the invitation" while no professional was invited."""
    meeting = meeting_in(S.CONSENT)
    c = login(marea.nurse)
    c.post(url("meeting_convening_start", meeting))
    # Two times, nobody ticked: only the relative (chosen in the consent) is invited.
    response = c.post(
        url("meeting_invitations", meeting),
        {"option_1": local(future(5)), "option_2": local(future(6)), "duration_minutes": 60},
        follow=True,
    )
    text = " ".join(messages_of(response))
    assert "redan" not in text  # never "already"
    assert marea.relative.name in text and marea.coordinator.get_full_name() not in text
    assert not OutboxMessage.objects.filter(meeting=meeting, recipient_user__isnull=False).exists()
    # Submitting again sends nothing new, and says so.
    response = c.post(
        url("meeting_invitations", meeting),
        {"option_1": local(future(5)), "option_2": local(future(6)), "duration_minutes": 60},
        follow=True,
    )
    assert "Ingen ny inbjudan skickades" in " ".join(messages_of(response))


def test_an_invitee_without_an_address_is_named_not_counted(marea, meeting_in, login):
    meeting = meeting_in(S.CONSENT)
    marea.contact.email = ""
    marea.contact.save()
    c = login(marea.nurse)
    c.post(url("meeting_convening_start", meeting))
    page = c.get(url("meeting_invitations", meeting))
    ticked = {n: "on" for n, f in page.context["form"].fields.items() if n.startswith("entry_")}
    response = c.post(
        url("meeting_invitations", meeting),
        ticked | {"option_1": local(future()), "duration_minutes": 60},
        follow=True,
    )
    success, warning = messages_of(response)
    assert marea.contact.get_full_name() not in success
    assert marea.contact.get_full_name() in warning and "Ring" in warning


def test_a_bad_time_saves_nothing(marea, meeting_in, login):
    meeting = meeting_in(S.CONSENT)
    c = login(marea.nurse)
    page = c.get(url("meeting_invitations", meeting))
    ticked = {n: "on" for n, f in page.context["form"].fields.items() if n.startswith("entry_")}
    response = c.post(
        url("meeting_invitations", meeting),
        ticked | {"option_1": "2021-06-01T10:00", "duration_minutes": 60},
    )
    assert response.context["form"].errors["option_1"]
    meeting.refresh_from_db()
    assert meeting.state == S.CONSENT and meeting.convener is None  # nothing half-saved
    assert not meeting.participants.filter(kind="staff").exists()


# --- 3. A meeting someone else proposed reaches every nurse of the home health care ---


@pytest.fixture
def colleagues(marea):
    """Two more nurses of the home health care organisation, not named in the care team."""
    return [
        MembershipFactory(organisation=marea.health_care, role=Role.NURSE).user for _ in range(2)
    ]


def test_a_meeting_proposed_by_the_assessor_waits_for_a_convener(marea, colleagues):
    marea.health_care.email = "hemsjukvard@example.org"
    marea.health_care.save()
    meeting = propose(marea, marea.assessor, marea.assessment, consent=consent_now())
    assert meeting.state == S.CONSENT
    assert meeting.convening_organisation == marea.health_care
    for nurse in [marea.nurse, *colleagues]:
        items, _counts = worklist(nurse)
        item = next(i for i in items if i.meeting.pk == meeting.pk)
        assert item.claim and [str(t) for t in item.tasks] == ["Väntar på någon som kallar"]
    # One message, to the organisation's function mailbox.
    asked = OutboxMessage.objects.filter(meeting=meeting, kind="convener_needed")
    assert [m.to_address for m in asked] == ["hemsjukvard@example.org"]
    # Recording the consent again (a change) asks no one twice.
    services.consent_record(
        actor=marea.assessor, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    assert asked.count() == 1
    # One nurse takes it on: it leaves the others' worklists.
    services.convening_start(actor=colleagues[0], meeting=meeting)
    for nurse in (marea.nurse, colleagues[1]):
        items, _counts = worklist(nurse)
        assert meeting.pk not in {i.meeting.pk for i in items}
    items, _counts = worklist(colleagues[0])
    assert meeting.pk in {i.meeting.pk for i in items}


def test_without_a_mailbox_each_nurse_is_told_once(marea, colleagues):
    marea.health_care.email = ""
    marea.health_care.save()
    meeting = propose(marea, marea.coordinator, marea.home_help, consent=consent_now())
    asked = OutboxMessage.objects.filter(meeting=meeting, kind="convener_needed")
    assert sorted(m.to_address for m in asked) == sorted(
        u.email for u in [marea.nurse, *colleagues]
    )
    # The message names no person (it goes to shared mailboxes and lock screens).
    from meetings.mail import render_email

    rendered = render_email(asked.first())
    assert marea.person.last_name not in rendered.subject + rendered.text
    assert url("meeting_detail", meeting) in rendered.text


def test_a_second_nurse_cannot_take_over_convening(marea, colleagues, login):
    meeting = propose(marea, marea.assessor, marea.assessment, consent=consent_now())
    services.convening_start(actor=colleagues[0], meeting=meeting)
    services.convening_start(actor=colleagues[0], meeting=meeting)  # a second click: no-op
    assert meeting.participants.filter(is_convener=True).count() == 1
    response = login(colleagues[1]).post(url("meeting_convening_start", meeting), follow=True)
    assert any(colleagues[0].get_full_name() in m for m in messages_of(response))
    meeting.refresh_from_db()
    assert meeting.convener == colleagues[0]


def test_the_worklist_offers_i_will_convene(marea, colleagues, login):
    meeting = propose(marea, marea.assessor, marea.assessment, consent=consent_now())
    html = login(colleagues[1]).get(reverse("home")).content.decode()
    assert url("meeting_convening_start", meeting) in html
    assert "Jag kallar" in html


def test_the_nurse_who_asks_herself_convenes_and_nobody_is_messaged(marea, colleagues):
    meeting = propose(marea, marea.nurse, marea.health_care, consent=consent_now())
    assert meeting.convener == marea.nurse and meeting.state == S.CONVENING
    assert not OutboxMessage.objects.filter(kind="convener_needed").exists()


# --- 4. The signed reply link lets the invitee mark each proposed time ---


def test_the_reply_page_lets_the_invitee_mark_the_proposed_times(marea, meeting_in, client):
    meeting = meeting_in(S.CONSENT)
    services.convening_start(actor=marea.nurse, meeting=meeting)
    one, two = future(5), future(6)
    services.meeting_convene(
        actor=marea.nurse,
        meeting=meeting,
        invitees=[services.Invitee(marea.coordinator, marea.home_help, Role.HOME_HELP_COORDINATOR)],
        times=[one, two],
    )
    participant = meeting.participants.get(user=marea.coordinator)
    link = reply_links.reply_url(participant, Participant.Response.ACCEPTED)
    page = client.get(link)
    html = page.content.decode()
    options = list(meeting.time_options.order_by("starts_at"))
    for option in options:
        assert f'name="suits_{option.pk}"' in html
    # the email asked for it: "which of the proposed times suit you"
    invitation = OutboxMessage.objects.get(participant=participant, kind="invitation")
    from meetings.mail import render_email

    assert "vilka av de föreslagna tiderna" in render_email(invitation).text.lower()
    token = re.search(r"/r/([^/]+)/", link).group(1)
    response = client.post(
        reverse("reply", kwargs={"token": token}), {"mode": "video", f"suits_{options[1].pk}": "on"}
    )
    assert response.status_code == 302
    votes = dict(TimeVote.objects.filter(participant=participant).values_list("option", "suits"))
    assert votes == {options[0].pk: False, options[1].pk: True}
    participant.refresh_from_db()
    assert participant.response == Participant.Response.ACCEPTED and participant.mode == "video"


def test_a_fixed_time_asks_for_no_times(marea, meeting_in, client):
    meeting = meeting_in(S.SCHEDULED)
    participant = meeting.participants.get(user=marea.coordinator)
    html = client.get(reply_links.reply_url(participant, Participant.Response.ACCEPTED))
    assert "suits_" not in html.content.decode()
