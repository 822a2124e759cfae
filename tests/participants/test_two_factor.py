"""TOTP second factor (django-otp), enforced in one place: vom.middleware.SecondFactorMiddleware.

Codes are real: computed with django_otp.oath.totp from the device's key.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from participants import services
from participants.models import ChangeRecord, Membership, Role

from ..factories import MembershipFactory
from ..twofactor import confirmed_device, current_token, token_for_key

pytestmark = pytest.mark.django_db


def _password_login(username, password) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


@pytest.fixture
def manager(area):
    return MembershipFactory(
        organisation=area.health_care, role=Role.MANAGER, user__username="maja"
    ).user


@pytest.fixture
def org_admin(area):
    return MembershipFactory(
        organisation=area.health_care, role=Role.ORG_ADMIN, user__username="adam"
    ).user


def _enrol(client) -> TOTPDevice:
    page = client.get(reverse("otp_setup"))
    assert page.status_code == 200
    key = client.session["otp_setup_key"]
    response = client.post(reverse("otp_setup"), {"token": token_for_key(key)})
    assert response.status_code == 200  # the backup codes, shown once
    assert len(response.context["codes"]) == services.BACKUP_CODE_COUNT
    return TOTPDevice.objects.get(key=key)


def test_care_staff_without_a_device_sign_in_with_password_alone(area, password):
    client = _password_login("alice", password)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).status_code == 200


def test_setup_page_shows_a_server_rendered_qr_code_and_the_key(area, login):
    client = login(area.alice)
    response = client.get(reverse("otp_setup"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and 'class="otp-qr"' in body
    # no inline script or style (the CSP allows neither); the page's own files are fine
    assert not re.search(r"<script(?![^>]*\bsrc=)", body) and " style=" not in body
    assert "otpauth://totp/VOM" in body
    key = client.session["otp_setup_key"]
    from base64 import b32encode
    from binascii import unhexlify

    secret = b32encode(unhexlify(key)).decode()
    shown = "".join(re.findall(r"<code>([A-Z2-7 ]+)</code>", body)[0].split())
    assert shown == secret
    assert not TOTPDevice.objects.filter(user=area.alice).exists()  # nothing stored on GET


def test_nurse_enrols_voluntarily_and_is_then_asked_for_a_code(area, login, password):
    client = login(area.alice)
    device = _enrol(client)
    assert device.confirmed and device.user == area.alice
    assert ChangeRecord.objects.filter(object_type="otp_totp.totpdevice", action="create").exists()
    # the enrolling session counts as verified
    assert client.get(reverse("home")).status_code == 200

    fresh = _password_login("alice", password)
    response = fresh.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))


def test_wrong_code_at_setup_stores_nothing(area, login):
    client = login(area.alice)
    client.get(reverse("otp_setup"))
    key = client.session["otp_setup_key"]
    wrong = token_for_key(key, steps_away=5)
    response = client.post(reverse("otp_setup"), {"token": wrong})
    assert response.status_code == 200
    assert "token" in response.context["form"].errors
    assert not TOTPDevice.objects.filter(user=area.alice).exists()


def test_user_with_a_device_must_enter_a_code_before_any_page(area, password, settings):
    device = confirmed_device(area.alice)
    client = _password_login("alice", password)
    for url in [
        reverse("home"),
        reverse("person_detail", kwargs={"pk": area.person.pk}),
        reverse("person_extract_json", kwargs={"pk": area.person.pk}),
        reverse("otp_setup"),  # no way around the code by enrolling a new app
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("otp_verify")), url
    # a POST does nothing either
    response = client.post(reverse("care_team_add", kwargs={"pk": area.person.pk}), {})
    assert response.status_code == 302

    target = reverse("person_detail", kwargs={"pk": area.person.pk})
    response = client.post(
        reverse("otp_verify") + f"?next={target}", {"token": current_token(device)}
    )
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200


def test_wrong_code_is_refused_then_throttled(area, password, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    device = confirmed_device(area.alice)
    client = _password_login("alice", password)
    client.cookies["django_language"] = "en"
    good = current_token(device)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post(reverse("otp_verify"), {"token": bad})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    # right after a failure even the right code waits: guessing a million codes takes years
    response = client.post(reverse("otp_verify"), {"token": good})
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_a_code_cannot_be_used_twice(area, password):
    device = confirmed_device(area.alice)
    token = current_token(device)
    first = _password_login("alice", password)
    assert first.post(reverse("otp_verify"), {"token": token}).status_code == 302
    second = _password_login("alice", password)
    response = second.post(reverse("otp_verify"), {"token": token})
    assert response.status_code == 200
    assert second.get(reverse("home")).status_code == 302


def test_malformed_codes_are_form_errors(area, password):
    confirmed_device(area.alice)
    client = _password_login("alice", password)
    for token in ["", "12345", "abcdef", "１２３４５６", "1" * 5000, "12 34 5x"]:
        response = client.post(reverse("otp_verify"), {"token": token})
        assert response.status_code == 200, token
        assert response.context["form"].errors


def test_next_after_the_code_cannot_leave_the_site(area, password):
    device = confirmed_device(area.alice)
    client = _password_login("alice", password)
    response = client.post(
        reverse("otp_verify") + "?next=https://evil.example/", {"token": current_token(device)}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


@pytest.mark.parametrize("who", ["manager", "org_admin"])
def test_managers_and_admins_must_enrol_before_anything_else(area, password, who, request):
    user = request.getfixturevalue(who)
    client = _password_login(user.username, password)
    blocked = [
        reverse("home"),
        reverse("staff_list", kwargs={"org_pk": area.health_care.pk}),
        reverse("access_log", kwargs={"org_pk": area.health_care.pk}),
        reverse("otp_verify"),
        "/operator/",
    ]
    for url in blocked:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("otp_setup")), url
    # still open: changing language and logging out
    assert client.post(reverse("set_language"), {"language": "en", "next": "/"}).status_code == 302
    _enrol(client)
    # past the second factor: their start page (reports, or the staff list) opens
    page = client.get(reverse("home"), follow=True)
    assert page.status_code == 200 and reverse("otp_setup") not in page.redirect_chain[-1][0]
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


def test_admin_post_before_enrolment_changes_nothing(area, org_admin, password):
    client = _password_login(org_admin.username, password)
    membership = Membership.objects.get(user=area.alice)
    client.post(
        reverse(
            "staff_set_active",
            kwargs={"org_pk": area.health_care.pk, "membership_pk": membership.pk},
        )
    )
    membership.refresh_from_db()
    assert membership.is_active


def test_operators_of_the_django_admin_must_enrol(db, password):
    from ..factories import UserFactory

    UserFactory(username="root", is_staff=True, is_superuser=True)
    client = _password_login("root", password)
    response = client.get("/operator/")
    assert response["Location"].startswith(reverse("otp_setup"))


def test_a_verified_user_can_replace_the_app(area, login):
    client = login(area.alice)
    old = _enrol(client)
    new = _enrol(client)
    assert list(TOTPDevice.objects.filter(user=area.alice)) == [new]
    assert old.pk != new.pk


def test_admin_removes_a_lost_second_factor_for_own_staff_only(area, login, org_admin):
    confirmed_device(area.alice)
    partner_admin = MembershipFactory(organisation=area.home_help, role=Role.ORG_ADMIN).user
    membership = Membership.objects.get(user=area.alice)
    url = reverse(
        "staff_totp_reset", kwargs={"org_pk": area.health_care.pk, "membership_pk": membership.pk}
    )
    assert login(partner_admin).post(url).status_code == 404
    assert login(area.alice).post(url).status_code == 404
    assert TOTPDevice.objects.filter(user=area.alice).exists()
    response = login(org_admin).post(url)
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=area.alice).exists()


def test_demo_logins_work_without_friction_for_care_roles(db):
    from django.core.management import call_command

    from participants.demo import DEMO_PASSWORD

    call_command("seed_demo", quiet_logins=True)
    nurse = _password_login("sjukskoterska", DEMO_PASSWORD)
    assert nurse.get(reverse("home")).status_code == 200
    manager = Membership.objects.filter(role=Role.MANAGER).select_related("user").first().user
    client = _password_login(manager.username, DEMO_PASSWORD)
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))


def test_staff_find_the_setup_page_next_to_log_out(area, login):
    body = login(area.alice).get(reverse("home")).content.decode()
    assert f'href="{reverse("otp_setup")}"' in body


# --- Backup codes for a lost phone (django-otp static tokens) ---


def _codes_from(response) -> list[str]:
    assert response["Cache-Control"] == "no-store"
    return [code.replace(" ", "") for code in response.context["codes"]]


def test_enrolment_shows_ten_backup_codes_once_and_each_signs_in_once(area, login, password):
    client = login(area.alice)
    client.get(reverse("otp_setup"))
    key = client.session["otp_setup_key"]
    response = client.post(reverse("otp_setup"), {"token": token_for_key(key)})
    codes = _codes_from(response)
    assert len(set(codes)) == 10
    body = response.content.decode()
    assert all(f"{c[:4]} {c[4:]}" in body for c in codes)
    # The page is not shown again: the codes' page now only counts them.
    again = client.get(reverse("otp_backup_codes"))
    assert again.status_code == 200 and not any(c[:4] in again.content.decode() for c in codes)
    assert again.context["left"] == 10

    # The phone is lost: password, then a backup code typed in capitals with its space.
    phoneless = _password_login("alice", password)
    phoneless.cookies["django_language"] = "en"
    typed = f"{codes[0][:4].upper()} {codes[0][4:].upper()}"
    response = phoneless.post(reverse("otp_verify"), {"token": typed}, follow=True)
    assert response.status_code == 200
    assert phoneless.get(reverse("home")).status_code == 200
    assert "9 backup codes left" in response.content.decode()
    assert services.backup_codes_left(area.alice) == 9
    assert ChangeRecord.objects.filter(
        object_type="otp_static.staticdevice", action="update"
    ).exists()

    # The same code a second time is refused, with a message that says why.
    other = _password_login("alice", password)
    other.cookies["django_language"] = "en"
    response = other.post(reverse("otp_verify"), {"token": codes[0]})
    assert response.status_code == 200
    assert "already been used" in response.content.decode()
    assert other.get(reverse("home")).status_code == 302


def test_new_backup_codes_replace_the_old_ones(area, login, password):
    device = confirmed_device(area.alice)
    old = services.backup_codes_issue(user=area.alice)
    client = _password_login("alice", password)
    client.post(reverse("otp_verify"), {"token": current_token(device)})
    page = client.get(reverse("otp_backup_codes"))
    assert page.context["left"] == 10
    new = _codes_from(client.post(reverse("otp_backup_codes")))
    assert set(new).isdisjoint(old)
    assert services.backup_codes_left(area.alice) == 10
    stale = _password_login("alice", password)
    response = stale.post(reverse("otp_verify"), {"token": old[1]})
    assert response.status_code == 200 and stale.get(reverse("home")).status_code == 302


def test_backup_codes_page_needs_the_second_factor_first(area, password):
    confirmed_device(area.alice)
    services.backup_codes_issue(user=area.alice)
    client = _password_login("alice", password)
    response = client.post(reverse("otp_backup_codes"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))
    assert services.backup_codes_left(area.alice) == 10


def test_few_backup_codes_left_asks_for_new_ones(area, password):
    confirmed_device(area.alice)
    codes = services.backup_codes_issue(user=area.alice)
    for code in codes[:7]:
        client = _password_login("alice", password)
        assert client.post(reverse("otp_verify"), {"token": code}).status_code == 302
    client = _password_login("alice", password)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("otp_verify"), {"token": codes[7]}, follow=True)
    body = response.content.decode()
    assert "2 backup codes left" in body and "Make new backup codes" in body


def test_an_administrators_reset_removes_the_backup_codes_too(area, org_admin):
    confirmed_device(area.alice)
    services.backup_codes_issue(user=area.alice)
    membership = Membership.objects.get(user=area.alice, organisation=area.health_care)
    services.totp_reset(actor=org_admin, membership=membership)
    assert services.backup_codes_left(area.alice) == 0
    assert not TOTPDevice.objects.filter(user=area.alice).exists()
