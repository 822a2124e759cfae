"""SAML 2.0 sign-in against pysaml2's identity provider, its own process on loopback, with
signed assertions: the same accounts by HSA id, memberships that follow the provider's
roles and strong factor (the SAML authentication context) as OpenID Connect, through the
same service (sso.services.provider_sign_in)."""

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import Membership, Role, User
from sso.models import SignInEvent

from .conftest import UNIT, saml_post, saml_sign_in

pytestmark = pytest.mark.sso
ANNA = "SE2321000016-S4ML"


def anna(idp, roles=("sjukskoterska",), unit=UNIT, hsa_id=ANNA, **more):
    claims = {
        "urn:oid:1.2.752.29.4.13": hsa_id,
        "urn:oid:2.5.4.42": "Anna",
        "urn:oid:2.5.4.4": "Saml",
        "urn:oid:0.9.2342.19200300.100.1.3": "anna.saml@region.example",
        "urn:x-region:vom:roles": list(roles),
        "urn:x-region:vom:unit": unit,
    } | more
    idp.set_user("anna", **{k: v for k, v in claims.items() if v is not None})


def refusal(response) -> str:
    assert response.status_code == 403, (response.status_code, response.content[:300])
    page = response.content.decode()
    assert "Du är inte inloggad" in page
    return page


def test_first_sign_in_creates_the_account_by_hsa_id_with_the_provider_roles(
    client, saml_region, saml_provider
):
    provider, organisation = saml_region
    anna(saml_provider)
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(hsa_id=ANNA)
    assert (user.first_name, user.last_name, user.email) == (
        "Anna",
        "Saml",
        "anna.saml@region.example",
    )
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organisation, membership.role, membership.from_provider) == (
        organisation,
        Role.NURSE,
        True,
    )
    assert client.get(reverse("home")).status_code == 200
    event = SignInEvent.objects.get(outcome=SignInEvent.Outcome.SIGNED_IN)
    assert (event.user, event.organisation, event.provider, event.detail) == (
        user,
        organisation,
        provider,
        "strong",
    )


def test_a_role_changed_at_the_provider_takes_effect_at_the_next_sign_in(
    client, saml_region, saml_provider
):
    provider, _organisation = saml_region
    anna(saml_provider, roles=["sjukskoterska"])
    saml_sign_in(client, provider, "anna")
    client.post(reverse("logout"))
    anna(saml_provider, roles=["lakare"])
    _form, response = saml_sign_in(Client(), provider, "anna")
    assert response.status_code == 302
    roles = dict(Membership.objects.filter(user__hsa_id=ANNA).values_list("role", "is_active"))
    assert roles == {Role.NURSE: False, Role.PHYSICIAN: True}


def test_a_role_removed_at_the_provider_ends_access_and_says_so(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    anna(saml_provider)
    saml_sign_in(client, provider, "anna")
    anna(saml_provider, roles=[])
    _form, response = saml_sign_in(Client(), provider, "anna")
    assert "ingen uppgift i VOM för Hemsjukvården Samlän" in refusal(response)
    assert not Membership.objects.filter(user__hsa_id=ANNA, is_active=True).exists()
    assert client.get(reverse("person_create")).status_code in (403, 404)


def test_the_provider_never_grants_the_administrator_role(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    anna(saml_provider, roles=["systemadministrator", "chef"])
    saml_sign_in(client, provider, "anna")
    roles = set(Membership.objects.filter(user__hsa_id=ANNA).values_list("role", flat=True))
    assert roles == {Role.MANAGER}


def test_the_siths_authentication_context_is_the_second_factor(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    anna(saml_provider, roles=["chef"])
    saml_sign_in(client, provider, "anna", siths=True)
    assert client.get(reverse("home"), follow=True).redirect_chain == [("/reports/", 302)]


def test_without_the_siths_context_a_manager_still_needs_totp(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    anna(saml_provider, roles=["chef"])
    _form, response = saml_sign_in(client, provider, "anna", siths=False)
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("otp_setup"))
    assert SignInEvent.objects.get(outcome="signed_in").detail == ""


def test_metadata_pasted_in_works_as_from_the_url(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    provider.saml_metadata_xml = saml_provider.metadata()
    provider.saml_metadata_url = "http://127.0.0.1:9/never-read"
    provider.save()
    anna(saml_provider)
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_provider_is_named_when_its_metadata_holds_several(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    provider.issuer = "http://127.0.0.1:1/not-in-the-metadata"
    provider.save()
    response = client.get(reverse("sso_start", args=[provider.pk]))
    assert response.status_code == 502
    assert "blev inte klar" in response.content.decode()
    assert SignInEvent.objects.get().reason == "provider_error"
    provider.issuer = saml_provider.entity_id
    provider.save()
    anna(saml_provider)
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 302


def test_our_metadata_names_the_assertion_consumer_service_and_wants_signed_assertions(client):
    response = client.get(reverse("sso_saml_metadata"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    xml = response.content.decode()
    assert 'entityID="http://testserver/accounts/sso/saml/metadata/"' in xml
    assert 'WantAssertionsSigned="true"' in xml
    assert 'Location="http://testserver/accounts/sso/saml/acs/"' in xml


def test_a_provider_on_another_site_posts_without_our_cookie_and_the_answer_goes_on(
    client, saml_region, saml_provider
):
    """SameSite=Lax keeps our session cookie off the provider's cross-site post: we post the
    same answer once more from our own page, and the sign-in completes."""
    provider, _organisation = saml_region
    anna(saml_provider)
    response = client.get(reverse("sso_start", args=[provider.pk]))
    from .providers import saml_sign_in_at_provider

    form = saml_sign_in_at_provider(response["Location"], login="anna")
    cookies = client.cookies
    client.cookies = type(cookies)()
    page = saml_post(client, form)
    assert page.status_code == 200
    html = page.content.decode()
    assert "data-autosubmit" in html and 'name="again" value="1"' in html
    assert not SignInEvent.objects.exists() and not User.objects.filter(hsa_id=ANNA).exists()
    client.cookies = cookies
    response = client.post(
        reverse("sso_saml_acs"),
        {"SAMLResponse": form["SAMLResponse"], "RelayState": "", "again": "1"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_the_staff_list_marks_who_signs_in_through_the_provider(client, saml_region, saml_provider):
    """The organisation administrator (a role given here, never by the provider) signs in
    through the provider too, and sees whose roles come from it; they can still end them."""
    provider, organisation = saml_region
    from ..factories import MembershipFactory, UserFactory

    admin = UserFactory(username="ada", hsa_id="SE2321000016-AD11", first_name="Ada")
    MembershipFactory(user=admin, organisation=organisation, role=Role.ORG_ADMIN)
    anna(saml_provider)
    saml_sign_in(Client(), provider, "anna")
    anna(saml_provider, hsa_id="SE2321000016-AD11", roles=[])
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 302
    page = client.get(reverse("staff_list", args=[organisation.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "loggar in med SITHS via Region Samlän" in html
    assert html.count('data-signs-in="provider"') == 2
    assert "HSA-id SE2321000016-S4ML" in html and "HSA-id SE2321000016-AD11" in html
    assert html.count('data-role-from="provider"') == 1  # Anna's nurse role
    assert html.count('data-role-from="here"') == 1  # Ada's administrator role
    nurse = Membership.objects.get(user__hsa_id=ANNA)
    assert reverse("staff_set_active", args=[organisation.pk, nurse.pk]) in html  # can still end it


def test_the_staff_list_of_an_organisation_with_passwords_has_no_provider_marks(area, login):
    from ..factories import MembershipFactory

    admin = MembershipFactory(organisation=area.home_help, role=Role.ORG_ADMIN).user
    html = login(admin).get(reverse("staff_list", args=[area.home_help.pk])).content.decode()
    assert "data-signs-in" not in html and "data-role-from" not in html
