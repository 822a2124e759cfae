"""A provider that lies: each way is refused with a clear page and a security-log row, never a
500 and never an account. The provider here speaks the protocol for real (discovery, keys,
the authorization and token endpoints, RS256-signed ID tokens) and lies in one way a test."""

import urllib.parse

import pytest
import requests
from django.urls import reverse

from participants.models import Membership, Organisation, User
from sso.models import ConnectedOrganisation, SignInEvent

from ..factories import OrganisationFactory
from .conftest import CALLBACK, UNIT, oidc_provider_row
from .providers import HostileOidcProvider

pytestmark = pytest.mark.sso
HSA = "SE2321000016-H0ST"


@pytest.fixture
def hostile(db):
    with HostileOidcProvider() as op:
        op.claims = {
            "hsa_id": HSA,
            "vom_roles": ["sjukskoterska"],
            "vom_unit": UNIT,
            "given_name": "Hilda",
            "family_name": "Host",
        }
        provider = oidc_provider_row(op.issuer, name="Region Lögn")
        ConnectedOrganisation.objects.create(
            provider=provider,
            organisation=OrganisationFactory(kind=Organisation.Kind.HOME_HEALTH_CARE),
            unit_id=UNIT,
        )
        op.provider = provider
        yield op


def sign_in(client, op):
    response = client.get(reverse("sso_start", args=[op.provider.pk]))
    assert response.status_code == 302
    answer = requests.get(response["Location"], allow_redirects=False, timeout=5)
    callback = answer.headers["Location"]
    assert callback.startswith(CALLBACK)
    parsed = urllib.parse.urlparse(callback)
    return client.get(f"{parsed.path}?{parsed.query}")


def test_the_honest_answer_signs_in(client, hostile):
    """The same provider telling the truth: so each refusal below is for its lie alone."""
    response = sign_in(client, hostile)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert Membership.objects.filter(user__hsa_id=HSA, is_active=True).count() == 1


@pytest.mark.parametrize(
    "mode", ["wrong_issuer", "wrong_audience", "expired", "bad_signature", "alg_none"]
)
def test_a_forged_or_stale_id_token_is_refused(client, hostile, mode):
    hostile.mode = mode
    response = sign_in(client, hostile)
    assert response.status_code == 403
    page = response.content.decode()
    assert "gick inte att lita på" in page
    assert not User.objects.filter(hsa_id=HSA).exists()
    assert "_auth_user_id" not in client.session
    event = SignInEvent.objects.get()
    assert (event.outcome, event.reason, event.provider) == (
        "refused",
        "bad_response",
        hostile.provider,
    )
    assert event.detail  # what exactly was wrong, for the operator


def test_a_replayed_id_token_from_an_earlier_sign_in_is_refused(client, hostile):
    assert sign_in(client, hostile).status_code == 302
    client.post(reverse("logout"))
    hostile.mode = "replayed"  # the provider (or a thief) hands back the first ID token
    response = sign_in(client, hostile)
    assert response.status_code == 403
    assert SignInEvent.objects.filter(reason="bad_response").count() == 1
    assert "nonce" in SignInEvent.objects.get(reason="bad_response").detail


def test_a_provider_whose_discovery_names_another_issuer_is_not_used(client, hostile):
    provider = hostile.provider
    provider.issuer = hostile.issuer + "/other"
    provider.save()
    response = client.get(reverse("sso_start", args=[provider.pk]))
    assert response.status_code == 502
    assert "blev inte klar" in response.content.decode()
    assert SignInEvent.objects.get().reason == "provider_error"


def test_a_provider_that_is_down_is_a_clear_page(client, hostile):
    provider = hostile.provider
    provider.issuer = "http://127.0.0.1:9"
    provider.save()
    response = client.get(reverse("sso_start", args=[provider.pk]))
    assert response.status_code == 502
    assert "blev inte klar" in response.content.decode()


def test_an_error_answer_from_the_provider_is_a_clear_page(client, hostile):
    client.get(reverse("sso_start", args=[hostile.provider.pk]))
    response = client.get(reverse("sso_oidc_callback") + "?error=access_denied&state=x")
    assert response.status_code == 403
    assert SignInEvent.objects.get().reason == "provider_error"


def test_a_callback_without_a_started_sign_in_is_refused(client, hostile):
    response = client.get(reverse("sso_oidc_callback") + "?code=abc&state=def")
    assert response.status_code == 403
    assert SignInEvent.objects.get().reason == "replayed"
