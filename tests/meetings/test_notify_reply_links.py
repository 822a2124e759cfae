"""Answering an invitation with the signed link from the email, without signing in."""

import base64
import datetime as dt
import json
import time

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from meetings import reply_links, services
from meetings.models import Meeting, OutboxMessage, Participant

from ..notify_support import schedule_meeting

R = Participant.Response


@pytest.fixture
def scheduled(area):
    return schedule_meeting(area)


def _url(participant, response, **kwargs) -> str:
    return reverse("reply", args=[reply_links.make_token(participant, response, **kwargs)])


def test_opening_the_link_only_shows_a_page(client, scheduled):
    """A mail scanner that follows the link answers for no one."""
    response = client.get(_url(scheduled.bob, R.ACCEPTED))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Bekräfta mitt svar" in page  # Bob reads Swedish
    assert 'name="robots" content="noindex' in page
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.NEEDS_ACTION


def test_confirming_records_the_answer_and_the_link_then_shows_it_is_used(client, scheduled):
    url = _url(scheduled.bob, R.ACCEPTED)
    response = client.post(url, {"mode": Participant.Mode.VIDEO})
    assert response.status_code == 302
    assert response["Location"] == url
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.ACCEPTED
    assert scheduled.bob.mode == Participant.Mode.VIDEO
    # The reminder to answer is void now.
    assert not OutboxMessage.objects.filter(
        participant=scheduled.bob,
        kind=OutboxMessage.Kind.REMINDER_NO_REPLY,
        status=OutboxMessage.Status.PENDING,
    ).exists()

    again = client.get(url)
    assert again.status_code == 200
    page = again.content.decode()
    assert "Du har svarat: Tackat ja." in page
    assert "Bekräfta mitt svar" not in page

    # Posting the used link again changes nothing and does not fail.
    assert client.post(url, {"mode": Participant.Mode.VIDEO}).status_code == 302
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.ACCEPTED


def test_declining_a_standard_role_tells_the_convener(client, scheduled):
    response = client.post(_url(scheduled.dora, R.DECLINED))
    assert response.status_code == 302
    scheduled.dora.refresh_from_db()
    assert scheduled.dora.response == R.DECLINED
    notice = OutboxMessage.objects.get(kind=OutboxMessage.Kind.ROLE_DECLINED)
    assert notice.to_address == "alice@example.org"


def test_a_relative_answers_and_reads_the_page_in_their_language(client, scheduled):
    url = _url(scheduled.relative, R.TENTATIVE)
    page = client.get(url).content.decode()
    assert "Confirm my answer" in page  # Karin reads English
    assert "Björkvägen" not in page and "Portkod" not in page
    assert "köket" not in page
    assert client.post(url, {"mode": Participant.Mode.PHONE}).status_code == 302
    scheduled.relative.refresh_from_db()
    assert scheduled.relative.response == R.TENTATIVE


def _tamper_participant(token: str, participant_id: int) -> str:
    """The same token with another participant's id in the payload (signature kept)."""
    payload, stamp, signature = token.split(":")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["p"] = participant_id
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{forged.decode().rstrip('=')}:{stamp}:{signature}"


def test_a_link_cannot_be_turned_into_an_answer_for_someone_else(client, scheduled):
    token = reply_links.make_token(scheduled.bob, R.DECLINED)
    forged = _tamper_participant(token, scheduled.dora.pk)
    assert forged != token
    for method in (client.get, client.post):
        response = method(reverse("reply", args=[forged]))
        assert response.status_code == 400
    scheduled.dora.refresh_from_db()
    assert scheduled.dora.response == R.NEEDS_ACTION
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.ROLE_DECLINED).exists()


def test_someone_signed_in_cannot_use_a_link_to_answer_for_themselves(login, scheduled, area):
    """Bob's link answers for Bob even when Dora opens it: the token alone decides."""
    client = login(scheduled.dora.user)
    client.post(_url(scheduled.bob, R.ACCEPTED))
    scheduled.bob.refresh_from_db()
    scheduled.dora.refresh_from_db()
    assert scheduled.bob.response == R.ACCEPTED
    assert scheduled.dora.response == R.NEEDS_ACTION


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nonsense",
        "a:b:c",
        "eyJwIjoxfQ:1abcde:" + "A" * 43,
        signing.TimestampSigner(salt="another-salt").sign_object({"p": 1, "r": "a", "s": 0}),
    ],
)
def test_broken_links_get_a_clear_page_not_an_error(client, scheduled, token):
    url = reverse("reply", args=[token]) if token else "/r/%20/"
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert response.status_code != 500


def test_changed_signature_is_refused(client, scheduled):
    token = reply_links.make_token(scheduled.bob, R.ACCEPTED)
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.post(reverse("reply", args=[broken])).status_code == 400
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.NEEDS_ACTION


class _SignerOf31DaysAgo(signing.TimestampSigner):
    def timestamp(self):
        return signing.b62_encode(int(time.time()) - 31 * 24 * 3600)


def test_an_old_link_has_expired(client, scheduled):
    payload = {"p": scheduled.bob.pk, "r": "a", "s": scheduled.meeting.ical_sequence}
    token = _SignerOf31DaysAgo(salt=reply_links.SALT).sign_object(payload)
    response = client.post(reverse("reply", args=[token]))
    assert response.status_code == 410
    assert "30" in response.content.decode()
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.NEEDS_ACTION


def test_a_link_stops_working_when_the_meeting_has_passed(client, scheduled):
    url = _url(scheduled.bob, R.ACCEPTED)
    Meeting.objects.filter(pk=scheduled.meeting.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert client.get(url).status_code == 410
    assert client.post(url).status_code == 410
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.NEEDS_ACTION


def test_a_link_from_before_a_new_time_is_replaced(client, scheduled, area):
    url = _url(scheduled.bob, R.ACCEPTED)
    services.meeting_reschedule(
        actor=area.alice,
        meeting=scheduled.meeting,
        starts_at=scheduled.meeting.starts_at + dt.timedelta(days=1),
    )
    response = client.post(url)
    assert response.status_code == 410
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.NEEDS_ACTION
    # The new invitation's link works.
    assert client.post(_url(scheduled.bob, R.ACCEPTED)).status_code == 302


def test_a_link_stops_working_when_cancelled_or_uninvited(client, scheduled, area):
    bob_url = _url(scheduled.bob, R.ACCEPTED)
    services.participant_remove(actor=area.alice, participant=scheduled.bob)
    assert client.post(bob_url).status_code == 410

    dora_url = _url(scheduled.dora, R.ACCEPTED)
    services.meeting_cancel(actor=area.alice, meeting=scheduled.meeting, reason="Inlagd")
    response = client.get(dora_url)
    assert response.status_code == 410
    assert client.post(dora_url).status_code == 410


def test_link_of_a_deleted_invitation(client, scheduled):
    token = reply_links.make_token(scheduled.bob, R.ACCEPTED)
    forged_id = Participant.objects.order_by("-pk").first().pk + 100
    payload = {"p": forged_id, "r": "a", "s": 0}
    token = signing.TimestampSigner(salt=reply_links.SALT).sign_object(payload)
    assert client.get(reverse("reply", args=[token])).status_code == 404


def test_the_page_offers_the_other_answers(client, scheduled):
    page = client.get(_url(scheduled.bob, R.ACCEPTED)).content.decode()
    for response in (R.DECLINED, R.TENTATIVE):
        token = reply_links.make_token(scheduled.bob, response)
        # Tokens carry a timestamp: compare the part that names participant and answer.
        assert token.split(":")[0] in page


def test_without_csrf_token_nothing_is_recorded(scheduled):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.post(_url(scheduled.bob, R.ACCEPTED)).status_code == 403
    scheduled.bob.refresh_from_db()
    assert scheduled.bob.response == R.NEEDS_ACTION


def test_reply_page_queries_are_bounded(client, scheduled, django_assert_max_num_queries):
    url = _url(scheduled.bob, R.ACCEPTED)
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200
