"""The relatives' area: sign-in links (single use, expiring, renewable), what a relative sees,
what they never see, and that withdrawing consent ends access at once."""

import time

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from meetings import relatives as rel
from meetings import services, summary_services
from meetings.models import Contribution, Meeting, OutboxMessage
from participants.models import AccessLog

from ..factories import (
    CareTeamEntryFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    RelativeFactory,
    proposed_days_ago,
)
from ..summary_fixtures import make_held_meeting

pytestmark = pytest.mark.django_db
S = Meeting.State


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def signin_token(relative) -> str:
    user = rel.relative_user_ensure(relative)
    return rel.signin_link(user).split("sesame=", 1)[1]


def signed_in(relative) -> Client:
    """A fresh browser in which the relative followed their link and pressed the button."""
    client = Client()
    response = client.post(reverse("relatives_signin"), {"sesame": signin_token(relative)})
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.fixture
def held(marea, meeting_in, media):
    meeting = make_held_meeting(marea, meeting_in)
    summary_services.summary_store(meeting_id=meeting.pk, language="sv")
    return meeting


@pytest.fixture
def other_meeting(db):
    """Another person's held-for-sharing meeting, with its own relative."""
    org = OrganisationFactory()
    nurse = MembershipFactory(organisation=org, role="nurse").user
    person = PersonFactory()
    CareTeamEntryFactory(person=person, organisation=org)
    CareTeamEntryFactory(person=person, organisation=org, member=nurse, role="nurse")
    relative = RelativeFactory(person=person)
    meeting = services.meeting_initiate(
        actor=nurse, person=person, organisation=org, reasons=["passive"], reason_text="",
        raised_by="nurse", urgency="routine", kind="small",
    )  # fmt: skip
    proposed_days_ago(meeting)
    from django.utils import timezone

    services.consent_record(
        actor=nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[relative], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    return Meeting.objects.get(pk=meeting.pk)


# --- Signing in ---


def test_the_link_opens_a_page_and_the_button_signs_in(marea, meeting_in):
    meeting_in(S.SCHEDULED)
    client = Client()
    token = signin_token(marea.relative)
    response = client.get(reverse("relatives_signin") + f"?sesame={token}")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session  # opening the link (a mail scanner) is not enough
    response = client.post(reverse("relatives_signin"), {"sesame": token})
    assert response.status_code == 302 and response["Location"] == reverse("relatives_home")
    assert client.get(reverse("relatives_home")).status_code == 200


def test_a_link_works_once(marea, meeting_in):
    meeting_in(S.SCHEDULED)
    token = signin_token(marea.relative)
    assert Client().post(reverse("relatives_signin"), {"sesame": token}).status_code == 302
    second = Client().post(reverse("relatives_signin"), {"sesame": token})
    assert second.status_code == 400
    assert reverse("relatives_link_request") in second.content.decode()


def test_a_link_expires(marea, meeting_in, settings):
    meeting_in(S.SCHEDULED)
    settings.SESAME_MAX_AGE = 1
    token = signin_token(marea.relative)
    time.sleep(2.1)
    assert Client().post(reverse("relatives_signin"), {"sesame": token}).status_code == 400


def test_a_staff_token_or_garbage_does_not_open_the_area(marea, meeting_in):
    from sesame.utils import get_token

    meeting_in(S.SCHEDULED)
    staff_token = get_token(marea.nurse, scope=rel.SIGNIN_SCOPE)
    for token in (staff_token, "x" * 40, "", "ä" * 600):
        response = Client().post(reverse("relatives_signin"), {"sesame": token})
        assert response.status_code == 400
    unscoped = get_token(rel.relative_user_ensure(marea.relative))
    assert Client().post(reverse("relatives_signin"), {"sesame": unscoped}).status_code == 400


def test_the_relatives_user_has_no_password_and_no_memberships(marea):
    user = rel.relative_user_ensure(marea.relative)
    assert rel.relative_user_ensure(marea.relative) == user  # created once
    assert not user.has_usable_password() and not user.memberships.exists()
    assert user.username == f"relative-{marea.relative.pk}"
    client = Client()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "anything-at-all"}
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_anyone_not_signed_in_is_asked_for_a_link_and_staff_get_404(held, marea, login):
    response = Client().get(reverse("relatives_home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("relatives_link_request")
    client = login(marea.nurse)
    assert client.get(reverse("relatives_home")).status_code == 404
    assert client.get(reverse("relatives_meeting", args=[held.pk])).status_code == 404


# --- Asking for a new link ---


def test_asking_for_a_link_answers_the_same_for_known_and_unknown_addresses(marea, meeting_in):
    meeting_in(S.SCHEDULED)
    url = reverse("relatives_link_request")
    known = Client().post(url, {"email": marea.relative.email.upper()})
    unknown = Client().post(url, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    page = Client().get(known["Location"]).content.decode()
    messages = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RELATIVE_SIGNIN)
    assert [m.to_address for m in messages] == [marea.relative.email]
    assert "/anhorig/logga-in/?sesame=" in messages[0].payload["url"]
    assert page.count("alert-success") == 1


def test_asking_again_at_once_sends_one_link(marea, meeting_in):
    meeting_in(S.SCHEDULED)
    for _ in range(3):
        Client().post(reverse("relatives_link_request"), {"email": marea.relative.email})
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RELATIVE_SIGNIN).count() == 1


def test_no_link_for_a_relative_not_chosen_or_after_withdrawal(marea, meeting_in):
    other = RelativeFactory(person=marea.person, email="granne@example.org")
    meeting = meeting_in(S.SCHEDULED)
    Client().post(reverse("relatives_link_request"), {"email": other.email})
    services.consent_withdraw(actor=marea.nurse, meeting=meeting)
    Client().post(reverse("relatives_link_request"), {"email": marea.relative.email})
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RELATIVE_SIGNIN).exists()


def test_link_request_form_keeps_bad_input_next_to_the_field(db):
    response = Client().post(reverse("relatives_link_request"), {"email": "not an address"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="not an address"' in body and "is-invalid" in body


# --- What a relative sees ---


def test_relative_sees_the_upcoming_meeting_and_writes_what_matters(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    client = signed_in(marea.relative)
    home = client.get(reverse("relatives_home")).content.decode()
    assert reverse("relatives_meeting", args=[meeting.pk]) in home
    page = client.get(reverse("relatives_meeting", args=[meeting.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert marea.coordinator.get_full_name() in body  # who is coming
    assert marea.person.access_notes not in body
    response = client.post(
        reverse("relatives_meeting", args=[meeting.pk]),
        {"what_matters": "Att mamma äter <b>ordentligt</b>.", "questions": ""},
    )
    assert response.status_code == 302
    contribution = Contribution.objects.get(meeting=meeting, relative=marea.relative)
    assert contribution.author == Contribution.Author.RELATIVE
    assert contribution.recorded_by is None
    body = client.get(reverse("relatives_meeting", args=[meeting.pk])).content.decode()
    assert "Att mamma äter &lt;b&gt;ordentligt&lt;/b&gt;." in body


def test_an_empty_contribution_is_refused_next_to_the_field(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    client = signed_in(marea.relative)
    response = client.post(
        reverse("relatives_meeting", args=[meeting.pk]), {"what_matters": " ", "questions": ""}
    )
    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not Contribution.objects.filter(relative=marea.relative).exists()


def test_relative_sees_the_summary_receipts_and_decision_status(held, marea):
    client = signed_in(marea.relative)
    response = client.get(reverse("relatives_meeting", args=[held.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Läkemedelsgenomgång" in body
    assert "summary-receipt" in body  # the trygghetskvitto
    assert "vom-status-none" in body  # follow-up status per decision (none reported yet)
    assert "HEMLIGT" not in body and marea.person.access_notes not in body
    assert marea.person.personnummer not in body
    pdf = client.get(reverse("relatives_summary_pdf", args=[held.pk]))
    assert pdf.status_code == 200 and pdf["Cache-Control"] == "no-store"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    # after the meeting there is nothing to write
    assert (
        client.post(reverse("relatives_meeting", args=[held.pk]), {"what_matters": "x"}).status_code
        == 404
    )


def test_follow_up_status_shows_the_latest_report(held, marea):
    from followup.models import DecisionStatus, DecisionStatusChange

    decision = held.decisions.get(organisation=marea.health_care)
    DecisionStatusChange.objects.create(
        decision=decision, status=DecisionStatus.IMPLEMENTED, date=held.held_at.date(),
        reported_by=marea.nurse, note="INTERN ANTECKNING",
    )  # fmt: skip
    rows = {r.description: r for r in rel.decision_status_rows(held)}
    assert rows[decision.description].status_code == DecisionStatus.IMPLEMENTED
    body = signed_in(marea.relative).get(reverse("relatives_meeting", args=[held.pk]))
    body = body.content.decode()
    assert "vom-status-implemented" in body
    assert "INTERN ANTECKNING" not in body  # the professionals' notes stay theirs


def test_every_view_by_a_relative_is_logged(held, marea):
    client = signed_in(marea.relative)
    before = AccessLog.objects.filter(role="relative").count()
    client.get(reverse("relatives_home"))
    client.get(reverse("relatives_meeting", args=[held.pk]))
    client.get(reverse("relatives_summary_pdf", args=[held.pk]))
    rows = AccessLog.objects.filter(role="relative").order_by("pk")[before:]
    marea.relative.refresh_from_db()
    assert len(rows) == 3
    assert {r.user_id for r in rows} == {marea.relative.user_id}
    assert {r.person_id for r in rows} == {marea.person.pk}
    assert [r.action for r in rows] == ["view", "view", "print"]


def test_relative_pages_query_count(held, marea, django_assert_max_num_queries):
    client = signed_in(marea.relative)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("relatives_home")).status_code == 200
    with django_assert_max_num_queries(45):
        assert client.get(reverse("relatives_meeting", args=[held.pk])).status_code == 200


# --- What a relative never sees ---


def test_another_persons_meeting_is_404(held, marea, other_meeting, media):
    client = signed_in(marea.relative)
    assert client.get(reverse("relatives_meeting", args=[other_meeting.pk])).status_code == 404
    assert client.get(reverse("relatives_summary_pdf", args=[other_meeting.pk])).status_code == 404
    assert (
        client.post(
            reverse("relatives_meeting", args=[other_meeting.pk]), {"what_matters": "x"}
        ).status_code
        == 404
    )
    assert not Contribution.objects.filter(meeting=other_meeting).exists()
    home = client.get(reverse("relatives_home")).content.decode()
    assert other_meeting.person.last_name not in home or other_meeting.person.first_name not in home
    # each refused look is in the other person's access log, as denied, by the relative
    denied = AccessLog.objects.filter(
        person=other_meeting.person, outcome=AccessLog.Outcome.DENIED, role="relative"
    )
    assert denied.count() == 3
    assert {row.object_id for row in denied} == {str(other_meeting.pk)}
    # a meeting number that does not exist is nothing to log
    assert client.get(reverse("relatives_meeting", args=[99999999])).status_code == 404
    assert AccessLog.objects.filter(outcome=AccessLog.Outcome.DENIED).count() == 3


def test_withdrawing_consent_ends_access_at_once(held, marea):
    client = signed_in(marea.relative)
    assert client.get(reverse("relatives_meeting", args=[held.pk])).status_code == 200
    services.consent_withdraw(actor=marea.nurse, meeting=held, note="Vill inte längre.")
    assert client.get(reverse("relatives_meeting", args=[held.pk])).status_code == 404
    assert client.get(reverse("relatives_summary_pdf", args=[held.pk])).status_code == 404
    home = client.get(reverse("relatives_home")).content.decode()
    assert "Läkemedelsgenomgång" not in home and marea.person.first_name not in home


def test_a_relative_no_longer_chosen_loses_access(marea, meeting_in):
    from django.utils import timezone

    meeting = meeting_in(S.SCHEDULED)
    client = signed_in(marea.relative)
    assert client.get(reverse("relatives_meeting", args=[meeting.pk])).status_code == 200
    services.consent_record(
        actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    assert client.get(reverse("relatives_meeting", args=[meeting.pk])).status_code == 404


def _url_names(resolver=None, prefix=""):
    """(name, route) of every named URL in the project."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _url_names(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix + str(entry.pattern), entry


# Pages anyone may open, and the relatives' own.
PUBLIC_OR_RELATIVE = {
    "login", "logout", "password_reset", "password_reset_done", "password_reset_confirm",
    "password_reset_complete", "set_language", "healthz", "otp_verify", "otp_setup",
    "otp_backup_codes",
    "relatives_home", "relatives_signin", "relatives_link_request", "relatives_meeting",
    "relatives_summary_pdf",
    # Signing in through an organisation's identity provider happens before anyone is
    # signed in; a callback nobody started is refused with the sign-in page's own 403.
    "sso_start", "sso_oidc_callback",
}  # fmt: skip


def test_every_staff_page_is_404_for_a_relative(held, marea):
    import re

    client = signed_in(marea.relative)
    decision = held.decisions.first()
    participant = held.participants.filter(user__isnull=False).first()
    values = {
        "pk": held.pk, "person_pk": marea.person.pk, "relative_pk": marea.relative.pk,
        "org_pk": marea.health_care.pk, "decision_pk": decision.pk,
        "participant_pk": participant.pk, "item": 2, "version": 1, "membership_pk": 1,
        "entry_pk": 1, "review_pk": 1,
    }  # fmt: skip
    checked = []
    for name, route, _entry in _url_names():
        if name in PUBLIC_OR_RELATIVE or route.startswith(("operator/", "r/")):
            continue  # Django admin (staff flag) and the tokened public reply links
        kwargs = {}
        for key, converter in re.findall(r"<(?:(\w+):)?(\w+)>", route):
            kwargs[converter] = values.get(converter, 1) if key in ("int", "") else "x"
        try:
            url = reverse(name, kwargs=kwargs)
        except Exception:  # noqa: BLE001 - a route with parameters we cannot fill
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if name == "home":
                # The start page sends a relative to their own area.
                assert response.status_code == 302
                assert response["Location"] == reverse("relatives_home")
                continue
            status = response.status_code
            assert status in (404, 405), f"{method.upper()} {name} {url} answered {status}"
        checked.append(name)
    assert {"person_detail", "meeting_detail", "summary_page", "summary_pdf"} <= set(checked)
    assert len(checked) > 20


def test_the_admin_is_closed_to_a_relative(held, marea):
    client = signed_in(marea.relative)
    response = client.get("/operator/")
    assert response.status_code == 302 and "/operator/login/" in response["Location"]
