"""A real OpenID Connect provider (node, oidc-provider) for the whole run, and an
organisation connected to it."""

import urllib.parse

import pytest
from django.urls import reverse

from participants.models import Organisation
from sso.models import ConnectedOrganisation, IdentityProvider

from ..factories import OrganisationFactory
from .providers import (
    CLIENT_ID,
    CLIENT_SECRET,
    node_oidc_provider,
    saml_idp,
    saml_sign_in_at_provider,
    sign_in_at_provider,
)

CALLBACK = "http://testserver/accounts/sso/oidc/callback/"
UNIT = "SE2321000016-7NT1"
ROLE_MAP = {
    "sjukskoterska": "nurse",
    "lakare": "physician",
    "chef": "manager",
    "systemadministrator": "org_admin",
}


@pytest.fixture(scope="session")
def node_provider(tmp_path_factory):
    with node_oidc_provider(
        tmp_path_factory.mktemp("oidc"), [CALLBACK], ["http://testserver/accounts/login/"]
    ) as provider:
        yield provider


def oidc_provider_row(issuer: str, **kwargs) -> IdentityProvider:
    values = {
        "name": "Region Testlän",
        "protocol": IdentityProvider.Protocol.OIDC,
        "issuer": issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scopes": "openid profile email hsa",
        "hsa_id_claim": "hsa_id",
        "role_claim": "vom_roles",
        "unit_claim": "vom_unit",
        "role_map": ROLE_MAP,
    } | kwargs
    return IdentityProvider.objects.create(**values)


@pytest.fixture
def region(db, node_provider):
    """Home health care of Region Testlän, signing in through the node provider."""
    organisation = OrganisationFactory(
        name="Hemsjukvården Testlän",
        kind=Organisation.Kind.HOME_HEALTH_CARE,
        principal=Organisation.Principal.REGION,
    )
    provider = oidc_provider_row(node_provider.issuer)
    ConnectedOrganisation.objects.create(provider=provider, organisation=organisation, unit_id=UNIT)
    return provider, organisation


def provider_sign_in(client, provider, login: str, *, siths: bool = True, next_url: str = ""):
    """The whole OpenID Connect sign-in: our start page, the provider's own pages, and our
    callback, as a browser walks them. Returns (callback URL, our answer to it)."""
    start = reverse("sso_start", args=[provider.pk]) + (
        f"?next={urllib.parse.quote(next_url)}" if next_url else ""
    )
    response = client.get(start)
    assert response.status_code == 302, response.content[:500]
    callback = sign_in_at_provider(response["Location"], login=login, siths=siths, until=CALLBACK)
    parsed = urllib.parse.urlparse(callback)
    return callback, client.get(f"{parsed.path}?{parsed.query}")


def follow_callback(client, callback: str):
    parsed = urllib.parse.urlparse(callback)
    return client.get(f"{parsed.path}?{parsed.query}")


# The SAML provider's attributes by their names in the Swedish eID framework (HSA id, given
# name, surname, mail) and two of the region's own (assignments, unit).
SAML_ATTRIBUTES = {
    "hsa_id_claim": "urn:oid:1.2.752.29.4.13",
    "given_name_claim": "urn:oid:2.5.4.42",
    "family_name_claim": "urn:oid:2.5.4.4",
    "email_claim": "urn:oid:0.9.2342.19200300.100.1.3",
    "role_claim": "urn:x-region:vom:roles",
    "unit_claim": "urn:x-region:vom:unit",
}


@pytest.fixture(scope="session")
def saml_provider(tmp_path_factory):
    with saml_idp(tmp_path_factory.mktemp("saml")) as idp:
        yield idp


@pytest.fixture
def saml_idp_state(saml_provider):
    """Every test starts with an honest provider and no users."""
    saml_provider.set_mode("good")
    saml_provider.users = {}
    saml_provider._save()
    yield saml_provider
    saml_provider.set_mode("good")


def saml_provider_row(metadata_url: str, **kwargs) -> IdentityProvider:
    values = {
        "name": "Region Samlän",
        "protocol": IdentityProvider.Protocol.SAML,
        "saml_metadata_url": metadata_url,
        "role_map": ROLE_MAP,
        **SAML_ATTRIBUTES,
    } | kwargs
    return IdentityProvider.objects.create(**values)


@pytest.fixture
def saml_region(db, saml_idp_state):
    """Home health care of Region Samlän, signing in through the pysaml2 provider."""
    organisation = OrganisationFactory(
        name="Hemsjukvården Samlän",
        kind=Organisation.Kind.HOME_HEALTH_CARE,
        principal=Organisation.Principal.REGION,
    )
    provider = saml_provider_row(saml_idp_state.entity_id)
    ConnectedOrganisation.objects.create(provider=provider, organisation=organisation, unit_id=UNIT)
    return provider, organisation


def saml_sign_in(client, provider, login: str, *, siths: bool = True, next_url: str = ""):
    """The whole SAML sign-in: our start page, the provider's page, and the browser's post
    to our assertion consumer service. Returns (the posted form, our answer to it)."""
    start = reverse("sso_start", args=[provider.pk]) + (
        f"?next={urllib.parse.quote(next_url)}" if next_url else ""
    )
    response = client.get(start)
    assert response.status_code == 302, response.content[:500]
    form = saml_sign_in_at_provider(response["Location"], login=login, siths=siths)
    return form, saml_post(client, form)


def saml_post(client, form: dict):
    assert form["action"] == "http://testserver" + reverse("sso_saml_acs"), form["action"]
    data = {"SAMLResponse": form["SAMLResponse"], "RelayState": form.get("RelayState", "")}
    return client.post(reverse("sso_saml_acs"), data)
