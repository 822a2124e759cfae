"""A real OpenID Connect provider (node, oidc-provider) for the whole run, and an
organisation connected to it."""

import urllib.parse

import pytest
from django.urls import reverse

from participants.models import Organisation
from sso.models import ConnectedOrganisation, IdentityProvider

from ..factories import OrganisationFactory
from .providers import CLIENT_ID, CLIENT_SECRET, node_oidc_provider, sign_in_at_provider

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
