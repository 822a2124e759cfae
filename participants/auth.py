from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Staff sign in with their username or their email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user_model = get_user_model()
        login = username.strip()
        if "@" in login:
            candidates = list(user_model.objects.filter(email__iexact=login)[:2])
            # An email shared by two accounts cannot identify one of them.
            user = candidates[0] if len(candidates) == 1 else None
        else:
            user = user_model.objects.filter(username__iexact=login).first()
        if user is None:
            user_model().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The signed-in user of each request, with whether they have a confirmed TOTP
        device (vom.middleware.SecondFactorMiddleware asks on every request) in the same
        query instead of a second one."""
        from django.db.models import Exists, OuterRef
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user_model = get_user_model()
        devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        try:
            user = user_model._default_manager.annotate(vom_device=Exists(devices)).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        user._vom_has_device = user.vom_device  # read by participants.selectors
        return user if self.user_can_authenticate(user) else None


def remember_login_time(sender, request, user, **kwargs):
    """The absolute session limit counts from here (enforced in vom.middleware)."""
    import time

    from vom.middleware import SESSION_LAST_SEEN_KEY, SESSION_LOGIN_AT_KEY

    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT_KEY] = now
        request.session[SESSION_LAST_SEEN_KEY] = now
