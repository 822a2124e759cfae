"""The demo's identity provider: the region's home health care signs in through a real
OpenID Connect provider on loopback (the `oidc-provider` package on node, the one the tests
use), the other organisations with passwords. `manage.py demo_provider` sets it up and runs it;
`make run` starts it beside the server."""

import json
from pathlib import Path

from django.db import transaction

from participants.demo import DEMO_MARKER_ORG, DEMO_PASSWORD
from participants.models import Membership, Organisation

from .models import PROVIDER_ROLES, ConnectedOrganisation, IdentityProvider

PROVIDER_DIR = Path(__file__).resolve().parent.parent / "tests" / "sso" / "oidc_provider"
DEMO_PROVIDER_NAME = "Region Sjöstad (demo)"
DEMO_CLIENT_ID = "vom-demo"
DEMO_CLIENT_SECRET = "vom-demo-client-secret-not-for-production"  # noqa: S105 - demo only
DEMO_UNIT = "SE2321000016-SOLH"
# The provider's role values (as a region's directory names assignments) and ours.
DEMO_ROLE_MAP = {
    "lakare": "physician",
    "sjukskoterska": "nurse",
    "underskoterska": "assistant_nurse",
    "chef": "manager",
}
ROLE_VALUES = {role: value for value, role in DEMO_ROLE_MAP.items()}


def demo_hsa_id(index: int) -> str:
    return f"SE2321000016-D{index:04d}"


@transaction.atomic
def demo_provider_connect(*, issuer: str) -> tuple[IdentityProvider, Organisation]:
    """Connect the demo's home health care to the provider at `issuer` (idempotent): the row,
    the unit, an HSA id for each of its staff, and the roles the provider grants marked as
    its (the administrator's stays given here)."""
    organisation = Organisation.objects.get(name=DEMO_MARKER_ORG)
    provider, _created = IdentityProvider.objects.update_or_create(
        name=DEMO_PROVIDER_NAME,
        defaults={
            "protocol": IdentityProvider.Protocol.OIDC,
            "issuer": issuer,
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "scopes": "openid profile email hsa",
            "hsa_id_claim": "hsa_id",
            "role_claim": "vom_roles",
            "unit_claim": "vom_unit",
            "role_map": DEMO_ROLE_MAP,
            "is_active": True,
        },
    )
    ConnectedOrganisation.objects.update_or_create(
        organisation=organisation, defaults={"provider": provider, "unit_id": DEMO_UNIT}
    )
    memberships = (
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__username", "role")
    )
    for index, membership in enumerate(memberships, start=1):
        user = membership.user
        if not user.hsa_id:
            user.hsa_id = demo_hsa_id(index)
            user.save(update_fields=["hsa_id"])
        if membership.role in PROVIDER_ROLES and not membership.from_provider:
            membership.from_provider = True
            membership.save(update_fields=["from_provider"])
    return provider, organisation


def demo_provider_files(*, organisation: Organisation, workdir: Path, callbacks: list[str]):
    """The provider's users (the organisation's staff, with the demo password and their
    assignments) and its one client (VOM), as server.mjs reads them."""
    users: dict[str, dict] = {}
    for membership in Membership.objects.filter(
        organisation=organisation, is_active=True
    ).select_related("user"):
        user = membership.user
        entry = users.setdefault(
            user.username,
            {
                "password": DEMO_PASSWORD,
                "claims": {
                    "hsa_id": user.hsa_id,
                    "given_name": user.first_name,
                    "family_name": user.last_name,
                    "email": user.email,
                    "vom_unit": DEMO_UNIT,
                    "vom_roles": [],
                },
            },
        )
        if membership.role in ROLE_VALUES:
            entry["claims"]["vom_roles"].append(ROLE_VALUES[membership.role])
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "users.json").write_text(json.dumps(users, ensure_ascii=False, indent=1))
    logins = [c.replace("/accounts/sso/oidc/callback/", "/accounts/login/") for c in callbacks]
    (workdir / "clients.json").write_text(
        json.dumps(
            [
                {
                    "client_id": DEMO_CLIENT_ID,
                    "client_secret": DEMO_CLIENT_SECRET,
                    "redirect_uris": callbacks,
                    "post_logout_redirect_uris": logins,
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                }
            ]
        )
    )
    return sorted(users)
