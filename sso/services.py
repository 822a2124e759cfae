"""Sign-in through an organisation's identity provider: the account found or created by HSA
id, the memberships made to follow the provider's roles, and the security log.

The protocols (sso.oidc, sso.saml) turn a checked provider response into a `Vouched`; from
there both protocols share this one path.
"""

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from participants import audit
from participants.models import Membership, Organisation, User

from .models import ConnectedOrganisation, IdentityProvider, SignInEvent

# SE + the principal's 10-digit organisation number + "-" + the local part (HSA id format).
HSA_ID = re.compile(r"^SE\d{10}-[0-9A-Za-z]{1,31}$")
MEMBERSHIP_FIELDS = ["role", "is_active", "from_provider"]


@dataclass
class Vouched:
    """What a provider's checked response says about the person signing in."""

    provider: IdentityProvider
    hsa_id: str
    unit_id: str
    roles: list[str] = field(default_factory=list)
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    strong: bool = False


class SignInRefused(Exception):
    """A provider sign-in that is refused: `message` is shown to the person, `reason` goes to
    the security log (with `detail`, never shown)."""

    MESSAGES = {
        "provider_error": _(
            "Your organisation's sign-in did not complete. Try again, or ask your IT support "
            "if it keeps happening."
        ),
        "bad_response": _(
            "The answer from your organisation's sign-in could not be trusted, so you were "
            "not signed in. Try again; if it keeps happening, tell your IT support."
        ),
        "replayed": _(
            "This sign-in has already been used or has expired. Start again from the log-in page."
        ),
        "hsa_id_missing": _(
            "Your organisation's sign-in did not give your HSA id, which VOM needs to know "
            "who you are. Ask your IT support."
        ),
        "unit_unknown": _(
            "The unit you signed in for is not connected to VOM through this sign-in. "
            "Choose the assignment for a connected unit, or ask your manager."
        ),
        "no_assignment": _(
            "You signed in, but you have no assignment in VOM for %(organisation)s. "
            "Ask your manager to give you one at your organisation's identity provider."
        ),
        "unknown_account": _(
            "You signed in, but %(organisation)s has not given you an account in VOM. "
            "Ask your manager."
        ),
        "account_closed": _(
            "Your account in VOM is closed. Ask your organisation's VOM administrator."
        ),
        "provider_inactive": _("This sign-in is not in use. Choose another on the log-in page."),
    }

    def __init__(self, reason: str, *, detail: str = "", organisation: Organisation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.organisation = organisation

    @property
    def message(self) -> str:
        text = self.MESSAGES[self.reason]
        if "%(organisation)s" in str(text):
            return str(text) % {"organisation": self.organisation or _("your organisation")}
        return str(text)


def sign_in_event_write(
    *,
    provider: IdentityProvider | None,
    outcome: str,
    reason: str = "",
    detail: str = "",
    user: User | None = None,
    organisation: Organisation | None = None,
    organisation_id: int | None = None,
    hsa_id: str = "",
    context: dict | None = None,
) -> SignInEvent:
    context = context or {}
    return SignInEvent.objects.create(
        provider=provider,
        outcome=outcome,
        reason=reason,
        detail=detail[:500],
        user=user,
        organisation_id=organisation.pk if organisation is not None else organisation_id,
        hsa_id=hsa_id[:64],
        ip=context.get("ip"),
        request_id=context.get("request_id", ""),
    )


def sign_in_refuse(
    *, provider: IdentityProvider | None, refused: SignInRefused, hsa_id: str = "", context=None
) -> None:
    sign_in_event_write(
        provider=provider,
        outcome=SignInEvent.Outcome.REFUSED,
        reason=refused.reason,
        detail=refused.detail,
        organisation=refused.organisation,
        hsa_id=hsa_id,
        context=context,
    )


def provider_sign_in(*, vouched: Vouched, context: dict | None = None) -> tuple[User, Organisation]:
    """The account and organisation a checked provider response signs in, after making the
    person's memberships in that organisation follow the provider's roles.

    Raises SignInRefused (already written to the security log) when the response cannot sign
    anyone in; nothing is created then. A person the provider knows but who has no role that
    gives access here loses the memberships the provider gave before (the role was removed
    at the provider), and is refused.
    """
    provider = vouched.provider
    try:
        user, organisation = _sign_in(vouched)
    except SignInRefused as refused:
        sign_in_refuse(provider=provider, refused=refused, hsa_id=vouched.hsa_id, context=context)
        raise
    sign_in_event_write(
        provider=provider,
        outcome=SignInEvent.Outcome.SIGNED_IN,
        user=user,
        organisation=organisation,
        hsa_id=vouched.hsa_id,
        detail="strong" if vouched.strong else "",
        context=context,
    )
    return user, organisation


def _sign_in(vouched: Vouched) -> tuple[User, Organisation]:
    provider = vouched.provider
    if not provider.is_active:
        raise SignInRefused("provider_inactive")
    hsa_id = (vouched.hsa_id or "").strip()
    if not hsa_id:
        raise SignInRefused("hsa_id_missing", detail="no HSA id claim")
    if not HSA_ID.match(hsa_id):
        raise SignInRefused("hsa_id_missing", detail=f"not an HSA id: {hsa_id[:80]!r}")
    link = (
        ConnectedOrganisation.objects.select_related("organisation")
        .filter(provider=provider, unit_id=vouched.unit_id or "", organisation__is_active=True)
        .first()
    )
    if link is None:
        raise SignInRefused("unit_unknown", detail=f"unit {str(vouched.unit_id)[:80]!r}")
    organisation = link.organisation
    roles = sorted({r for value in vouched.roles if (r := provider.provider_role(str(value)))})

    with transaction.atomic():
        user = User.objects.select_for_update().filter(hsa_id=hsa_id).first()
        if user is not None and not user.is_active:
            # Closed by an administrator here (staff_deactivate): a provider does not reopen it.
            raise SignInRefused("account_closed", organisation=organisation, detail="user inactive")
        if user is None:
            if not roles:
                raise SignInRefused(
                    "no_assignment", organisation=organisation, detail=f"roles {vouched.roles!r}"
                )
            if not provider.creates_accounts:
                raise SignInRefused("unknown_account", organisation=organisation)
            user = _account_create(vouched, hsa_id)
        else:
            _account_update(user, vouched)
        kept = _memberships_follow(user=user, organisation=organisation, roles=roles)
    if not kept:  # after the commit: the memberships the provider took back stay ended
        raise SignInRefused(
            "no_assignment", organisation=organisation, detail=f"roles {vouched.roles!r}"
        )
    return user, organisation


def _account_create(vouched: Vouched, hsa_id: str) -> User:
    username = hsa_id.lower()
    if User.objects.filter(username__iexact=username).exists():
        username = f"{username}-{User.objects.count()}"
    user = User(
        username=username,
        hsa_id=hsa_id,
        first_name=vouched.given_name[:150],
        last_name=vouched.family_name[:150],
        email=vouched.email[:254],
    )
    user.set_unusable_password()  # signs in through the provider only
    user.save()
    audit.record_change(
        user=user,
        obj=user,
        action="create",
        before={},
        after=audit.snapshot(user, ["username", "hsa_id", "first_name", "last_name", "email"]),
        person=None,
    )
    return user


def _account_update(user: User, vouched: Vouched) -> None:
    fields = ["first_name", "last_name", "email"]
    before = audit.snapshot(user, fields)
    if vouched.given_name:
        user.first_name = vouched.given_name[:150]
    if vouched.family_name:
        user.last_name = vouched.family_name[:150]
    if vouched.email:
        user.email = vouched.email[:254]
    after = audit.snapshot(user, fields)
    if after != before:
        user.save(update_fields=fields)
        audit.record_change(
            user=user, obj=user, action="update", before=before, after=after, person=None
        )


def _memberships_follow(*, user: User, organisation: Organisation, roles: list[str]) -> list:
    """Memberships in the organisation that the provider gave are made to match `roles`:
    missing ones are created (or reopened), ones whose role is gone are ended. Those given by
    an administrator here are left alone. Returns the active memberships afterwards."""
    current = {
        m.role: m
        for m in Membership.objects.select_for_update().filter(user=user, organisation=organisation)
    }
    for role, membership in current.items():
        if membership.from_provider and membership.is_active and role not in roles:
            _membership_set(user, membership, is_active=False)
    for role in roles:
        membership = current.get(role)
        if membership is None:
            membership = Membership.objects.create(
                user=user, organisation=organisation, role=role, from_provider=True
            )
            audit.record_change(
                user=user,
                obj=membership,
                action="create",
                before={},
                after=audit.snapshot(membership, MEMBERSHIP_FIELDS),
                person=None,
            )
        elif membership.from_provider and not membership.is_active:
            _membership_set(user, membership, is_active=True)
    return list(Membership.objects.filter(user=user, organisation=organisation, is_active=True))


def _membership_set(user: User, membership: Membership, *, is_active: bool) -> None:
    before = audit.snapshot(membership, MEMBERSHIP_FIELDS)
    membership.is_active = is_active
    membership.save(update_fields=["is_active"])
    audit.record_change(
        user=user,
        obj=membership,
        action="update",
        before=before,
        after=audit.snapshot(membership, MEMBERSHIP_FIELDS),
        person=None,
    )
