"""Registering and retiring record-system clients (the operator's job: there is no page
for it, `manage.py fhir_client`). A change is in the change history as any other."""

import secrets

from django.contrib.auth.hashers import make_password
from django.db import transaction

from participants import audit
from participants.models import Organisation, SystemClient
from vom.errors import DomainError

from .auth import READ_ACCESS
from .resources import TYPES

CLIENT_FIELDS = ["name", "organisation_id", "client_id", "scopes", "is_active"]


def _check_scopes(scopes: list[str]) -> None:
    if not scopes:
        raise DomainError("Give at least one scope, e.g. system/*.read.", field="scopes")
    for scope in scopes:
        context, _slash, rest = scope.partition("/")
        kind, _dot, access = rest.partition(".")
        if context != "system" or access not in READ_ACCESS or (kind != "*" and kind not in TYPES):
            raise DomainError(
                f"{scope} is not a scope of this API: system/<Type>.read (or .rs), "
                f"Type one of {', '.join(TYPES)} or *.",
                field="scopes",
            )


def _check_public_key(public_key: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(public_key.encode())
    except ValueError:
        raise DomainError("The public key is not a PEM public key.", field="public_key") from None
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise DomainError("The public key must be RSA or EC (RS384, ES384).", field="public_key")


def system_client_register(
    *, organisation: Organisation, name: str, scopes: list[str], public_key: str = ""
) -> tuple[SystemClient, str]:
    """A new client of `organisation`: (the client, its secret). With a public key it signs
    in with signed assertions and gets no secret (""); without one, the secret is shown
    this once, and only its hash is kept."""
    _check_scopes(scopes)
    if public_key:
        _check_public_key(public_key)
    if not organisation.is_active:
        raise DomainError("The organisation is not active.", field="organisation")
    secret = "" if public_key else secrets.token_urlsafe(32)
    with transaction.atomic():
        client = SystemClient.objects.create(
            name=name,
            organisation=organisation,
            client_id=f"vom-{secrets.token_hex(8)}",
            secret_hash=make_password(secret) if secret else "",
            public_key=public_key,
            scopes=" ".join(scopes),
        )
        audit.record_change(
            user=None, obj=client, action="create", before={},
            after=audit.snapshot(client, CLIENT_FIELDS), person=None,
        )  # fmt: skip
    return client, secret


def system_client_deactivate(*, client_id: str) -> SystemClient:
    """The client stops at once: its next request, even with a valid token, is refused."""
    with transaction.atomic():
        client = SystemClient.objects.select_for_update().filter(client_id=client_id).first()
        if client is None:
            raise DomainError(f"No client {client_id}.", field="client_id")
        if not client.is_active:
            raise DomainError(f"{client_id} is already inactive.", field="client_id")
        before = audit.snapshot(client, CLIENT_FIELDS)
        client.is_active = False
        client.save(update_fields=["is_active"])
        audit.record_change(
            user=None, obj=client, action="update", before=before,
            after=audit.snapshot(client, CLIENT_FIELDS), person=None,
        )  # fmt: skip
    return client
