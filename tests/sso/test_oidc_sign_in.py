"""OpenID Connect sign-in against the real `oidc-provider` (node) on loopback: accounts by HSA
id, memberships that follow the provider's roles, the strong factor, the session's
memberships, the recheck and the logout."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import Membership, Organisation, Role, User
from sso.models import ConnectedOrganisation, SignInEvent
from sso.session import SSO_CHECKED_AT_KEY

from ..factories import TEST_PASSWORD, MembershipFactory, OrganisationFactory, UserFactory
from .conftest import UNIT, follow_callback, oidc_provider_row, provider_sign_in

pytestmark = pytest.mark.sso
ANNA = "SE2321000016-A1B2"


def anna(node_provider, roles=("sjukskoterska",), unit=UNIT, **more):
    claims = {
        "hsa_id": ANNA,
        "given_name": "Anna",
        "family_name": "Ek",
        "email": "anna.ek@region.example",
        "vom_roles": list(roles),
        "vom_unit": unit,
    } | more
    node_provider.set_user("anna", **{k: v for k, v in claims.items() if v is not None})


def refusal(response) -> str:
    assert response.status_code == 403, response.status_code
    page = response.content.decode()
    assert "Du är inte inloggad" in page
    return page


def test_first_sign_in_creates_the_account_by_hsa_id_with_the_provider_roles(
    client, region, node_provider
):
    provider, organisation = region
    anna(node_provider)
    _callback, response = provider_sign_in(client, provider, "anna")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(hsa_id=ANNA)
    assert (user.first_name, user.last_name, user.email) == ("Anna", "Ek", "anna.ek@region.example")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role, membership.from_provider) == (
        organisation,
        Role.NURSE,
        True,
    )
    assert client.get(reverse("home")).status_code == 200
    event = SignInEvent.objects.get(outcome=SignInEvent.Outcome.SIGNED_IN)
    assert (event.user, event.organisation, event.hsa_id, event.detail) == (
        user,
        organisation,
        ANNA,
        "strong",
    )


def test_a_role_changed_at_the_provider_takes_effect_at_the_next_sign_in(
    client, region, node_provider
):
    provider, organisation = region
    anna(node_provider, roles=["sjukskoterska"])
    provider_sign_in(client, provider, "anna")
    client.post(reverse("logout"))
    anna(node_provider, roles=["lakare"])
    _callback, response = provider_sign_in(Client(), provider, "anna")
    assert response.status_code == 302
    roles = dict(Membership.objects.filter(user__hsa_id=ANNA).values_list("role", "is_active"))
    assert roles == {Role.NURSE: False, Role.PHYSICIAN: True}


def test_a_role_removed_at_the_provider_ends_access_and_says_so(client, region, node_provider):
    provider, organisation = region
    anna(node_provider)
    provider_sign_in(client, provider, "anna")
    anna(node_provider, roles=[])
    other = Client()
    _callback, response = provider_sign_in(other, provider, "anna")
    page = refusal(response)
    assert "ingen uppgift i VOM för Hemsjukvården Testlän" in page
    assert not Membership.objects.filter(user__hsa_id=ANNA, is_active=True).exists()
    # The session signed in before has lost the access too, at its next request.
    assert client.get(reverse("person_create")).status_code in (403, 404)
    assert SignInEvent.objects.filter(reason="no_assignment").count() == 1


def test_known_at_the_provider_without_an_assignment_here_is_a_clear_page_and_no_account(
    client, region, node_provider
):
    provider, _organisation = region
    anna(node_provider, roles=["kurator"])  # a role that gives nothing here
    _callback, response = provider_sign_in(client, provider, "anna")
    refusal(response)
    assert not User.objects.filter(hsa_id=ANNA).exists()
    assert "_auth_user_id" not in client.session


def test_the_provider_never_grants_the_administrator_role(client, region, node_provider):
    provider, organisation = region
    anna(node_provider, roles=["systemadministrator", "chef"])
    provider_sign_in(client, provider, "anna")
    roles = set(Membership.objects.filter(user__hsa_id=ANNA).values_list("role", flat=True))
    assert roles == {Role.MANAGER}


def test_an_account_is_linked_by_hsa_id_never_by_email(client, region, node_provider):
    provider, organisation = region
    same_email = UserFactory(username="anna", email="anna.ek@region.example")
    MembershipFactory(user=same_email, organisation=OrganisationFactory())
    linked = UserFactory(username="anna2", hsa_id=ANNA)
    anna(node_provider)
    provider_sign_in(client, provider, "anna")
    assert User.objects.get(hsa_id=ANNA) == linked
    assert int(client.session["_auth_user_id"]) == linked.pk
    assert not same_email.memberships.filter(organisation=organisation).exists()


def test_without_a_strong_factor_a_manager_still_needs_totp(client, region, node_provider):
    provider, _organisation = region
    anna(node_provider, roles=["chef"])
    _callback, response = provider_sign_in(client, provider, "anna", siths=False)
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))


def test_a_siths_sign_in_is_the_second_factor(client, region, node_provider):
    provider, _organisation = region
    anna(node_provider, roles=["chef"])
    provider_sign_in(client, provider, "anna", siths=True)
    assert client.get(reverse("home"), follow=True).redirect_chain == [("/reports/", 302)]


def test_the_session_holds_only_the_memberships_of_its_way_of_signing_in(
    client, region, node_provider
):
    provider, region_org = region
    home_help = OrganisationFactory(name="Hemtjänst Lösen", kind=Organisation.Kind.HOME_HELP)
    user = UserFactory(username="anna", hsa_id=ANNA)
    MembershipFactory(user=user, organisation=home_help, role=Role.CONTACT_PERSON)
    anna(node_provider)
    provider_sign_in(client, provider, "anna")
    from participants.selectors import active_memberships

    response = client.get(reverse("home"))
    assert [m.organisation for m in active_memberships(response.wsgi_request.user)] == [region_org]

    by_password = Client()
    response = by_password.post(reverse("login"), {"username": "anna", "password": TEST_PASSWORD})
    assert response.status_code == 302
    response = by_password.get(reverse("home"))
    assert [m.organisation for m in active_memberships(response.wsgi_request.user)] == [home_help]


def test_no_password_sign_in_for_an_organisation_with_a_provider(client, region):
    _provider, organisation = region
    MembershipFactory(user=UserFactory(username="bengt"), organisation=organisation)
    response = client.post(reverse("login"), {"username": "bengt", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "Din organisation loggar in med sin egen inloggning" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_login_page_offers_the_provider_for_its_organisations(client, region):
    page = client.get(reverse("login")).content.decode()
    assert "Logga in med SITHS / Region Testlän" in page
    assert "Hemsjukvården Testlän" in page
    assert 'name="password"' in page


def test_a_live_session_is_vouched_for_again_within_the_hour(client, region, node_provider):
    provider, _organisation = region
    anna(node_provider)
    provider_sign_in(client, provider, "anna")
    session = client.session
    session[SSO_CHECKED_AT_KEY] = int(time.time()) - 3601
    session.save()
    response = client.get(reverse("home"))
    assert response["Location"].startswith(reverse("sso_start", args=[provider.pk]))
    assert "_auth_user_id" not in client.session
    assert SignInEvent.objects.filter(outcome=SignInEvent.Outcome.ENDED).count() == 1
    # Back at the provider, whose own session is alive: signed in again with today's roles.
    anna(node_provider, roles=["lakare"])
    _callback, response = provider_sign_in(client, provider, "anna")
    assert response.status_code == 302
    assert set(
        Membership.objects.filter(user__hsa_id=ANNA, is_active=True).values_list("role", flat=True)
    ) == {Role.PHYSICIAN}


def test_logout_ends_the_session_at_the_provider_too(client, region, node_provider):
    provider, _organisation = region
    anna(node_provider)
    provider_sign_in(client, provider, "anna")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"].startswith(f"{node_provider.issuer}/session/end")
    assert (
        "post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Faccounts%2Flogin%2F"
        in (response["Location"])
    )
    assert "_auth_user_id" not in client.session


def test_replaying_the_callback_is_refused(client, region, node_provider):
    provider, _organisation = region
    anna(node_provider)
    callback, response = provider_sign_in(client, provider, "anna")
    assert response.status_code == 302
    client.post(reverse("logout"))
    refusal(follow_callback(client, callback))
    # In another browser, where no sign-in was started, the same.
    refusal(follow_callback(Client(), callback))
    assert SignInEvent.objects.filter(reason="replayed").count() == 2


def test_unknown_unit_is_refused(client, region, node_provider):
    provider, _organisation = region
    anna(node_provider, unit="SE2321000016-ANNAN")
    _callback, response = provider_sign_in(client, provider, "anna")
    assert "inte ansluten" in refusal(response)
    assert not User.objects.filter(hsa_id=ANNA).exists()
    assert SignInEvent.objects.get().reason == "unit_unknown"


def test_a_unit_of_another_provider_is_refused(client, region, node_provider):
    """A claim naming an organisation the provider is not configured for: another
    provider's unit."""
    provider, _organisation = region
    other = oidc_provider_row("http://127.0.0.1:1", name="Annan region")
    ConnectedOrganisation.objects.create(
        provider=other, organisation=OrganisationFactory(), unit_id="SE2321000016-ANDRA"
    )
    anna(node_provider, unit="SE2321000016-ANDRA")
    _callback, response = provider_sign_in(client, provider, "anna")
    refusal(response)
    assert not User.objects.filter(hsa_id=ANNA).exists()


@pytest.mark.parametrize("hsa_id", [None, "", "anna@example.org", "SE123-x"])
def test_a_missing_or_malformed_hsa_id_is_refused(client, region, node_provider, hsa_id):
    provider, _organisation = region
    anna(node_provider, hsa_id=hsa_id)
    _callback, response = provider_sign_in(client, provider, "anna")
    assert "HSA-id" in refusal(response)
    assert User.objects.count() == 0
    assert SignInEvent.objects.get().reason == "hsa_id_missing"


def test_an_unknown_hsa_id_is_refused_where_the_provider_does_not_create_accounts(
    client, region, node_provider
):
    provider, _organisation = region
    provider.creates_accounts = False
    provider.save()
    anna(node_provider)
    _callback, response = provider_sign_in(client, provider, "anna")
    refusal(response)
    assert User.objects.count() == 0
    assert SignInEvent.objects.get().reason == "unknown_account"


def test_an_account_closed_here_stays_closed(client, region, node_provider):
    provider, _organisation = region
    UserFactory(username="anna", hsa_id=ANNA, is_active=False)
    anna(node_provider)
    _callback, response = provider_sign_in(client, provider, "anna")
    refusal(response)
    assert not Membership.objects.filter(user__hsa_id=ANNA).exists()


def test_a_membership_ended_by_an_administrator_stays_ended(client, region, node_provider):
    from participants import services

    provider, organisation = region
    anna(node_provider, roles=["sjukskoterska", "chef"])
    provider_sign_in(client, provider, "anna")
    admin = MembershipFactory(organisation=organisation, role=Role.ORG_ADMIN).user
    nurse = Membership.objects.get(user__hsa_id=ANNA, role=Role.NURSE)
    services.staff_deactivate(actor=admin, membership=nurse)
    provider_sign_in(Client(), provider, "anna")
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert Membership.objects.get(user__hsa_id=ANNA, role=Role.MANAGER).is_active
