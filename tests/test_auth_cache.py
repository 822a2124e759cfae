"""Sign-in data from a shared cache (CACHE_URL on Redis, as in docker-compose.yml).

With a shared cache, sessions are `cached_db` and the signed-in user, their memberships and
whether they have a TOTP device come from one cache entry (participants.auth). These tests
run against a real Redis and check that every change that matters reaches the next request.
"""

import contextlib
import os
import secrets

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from participants import services
from participants.auth import CHANGED_MARK, auth_cache_key
from participants.models import Membership, Role

from . import test_sessions as plain
from .conftest import cache_signed_in_user, use_shared_cache
from .factories import MembershipFactory
from .twofactor import confirmed_device

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shared_cache(settings, redis_url):
    use_shared_cache(settings, redis_url)
    yield
    with contextlib.suppress(Exception):  # one test stops the cache on purpose
        cache.clear()


# The session rules hold unchanged with sessions and users in the cache.
test_idle_timeout_sends_to_login_with_the_message = (
    plain.test_idle_timeout_sends_to_login_with_the_message
)
test_absolute_limit_ends_even_an_active_session = (
    plain.test_absolute_limit_ends_even_an_active_session
)
test_requests_do_not_move_the_login_time = plain.test_requests_do_not_move_the_login_time
test_disabled_users_session_ends_at_once = plain.test_disabled_users_session_ends_at_once
test_ended_membership_ends_access_but_not_other_memberships = (
    plain.test_ended_membership_ends_access_but_not_other_memberships
)


def _signed_in(area, password, *, cached: bool = True) -> Client:
    """Alice signed in. With `cached`, her sign-in data is in the cache as on any request
    after the first half minute (the login's own change mark has expired), so a test of a
    change checks that the change reaches a cached user, not one read afresh anyway."""
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    if cached:
        assert cache.get(auth_cache_key(area.alice.pk)) == CHANGED_MARK  # from last_login
        cache_signed_in_user(client, area.alice)
    return client


def _sent_to(response, url_name: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(url_name))


def _tables(queries) -> str:
    return " ".join(q["sql"] for q in queries)


def test_a_signed_in_request_reads_no_session_user_or_membership_rows(area, password):
    client = _signed_in(area, password)
    url = reverse("person_detail", kwargs={"pk": area.person.pk})
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    sql = _tables(queries.captured_queries)
    assert 'FROM "django_session"' not in sql
    assert 'FROM "participants_user"' not in sql
    # (the page's care-team panel reads its members' memberships with IN; not this one)
    assert f'"participants_membership"."user_id" = {area.alice.pk}' not in sql
    assert cache.get(auth_cache_key(area.alice.pk)).pk == area.alice.pk


def test_logout_ends_the_session_for_every_copy_of_the_cookie(area, password):
    client = _signed_in(area, password)
    copy = Client()
    copy.cookies = client.cookies.__class__(client.cookies)
    assert copy.get(reverse("home")).status_code == 200
    client.post(reverse("logout"))
    response = copy.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_new_membership_counts_on_the_next_request(area, password):
    client = _signed_in(area, password)
    other = area.outsider_org
    assert client.get(reverse("home")).status_code == 200
    MembershipFactory(user=area.alice, organisation=other, role=Role.ORG_ADMIN)
    # An organisation admin must have a second factor: the next page is the enrolment.
    _sent_to(client.get(reverse("home")), "otp_setup")


def test_a_deactivated_organisation_ends_its_members_access(area, password):
    client = _signed_in(area, password)
    url = reverse("person_detail", kwargs={"pk": area.person.pk})
    assert client.get(url).status_code == 200
    area.health_care.is_active = False
    area.health_care.save()
    assert client.get(url).status_code == 404


def test_a_confirmed_device_asks_for_the_code_on_the_next_request(area, password):
    client = _signed_in(area, password)
    assert client.get(reverse("home")).status_code == 200
    confirmed_device(area.alice)
    _sent_to(client.get(reverse("home")), "otp_verify")


def test_a_password_change_elsewhere_ends_this_session(area, password):
    client = _signed_in(area, password)
    assert client.get(reverse("home")).status_code == 200
    area.alice.set_password(secrets.token_urlsafe(16))
    area.alice.save()
    _sent_to(client.get(reverse("home")), "login")


def test_staff_deactivation_through_the_service_clears_the_entry(area, password):
    _signed_in(area, password)  # her sign-in data is in the cache
    services.staff_deactivate(actor=area.bob, membership=Membership.objects.get(user=area.alice))
    assert cache.get(auth_cache_key(area.alice.pk)) == CHANGED_MARK


def test_pages_work_when_the_cache_is_down(area, password, settings):
    client = _signed_in(area, password)
    _dead_cache(settings)
    response = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response.status_code == 200
    assert "Åkesson" in response.content.decode()
    # Signing out still ends the session (in the database, which requests fall back to).
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def _dead_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }


def test_signing_in_works_when_the_cache_is_down(area, password, settings):
    _dead_cache(settings)
    # The new session's key is checked with exists(); nothing can be cached.
    client = _signed_in(area, password, cached=False)
    assert client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).status_code == 200


def test_a_sessions_copy_lives_in_the_cache_for_minutes_not_hours(area, password, settings):
    import redis

    client = _signed_in(area, password)
    assert client.get(reverse("home")).status_code == 200
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    key = cache.make_key(KEY_PREFIX + client.cookies["sessionid"].value)
    ttl = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).ttl(key)
    assert 0 < ttl <= settings.SESSION_CACHE_SECONDS < settings.SESSION_COOKIE_AGE


def test_a_change_leaves_a_mark_that_keeps_the_old_user_out_of_the_cache(area, password):
    client = _signed_in(area, password)
    assert client.get(reverse("home")).status_code == 200
    key = auth_cache_key(area.alice.pk)
    area.alice.first_name = "Alicia"
    area.alice.save()
    assert cache.get(key) == CHANGED_MARK
    # While the mark lasts, requests read the user from the database and cache nothing.
    assert client.get(reverse("home")).status_code == 200
    assert cache.get(key) == CHANGED_MARK
    cache.delete(key)  # the mark has expired
    assert client.get(reverse("home")).status_code == 200
    assert cache.get(key).first_name == "Alicia"


def test_a_per_process_cache_turns_the_shared_caching_off():
    """CACHE_URL=locmemcache:// would keep a session alive in one process after a logout in
    another: sessions stay in the database and users are not cached."""
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'vom.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_ENGINE, s.AUTH_CACHE_SECONDS)"
    )
    for url, expected in (
        ("locmemcache://", "django.contrib.sessions.backends.db 0"),
        ("redis://127.0.0.1:6379/11", "vom.sessions 60"),
    ):
        env = {**os.environ, "CACHE_URL": url}
        env.pop("AUTH_CACHE_SECONDS", None)
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == expected, url
