"""The sign-in lockout counts people, not spellings: every spelling of a username and the
email address share one count (28 wrong passwords over seven spellings, then the right one,
used to sign in); an account tried from many addresses is slowed down, not locked, so no
outsider can keep a named nurse out; the second factor is throttled per account."""

import datetime as dt

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse

from participants.lockout import account_key

pytestmark = pytest.mark.django_db

SPELLINGS = ["alice", "ALICE", "Alice", " alice ", "aLiCe", "alice@example.org",
             "ALICE@EXAMPLE.ORG"]  # fmt: skip


def _login(username, password, *, address="192.0.2.10"):
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


def test_every_spelling_names_one_account(area):
    keys = {account_key(None, {"username": spelling}) for spelling in SPELLINGS}
    assert keys == {f"account:{area.alice.pk}"}
    assert account_key(None, {"username": " Nobody  Here "}) == "name:nobody here"


# The slowdown is measured from the attempts' real times, and the tests then move those
# times back; the longest wait is set well above what the tries themselves can take on a
# busy machine, so no test depends on how fast the sign-ins run.
LONGEST_WAIT = 300


def test_wrong_passwords_over_seven_spellings_lock_the_account(area, password, settings):
    settings.SLOWDOWN_MAX_SECONDS = LONGEST_WAIT
    for attempt in range(28):
        response = _login(SPELLINGS[attempt % len(SPELLINGS)], "wrong")
        assert response.status_code in (200, 429)
    assert _login("alice", password).status_code == 429  # locked: the right one too
    assert _login("alice@example.org", password).status_code == 429
    # The lock is for that address and account: at her own address the nurse is slowed
    # down for a while (28 failures in all), then gets in.
    assert "Vänta" in _login("alice", password, address="198.51.100.7").content.decode()
    _time_passes(settings.SLOWDOWN_MAX_SECONDS)
    assert _login("alice", password, address="198.51.100.7").status_code == 302
    assert _login("alice", password).status_code == 429  # the attacker's address: still locked


def _time_passes(seconds: int) -> None:
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(seconds=seconds))


def test_an_account_tried_from_many_addresses_is_slowed_down_not_locked(area, password, settings):
    settings.SLOWDOWN_MAX_SECONDS = LONGEST_WAIT
    # An outsider tries from 12 addresses, three times each (below each pair's limit).
    for address in range(12):
        for _ in range(3):
            _login("alice", "wrong", address=f"203.0.113.{address}")
    # Alice, at her own address: asked to wait, not locked out...
    response = _login("alice", password, address="198.51.100.7")
    assert response.status_code == 200
    assert "Vänta" in response.content.decode()
    # ... and in after at most SLOWDOWN_MAX_SECONDS.
    _time_passes(settings.SLOWDOWN_MAX_SECONDS)
    assert _login("alice", password, address="198.51.100.7").status_code == 302


def test_a_name_without_an_account_is_slowed_the_same(area):
    for address in range(12):
        for _ in range(3):
            _login("ingen.sadan", "wrong", address=f"203.0.113.{address}")
    response = _login("ingen.sadan", "x", address="198.51.100.7")
    assert "Vänta" in response.content.decode()  # tells nothing about whether it exists


def test_the_second_factor_is_throttled_per_account(area, login):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from ..twofactor import confirmed_device, current_token

    device = confirmed_device(area.alice)

    def signed_in():
        client = Client(REMOTE_ADDR="203.0.113.9")
        client.force_login(area.alice, backend="participants.auth.UsernameOrEmailBackend")
        return client

    for _ in range(3):
        signed_in().post(reverse("otp_verify"), {"token": "000000"})
    device = TOTPDevice.objects.get(pk=device.pk)
    assert device.throttling_failure_count >= 1
    # The throttle is the account's (its device's), not a session's or an address's: a new
    # session right after, with the right code, waits it out too.
    response = signed_in().post(reverse("otp_verify"), {"token": current_token(device)})
    assert response.status_code == 200 and "_otp_device_id" not in response.wsgi_request.session
