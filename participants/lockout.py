"""Failed sign-ins are counted per account, not per string typed.

Sign-in accepts the username in any case and the email address, so "alice", "ALICE",
" Alice " and "alice@example.org" are one account: django-axes counts them under one key
(`account_key`, its AXES_USERNAME_CALLABLE) together with the address they came from, and
locks that pair after AXES_FAILURE_LIMIT failures. An account attacked from many addresses is
slowed down instead of locked (`slowdown`): past SLOWDOWN_AFTER failures in all, it takes one
attempt per a waiting time that doubles up to SLOWDOWN_MAX_SECONDS, so no outsider can lock a
named nurse out for longer than that.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Sum
from django.utils import timezone


def find_account(login: str):
    """The account a typed login names (the username in any case, or an email address that
    belongs to exactly one account), or None."""
    login = (login or "").strip()
    if not login:
        return None
    users = get_user_model().objects
    if "@" in login:
        candidates = list(users.filter(email__iexact=login)[:2])
        # An email shared by two accounts cannot identify one of them.
        return candidates[0] if len(candidates) == 1 else None
    return users.filter(username__iexact=login).first()


def account_key(request, credentials=None) -> str:
    """What django-axes counts failures under: the account, whatever spelling was typed, or
    the normalised name when no account matches (so guesses at a name count together)."""
    typed = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    if typed is None and request is not None:
        typed = getattr(request, "POST", {}).get(settings.AXES_USERNAME_FORM_FIELD, "")
    user = find_account(typed or "")
    if user is not None:
        return f"account:{user.pk}"
    return "name:" + " ".join((typed or "").split()).casefold()[:200]


def is_locked(request, credentials) -> bool:
    """This address is locked out for this account (django-axes answers it with its page)."""
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials)


def slowdown(request, credentials) -> int:
    """Seconds until this account takes another attempt (0: now). Counts the failures under
    the account's key from every address within the cool-off time."""
    from axes.models import AccessAttempt

    key = account_key(request, credentials)
    since = timezone.now() - dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    tally = AccessAttempt.objects.filter(username=key, attempt_time__gte=since).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time")
    )
    failures = tally["failures"] or 0
    if failures < settings.SLOWDOWN_AFTER:
        return 0
    wait = min(2 ** (failures - settings.SLOWDOWN_AFTER), settings.SLOWDOWN_MAX_SECONDS)
    passed = (timezone.now() - tally["last"]).total_seconds()
    return max(0, int(wait - passed + 0.999))
