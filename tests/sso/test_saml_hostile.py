"""A SAML provider that lies, or an answer that is not this sign-in's: each is refused with a
clear page and a security-log row, never a 500 and never an account. The lies come from the
real pysaml2 provider process (tests/sso/saml_idp.py), one way per test."""

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import Membership, User
from sso.models import ConnectedOrganisation, SignInEvent

from ..factories import OrganisationFactory
from .conftest import saml_post, saml_provider_row, saml_sign_in
from .test_saml_sign_in import ANNA, anna

pytestmark = pytest.mark.sso


def refused(response, reason: str, provider, text: str) -> SignInEvent:
    assert response.status_code == 403, (response.status_code, response.content[:300])
    page = response.content.decode()
    assert "Du är inte inloggad" in page and text in page
    assert not User.objects.filter(hsa_id=ANNA).exists()
    assert not Membership.objects.exists()
    event = SignInEvent.objects.get()
    assert (event.outcome, event.reason, event.provider) == ("refused", reason, provider)
    assert event.detail  # what exactly was wrong, for the operator
    return event


def test_the_honest_answer_signs_in(client, saml_region, saml_provider):
    """The same provider telling the truth: so each refusal below is for its lie alone."""
    provider, _organisation = saml_region
    anna(saml_provider)
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 302 and response["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("mode", "detail"),
    [
        ("wrong_issuer", "another-idp"),
        ("wrong_audience", "AudienceRestrictions"),
        ("expired", "Condition not OK"),
        ("bad_signature", "Signature"),
        ("unsigned", "Signature"),
        ("response_signed_only", "Signature"),
    ],
)
def test_a_forged_or_stale_assertion_is_refused(client, saml_region, saml_provider, mode, detail):
    provider, _organisation = saml_region
    anna(saml_provider)
    saml_provider.set_mode(mode)
    _form, response = saml_sign_in(client, provider, "anna")
    event = refused(response, "bad_response", provider, "gick inte att lita på")
    assert detail.lower() in event.detail.lower(), event.detail
    assert "_auth_user_id" not in client.session


def test_a_replayed_answer_is_refused_in_this_browser_and_in_another(
    client, saml_region, saml_provider
):
    provider, _organisation = saml_region
    anna(saml_provider)
    form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 302
    client.post(reverse("logout"))
    first = SignInEvent.objects.count()
    assert "redan använd" in refused_text(saml_post(client, form))
    # Another browser that started a sign-in of its own: the old answer is not the answer
    # to its request.
    other = Client()
    other.get(reverse("sso_start", args=[provider.pk]))
    assert refused_text(saml_post(other, form))
    reasons = list(SignInEvent.objects.order_by("at").values_list("reason", flat=True))
    assert reasons[first:] == ["replayed", "replayed"]
    assert Membership.objects.count() == 1  # the one honest sign-in made one, no more


def refused_text(response) -> str:
    assert response.status_code == 403, (response.status_code, response.content[:300])
    return response.content.decode().lower()


def test_an_unknown_hsa_id_is_refused_where_the_provider_does_not_create_accounts(
    client, saml_region, saml_provider
):
    provider, _organisation = saml_region
    provider.creates_accounts = False
    provider.save()
    anna(saml_provider)
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 403
    assert "har inte gett dig något konto" in response.content.decode()
    assert User.objects.count() == 0
    assert SignInEvent.objects.get().reason == "unknown_account"


@pytest.mark.parametrize("hsa_id", [None, "anna@example.org"])
def test_a_missing_or_malformed_hsa_id_is_refused(client, saml_region, saml_provider, hsa_id):
    provider, _organisation = saml_region
    anna(saml_provider, hsa_id=hsa_id)
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 403 and "HSA-id" in response.content.decode()
    assert User.objects.count() == 0
    assert SignInEvent.objects.get().reason == "hsa_id_missing"


def test_a_unit_the_provider_is_not_configured_for_is_refused(client, saml_region, saml_provider):
    """The assignment names an organisation connected to another provider."""
    provider, _organisation = saml_region
    other = saml_provider_row("http://127.0.0.1:1/metadata", name="Annan region")
    ConnectedOrganisation.objects.create(
        provider=other, organisation=OrganisationFactory(), unit_id="SE2321000016-ANDRA"
    )
    anna(saml_provider, unit="SE2321000016-ANDRA")
    _form, response = saml_sign_in(client, provider, "anna")
    assert response.status_code == 403 and "inte ansluten" in response.content.decode()
    assert User.objects.count() == 0
    assert SignInEvent.objects.get().reason == "unit_unknown"


def test_an_answer_without_a_started_sign_in_is_refused(client, saml_region, saml_provider):
    provider, _organisation = saml_region
    anna(saml_provider)
    form, _response = saml_sign_in(Client(), provider, "anna")
    client.get(reverse("login"))  # a session of its own, but no sign-in started
    client.cookies["sessionid"] = "x"
    response = saml_post(client, form)
    assert response.status_code == 403
    assert SignInEvent.objects.filter(reason="replayed").count() == 1


def test_garbage_instead_of_an_answer_is_refused(client, saml_region):
    provider, _organisation = saml_region
    client.get(reverse("sso_start", args=[provider.pk]))
    response = client.post(reverse("sso_saml_acs"), {"SAMLResponse": "PG5vdCBzYW1sPg=="})
    assert response.status_code == 403
    assert SignInEvent.objects.get().reason == "bad_response"


def test_a_provider_whose_metadata_cannot_be_read_is_a_clear_page(client, saml_region):
    provider, _organisation = saml_region
    provider.saml_metadata_url = "http://127.0.0.1:9/metadata"
    provider.save()
    response = client.get(reverse("sso_start", args=[provider.pk]))
    assert response.status_code == 502
    assert "blev inte klar" in response.content.decode()
    assert SignInEvent.objects.get().reason == "provider_error"
