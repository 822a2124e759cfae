"""SAML 2.0 sign-in against pysaml2's identity provider, its own process on loopback, with
signed assertions: the same accounts by HSA id, memberships that follow the provider's
roles and strong factor (the SAML authentication context) as OpenID Connect, through the
same service (sso.services.provider_sign_in)."""

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import Membership, Role, User
from sso.models import SignInEvent

from .conftest import UNIT, saml_post, saml_provider_row, saml_sign_in

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
