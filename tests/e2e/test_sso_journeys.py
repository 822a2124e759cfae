"""Signing in through the organisation's identity provider in Chromium, at a staff tablet's
768 px: SAML 2.0 through pysaml2's provider (its own process, signed assertions) and OpenID
Connect through the real oidc-provider on node, each on 127.0.0.1 while the app is on
localhost, so the provider is another site (as in production) and SameSite=Lax applies."""

import pytest
from django.urls import reverse

from participants.models import Membership, Organisation, Role
from sso.models import ConnectedOrganisation, SignInEvent

from ..factories import OrganisationFactory
from ..sso.conftest import (  # noqa: F401 - fixtures
    ROLE_MAP,
    UNIT,
    oidc_provider_row,
    saml_idp_state,
    saml_provider,
    saml_provider_row,
)
from ..sso.providers import node_oidc_provider
from ..sso.test_saml_sign_in import ANNA, anna

pytestmark = [pytest.mark.e2e, pytest.mark.sso, pytest.mark.django_db(transaction=True)]


def provider_page(j, name: str, login: str, *, siths: bool = True):
    """The provider's own sign-in page (not ours: screenshot only, no axe)."""
    page = j.page
    page.wait_for_selector("input[name=login]")
    j.step += 1
    page.screenshot(path=str(j.dir / f"{j.step:02d}-{name}.png"), full_page=True)
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "pw")
    if siths:
        page.check("input[name=siths]")
    with page.expect_navigation(url=lambda url: url.startswith(j.base_url), timeout=15000):
        page.click("button[type=submit]")


def saml_region_row():
    organisation = OrganisationFactory(
        name="Hemsjukvården Samlän",
        kind=Organisation.Kind.HOME_HEALTH_CARE,
        principal=Organisation.Principal.REGION,
    )
    return organisation


def test_a_nurse_signs_in_with_siths_through_saml_and_a_changed_role_follows(
    journey,
    saml_idp_state,  # noqa: F811 - the fixture imported above
):
    idp = saml_idp_state
    organisation = saml_region_row()
    provider = saml_provider_row(idp.entity_id)
    ConnectedOrganisation.objects.create(provider=provider, organisation=organisation, unit_id=UNIT)
    anna(idp, roles=["sjukskoterska"])

    j = journey("sso-saml", width=768)
    acs = []
    j.page.on("request", lambda r: acs.append(r) if r.url.endswith("/saml/acs/") else None)
    j.goto(reverse("login"))
    j.check("login page offers the provider")
    button = j.page.get_by_role("link", name="Logga in med SITHS / Region Samlän")
    assert button.is_visible()
    button.click()
    provider_page(j, "saml-provider-sign-in", "anna")
    j.page.wait_for_url(lambda url: "/accounts/" not in url, timeout=15000)
    j.check("signed in through SAML")
    assert j.page.get_by_text("Anna Saml").count() >= 1
    membership = Membership.objects.get(user__hsa_id=ANNA, is_active=True)
    assert (membership.role, membership.organisation) == (Role.NURSE, organisation)
    assert SignInEvent.objects.get(outcome="signed_in").detail == "strong"
    # The provider's post (from another site) came without our session cookie (SameSite=Lax);
    # our page posted the answer again, with it.
    from django.conf import settings

    cookies = [r.all_headers().get("cookie", "") for r in acs]
    session = f"{settings.SESSION_COOKIE_NAME}="
    assert len(cookies) == 2 and session not in cookies[0] and session in cookies[1], cookies

    # The region makes her a physician; she signs out and in again.
    j.page.click("form[action='/accounts/logout/'] button")
    j.page.wait_for_url(lambda url: "/accounts/login/" in url)
    anna(idp, roles=["lakare"])
    j.page.get_by_role("link", name="Logga in med SITHS / Region Samlän").click()
    provider_page(j, "saml-provider-sign-in-again", "anna")
    j.page.wait_for_url(lambda url: "/accounts/" not in url, timeout=15000)
    roles = dict(Membership.objects.filter(user__hsa_id=ANNA).values_list("role", "is_active"))
    assert roles == {Role.NURSE: False, Role.PHYSICIAN: True}

    # A provider that lies (a key not in its metadata): a clear page, not a 500.
    j.page.click("form[action='/accounts/logout/'] button")
    j.page.wait_for_url(lambda url: "/accounts/login/" in url)
    idp.set_mode("bad_signature")
    j.page.get_by_role("link", name="Logga in med SITHS / Region Samlän").click()
    provider_page(j, "saml-provider-lying", "anna")
    j.page.wait_for_selector("[data-reason=bad_response]")
    j.check("refused a forged assertion")
    assert "gick inte att lita på" in j.page.content()
    assert not j.console_errors


def test_a_manager_signs_in_through_openid_connect_without_a_totp_on_top(
    journey, live_server, tmp_path
):
    callback = live_server.url + reverse("sso_oidc_callback")
    with node_oidc_provider(tmp_path, [callback], [live_server.url + reverse("login")]) as op:
        organisation = OrganisationFactory(
            name="Hemsjukvården Testlän",
            kind=Organisation.Kind.HOME_HEALTH_CARE,
            principal=Organisation.Principal.REGION,
        )
        provider = oidc_provider_row(op.issuer, role_map=ROLE_MAP)
        ConnectedOrganisation.objects.create(
            provider=provider, organisation=organisation, unit_id=UNIT
        )
        op.set_user(
            "helena",
            hsa_id="SE2321000016-HE1N",
            given_name="Helena",
            family_name="Chef",
            vom_roles=["chef"],
            vom_unit=UNIT,
        )
        j = journey("sso-oidc", width=768)
        j.goto(reverse("login"))
        j.page.get_by_role("link", name="Logga in med SITHS / Region Testlän").click()
        provider_page(j, "oidc-provider-sign-in", "helena")
        j.page.wait_for_url(lambda url: "/reports/" in url, timeout=15000)
        j.check("manager signed in with SITHS lands on the reports")
        assert Membership.objects.get(user__hsa_id="SE2321000016-HE1N").role == Role.MANAGER
        assert not j.console_errors
