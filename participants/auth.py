from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


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
        """The signed-in user of each request, read from the database on every request
        (so every change of access, however it was made, counts on the next one), with
        whether they have a confirmed TOTP device (vom.middleware.SecondFactorMiddleware
        asks on every request) and their active memberships (every staff page asks): for
        staff one query, the memberships with their user and organisation."""
        user = self._load_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    @staticmethod
    def _load_user(user_id):
        from django.db.models import Exists, OuterRef
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from .models import Membership

        user_model = get_user_model()
        try:
            pk = user_model._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a session's user id that is no id: nobody
            return None
        from sso.models import ConnectedOrganisation

        devices = TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True)
        # Whether the organisation signs in through an identity provider: a session keeps
        # only the memberships of its way of signing in (sso.session.narrow).
        connected = ConnectedOrganisation.objects.filter(
            organisation=OuterRef("organisation_id"), provider__is_active=True
        )
        memberships = list(
            Membership.objects.active()
            .filter(user_id=pk)
            .select_related("user", "organisation")
            .annotate(vom_device=Exists(devices), vom_connected=Exists(connected))
        )
        if memberships:
            user = memberships[0].user
            has_device = memberships[0].vom_device
            for membership in memberships:
                membership.user = user
        else:  # a relative or an operator: no membership to read them with
            devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
            try:
                user = user_model._default_manager.annotate(vom_device=Exists(devices)).get(pk=pk)
            except user_model.DoesNotExist:
                return None
            has_device = user.vom_device
        user._vom_has_device = has_device  # read by participants.selectors
        user._vom_memberships = memberships  # read by participants.selectors.active_memberships
        return user


def remember_login_time(sender, request, user, **kwargs):
    """The absolute session limit counts from here (enforced in vom.middleware)."""
    import time

    from vom.middleware import SESSION_LAST_SEEN_KEY, SESSION_LOGIN_AT_KEY

    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_LOGIN_AT_KEY] = now
        request.session[SESSION_LAST_SEEN_KEY] = now
