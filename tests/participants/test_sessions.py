"""Sessions, cookies and headers: idle and absolute timeouts, disabled users, check --deploy."""

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from participants import services
from participants.models import Membership

pytestmark = pytest.mark.django_db


def _logged_in(area, password) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    return client


def _shift(client, **seconds_ago):
    session = client.session
    for key, ago in seconds_ago.items():
        session[key] = int(time.time()) - ago
    session.save()


def test_login_records_the_login_time(area, password):
    before = int(time.time())
    client = _logged_in(area, password)
    assert before <= client.session["login_at"] <= int(time.time())


def test_idle_timeout_sends_to_login_with_the_message(area, password, settings):
    client = _logged_in(area, password)
    _shift(client, last_seen=settings.SESSION_IDLE_SECONDS + 5)
    response = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(reverse("login") + "?timeout=1")
    assert "next=" in location
    assert "_auth_user_id" not in client.session
    client.cookies["django_language"] = "en"
    page = client.get(location)
    assert "logged out after a period of inactivity" in page.content.decode()


def test_activity_keeps_an_idle_session_alive(area, password, settings):
    client = _logged_in(area, password)
    _shift(client, last_seen=settings.SESSION_IDLE_SECONDS - 120)
    assert client.get(reverse("home")).status_code == 200
    assert int(time.time()) - client.session["last_seen"] < 5


def test_absolute_limit_ends_even_an_active_session(area, password, settings):
    client = _logged_in(area, password)
    _shift(client, login_at=settings.SESSION_COOKIE_AGE + 5, last_seen=10)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert "timeout=absolute" in response["Location"]
    assert "_auth_user_id" not in client.session
    client.cookies["django_language"] = "en"
    assert "sessions last at most 12 hours" in client.get(response["Location"]).content.decode()


def test_requests_do_not_move_the_login_time(area, password, settings):
    client = _logged_in(area, password)
    _shift(client, login_at=3600, last_seen=61)
    login_at = client.session["login_at"]
    for _ in range(3):
        assert client.get(reverse("home")).status_code == 200
    assert client.session["login_at"] == login_at
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_COOKIE_AGE == 12 * 3600


def test_a_session_from_before_login_time_was_kept_gets_the_full_limit(area, login):
    client = login(area.alice)
    session = client.session
    del session["login_at"]
    session.save()
    assert client.get(reverse("home")).status_code == 200
    assert abs(client.session["login_at"] - int(time.time())) < 5


def test_disabled_users_session_ends_at_once(area, password):
    client = _logged_in(area, password)
    assert client.get(reverse("home")).status_code == 200
    services.staff_deactivate(actor=area.bob, membership=Membership.objects.get(user=area.alice))
    response = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_ended_membership_ends_access_but_not_other_memberships(area, password):
    from participants.models import Role

    from ..factories import MembershipFactory

    MembershipFactory(user=area.alice, organisation=area.outsider_org, role=Role.NURSE)
    client = _logged_in(area, password)
    url = reverse("person_detail", kwargs={"pk": area.person.pk})
    assert client.get(url).status_code == 200
    services.staff_deactivate(
        actor=area.bob,
        membership=Membership.objects.get(user=area.alice, organisation=area.health_care),
    )
    # still signed in through the other organisation, but the person is no longer theirs
    assert client.get(url).status_code == 404


def test_cookies_are_secure_httponly_and_samesite(area, password):
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert response.cookies["csrftoken"]["secure"]


def test_hsts_frame_denial_referrer_and_no_store(area, login):
    response = login(area.alice).get(
        reverse("person_detail", kwargs={"pk": area.person.pk}), secure=True
    )
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"


def test_csp_has_no_inline_script_or_style():
    from vom.middleware import CSP

    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "unsafe" not in CSP


def test_check_deploy_is_clean_with_production_settings():
    root = Path(__file__).resolve().parents[2]
    # A clean environment: what a test run has set (e.g. DJANGO_ALLOW_ASYNC_UNSAFE for the
    # browser tests) is not what production has.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    env.update(
        SECRET_KEY=secrets.token_urlsafe(64),
        DEBUG="false",
        ALLOWED_HOSTS="vom.example.org",
        SECURE_SSL_REDIRECT="true",
        CSRF_TRUSTED_ORIGINS="https://vom.example.org",
        SITE_URL="https://vom.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
