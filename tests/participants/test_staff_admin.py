import pytest
from django.core import mail
from django.urls import reverse

from participants.models import Membership, Role, User

from ..factories import MembershipFactory
from ..twofactor import verify_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(area):
    own = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    partner = MembershipFactory(organisation=area.home_help, role=Role.ORG_ADMIN).user
    return own, partner


STAFF_VIEWS = ["staff_list", "staff_create"]


@pytest.mark.parametrize("name", STAFF_VIEWS)
def test_staff_views_by_persona(area, admins, login, name):
    own_admin, partner_admin = admins
    url = reverse(name, kwargs={"org_pk": area.health_care.pk})
    assert login(own_admin).get(url).status_code == 200
    assert login(partner_admin).get(url).status_code == 404
    assert login(area.alice).get(url).status_code == 404  # a nurse is no admin
    assert login(area.charlie).get(url).status_code == 404


def test_staff_edit_and_deactivate_are_scoped_to_own_organisation(area, admins, login):
    own_admin, partner_admin = admins
    membership = Membership.objects.get(user=area.alice)
    edit = reverse(
        "staff_edit", kwargs={"org_pk": area.health_care.pk, "membership_pk": membership.pk}
    )
    active = reverse(
        "staff_set_active", kwargs={"org_pk": area.health_care.pk, "membership_pk": membership.pk}
    )
    assert login(own_admin).get(edit).status_code == 200
    assert login(partner_admin).get(edit).status_code == 404
    assert login(partner_admin).post(active).status_code == 404
    # through the partner's own organisation id it is still not found
    sneaky = reverse(
        "staff_edit", kwargs={"org_pk": area.home_help.pk, "membership_pk": membership.pk}
    )
    assert login(partner_admin).get(sneaky).status_code == 404
    membership.refresh_from_db()
    assert membership.is_active


def test_admin_adds_staff_who_gets_a_set_password_email(
    area, admins, login, django_capture_on_commit_callbacks
):
    own_admin, _ = admins
    client = login(own_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff_create", kwargs={"org_pk": area.health_care.pk}),
            {
                "username": "nyanställd",
                "first_name": "Åsa",
                "last_name": "Ny",
                "email": "asa@example.org",
                "role": Role.NURSE,
                "title": "Sjuksköterska",
                "direct_phone": "08-1",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="nyanställd")
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).organisation == area.health_care
    from meetings import delivery
    from meetings.models import OutboxMessage

    (row,) = OutboxMessage.objects.filter(kind="account_welcome", recipient_user=user)
    assert delivery.deliver(row.pk) == "sent"
    assert len(mail.outbox) == 1
    assert "asa@example.org" in mail.outbox[0].to
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    response = client.get(link[link.index("/accounts/reset/") :], follow=True)
    assert response.context["validlink"]


def test_bad_staff_input_keeps_what_was_typed(area, admins, login):
    own_admin, _ = admins
    client = login(own_admin)
    response = client.post(
        reverse("staff_create", kwargs={"org_pk": area.health_care.pk}),
        {"username": "x y", "first_name": "Åke", "last_name": "", "email": "nope", "role": "nurse"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"username", "last_name", "email"} <= set(errors)
    assert 'value="Åke"' in response.content.decode()
    assert not User.objects.filter(first_name="Åke").exists()


def test_deactivated_user_cannot_sign_in_and_loses_open_sessions(area, admins, client, password):
    own_admin, _ = admins
    nurse_client = client
    assert (
        nurse_client.post(reverse("login"), {"username": "alice", "password": password}).status_code
        == 302
    )
    assert nurse_client.get(reverse("home")).status_code == 200

    from django.test import Client

    admin_client = Client()
    admin_client.force_login(own_admin, backend="participants.auth.UsernameOrEmailBackend")
    verify_second_factor(admin_client, own_admin)
    membership = Membership.objects.get(user=area.alice)
    response = admin_client.post(
        reverse(
            "staff_set_active",
            kwargs={"org_pk": area.health_care.pk, "membership_pk": membership.pk},
        )
    )
    assert response.status_code == 302
    area.alice.refresh_from_db()
    assert not area.alice.is_active
    # the open session is over at the next request
    response = nurse_client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert (
        Client().post(reverse("login"), {"username": "alice", "password": password}).status_code
        == 200
    )


def test_admin_cannot_deactivate_themselves(area, admins, login):
    own_admin, _ = admins
    membership = Membership.objects.get(user=own_admin)
    login(own_admin).post(
        reverse(
            "staff_set_active",
            kwargs={"org_pk": area.health_care.pk, "membership_pk": membership.pk},
        )
    )
    membership.refresh_from_db()
    assert membership.is_active
