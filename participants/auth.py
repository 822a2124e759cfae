from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import transaction

from vom.cache import safe_add, safe_get, safe_set_many


class UsernameOrEmailBackend(ModelBackend):
    """Staff sign in with their username or their email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        from .lockout import find_account

        user = find_account(username)
        if user is None:
            get_user_model()().set_password(password)  # same work as a real check: no oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in user of each request, with whether they have a confirmed TOTP
        device (vom.middleware.SecondFactorMiddleware asks on every request) and their
        active memberships (every staff page asks).

        With AUTH_CACHE_SECONDS (on when CACHE_URL names a shared cache) the three come from
        the cache: one cache read instead of two queries on every request. A change to the
        user, their memberships, their devices or an organisation of theirs replaces the
        entry with a "changed" mark (`forget_cached_users`), now and again when its
        transaction commits; while the mark lasts nothing is cached for the user, so a
        request that read the database just before the commit cannot put the old state back.
        """
        seconds = settings.AUTH_CACHE_SECONDS
        key = auth_cache_key(user_id)
        cached = safe_get(key) if seconds else None
        if isinstance(cached, get_user_model()):
            user = cached
        else:
            user = self._load_user(user_id)
            if user is None:
                return None
            if seconds and cached is None:
                safe_add(key, user, seconds)  # not over a "changed" mark
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _load_user(user_id):
        from django.db.models import Exists, OuterRef
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from .models import Membership

        user_model = get_user_model()
        devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        try:
            user = user_model._default_manager.annotate(vom_device=Exists(devices)).get(pk=user_id)
        except (user_model.DoesNotExist, ValueError, TypeError):
            return None
        user._vom_has_device = user.vom_device  # read by participants.selectors
        user._vom_memberships = list(  # read by participants.selectors.active_memberships
            Membership.objects.active().filter(user=user).select_related("organisation")
        )
        return user


def auth_cache_key(user_id) -> str:
    return f"auth:v1:user:{user_id}"


# What a changed user's entry holds for a few seconds instead of the user: longer than a
# request takes to read the user and try to cache it.
CHANGED_MARK = "changed"
CHANGED_MARK_SECONDS = 30


def forget_cached_users(user_ids) -> None:
    """Replace the cached sign-in data of these users with a short "changed" mark, now and
    when the transaction commits (a request between the two could otherwise cache what is
    about to change)."""
    if not settings.AUTH_CACHE_SECONDS:
        return
    marks = {auth_cache_key(pk): CHANGED_MARK for pk in set(user_ids) if pk is not None}
    if not marks:
        return
    safe_set_many(marks, CHANGED_MARK_SECONDS)
    transaction.on_commit(lambda: safe_set_many(marks, CHANGED_MARK_SECONDS))


def forget_on_change(sender, instance, **kwargs):
    """post_save / post_delete of User, Membership, TOTP device and Organisation."""
    from .models import Membership, Organisation

    if isinstance(instance, Organisation):
        if settings.AUTH_CACHE_SECONDS:
            forget_cached_users(
                Membership.objects.filter(organisation=instance).values_list("user_id", flat=True)
            )
    elif sender is get_user_model():
        forget_cached_users([instance.pk])
    else:  # Membership, TOTPDevice
        forget_cached_users([instance.user_id])


def remember_login_time(sender, request, user, **kwargs):
    """The absolute session limit counts from here (enforced in vom.middleware)."""
    import time

    from vom.middleware import SESSION_LAST_SEEN_KEY, SESSION_LOGIN_AT_KEY

    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT_KEY] = now
        request.session[SESSION_LAST_SEEN_KEY] = now
