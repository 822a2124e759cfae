"""SAML 2.0 with an organisation's identity provider: pysaml2 as the service provider, one
configuration made per provider row (as sso.oidc makes one client per row), so any number of
organisations can each have their own.

pysaml2 checks what a response must prove: the assertion's signature (required: an unsigned
assertion is refused even inside a signed response) against the certificate in the provider's
metadata, the audience (our entity id), the destination (our assertion consumer service), the
times (with CLOCK_LEEWAY_SECONDS), and that it answers a request this browser started
(InResponseTo; unsolicited responses are refused). On top of that the response and the
assertion must name the provider the sign-in was started with.

djangosaml2 is not used: its views create users through a backend of their own and read one
configuration from the settings; here both protocols end in sso.services.provider_sign_in.
"""

import shutil

import requests
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.response import StatusError, UnsolicitedResponse

from .models import IdentityProvider
from .services import Vouched

CLOCK_LEEWAY_SECONDS = 30
HTTP_TIMEOUT_SECONDS = 10


class ProviderMisconfigured(Exception):
    """The provider's metadata cannot be read or does not name one identity provider."""


def sp_entity_id(request) -> str:
    return request.build_absolute_uri(reverse("sso_saml_metadata"))


def acs_url(request) -> str:
    return request.build_absolute_uri(reverse("sso_saml_acs"))


def provider_metadata(provider: IdentityProvider) -> str:
    if provider.saml_metadata_xml.strip():
        return provider.saml_metadata_xml
    if not provider.saml_metadata_url:
        raise ProviderMisconfigured("no metadata")
    response = requests.get(provider.saml_metadata_url, timeout=HTTP_TIMEOUT_SECONDS)
    response.raise_for_status()
    return response.text


def sp_config(request, provider: IdentityProvider | None = None) -> SPConfig:
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise ProviderMisconfigured("xmlsec1 is not installed")
    values = {
        "entityid": sp_entity_id(request),
        "xmlsec_binary": xmlsec,
        "allow_unknown_attributes": True,
        "accepted_time_diff": CLOCK_LEEWAY_SECONDS,
        "service": {
            "sp": {
                "name": "VOM",
                "endpoints": {
                    "assertion_consumer_service": [(acs_url(request), BINDING_HTTP_POST)]
                },
                "allow_unsolicited": False,
                "authn_requests_signed": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "want_assertions_or_response_signed": False,
            }
        },
        "metadata": {"inline": [provider_metadata(provider)]} if provider else {},
    }
    config = SPConfig()
    try:
        config.load(values)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many kinds for bad metadata
        raise ProviderMisconfigured(f"metadata: {type(exc).__name__}: {exc}"[:400]) from exc
    return config


def idp_entity_id(client: Saml2Client, provider: IdentityProvider) -> str:
    """The provider's entity id: the one the operator named (a federation's metadata holds
    many), or the only identity provider in its metadata."""
    known = list(client.metadata.identity_providers())
    if provider.issuer:
        if provider.issuer not in known:
            raise ProviderMisconfigured(f"metadata does not hold {provider.issuer!r}")
        return provider.issuer
    if len(known) != 1:
        raise ProviderMisconfigured(f"metadata holds {len(known)} identity providers, name one")
    return known[0]


def client_for(request, provider: IdentityProvider) -> tuple[Saml2Client, str]:
    client = Saml2Client(config=sp_config(request, provider))
    return client, idp_entity_id(client, provider)


def authn_request(request, provider: IdentityProvider) -> tuple[str, str]:
    """(request id, where to send the browser) for a new sign-in at the provider."""
    client, idp = client_for(request, provider)
    request_id, info = client.prepare_for_authenticate(entityid=idp, binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    return request_id, location


def metadata_xml(request) -> str:
    return str(entity_descriptor(sp_config(request)))


__all__ = ["BINDING_HTTP_POST", "StatusError", "UnsolicitedResponse"]


def response_problem(response, idp: str) -> str:
    """Why a response pysaml2 accepted is still not this sign-in's, or "" when it is."""
    if response is None or getattr(response, "assertion", None) is None:
        return "no assertion"
    issuers = {response.issuer(), getattr(response.assertion.issuer, "text", None)}
    if issuers != {idp}:
        return f"issued by {sorted(str(i) for i in issuers)!r}, expected {idp!r}"
    return ""


def _attributes(assertion) -> dict[str, list[str]]:
    """The assertion's attributes by their name (and friendly name), values as sent."""
    values: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            texts = [v.text.strip() for v in attribute.attribute_value or [] if v.text]
            for name in {attribute.name, attribute.friendly_name} - {None, ""}:
                values.setdefault(name, []).extend(texts)
    return values


def vouched_from_response(provider: IdentityProvider, response) -> Vouched:
    attributes = _attributes(response.assertion)

    def first(name: str) -> str:
        found = attributes.get(name) if name else None
        return found[0] if found else ""

    roles: list[str] = []
    for value in attributes.get(provider.role_claim, []):
        roles.extend(v for v in value.replace(",", " ").split() if v)
    contexts = {authn_class for authn_class, _authorities, _at in response.authn_info()}
    return Vouched(
        provider=provider,
        hsa_id=first(provider.hsa_id_claim),
        unit_id=first(provider.unit_claim),
        roles=roles,
        given_name=first(provider.given_name_claim),
        family_name=first(provider.family_name_claim),
        email=first(provider.email_claim),
        strong=bool(contexts & set(provider.strong_acr_values or [])),
    )
