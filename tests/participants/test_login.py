import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _post_login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_login_with_username_or_email(area, password):
    assert _post_login(Client(), "alice", password).status_code == 302
    assert _post_login(Client(), "ALICE@example.org", password).status_code == 302


def test_wrong_password_shows_an_error(area):
    client = Client()
    client.cookies["django_language"] = "en"
    response = _post_login(client, "alice", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct" in response.content.decode()


def test_lockout_after_repeated_failures(area, password):
    client = Client()
    for _ in range(5):
        _post_login(client, "alice", "wrong")
    response = _post_login(client, "alice", password)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_working_link(area):
    from meetings import delivery
    from meetings.models import OutboxMessage

    client = Client()
    response = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302
    # Through the outbox, like every message (sent by the task, or the sweep).
    (row,) = OutboxMessage.objects.filter(kind="password_reset", recipient_user=area.alice)
    assert delivery.deliver(row.pk) == "sent"
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link[link.index("/accounts/reset/") :]
    response = client.get(path, follow=True)
    assert response.status_code == 200
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "Ny-Lösen-Som-Håller-1", "new_password2": "Ny-Lösen-Som-Håller-1"},
    )
    assert response.status_code == 302
    assert _post_login(Client(), "alice", "Ny-Lösen-Som-Håller-1").status_code == 302


def test_common_password_is_refused(area):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("password1234", area.alice)


def test_login_page_works_in_swedish_and_english(client):
    assert "Logga in" in client.get(reverse("login")).content.decode()
    client.cookies["django_language"] = "en"
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_open_redirect_through_next_is_refused(area, password):
    client = Client()
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "alice", "password": password, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
