"""Who calls the API: a signed-in member of staff (the browser's session) or another
organisation's record system (OAuth 2.0 client credentials, SMART Backend Services).

A record system gets a short-lived access token from `token` by proving who it is: a JWT
signed with its private key (`private_key_jwt`, RS384 or ES384, as SMART Backend Services
asks) or its client secret (HTTP Basic or form fields). The token is a JWT signed by this
server (HS256 with a key derived from SECRET_KEY) naming the client and the scopes it was
granted; each request re-reads the client, so a client made inactive stops at once.

The client acts as a `SystemPrincipal`: for the access rule it is a member of its one
organisation in a care role (participants.selectors reads `_vom_memberships`), invited to
nothing, so it sees what that organisation's care staff may see and nothing more.
"""

import base64
import hashlib
import secrets
import time

import jwt
from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from participants.models import Membership, Organisation, Role, SystemClient
from participants.selectors import is_staff_member

TOKEN_SECONDS = 300
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ["RS384", "ES384", "RS256", "ES256"]
TOKEN_ALGORITHM = "HS256"

# The care role a record system acts in, by the kind of its organisation: the one whose
# staff see most of what the organisation may see (a home health care nurse convenes).
ROLE_BY_KIND = {
    Organisation.Kind.HOME_HEALTH_CARE: Role.NURSE,
    Organisation.Kind.NEEDS_ASSESSMENT: Role.NEEDS_ASSESSOR,
    Organisation.Kind.HOME_HELP: Role.HOME_HELP_COORDINATOR,
    Organisation.Kind.OTHER: Role.CONTACT_PERSON,
}


class SystemPrincipal:
    """A record system, standing in for a user in the access rule (participants.selectors)."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self, client: SystemClient, scopes: list[str]):
        self.client = client
        self.scopes = scopes
        organisation = client.organisation
        self._vom_memberships = [
            Membership(organisation=organisation, role=ROLE_BY_KIND[organisation.kind])
        ]

    def __str__(self):
        return str(self.client)

    def may_read(self, resource_type: str) -> bool:
        wanted = {
            f"system/{name}.{access}" for name in (resource_type, "*") for access in READ_ACCESS
        }
        return bool(wanted & set(self.scopes))


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _token_key() -> bytes:
    return hashlib.sha256(b"vom.fhir.access-token:" + settings.SECRET_KEY.encode()).digest()


def api_base() -> str:
    return f"{settings.SITE_URL}/fhir/R4"


def token_url() -> str:
    return f"{api_base()}/auth/token"


def principal_for(request):
    """The caller of an API request, or AuthError (401 not signed in, 403 not staff)."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:7].lower() == "bearer ":
        client, scopes = _client_for_token(header[7:].strip())
        request.system_client = client
        return SystemPrincipal(client, scopes)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise AuthError(401, "login", "Sign in, or send an access token (Bearer).")
    if not is_staff_member(user):
        raise AuthError(403, "forbidden", "The API is for staff and record systems.")
    return user


def _client_for_token(token: str):
    try:
        claims = jwt.decode(
            token,
            _token_key(),
            algorithms=[TOKEN_ALGORITHM],
            audience=api_base(),
            issuer=settings.SITE_URL,
            options={"require": ["exp", "sub", "aud", "iss"]},
        )
    except jwt.PyJWTError:
        raise AuthError(401, "expired", "The access token is not valid or has expired.") from None
    client = (
        SystemClient.objects.select_related("organisation")
        .filter(client_id=claims["sub"], is_active=True, organisation__is_active=True)
        .first()
    )
    if client is None:
        raise AuthError(401, "login", "The client is no longer active.")
    granted = [scope for scope in str(claims.get("scope", "")).split() if covered(scope, client)]
    return client, sorted(granted)


READ_ACCESS = {"read", "r", "s", "rs"}


def covered(scope: str, client: SystemClient) -> bool:
    """Whether the client may be granted `scope`: one of its scopes names the same type (or
    every type, `*`) with read access (SMART v1 `.read`, v2 `.rs`)."""
    context, _slash, rest = scope.partition("/")
    kind, _dot, access = rest.partition(".")
    if context != "system" or access not in READ_ACCESS:
        return False
    for allowed in client.scope_list:
        a_context, _slash, a_rest = allowed.partition("/")
        a_kind, _dot, a_access = a_rest.partition(".")
        same_kind = a_kind == "*" or (a_kind == kind and kind != "*")
        if a_context == "system" and same_kind and a_access in READ_ACCESS:
            return True
    return False


def issue_token(client: SystemClient, scopes: list[str], seconds: int = TOKEN_SECONDS) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.SITE_URL,
        "sub": client.client_id,
        "aud": api_base(),
        "iat": now,
        "exp": now + seconds,
        "scope": " ".join(scopes),
        "jti": secrets.token_hex(12),
    }
    return jwt.encode(claims, _token_key(), algorithm=TOKEN_ALGORITHM)


def _oauth_error(status: int, error: str, description: str) -> JsonResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="fhir"'
    return response


def _client_by_id(client_id: str) -> SystemClient | None:
    if not client_id or len(client_id) > 64 or "\x00" in client_id:
        return None
    return (
        SystemClient.objects.select_related("organisation")
        .filter(client_id=client_id, is_active=True, organisation__is_active=True)
        .first()
    )


def _authenticate_client(request) -> SystemClient:
    post = request.POST
    assertion = post.get("client_assertion", "")
    if assertion:
        if post.get("client_assertion_type") != ASSERTION_TYPE:
            raise AuthError(400, "invalid_request", "client_assertion_type must be jwt-bearer.")
        return _client_by_assertion(assertion)
    client_id, secret = post.get("client_id", ""), post.get("client_secret", "")
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, secret = base64.b64decode(header[6:]).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError):
            raise AuthError(401, "invalid_client", "Malformed Basic credentials.") from None
    client = _client_by_id(client_id)
    if client is None or not client.secret_hash or not check_password(secret, client.secret_hash):
        raise AuthError(401, "invalid_client", "Unknown client or wrong secret.")
    return client


def _client_by_assertion(assertion: str) -> SystemClient:
    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthError(401, "invalid_client", "The client assertion is not a JWT.") from None
    client = _client_by_id(str(unverified.get("iss", "")))
    if client is None or not client.public_key:
        raise AuthError(401, "invalid_client", "Unknown client or no key registered.")
    try:
        claims = jwt.decode(
            assertion,
            client.public_key,
            algorithms=ASSERTION_ALGORITHMS,
            audience=token_url(),
            issuer=client.client_id,
            options={"require": ["exp", "iss", "sub", "aud", "jti"]},
        )
    except (jwt.PyJWTError, ValueError) as exc:
        raise AuthError(
            401, "invalid_client", f"The client assertion is not valid: {exc}"
        ) from None
    if claims["sub"] != client.client_id or claims["exp"] > time.time() + 300:
        raise AuthError(401, "invalid_client", "sub must be the client id; exp at most 5 min.")
    return client


@csrf_exempt
@never_cache
@require_POST
def token(request):
    """The OAuth 2.0 token endpoint (client credentials grant)."""
    if request.POST.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials.")
    try:
        client = _authenticate_client(request)
    except AuthError as error:
        return _oauth_error(error.status, error.code, error.message)
    requested = request.POST.get("scope", "").split() or client.scope_list
    granted = [scope for scope in requested if covered(scope, client)]
    if not granted:
        return _oauth_error(400, "invalid_scope", "None of the scopes asked for is allowed.")
    return JsonResponse(
        {
            "access_token": issue_token(client, granted),
            "token_type": "bearer",
            "expires_in": TOKEN_SECONDS,
            "scope": " ".join(granted),
        }
    )


def smart_configuration(request):
    return JsonResponse(
        {
            "token_endpoint": token_url(),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": [
                "private_key_jwt",
                "client_secret_basic",
                "client_secret_post",
            ],
            "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
            "scopes_supported": ["system/*.read", "system/*.rs"],
            "capabilities": ["client-confidential-asymmetric", "client-confidential-symmetric"],
        }
    )
