"""What a session signed in through a provider carries, and what it may hold.

A session holds only the memberships of the way its user signed in: through a provider, the
memberships in the organisation they signed in for; with a password, those in organisations
that have no provider (an organisation with a provider keeps no passwords).
"""

import time

SSO_PROVIDER_KEY = "sso_provider"
SSO_ORGANISATION_KEY = "sso_organisation"
# The provider said the person used a strong factor (a SITHS card): no TOTP on top of it.
SSO_STRONG_KEY = "sso_strong"
# When the provider last vouched for the person; past SSO_RECHECK_SECONDS they sign in again.
SSO_CHECKED_AT_KEY = "sso_checked_at"


def session_start(request, *, provider, organisation, strong: bool) -> None:
    request.session[SSO_PROVIDER_KEY] = provider.pk
    request.session[SSO_ORGANISATION_KEY] = organisation.pk
    request.session[SSO_STRONG_KEY] = bool(strong)
    request.session[SSO_CHECKED_AT_KEY] = int(time.time())


def signed_in_organisation(request) -> int | None:
    session = getattr(request, "session", None)
    return session.get(SSO_ORGANISATION_KEY) if session is not None else None


def strong_factor(request) -> bool:
    session = getattr(request, "session", None)
    return bool(session is not None and session.get(SSO_STRONG_KEY))


def narrow(request, user):
    """The user with only the memberships this session's way of signing in gives."""
    memberships = getattr(user, "_vom_memberships", None)
    if not memberships:
        return user
    organisation_id = signed_in_organisation(request)
    if organisation_id is not None:
        kept = [m for m in memberships if m.organisation_id == organisation_id]
    else:
        kept = [m for m in memberships if not getattr(m, "vom_connected", False)]
    if len(kept) != len(memberships):
        user._vom_memberships = kept
    return user
