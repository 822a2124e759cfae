"""Account emails go through the outbox like every other message: with the mail server down,
adding a staff member does not fail (it answered 500 after saving the user) and a password
reset is not lost while the page says it was sent; the administrator sees whether the link
went out and can send it again; once the server is back each link arrives once and works."""

import pytest
from django.test import Client
from django.urls import reverse

from meetings import delivery
from meetings.models import OutboxMessage
from participants.models import Membership, Role, User

from ..factories import MembershipFactory
from ..notify_support import free_port, smtp_server, subject, use_smtp

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_server_down(settings):
    """An SMTP address on loopback where nothing listens: every connection is refused."""
    use_smtp(settings, free_port())
    settings.EMAIL_TIMEOUT = 2
    settings.OUTBOX_RETRY_SECONDS = 0


@pytest.fixture
def admin(area):
    return MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user


def _add_staff(client, area):
    return client.post(
        reverse("staff_create", kwargs={"org_pk": area.health_care.pk}),
        {
            "username": "ny.sjukskoterska",
            "first_name": "Åsa",
            "last_name": "Nyberg",
            "email": "asa.nyberg@example.org",
            "role": Role.NURSE,
        },
    )


def test_adding_staff_with_the_mail_server_down_works_and_says_so(
    area, admin, login, mail_server_down, settings, django_capture_on_commit_callbacks
):
    client = login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = _add_staff(client, area)
    assert response.status_code == 302  # not a 500
    user = User.objects.get(username="ny.sjukskoterska")
    assert Membership.objects.filter(user=user, organisation=area.health_care).exists()
    (row,) = OutboxMessage.objects.filter(kind="account_welcome", recipient_user=user)
    assert delivery.deliver(row.pk) == "retry"  # refused: tried again later
    row.refresh_from_db()
    assert row.status == "pending" and row.attempts == 1
    page = client.get(reverse("staff_list", kwargs={"org_pk": area.health_care.pk}))
    assert "Lösenordslänken är på väg" in page.content.decode()
    # It keeps failing: the list says so and offers to send it again.
    for _attempt in range(settings.OUTBOX_MAX_ATTEMPTS):
        delivery.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == "failed"
    html = client.get(reverse("staff_list", kwargs={"org_pk": area.health_care.pk})).content
    assert "Lösenordslänken levererades inte" in html.decode()
    assert reverse("outbox_resend", args=[row.pk]) in html.decode()

    # The server is back: the administrator sends it again; it arrives once and works.
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        response = client.post(reverse("outbox_resend", args=[row.pk]))
        assert response.status_code == 302
        assert delivery.sweep() == 1
        assert delivery.sweep() == 0
    (message,) = inbox.to("asa.nyberg@example.org")
    assert "lösenord" in subject(message).lower()
    text = message.get_body(preferencelist=("plain",)).get_content()
    link = next(line for line in text.splitlines() if "/accounts/reset/" in line).strip()
    page = Client().get(link[link.index("/accounts/reset/") :], follow=True)
    assert page.context["validlink"]


def test_a_password_reset_with_the_mail_server_down_is_kept_not_lost(
    area, mail_server_down, settings
):
    response = Client().post(reverse("password_reset"), {"email": area.alice.email})
    assert response.status_code == 302  # the same answer for known and unknown addresses
    (row,) = OutboxMessage.objects.filter(kind="password_reset", recipient_user=area.alice)
    assert delivery.deliver(row.pk) == "retry"
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        assert delivery.sweep() == 1
    (message,) = inbox.to(area.alice.email)
    assert "/accounts/reset/" in message.get_body(preferencelist=("plain",)).get_content()


def test_pressing_reset_twice_sends_one_link(area):
    for _ in range(2):
        Client().post(reverse("password_reset"), {"email": area.alice.email})
    assert OutboxMessage.objects.filter(kind="password_reset").count() == 1


def test_no_token_is_stored_in_the_outbox(area, admin, login):
    _add_staff(login(admin), area)
    row = OutboxMessage.objects.get(kind="account_welcome")
    assert "token" not in str(row.payload) and "/accounts/reset/" not in str(row.payload)


def test_only_the_administrator_of_the_recipient_may_resend(area, admin, login):
    _add_staff(login(admin), area)
    row = OutboxMessage.objects.get(kind="account_welcome")
    OutboxMessage.objects.filter(pk=row.pk).update(status="failed")
    other_admin = MembershipFactory(organisation=area.home_help, role=Role.ORG_ADMIN).user
    client = Client()
    client.force_login(other_admin, backend="participants.auth.UsernameOrEmailBackend")
    from ..twofactor import verify_second_factor

    verify_second_factor(client, other_admin)
    assert client.post(reverse("outbox_resend", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.status == "failed"
