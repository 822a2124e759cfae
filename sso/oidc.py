"""OpenID Connect with an organisation's provider (Authlib's Django client, one client per
provider made from its row, so any number of organisations can each have their own).

Authlib checks what an ID token must prove: the signature against the provider's published
keys, the issuer, the audience (our client id), the expiry, the nonce of this browser's
sign-in and the access-token hash. On top of that the discovery document must name the
issuer the operator configured (a provider cannot pass itself off as another), and only
asymmetric signatures are accepted (never "none", never a secret a provider shares).
"""

from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App

from .models import IdentityProvider

SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
# How far the provider's and our clocks may differ when checking an ID token's times.
CLOCK_LEEWAY_SECONDS = 30
HTTP_TIMEOUT_SECONDS = 10


class ProviderMisconfigured(Exception):
    """The provider's discovery document does not fit its configuration."""


def client_for(provider: IdentityProvider) -> DjangoOAuth2App:
    issuer = provider.issuer.rstrip("/")
    app = DjangoOAuth2App(
        DjangoIntegration(f"idp{provider.pk}"),
        name=f"idp{provider.pk}",
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": provider.scopes or "openid",
            "code_challenge_method": "S256",
            "timeout": HTTP_TIMEOUT_SECONDS,
        },
    )
    metadata = app.load_server_metadata()
    if metadata.get("issuer", "").rstrip("/") != issuer:
        raise ProviderMisconfigured(
            f"discovery names issuer {metadata.get('issuer')!r}, configured {provider.issuer!r}"
        )
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    metadata["id_token_signing_alg_values_supported"] = [
        alg for alg in offered if alg in SIGNING_ALGORITHMS
    ] or ["RS256"]
    return app


def claims_options(provider: IdentityProvider) -> dict:
    return {
        "iss": {"essential": True, "values": [provider.issuer.rstrip("/"), provider.issuer]},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }


def end_session_url(provider: IdentityProvider, post_logout_redirect_uri: str) -> str | None:
    """Where the browser goes to end its session at the provider too (RP-initiated logout),
    or None when the provider offers none or cannot be reached."""
    try:
        app = client_for(provider)
        if not app.load_server_metadata().get("end_session_endpoint"):
            return None
        return app.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri, client_id=provider.client_id
        )["url"]
    except Exception:  # noqa: BLE001 - our session is ended anyway; the provider's may stay
        return None
