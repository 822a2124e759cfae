"""Signing in with the shared cache (CACHE_URL on Redis, as in docker-compose.yml).

With a shared cache, sessions are `cached_db`; the signed-in user, their memberships and
whether they have a TOTP device are read from the database on every request, in one query
(participants.auth; no copy of them is cached). These tests run against a real Redis and
check that every change of access reaches the next request, however it was made: through
the models, `QuerySet.update()` or raw SQL.
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
from participants.models import Membership, Role

from ..conftest import use_shared_cache
from ..factories import MembershipFactory
from ..twofactor import confirmed_device
from . import test_sessions as plain

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


def _signed_in(area, password) -> Client:
    """Alice signed in, with one page seen (her session's copy is in the cache)."""
    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    return client


def _sent_to(response, url_name: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(url_name))


def _tables(queries) -> str:
    return " ".join(q["sql"] for q in queries)


def test_a_signed_in_request_reads_its_user_in_one_query_and_caches_no_user(area, password):
    from django.test.utils import override_settings

    client = _signed_in(area, password)
    with CaptureQueriesContext(connection) as queries, override_settings(VOM_BENCH=True):
        assert client.get("/healthz").status_code == 200
    sql = _tables(queries.captured_queries)
    assert 'FROM "django_session"' not in sql  # the session's copy is in the cache
    assert len(queries) == 1, sql  # the memberships, with their user, organisation, device
    assert 'FROM "participants_membership"' in sql
    # Nothing in Redis but the session's copy: no user, no page, nothing of a person.
    import redis
    from django.conf import settings

    keys = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).keys(
        f"{settings.CACHES['default']['KEY_PREFIX']}:*"
    )
    assert keys and all(b"django.contrib.sessions.cached_db" in key for key in keys), keys


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


def test_staff_deactivation_through_the_service_ends_access(area, password):
    client = _signed_in(area, password)
    services.staff_deactivate(actor=area.bob, membership=Membership.objects.get(user=area.alice))
    assert client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).status_code in (
        302,
        404,
    )


@pytest.mark.parametrize("how", ["update", "raw_sql"])
def test_a_membership_ended_by_update_or_raw_sql_ends_access_at_once(area, password, how):
    """No cache of the user to invalidate: a change no signal sees counts as well."""
    client = _signed_in(area, password)
    url = reverse("person_detail", kwargs={"pk": area.person.pk})
    assert client.get(url).status_code == 200
    if how == "update":
        Membership.objects.filter(user=area.alice).update(is_active=False)
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE participants_membership SET is_active = false WHERE user_id = %s",
                [area.alice.pk],
            )
    assert client.get(url).status_code == 404


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
    client = _signed_in(area, password)
    assert client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).status_code == 200


def test_a_sessions_copy_lives_in_the_cache_for_minutes_not_hours(area, password, settings):
    import redis

    client = _signed_in(area, password)
    assert client.get(reverse("home")).status_code == 200
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX

    key = cache.make_key(KEY_PREFIX + client.cookies["sessionid"].value)
    ttl = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).ttl(key)
    assert 0 < ttl <= settings.SESSION_CACHE_SECONDS < settings.SESSION_COOKIE_AGE


def test_a_per_process_cache_turns_the_shared_caching_off():
    """CACHE_URL=locmemcache:// would keep a session alive in one process after a logout in
    another: sessions stay in the database."""
    import subprocess
    import sys

    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'vom.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_ENGINE)"
    )
    for url, expected in (
        ("locmemcache://", "django.contrib.sessions.backends.db"),
        ("redis://127.0.0.1:6379/11", "vom.sessions"),
    ):
        env = {**os.environ, "CACHE_URL": url}
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert result.stdout.strip() == expected, url
