"""Sign-in through an organisation's identity provider: the log-in page's provider buttons,
the OpenID Connect start and callback, the SAML endpoints (sso.saml) and the logout that ends
the provider's session too."""

import logging

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from joserfc.errors import JoseError

from participants.audit import client_ip

from . import oidc, saml
from .models import IdentityProvider, SignInEvent
from .services import SignInRefused, Vouched, provider_sign_in, sign_in_event_write, sign_in_refuse
from .session import SSO_PROVIDER_KEY, session_start, signed_in_organisation

logger = logging.getLogger(__name__)
SSO_NEXT_KEY = "sso_next"
# The provider a sign-in was started with: the callback is one URL for every provider (the
# one each provider registers), and only the provider this browser went to may answer it.
SSO_PENDING_KEY = "sso_pending_provider"
# The id of the SAML authentication request this browser was sent to the provider with: the
# only response the assertion consumer service takes is the answer to it, once.
SAML_REQUEST_KEY = "sso_saml_request"
BACKEND = "participants.auth.UsernameOrEmailBackend"


def _context(request) -> dict:
    return {"ip": client_ip(request), "request_id": getattr(request, "request_id", "")}


class LoginView(auth_views.LoginView):
    """The password form, with a button per identity provider above it."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["identity_providers"] = list(
            IdentityProvider.objects.filter(is_active=True, organisations__isnull=False)
            .distinct()
            .prefetch_related("organisations__organisation")
        )
        return context


def _safe_next(request, value) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("home")


def refused_page(request, refused: SignInRefused, provider=None, status=403):
    return render(
        request,
        "sso/refused.html",
        {"message": refused.message, "reason": refused.reason, "provider": provider},
        status=status,
    )


@require_GET
def start(request, pk):
    """Send the browser to the provider (the recheck middleware also sends it here)."""
    provider = get_object_or_404(IdentityProvider, pk=pk, is_active=True)
    request.session[SSO_NEXT_KEY] = _safe_next(request, request.GET.get("next"))
    request.session[SSO_PENDING_KEY] = provider.pk
    if provider.protocol == IdentityProvider.Protocol.SAML:
        return _saml_start(request, provider)
    callback = request.build_absolute_uri(reverse("sso_oidc_callback"))
    try:
        return oidc.client_for(provider).authorize_redirect(request, callback)
    except (requests.RequestException, ValueError, oidc.ProviderMisconfigured) as exc:
        refused = SignInRefused("provider_error", detail=f"start: {exc}"[:500])
        sign_in_refuse(provider=provider, refused=refused, context=_context(request))
        return refused_page(request, refused, provider, status=502)


@require_GET
def oidc_callback(request):
    provider = IdentityProvider.objects.filter(
        pk=request.session.get(SSO_PENDING_KEY),
        is_active=True,
        protocol=IdentityProvider.Protocol.OIDC,
    ).first()
    if provider is None:  # no sign-in started in this browser (or it was already used)
        return _refuse(request, None, SignInRefused("replayed", detail="no pending sign-in"))
    try:
        app = oidc.client_for(provider)
        token = app.authorize_access_token(
            request,
            claims_options=oidc.claims_options(provider),
            leeway=oidc.CLOCK_LEEWAY_SECONDS,
        )
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SignInRefused("bad_response", detail="no ID token")
        if provider.hsa_id_claim not in claims:
            # Some providers put the attributes in the userinfo answer only.
            extra = app.userinfo(token=token)
            if extra.get("sub") != claims.get("sub"):
                raise SignInRefused("bad_response", detail="userinfo names another subject")
            claims = {**extra, **claims}
    except SignInRefused as refused:
        return _refuse(request, provider, refused)
    except MismatchingStateError:
        return _refuse(request, provider, SignInRefused("replayed", detail="state unknown"))
    except OAuthError as exc:
        reason = "replayed" if exc.error == "invalid_grant" else "provider_error"
        return _refuse(request, provider, SignInRefused(reason, detail=f"{exc.error}: {exc}"))
    except JoseError as exc:
        return _refuse(
            request, provider, SignInRefused("bad_response", detail=f"{type(exc).__name__}: {exc}")
        )
    except (requests.RequestException, ValueError, oidc.ProviderMisconfigured) as exc:
        return _refuse(
            request,
            provider,
            SignInRefused("provider_error", detail=f"{type(exc).__name__}: {exc}"),
        )
    return complete(request, _vouched_from_claims(provider, claims))


def _saml_start(request, provider):
    try:
        request_id, location = saml.authn_request(request, provider)
    except (requests.RequestException, saml.ProviderMisconfigured) as exc:
        refused = SignInRefused("provider_error", detail=f"start: {exc}"[:500])
        sign_in_refuse(provider=provider, refused=refused, context=_context(request))
        return refused_page(request, refused, provider, status=502)
    request.session[SAML_REQUEST_KEY] = request_id
    return HttpResponseRedirect(location)


@require_GET
def saml_metadata(request):
    """Our service provider's metadata, which an organisation registers at its provider."""
    return HttpResponse(saml.metadata_xml(request), content_type="application/samlmetadata+xml")


@csrf_exempt  # the provider's page posts here; the answer must name this browser's request
@require_POST
def saml_acs(request):
    """The assertion consumer service: the provider's signed answer, posted by the browser."""
    if settings.SESSION_COOKIE_NAME not in request.COOKIES and not request.POST.get("again"):
        # A provider on another site posts here without our session cookie (SameSite=Lax):
        # post the same answer once more from our own page, which the cookie comes with.
        return render(
            request,
            "sso/saml_continue.html",
            {
                "saml_response": request.POST.get("SAMLResponse", ""),
                "relay_state": request.POST.get("RelayState", ""),
            },
        )
    provider = IdentityProvider.objects.filter(
        pk=request.session.get(SSO_PENDING_KEY),
        is_active=True,
        protocol=IdentityProvider.Protocol.SAML,
    ).first()
    request_id = request.session.pop(SAML_REQUEST_KEY, None)
    if provider is None or request_id is None:  # no sign-in started here, or already answered
        return _refuse(
            request, provider, SignInRefused("replayed", detail="no pending SAML request")
        )
    posted = request.POST.get("SAMLResponse", "")
    if not posted:
        return _refuse(request, provider, SignInRefused("bad_response", detail="no SAMLResponse"))
    try:
        client, idp = saml.client_for(request, provider)
    except (requests.RequestException, saml.ProviderMisconfigured) as exc:
        return _refuse(request, provider, SignInRefused("provider_error", detail=f"acs: {exc}"))
    try:
        response = client.parse_authn_request_response(
            posted, saml.BINDING_HTTP_POST, outstanding={request_id: "/"}
        )
    except saml.StatusError as exc:
        return _refuse(
            request, provider, SignInRefused("provider_error", detail=f"status: {exc}"[:500])
        )
    except saml.UnsolicitedResponse as exc:
        return _refuse(request, provider, SignInRefused("replayed", detail=f"unsolicited: {exc}"))
    except Exception as exc:  # noqa: BLE001 - pysaml2 refuses a bad response in many ways
        return _refuse(
            request,
            provider,
            SignInRefused("bad_response", detail=f"{type(exc).__name__}: {exc}"[:500]),
        )
    problem = saml.response_problem(response, idp)
    if problem:
        return _refuse(request, provider, SignInRefused("bad_response", detail=problem))
    return complete(request, saml.vouched_from_response(provider, response))


def _claim_values(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def _first(value) -> str:
    values = value if isinstance(value, list | tuple) else [value]
    return str(values[0]) if values and isinstance(values[0], str | int) else ""


def _vouched_from_claims(provider: IdentityProvider, claims: dict) -> Vouched:
    acr = _first(claims.get("acr"))
    amr = _claim_values(claims.get("amr"))
    strong = acr in (provider.strong_acr_values or []) or bool(
        set(amr) & set(provider.strong_amr_values or [])
    )
    return Vouched(
        provider=provider,
        hsa_id=_first(claims.get(provider.hsa_id_claim)),
        unit_id=_first(claims.get(provider.unit_claim)),
        roles=_claim_values(claims.get(provider.role_claim)),
        given_name=_first(claims.get(provider.given_name_claim))
        if provider.given_name_claim
        else "",
        family_name=_first(claims.get(provider.family_name_claim))
        if provider.family_name_claim
        else "",
        email=_first(claims.get(provider.email_claim)) if provider.email_claim else "",
        strong=strong,
    )


def _refuse(request, provider, refused: SignInRefused, hsa_id: str = ""):
    sign_in_refuse(provider=provider, refused=refused, hsa_id=hsa_id, context=_context(request))
    logger.warning("provider sign-in refused: %s %s", refused.reason, refused.detail)
    return refused_page(request, refused, provider)


def complete(request, vouched: Vouched):
    """Both protocols end here with a checked response."""
    next_url = request.session.get(SSO_NEXT_KEY)
    request.session.pop(SSO_PENDING_KEY, None)
    try:
        user, organisation = provider_sign_in(vouched=vouched, context=_context(request))
    except SignInRefused as refused:  # already in the security log
        if request.user.is_authenticated:
            logout(request)
        return refused_page(request, refused, vouched.provider)
    login(request, user, backend=BACKEND)
    session_start(
        request, provider=vouched.provider, organisation=organisation, strong=vouched.strong
    )
    return HttpResponseRedirect(_safe_next(request, next_url))


@require_POST
def logout_view(request):
    """End the session here and, where the provider supports it, at the provider too."""
    provider_id = request.session.get(SSO_PROVIDER_KEY)
    organisation_id = signed_in_organisation(request)
    user = request.user if request.user.is_authenticated else None
    provider = (
        IdentityProvider.objects.filter(pk=provider_id).first() if provider_id is not None else None
    )
    logout(request)
    after = request.build_absolute_uri(reverse("login"))
    if provider is None:
        return HttpResponseRedirect(reverse("login"))
    sign_in_event_write(
        provider=provider,
        outcome=SignInEvent.Outcome.SIGNED_OUT,
        user=user,
        organisation_id=organisation_id,
        context=_context(request),
    )
    url = None
    if provider.protocol == IdentityProvider.Protocol.OIDC:
        url = oidc.end_session_url(provider, after)
    return HttpResponseRedirect(url or reverse("login"))
